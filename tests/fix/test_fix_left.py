"""What ``fix`` cannot repair is named with its cause, apart from the repairs; a copy that cannot
be staged says which findings block it, never naming its temporary folder (exit 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hf_custom.cli.main import main
from tests.checks.repo import write_repo

from .test_cli_fix import CONFIGURATION_LAYERS
from .toy import BROKEN


def _repo(tmp_path: Path, modeling: str, **extra: str) -> Path:
    files = {"modeling_toy.py": modeling, "configuration_toy.py": CONFIGURATION_LAYERS, **extra}
    return write_repo(tmp_path / "src", files)


def test_module_level_import_left_with_cause_and_blocking_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _repo(tmp_path, "import sentencepiece_hfc_absent  # noqa: F401\n" + BROKEN)
    out = tmp_path / "fixed"
    assert main(["fix", str(src), "--out", str(out)]) == 1
    text = capsys.readouterr().out
    _, _, rest = text.partition("Repairs (")
    listed, _, left = rest.partition("Left (1)\n")
    assert "NOT repaired" not in listed  # left items are in their own section
    assert left.startswith("  HFC204 modeling_toy.py:1 NOT repaired: `sentencepiece_hfc_absent`")
    assert "Verification FAILED: the repaired copy cannot be staged" in left
    assert "  blocking: HFC204 modeling_toy.py:1 `sentencepiece_hfc_absent`" in left
    assert "hf-custom-fix-" not in text  # never the temporary copy's path
    assert main(["fix", str(src), "--out", str(out), "--force", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert [(u["rule"], u["line"]) for u in doc["unrepaired"]] == [("HFC204", 1)]
    blocking = doc["verification"]["findings"]
    assert [(f["id"], f["path"], f["line"]) for f in blocking] == [("HFC204", "modeling_toy.py", 1)]
    assert all(f["severity"] == "error" for f in blocking)
    assert "hf-custom-fix-" not in json.dumps(doc)


def test_missing_module_file_is_named_with_its_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _repo(tmp_path, "from .helpers_not_shipped import helper  # noqa: F401\n" + BROKEN)
    assert main(["fix", str(src), "--diff", "--no-verify", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    left = [f for f in doc["remaining"] if f["path"] == "modeling_toy.py" and f["line"] == 1]
    assert left and "helpers_not_shipped" in left[0]["message"], doc["remaining"]
    assert doc["ok"] is False


def test_missing_module_counts_as_left_in_the_human_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Baichuan's shape: `from .generation_utils import ...` and no generation_utils.py."""
    modeling = BROKEN.replace(
        "import torch\n", "import torch\nfrom .generation_utils import build_chat_input\n", 1
    )
    src = _repo(tmp_path, modeling)
    assert main(["fix", str(src), "--diff"]) == 1
    text = capsys.readouterr().out
    left = text.partition("\nLeft (")[2]
    assert left and "HFC201 modeling_toy.py:" in left and "generation_utils" in left
    assert " 0 left" not in text
