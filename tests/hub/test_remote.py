"""hf_custom.remote against the local Hub: resolution, upload, faults, remote reading."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from hf_custom.errors import InputError, RemoteError
from hf_custom.events import Progress
from hf_custom.remote import Endpoint, RemoteRepo, local_hub_dir, resolve_endpoint, upload

pytestmark = pytest.mark.network

BIG = hashlib.sha256(b"seed").digest() * 40_000  # 1.28 MB of binary: an LFS file


def folder_with(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_resolve_endpoint_precedence(monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "no-token"))
    plain = resolve_endpoint(None, None)
    assert plain.url == "https://huggingface.co" and plain.local is False
    monkeypatch.setenv("HF_ENDPOINT", "http://mirror.example/")
    monkeypatch.setenv("HF_TOKEN", "hf_env")
    from_env = resolve_endpoint(None, None)
    assert (from_env.url, from_env.token) == ("http://mirror.example", "hf_env")
    explicit = resolve_endpoint("https://other.example", "hf_explicit")
    assert (explicit.url, explicit.token) == ("https://other.example", "hf_explicit")
    assert "hf_explicit" not in repr(explicit)
    monkeypatch.delenv("HF_TOKEN")
    (tmp_path / "stored").write_text("hf_stored\n")
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "stored"))  # as `hf auth login` leaves it
    assert resolve_endpoint(None, None).token == "hf_stored"
    with pytest.raises(InputError):
        resolve_endpoint("ftp://nope", None)


def test_local_endpoint_publishes_into_the_cache_dir(tmp_path, monkeypatch) -> None:
    from huggingface_hub import constants

    from hf_custom.remote import connect

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # the suite runs offline
    with connect(resolve_endpoint("local", None)) as endpoint:
        assert endpoint.local and endpoint.url.startswith("http://127.0.0.1:")
        assert endpoint.token and endpoint.token not in repr(endpoint)
        src = folder_with(tmp_path / "m", {"config.json": b"{}", "model.safetensors": BIG})
        result = upload(src, repo_id="me/local-model", endpoint=endpoint)
        assert result.committed
    assert (local_hub_dir() / "repos" / "models" / "me" / "local-model").is_dir()
    assert local_hub_dir() == Path(os.environ["HF_HOME"]) / "hf-custom" / "hub"


def test_upload_republish_and_replace(local_hub, tmp_path) -> None:
    events = []
    src = folder_with(
        tmp_path / "v1", {"config.json": b'{"v": 1}', "pytorch_model.bin": BIG, "README.md": b"# m"}
    )
    first = upload(
        src, repo_id="alice/up", endpoint=local_hub.endpoint(), private=True, on_event=events.append
    )
    assert first.committed and first.commit_oid and first.commit_url.endswith(first.commit_oid)
    assert sorted(first.uploaded) == ["README.md", "config.json", "pytorch_model.bin"]
    assert {e.key for e in events if isinstance(e, Progress)} == set(first.uploaded)
    api = local_hub.api()
    assert api.model_info("alice/up").private
    commits = len(api.list_repo_commits("alice/up"))
    local_hub.stats.reset()
    again = upload(src, repo_id="alice/up", endpoint=local_hub.endpoint())
    assert not again.committed and again.commit_url is None and again.commit_oid == first.commit_oid
    assert len(api.list_repo_commits("alice/up")) == commits  # no-op republish: no commit
    assert local_hub.stats.bytes_sent < 20_000
    v2 = folder_with(
        tmp_path / "v2",
        {"config.json": b'{"v": 1}', "model.safetensors": BIG + b"x", "README.md": b"# m"},
    )
    second = upload(v2, repo_id="alice/up", endpoint=local_hub.endpoint(), commit_message="v2")
    assert second.committed and second.uploaded == ("model.safetensors",)
    assert second.deleted == ("pytorch_model.bin",)
    assert sorted(second.skipped) == ["README.md", "config.json"]
    assert set(api.list_repo_files("alice/up")) == {
        ".gitattributes", "README.md", "config.json", "model.safetensors"
    }  # fmt: skip
    log = api.list_repo_commits("alice/up")
    assert log[0].title == "v2" and len(log) == commits + 1  # one commit did both


def test_upload_create_pr_and_revision(local_hub, tmp_path) -> None:
    src = folder_with(tmp_path / "a", {"a.txt": b"a"})
    upload(src, repo_id="alice/rev", endpoint=local_hub.endpoint())
    changed = folder_with(tmp_path / "b", {"a.txt": b"b"})
    pr = upload(changed, repo_id="alice/rev", endpoint=local_hub.endpoint(), create_pr=True)
    assert pr.pr_url and pr.pr_url.endswith("/discussions/1")
    events: list = []
    dev = upload(
        changed,
        repo_id="alice/rev",
        endpoint=local_hub.endpoint(),
        revision="dev",
        private=True,
        on_event=events.append,
    )
    assert dev.committed
    assert any(getattr(e, "level", "") == "warning" and "public" in e.message for e in events)
    assert not local_hub.api().model_info("alice/rev").private
    api = local_hub.api()
    assert api.model_info("alice/rev", revision="dev").sha == dev.commit_oid
    assert api.model_info("alice/rev").sha != dev.commit_oid


@pytest.mark.parametrize("fault", ["commit_error", "lfs_upload", "stale_parent"])
def test_faults_leave_nothing_and_rerun_succeeds(local_hub, tmp_path, fault) -> None:
    src = folder_with(tmp_path / "m", {"config.json": b"{}", "model.safetensors": BIG})
    endpoint = local_hub.endpoint()
    api = local_hub.api()
    api.create_repo("alice/faulty")
    before = api.model_info("alice/faulty").sha
    setattr(local_hub.faults, fault, 1)
    with pytest.raises(RemoteError) as info:
        upload(src, repo_id="alice/faulty", endpoint=endpoint)
    text = f"{info.value} {info.value.hint}"
    assert "nothing was committed" in text and "re-run" in text
    assert local_hub.token not in text
    assert api.model_info("alice/faulty").sha == before  # nothing half-committed is visible
    assert set(api.list_repo_files("alice/faulty")) == {".gitattributes"}
    result = upload(src, repo_id="alice/faulty", endpoint=endpoint)
    assert result.committed
    assert set(api.list_repo_files("alice/faulty")) == {
        ".gitattributes",
        "config.json",
        "model.safetensors",
    }


def test_auth_errors_name_the_next_command(local_hub, tmp_path) -> None:
    src = folder_with(tmp_path / "m", {"a.txt": b"a"})
    local_hub.api().create_repo("alice/locked")
    cases = [
        (Endpoint(local_hub.url, "hf_wrong_token"), "401"),
        (Endpoint(local_hub.url, local_hub.other_token), "403"),
        (Endpoint(local_hub.url, None), "401"),
    ]
    for endpoint, status in cases:
        with pytest.raises(RemoteError) as info:
            upload(src, repo_id="alice/locked", endpoint=endpoint)
        assert status in str(info.value)
        assert "hf auth login" in (info.value.hint or "") and "--token" in info.value.hint
        assert not endpoint.token or endpoint.token not in f"{info.value} {info.value.hint}"


def test_unreachable_endpoint(tmp_path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = False
    try:
        with pytest.raises(RemoteError) as info:
            RemoteRepo("a/b", endpoint=Endpoint(f"http://127.0.0.1:{port}", None)).files()
    finally:
        constants.HF_HUB_OFFLINE = saved
    assert "cannot reach" in str(info.value) and "--endpoint" in (info.value.hint or "")


def test_remote_repo_reads_little(local_hub, tmp_path) -> None:
    big = bytes(range(256)) * (16 * 1024)  # 4 MiB
    src = folder_with(tmp_path / "m", {"config.json": b'{"a": 1}', "model.safetensors": big})
    upload(src, repo_id="alice/read", endpoint=local_hub.endpoint(), private=True)
    remote = RemoteRepo("alice/read", endpoint=local_hub.endpoint())
    files = {f.path: f for f in remote.files()}
    assert files["model.safetensors"].size == len(big)
    assert files["model.safetensors"].lfs_sha256 == hashlib.sha256(big).hexdigest()
    assert files["config.json"].lfs_sha256 is None
    assert remote.read_bytes("config.json") == b'{"a": 1}'
    assert remote.read_range("model.safetensors", 1000, 1010) == big[1000:1010]
    assert remote.read_range("model.safetensors", 0, 8) == big[:8]
    assert remote.bytes_downloaded < 5_000
    with pytest.raises(RemoteError):
        remote.read_bytes("model.safetensors", max_bytes=1000)
    with pytest.raises(RemoteError) as hidden:
        RemoteRepo("alice/read", endpoint=local_hub.endpoint(local_hub.other_token)).files()
    assert "not found" in str(hidden.value)


@pytest.mark.slow
def test_upload_with_xet_on_falls_back_to_lfs(local_hub, tmp_path, monkeypatch) -> None:
    """A client with Xet on against a server without Xet (LFS mode): retried through LFS."""
    pytest.importorskip("hf_xet")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    events: list = []
    src = folder_with(tmp_path / "m", {"config.json": b"{}", "model.safetensors": BIG})
    result = upload(src, repo_id="alice/xet", endpoint=local_hub.endpoint(), on_event=events.append)
    assert result.committed and "model.safetensors" in result.uploaded
    assert any("does not speak Xet" in getattr(e, "message", "") for e in events)
    assert constants.HF_HUB_DISABLE_XET is False  # restored
    info = local_hub.api().model_info("alice/xet", files_metadata=True)
    assert {s.rfilename: s.lfs is not None for s in info.siblings}["model.safetensors"]
