"""Doctor on a raw folder reports what publish would repair inside pickle weights, read
without torch: ``module.`` / ``_orig_mod.`` prefixes (info: publish strips them) and float64
tensors (a warning: publish keeps them unless --dtype). Damaged pickles stay HFC360 errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hf_custom.checks.view import FolderView
from hf_custom.diagnosis import diagnose_view, doctor

torch = pytest.importorskip("torch")


def _state(prefix: str = "", *, f64: bool = False) -> dict[str, object]:
    gen = torch.Generator().manual_seed(0)
    dtype = torch.float64 if f64 else torch.float32
    return {
        f"{prefix}embed.weight": torch.randn(6, 4, generator=gen),
        f"{prefix}head.weight": torch.randn(6, 4, generator=gen).to(dtype),
        f"{prefix}head.bias": torch.zeros(6),
    }


def _folder(root: Path, obj: object, *, name: str = "pytorch_model.bin", **save: object) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text(json.dumps({"model_type": "bert"}))
    torch.save(obj, root / name, **save)
    return root


def _by_id(findings: object, rule: str) -> list[object]:
    return [f for f in findings if f.id == rule]  # type: ignore[attr-defined]


def test_ddp_prefix_and_float64_are_named_with_their_repair(tmp_path: Path) -> None:
    report = doctor(_folder(tmp_path / "ckpt", _state("module.", f64=True)))
    (prefix,) = _by_id(report.findings, "HFC357")
    assert prefix.severity.name == "INFO" and "'module.'" in prefix.message
    assert "3 of 3" in prefix.message and "publish strips" in prefix.message
    assert prefix.path == "pytorch_model.bin"
    (f64,) = _by_id(report.findings, "HFC301")
    assert f64.severity.name == "WARNING" and "head.weight" in f64.message
    assert "--dtype float32" in f64.message


def test_compile_prefix_inside_a_training_dict(tmp_path: Path) -> None:
    ckpt = {"model": _state("_orig_mod."), "epoch": 3, "lr": 0.1}
    report = doctor(_folder(tmp_path / "ckpt", ckpt, name="model.pt"))
    (prefix,) = _by_id(report.findings, "HFC357")
    assert "'_orig_mod.'" in prefix.message and prefix.path == "model.pt"
    assert not _by_id(report.findings, "HFC301")


def test_clean_pickle_has_no_finding(tmp_path: Path) -> None:
    report = doctor(_folder(tmp_path / "ckpt", _state()))
    assert not _by_id(report.findings, "HFC357") and not _by_id(report.findings, "HFC301")
    assert "weights.pickle_contents" in report.run


def test_a_repository_loaded_as_it_is_gets_an_error(tmp_path: Path) -> None:
    view = FolderView(_folder(tmp_path / "ckpt", _state("module.")))
    report = diagnose_view(view, kind="repo")
    assert [f.severity.name for f in _by_id(report.findings, "HFC357")] == ["ERROR"]


def test_legacy_format_is_skipped_with_the_reason(tmp_path: Path) -> None:
    root = _folder(tmp_path / "ckpt", _state("module."), _use_new_zipfile_serialization=False)
    report = doctor(root)
    assert not _by_id(report.findings, "HFC357")
    assert any("legacy format" in str(s) for s in report.skipped), report.skipped


@pytest.mark.parametrize(
    "content", [b"", b"version https://git-lfs.github.com/spec/v1\n", b"PK\x03\x04trunc"]
)
def test_damaged_pickle_is_an_error_not_a_crash(tmp_path: Path, content: bytes) -> None:
    root = tmp_path / "ckpt"
    root.mkdir()
    (root / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (root / "pytorch_model.bin").write_bytes(content)
    report = doctor(root)
    assert [f.severity.name for f in _by_id(report.findings, "HFC360")] == ["ERROR"]
    assert not _by_id(report.findings, "HFC699")  # no crashed check


def test_doctor_reads_pickle_contents_without_importing_torch(tmp_path: Path) -> None:
    root = _folder(tmp_path / "ckpt", _state("module.", f64=True))
    code = (
        "import sys\n"
        "from hf_custom.diagnosis import doctor\n"
        f"r = doctor({str(root)!r})\n"
        "print(sorted({f.id for f in r.findings}))\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert "HFC357" in out[0] and "HFC301" in out[0]
    assert out[1] == "False"
