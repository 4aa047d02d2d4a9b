"""fix and the matrix: the repaired copy on both lines, and its outputs against the original's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hf_custom.cli.main import main
from hf_custom.envs import Target
from hf_custom.verification.crossversion import ATOL, compare_outputs, pick_lines


def _write(folder: Path, name: str, tensors: dict) -> None:  # type: ignore[type-arg]
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / f"{name}.safetensors"))


def test_compare_outputs_same_differs_and_not_compared(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    ids = torch.tensor([[3, 4, 5]])
    logits = torch.linspace(-1, 1, 12).reshape(1, 3, 4)
    a, b = tmp_path / "a", tmp_path / "b"
    base = {"input.input_ids": ids, "output.logits": logits}
    _write(a, "AutoModel", base)
    _write(b, "AutoModel", {**base, "output.logits": logits + ATOL / 10})
    _write(a, "AutoModelForCausalLM", base)
    _write(b, "AutoModelForCausalLM", {**base, "output.logits": logits * 1.01})
    _write(a, "AutoModelForMaskedLM", base)
    _write(b, "AutoModelForMaskedLM", {**base, "input.input_ids": ids + 1})
    _write(a, "AutoModelForSequenceClassification", base)  # the copy's forward failed
    _write(a, "AutoModelForTokenClassification", base)
    _write(
        b,
        "AutoModelForTokenClassification",
        {**base, "output.logits": logits[..., :2].contiguous()},
    )
    diffs = {d.auto_class: d for d in compare_outputs(a, b)}
    assert diffs["AutoModel"].status == "same" and diffs["AutoModel"].fields == ("logits",)
    causal = diffs["AutoModelForCausalLM"]
    assert causal.status == "differs" and causal.fields == ("logits",)
    assert causal.max_abs_diff == pytest.approx(0.01, rel=1e-3)
    assert diffs["AutoModelForMaskedLM"].status == "not-compared"
    assert "different inputs" in diffs["AutoModelForMaskedLM"].detail
    assert diffs["AutoModelForSequenceClassification"].status == "not-compared"
    assert "repaired copy" in diffs["AutoModelForSequenceClassification"].detail
    token = diffs["AutoModelForTokenClassification"]
    assert token.status == "differs" and "shape (1, 3, 4) against (1, 3, 2)" in token.detail


def test_pick_lines_needs_a_v4_and_a_v5_version() -> None:
    v4, v5, v6 = (Target(spec=s, version=s) for s in ("4.57.6", "5.24.0", "6.0.0"))
    assert pick_lines([v5, v4, v6]) == (v4, v5)
    assert pick_lines([v5, v6]) is None and pick_lines([v4]) is None


# A forward that depends on the transformers version: the same weights compute something else
# under v5 (what a repair or v5's changed defaults can do, silently).
DRIFT = """\
        return BaseModelOutput(last_hidden_state=self.model(input_ids))
"""
DRIFTED = """\
        import transformers

        hidden = self.model(input_ids)
        if int(transformers.__version__.split(".")[0]) >= 5:
            hidden = hidden * 1.5
        return BaseModelOutput(last_hidden_state=hidden)
"""


@pytest.mark.slow
def test_fix_with_a_matrix_compares_outputs_across_lines(
    tmp_path: Path,
    shared_home: Path,
    v4_targets,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from corpus.v4.build import write_package
    from corpus.v4.packages import TINYRNN
    from packages import make_package

    monkeypatch.setenv("HF_HOME", str(shared_home))
    v4, installed = (t.version for t in v4_targets)
    src = write_package(TINYRNN, tmp_path / "tinyrnn")
    out = tmp_path / "fixed"
    argv = ["fix", str(src), "--out", str(out), "--format", "json"]
    assert main([*argv, "--transformers", f"4.57,{installed}"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] and doc["repairs"]
    assert doc["verification"]["ok"]
    matrix = doc["verification"]["matrix"]
    assert matrix["versions"] == [v4, installed] and matrix["ok"]  # both lines load the copy
    cross = doc["verification"]["cross_version"]
    assert (cross["base"], cross["other"], cross["ok"]) == (v4, installed, True)
    diff = {d["auto_class"]: d for d in cross["diffs"]}["AutoModelForCausalLM"]
    assert diff["status"] == "same" and diff["fields"] == ["logits"]

    # same weights, a forward that changes under v5: the copy verifies, the comparison fails
    drift = make_package(tmp_path / "drift", "both")
    modeling = drift / "modeling_mx.py"
    modeling.write_text(modeling.read_text().replace(DRIFT, DRIFTED))
    (drift / "hf-custom.toml").write_text(f'transformers = ["4.57", "{installed}"]\n')
    assert main(["fix", str(drift), "--out", str(tmp_path / "drift-fixed")]) == 1
    text = capsys.readouterr().out
    assert "HFC592" in text and "forward outputs differ" in text
    assert f"the original under transformers {v4}" in text and "last_hidden_state" in text
    assert "verification FAILED" in text
