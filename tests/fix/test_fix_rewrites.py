"""fix makes staging's import rewrites too (a copy sent as a Hub PR is never staged): the
author's own absolute imports made relative (HFC203), fork imports of transformers' package
(`from ...modeling_outputs import`) made absolute (HFC211); listed as repairs, idempotent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hf_custom.cli.main import main
from tests.checks.repo import MODELING, write_repo

from .test_cli_fix import CONFIGURATION_LAYERS

REWRITTEN = MODELING.replace(
    "from .configuration_toy import ToyConfig", "from configuration_toy import ToyConfig"
).replace("from transformers.modeling_outputs import", "from ...modeling_outputs import")


def test_import_rewrites_are_repairs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert REWRITTEN != MODELING
    src = write_repo(
        tmp_path / "src",
        {"modeling_toy.py": REWRITTEN, "configuration_toy.py": CONFIGURATION_LAYERS},
    )
    out = tmp_path / "fixed"
    main(["fix", str(src), "--out", str(out), "--no-verify", "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    rules = {r["rule"] for r in doc["repairs"] if r["path"] == "modeling_toy.py"}
    assert {"HFC203", "HFC211"} <= rules, doc["repairs"]
    text = (out / "modeling_toy.py").read_text()
    assert "from .configuration_toy import ToyConfig" in text
    assert "from transformers.modeling_outputs import" in text
    assert not [f for f in doc["remaining"] if f["id"] in {"HFC203", "HFC211"}]
    main(["fix", str(out), "--diff", "--no-verify", "--format", "json"])
    again = json.loads(capsys.readouterr().out)
    assert again["files"] == [], again["repairs"]  # idempotent
    main(["fix", str(src), "--diff", "--no-verify", "--select", "HFC252", "--format", "json"])
    only = json.loads(capsys.readouterr().out)
    assert not {r["rule"] for r in only["repairs"]} & {"HFC203", "HFC211"}
