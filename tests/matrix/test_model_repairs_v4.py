"""HFC263-HFC265 repairs on the v4 line: the repaired copies load and compute under the REAL
transformers 4.57 (the shared v4 environment) what the clean code computes under v5."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hf_custom.fixing import plan_fixes
from tests.corpus.v4.packages import TINYQWEN
from tests.fix.test_repairs_model2 import TOKENIZER

TOKENIZE = r"""
import json, sys, transformers
namespace = {}
exec(compile(open(sys.argv[1]).read(), "tokenization_toy.py", "exec"), namespace)
tok = namespace["ToyCharTokenizer"](unk_token="<unk>", pad_token="<pad>")
ids = tok("abc hd")["input_ids"]
print("HFC-RESULT " + json.dumps([transformers.__version__, ids, tok.decode(ids), tok.padding_side]))
"""


def _v4_python(v4_targets) -> str:  # type: ignore[no-untyped-def]
    v4 = next(t for t in v4_targets if not t.installed)
    assert v4.python is not None
    return str(v4.python)


@pytest.mark.slow
def test_tinyqwen_fixed_equals_clean_on_4_57(v4_targets, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    from tests.corpus.v4.build import write_package
    from tests.corpus.v4.loading import load_folder

    src = write_package(TINYQWEN, tmp_path / "fixed")
    files = {p.name: p.read_bytes() for p in src.glob("*.py")}
    plan = plan_fixes(files, config={"auto_map": TINYQWEN.auto_map})
    assert {"HFC263", "HFC264"} <= {r.rule for r in plan.repairs}
    for change in plan.changes:
        (src / change.path).write_bytes(change.after)
    reference = load_folder(write_package(TINYQWEN, tmp_path / "clean", variant="clean"))
    v4 = load_folder(src, python=_v4_python(v4_targets))
    assert v4.keys() == reference.keys()
    for auto, row in v4.items():
        assert row["ok"], (auto, row)
        assert row["output"] == pytest.approx(reference[auto]["output"], abs=1e-6), auto


@pytest.mark.slow
def test_moved_tokenizer_attributes_work_on_4_57(v4_targets, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = plan_fixes({"tokenization_toy.py": TOKENIZER.encode()}, rules={"HFC265"})
    fixed = tmp_path / "tokenization_toy.py"
    fixed.write_bytes(plan.changes[0].after)
    results = []
    for python in (_v4_python(v4_targets), None):
        proc = subprocess.run(
            [python or sys.executable, "-c", TOKENIZE, str(fixed)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        line = next((x for x in proc.stdout.splitlines() if x.startswith("HFC-RESULT ")), None)
        assert line is not None, proc.stderr[-2000:]
        results.append(json.loads(line[len("HFC-RESULT ") :]))
    (v4_version, *v4_rest), (v5_version, *v5_rest) = results
    assert v4_version.startswith("4.") and v5_version.startswith("5.")
    assert v4_rest == v5_rest == [[3, 4, 5, 11, 10, 6], "abc hd", "left"]
