"""``doctor FOLDER --load`` verifies the copy publish would stage (temporary folder), so the
defects behind a repair are found in one run; a folder without weights is verified from its
config (placeholder weights: not compared). The folder itself is never modified."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_checkpoint import digest, make_checkpoint

from hf_custom.diagnosis import doctor


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A researcher's folder: DDP `module.` names in a pickle, no model_type, no auto_map."""
    ckpt = make_checkpoint(tmp_path_factory.mktemp("raw") / "ck")
    (ckpt / "notes.txt").unlink()
    return ckpt


def _notes(report: object) -> list[str]:
    return [f.message for f in report.findings if f.id == "HFC118"]  # type: ignore[attr-defined]


@pytest.mark.slow
def test_load_verifies_the_staged_copy_and_names_the_repairs(raw: Path) -> None:
    before = digest(raw)
    report = doctor(raw, load=True)
    assert digest(raw) == before
    # the folder as it is cannot load (module. names, no auto_map): the staged copy does
    assert report.verify is not None and report.verify.ok, report.verify.findings
    assert {r.auto_class for r in report.verify.rows} >= {"AutoModel", "AutoModelForMaskedLM"}
    notes = _notes(report)
    assert any(n.startswith("--load verified the copy publish would stage") for n in notes)
    assert any("`module.` prefix" in n and "module.model.embed.weight" in n for n in notes)
    assert any("converts the torch-zip weights to safetensors" in n for n in notes), notes
    assert any("config.json keys" in n and "auto_map.AutoConfig" in n for n in notes), notes
    assert not [f for f in report.verify.findings if f.severity.value == "error"]


@pytest.mark.slow
def test_load_without_weights_verifies_from_the_config(raw: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "noweights"
    shutil.copytree(raw, folder)
    (folder / "pytorch_model.bin").unlink()
    report = doctor(folder, load=True)
    assert report.verify is not None and report.verify.ok, report.verify.findings
    assert any("weights were not compared" in n for n in _notes(report))
    assert not (folder / "model.safetensors").exists()
    # placeholder weights loaded as saved prove the loading, not the weights: never "ok"
    models = [r for r in report.verify.rows if r.auto_class.startswith("AutoModel")]
    assert models and {r.weights_equal for r in models} == {"not compared"}, models
    assert all("weights not compared" in r.detail for r in models)
    doc = report.to_json()
    rows = [r for r in doc["verify"]["rows"] if r["auto_class"].startswith("AutoModel")]
    assert {r["weights_equal"] for r in rows} == {"not compared"}


def test_placeholder_weights_read_not_compared_in_every_format() -> None:
    """The table (human and agent formats print it) and the matrix cell say "not compared"."""
    from rich.console import Console

    from hf_custom.cli.matrix_view import _symbol
    from hf_custom.cli.verify_view import verify_table
    from hf_custom.verification import AutoClassRow, VerifyReport
    from hf_custom.verification.matrix import _cell

    row = AutoClassRow(
        "AutoModelForMaskedLM", "XForMaskedLM", loaded="passed", weights_equal="not compared",
        forward="passed", save="passed",
    )  # fmt: skip
    console = Console(record=True, width=100, color_system=None)
    console.print(verify_table(VerifyReport(rows=(row,), findings=(), ok=True, seconds=1.0)))
    line = next(ln for ln in console.export_text().splitlines() if "AutoModelForMaskedLM" in ln)
    assert "not compared" in line and line.split()[1] == "ok"
    assert _symbol(_cell(row, "5.24.0")) == "ok (weights not compared)"
    assert _symbol(_cell(replace_weights(row, "passed"), "5.24.0")) == "ok"


def replace_weights(row: object, status: str) -> object:
    from dataclasses import replace

    return replace(row, weights_equal=status)  # type: ignore[type-var]
