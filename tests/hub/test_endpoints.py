"""hf_custom.remote's split: resolving starts nothing, the embedded Hub lives in a ``with``
block, the client is configured per call (huggingface_hub.constants never change), and two
endpoints work side by side in one process."""

from __future__ import annotations

import hashlib
import socket
import threading
from pathlib import Path

import pytest

from hf_custom.errors import RemoteError
from hf_custom.remote import (
    Endpoint,
    LocalHub,
    RemoteRepo,
    connect,
    local_hub_dir,
    resolve_endpoint,
    upload,
)

pytestmark = pytest.mark.network

BIG = hashlib.sha256(b"endpoints").digest() * 40_000  # 1.28 MB of binary: an LFS file


def _folder(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        (root / rel).write_bytes(data)
    return root


def _sockets() -> int:
    fds = Path("/proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += str(fd.readlink()).startswith("socket:")
        except OSError:  # closed while listing
            pass
    return count


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch):
    """huggingface_hub online (the suite runs with HF_HUB_OFFLINE=1): only loopback exists here."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return constants


def _refuses_connections(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as s:
        try:
            s.connect((host, int(port)))
        except OSError:
            return True
    return False


def test_resolving_an_endpoint_starts_nothing(tmp_path: Path) -> None:
    threads, sockets = threading.active_count(), _sockets()
    local = resolve_endpoint("local", None)
    assert local.local and local.pending and local.token is None
    remote = resolve_endpoint("http://127.0.0.1:9", "hf_x")
    assert not remote.pending and not remote.local
    assert threading.active_count() == threads  # no server thread
    assert _sockets() == sockets  # no port bound
    assert not local_hub_dir().exists()  # not even its data directory
    with pytest.raises(ValueError, match="connect"):
        RemoteRepo("a/b", endpoint=local)  # a pending endpoint cannot be read from
    with pytest.raises(ValueError, match="connect"):
        upload(_folder(tmp_path / "m", {"a.txt": b"a"}), repo_id="a/b", endpoint=local)


def test_connect_runs_the_embedded_hub_for_the_block_only(online, tmp_path: Path) -> None:
    src = _folder(tmp_path / "m", {"config.json": b"{}", "model.safetensors": BIG})
    with connect(resolve_endpoint("local", None)) as first:
        assert first.local and not first.pending and first.url.startswith("http://127.0.0.1:")
        assert first.token and first.token not in repr(first)
        assert upload(src, repo_id="me/kept", endpoint=first).committed
    assert _refuses_connections(first.url)  # stopped with the block; no atexit, no registry
    assert (local_hub_dir() / "repos" / "models" / "me" / "kept").is_dir()
    with connect(resolve_endpoint("local", None)) as second:  # a new server, the same data
        assert second.url != first.url or second.token != first.token
        files = {f.path for f in RemoteRepo("me/kept", endpoint=second).files()}
        assert {"config.json", "model.safetensors"} <= files
    plain = Endpoint("http://127.0.0.1:9", None)
    with connect(plain) as same:
        assert same is plain  # anything else passes through untouched


def test_offline_mode_is_respected_for_the_embedded_hub(tmp_path: Path) -> None:
    from huggingface_hub import constants

    assert constants.HF_HUB_OFFLINE  # the suite's default (conftest)
    src = _folder(tmp_path / "m", {"a.txt": b"a"})
    with connect(resolve_endpoint("local", None)) as endpoint, pytest.raises(RemoteError) as info:
        upload(src, repo_id="me/offline", endpoint=endpoint)
    assert "HF_HUB_OFFLINE" in str(info.value) and "HF_HUB_OFFLINE=0" in (info.value.hint or "")
    assert constants.HF_HUB_OFFLINE  # not lifted behind the user's back
    from hf_custom.publishing import publish

    threads = threading.active_count()
    with pytest.raises(RemoteError, match="HF_HUB_OFFLINE"):  # before any staging work
        publish(tmp_path / "not-even-read", repo_id="me/offline", endpoint="local")
    assert threading.active_count() == threads and not (tmp_path / "not-even-read").exists()
    from hf_custom.diagnosis import doctor
    from hf_custom.errors import RemoteUnavailable

    with pytest.raises(RemoteUnavailable) as unreadable:
        doctor("me/offline", endpoint="local")
    hint = unreadable.value.hint or ""
    assert "HF_HUB_OFFLINE=0" in hint and "--dry-run" not in hint  # no publish advice in doctor


def test_a_refused_publish_starts_no_embedded_hub(online, tmp_path: Path) -> None:
    from tiny_checkpoint import make_checkpoint

    from hf_custom.errors import Refusal
    from hf_custom.publishing import publish

    ckpt = make_checkpoint(tmp_path / "ckpt", config={"model_type": "llama"})  # HFC103: refused
    threads, sockets = threading.active_count(), _sockets()
    with pytest.raises(Refusal):
        publish(ckpt, repo_id="me/refused", endpoint="local", verify=False)
    assert threading.active_count() == threads and _sockets() == sockets
    assert not local_hub_dir().exists()


def _watch(constants) -> tuple[threading.Event, list[tuple[object, ...]], threading.Thread]:
    """A thread that records every distinct value of the client's switches while it runs."""
    from huggingface_hub.utils import are_progress_bars_disabled

    def state() -> tuple[object, ...]:
        return (
            constants.HF_HUB_OFFLINE,
            constants.HF_HUB_DISABLE_XET,
            constants.ENDPOINT,
            are_progress_bars_disabled(),
        )

    stop, seen = threading.Event(), [state()]

    def run() -> None:
        while not stop.is_set():
            now = state()
            if now != seen[-1]:
                seen.append(now)
            stop.wait(0.0005)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return stop, seen, thread


def test_constants_never_change_during_publish_and_doctor(
    online, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Xet on in the client, an LFS-only embedded Hub: the upload still goes through LFS, and no
    process-wide switch of huggingface_hub moves, not even for a moment."""
    pytest.importorskip("hf_xet")
    from hf_custom.diagnosis import doctor

    monkeypatch.setattr(online, "HF_HUB_DISABLE_XET", False)
    src = _folder(tmp_path / "m", {"config.json": b'{"model_type": "x"}', "model.safetensors": BIG})
    stop, seen, thread = _watch(online)
    try:
        with connect(resolve_endpoint("local", None)) as endpoint:
            result = upload(src, repo_id="me/watched", endpoint=endpoint)
        report = doctor("me/watched", endpoint="local")
    finally:
        stop.set()
        thread.join()
    assert result.committed and "model.safetensors" in result.uploaded
    assert report.target == "me/watched" and report.bytes_downloaded
    assert len(seen) == 1, seen  # one state from start to end
    assert online.HF_HUB_DISABLE_XET is False and online.HF_HUB_OFFLINE is False


def test_two_endpoints_in_one_process_at_once(online, tmp_path: Path) -> None:
    """Two embedded Hubs, two uploads in two threads: each lands on its own server only."""
    results: dict[str, object] = {}
    with LocalHub(tmp_path / "hub-a") as a, LocalHub(tmp_path / "hub-b") as b:
        assert a.url != b.url and a.token != b.token

        def push(name: str, endpoint: Endpoint) -> None:
            src = _folder(tmp_path / f"src-{name}", {"model.safetensors": BIG + name.encode()})
            try:
                results[name] = upload(src, repo_id=f"me/{name}", endpoint=endpoint)
            except Exception as exc:  # reported below, in the test's thread
                results[name] = exc

        threads = [threading.Thread(target=push, args=x) for x in (("a", a), ("b", b))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(getattr(r, "committed", False) for r in results.values()), results
        assert "model.safetensors" in {f.path for f in RemoteRepo("me/a", endpoint=a).files()}
        with pytest.raises(RemoteError, match="not found"):
            RemoteRepo("me/a", endpoint=b).files()  # a's repository is not on b
        with pytest.raises(RemoteError, match=r"401|not authenticated"):
            RemoteRepo("me/b", endpoint=Endpoint(b.url, a.token)).files()  # nor a's token
    assert (tmp_path / "hub-a" / "repos" / "models" / "me" / "a").is_dir()
    assert not (tmp_path / "hub-b" / "repos" / "models" / "me" / "a").exists()
