"""doctor's pickle verdicts (16.4, 16.5): the converter's rule, broken weights caught, hook too."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
import torch
from checks.repo import write_repo

from hf_custom.diagnosis import doctor
from hf_custom.errors import HFCustomError
from hf_custom.weights import convert
from tests.weights.test_pickle_walk import _as_zip, _rot13_payload


def _ids(report: object, rule: str) -> list[str]:
    return [f.path for f in report.findings if f.id == rule]  # type: ignore[attr-defined]


def _torch_bytes(*, legacy: bool = False) -> bytes:
    buf = io.BytesIO()
    torch.save(
        {"model.embed.weight": torch.ones(8, 16)}, buf, _use_new_zipfile_serialization=not legacy
    )
    return buf.getvalue()


def test_rot13_payload_behind_decoys_is_flagged_and_refused(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = _as_zip(tmp_path, _rot13_payload(marker)).read_bytes()
    repo = write_repo(tmp_path / "m", {"model.safetensors": None, "pytorch_model.bin": evil})
    report = doctor(repo)
    assert _ids(report, "HFC300") == ["pytorch_model.bin"] and not report.ok
    assert "STACK_GLOBAL" in next(f.message for f in report.findings if f.id == "HFC300")
    with pytest.raises(HFCustomError) as e:  # what doctor calls unsafe, convert refuses
        convert(repo / "pytorch_model.bin", tmp_path / "out")
    assert [f.id for f in e.value.findings] == ["HFC300"]
    assert not marker.exists()


BROKEN = {
    "zero-byte": b"",
    "text": b"<html><body>502 Bad Gateway</body></html>\n",
    "lfs-pointer": b"version https://git-lfs.github.com/spec/v1\noid sha256:"
    + b"a" * 64
    + b"\nsize 9\n",
    "half-zip": _torch_bytes()[: len(_torch_bytes()) // 2],
    "half-legacy": _torch_bytes(legacy=True)[: len(_torch_bytes(legacy=True)) // 2],
    "legacy-short-tail": _torch_bytes(legacy=True)[:-100],
    "plain-pickle": b"\x80\x02}q\x00.",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_pickle_weights_are_errors(tmp_path: Path, name: str) -> None:
    repo = write_repo(
        tmp_path / "m", {"model.safetensors": None, "pytorch_model.bin": BROKEN[name]}
    )
    report = doctor(repo)
    assert _ids(report, "HFC360") == ["pytorch_model.bin"], report.findings
    assert not report.ok
    with pytest.raises(HFCustomError):  # and convert refuses it too
        convert(repo / "pytorch_model.bin", tmp_path / "out")


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_sound_pickle_weights_pass(tmp_path: Path, legacy: bool) -> None:
    data = _torch_bytes(legacy=legacy)
    repo = write_repo(tmp_path / "m", {"model.safetensors": None, "pytorch_model.bin": data})
    report = doctor(repo)
    assert not _ids(report, "HFC360") and not _ids(report, "HFC300"), report.findings


@pytest.mark.usefixtures("git_identity")
def test_pre_push_hook_blocks_truncated_weights(tmp_path: Path) -> None:
    from hf_custom import hooks

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)

    repo = write_repo(
        tmp_path / "m", {"model.safetensors": None, "pytorch_model.bin": _torch_bytes()}
    )
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git("init", "-q")
    git("remote", "add", "origin", str(bare))
    git("add", "-A")
    git("commit", "-qm", "model")
    hooks.install(repo)
    assert git("push", "origin", "main").returncode == 0
    data = (repo / "pytorch_model.bin").read_bytes()
    (repo / "pytorch_model.bin").write_bytes(data[: len(data) // 2])
    git("commit", "-qam", "cut short")
    blocked = git("push", "origin", "main")
    assert blocked.returncode != 0 and "HFC360" in blocked.stderr, blocked.stderr


@pytest.mark.network
def test_remote_pickle_metadata_read_by_ranges(local_hub, tmp_path: Path) -> None:
    from hf_custom.remote import upload

    big = io.BytesIO()
    torch.save({"model.embed.weight": torch.ones(8, 16), "big": torch.zeros(3_000_000)}, big)
    data = big.getvalue()
    assert len(data) > 12_000_000
    cases = {"sound": data, "cut": data[: len(data) // 2]}
    for name, content in cases.items():
        folder = write_repo(
            tmp_path / name, {"model.safetensors": None, "pytorch_model.bin": content}
        )
        repo_id = f"{local_hub.user}/pickle-{name}"
        upload(folder, repo_id=repo_id, endpoint=local_hub.endpoint())
        report = doctor(repo_id, endpoint=local_hub.url, token=local_hub.token)
        skipped = [s.check for s in report.skipped]
        assert "weights.pickles" not in skipped and "weights.pickle_structure" not in skipped
        assert report.bytes_downloaded is not None
        assert report.bytes_downloaded < len(content) / 4, report.bytes_downloaded
        assert bool(_ids(report, "HFC360")) == (name == "cut"), report.findings
