"""doctor and the matrix: --load --transformers, the settings file, the card read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from checks.repo import CARD, write_repo
from packages import make_package

from hf_custom.cli.main import main
from hf_custom.compatibility import Compatibility, VersionResult, render_section, with_section
from hf_custom.diagnosis import doctor
from hf_custom.errors import InputError

COMPAT = Compatibility(
    date="2026-11-30",
    hf_custom="0.2.0",
    versions=(
        VersionResult("4.57.6", ok=False, torch="2.13.0", failed=("AutoModelForMaskedLM",)),
        VersionResult("5.24.0", ok=True, torch="2.13.0", huggingface_hub="2.4.0"),
    ),
)


def _upload(local_hub, folder: Path, name: str) -> str:  # type: ignore[no-untyped-def]
    from hf_custom.remote import upload

    repo_id = f"{local_hub.user}/{name}"
    upload(folder, repo_id=repo_id, endpoint=local_hub.endpoint())
    return repo_id


@pytest.mark.network
def test_doctor_on_a_repo_id_reads_the_compatibility_section(
    local_hub,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    card = with_section(CARD, render_section(COMPAT))
    with_card = _upload(local_hub, write_repo(tmp_path / "a", {"README.md": card}), "compat")
    without = _upload(local_hub, write_repo(tmp_path / "b"), "no-compat")
    hub = ["--endpoint", local_hub.url, "--token", local_hub.token]

    report = doctor(with_card, endpoint=local_hub.url, token=local_hub.token)
    assert report.compatibility == COMPAT
    assert report.compatibility.passed == ("5.24.0",)
    assert doctor(without, endpoint=local_hub.url, token=local_hub.token).compatibility is None

    assert main(["doctor", with_card, *hub, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["compatibility"]["date"] == "2026-11-30"
    assert [(v["transformers"], v["ok"]) for v in doc["compatibility"]["versions"]] == [
        ("4.57.6", False),
        ("5.24.0", True),
    ]
    assert main(["doctor", with_card, *hub]) == 0
    out = capsys.readouterr().out
    assert "verified on 2026-11-30 by hf-custom 0.2.0" in out
    assert "4.57.6: failed (AutoModelForMaskedLM)" in out
    assert "5.24.0: passed (huggingface_hub 2.4.0, torch 2.13.0)" in out
    assert main(["doctor", without, *hub]) == 0
    assert "verified on" not in capsys.readouterr().out


def test_transformers_and_allow_fail_need_load(tmp_path: Path) -> None:
    folder = write_repo(tmp_path / "m")
    with pytest.raises(InputError, match="--load"):
        doctor(folder, transformers=["4.57"])
    with pytest.raises(InputError, match="--load"):
        doctor(folder, allow_fail=["4.57"])
    with pytest.raises(InputError, match="cannot be combined"):
        doctor(folder, load=True, transformers=["4.57"], python="python3")
    assert main(["doctor", str(folder), "--transformers", "4.57"]) == 2
    assert main(["doctor", str(folder), "--load", "--transformers", "4.57.x"]) == 2


@pytest.mark.slow
def test_doctor_load_with_a_matrix(
    tmp_path: Path,
    shared_home: Path,
    v4_targets,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HF_HOME", str(shared_home))
    v4, installed = (t.version for t in v4_targets)
    pkg = make_package(tmp_path, "v5_only")
    argv = ["doctor", str(pkg), "--load", "--format", "json"]
    assert main([*argv, "--transformers", "4.57,installed"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["matrix"]["versions"] == [v4, installed] and doc["matrix"]["failed"] == [v4]
    cells = {(c["auto_class"], c["version"]): c["status"] for c in doc["matrix"]["cells"]}
    assert cells[("AutoModel", v4)] == "failed" and cells[("AutoModel", installed)] == "passed"
    assert "HFC590" in {f["id"] for f in doc["findings"]}
    assert doc["verify"]["environment"]["transformers"] == v4  # the first column

    # the folder's settings file gives the matrix; --allow-fail accepts the v4 failure
    (pkg / "hf-custom.toml").write_text('transformers = ["4.57", "installed"]\n')
    assert main([*argv, "--allow-fail", "4.57"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matrix"]["versions"] == [v4, installed] and doc["matrix"]["ok"]
    assert "HFC591" in {f["id"] for f in doc["findings"]}
    assert "HFC590" not in {f["id"] for f in doc["findings"]}

    assert main(["doctor", str(pkg), "--load", "--allow-fail", "4.57"]) == 0
    out = capsys.readouterr().out
    assert "verification matrix" in out and f"transformers {v4}" in out
    assert "AutoModel @ " + v4 in out

    # --allow-fail naming no version of the matrix is a usage error
    assert main([*argv, "--allow-fail", "4.56"]) == 2
