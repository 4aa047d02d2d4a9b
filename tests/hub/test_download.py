"""Downloads, range requests, private visibility and error classes, with the real client."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx2
import numpy as np
import pytest
from huggingface_hub import hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from safetensors.numpy import save_file

pytestmark = pytest.mark.network


def _weights(path: Path, mib: int = 4) -> Path:
    n = mib * 1024 * 1024 // 4 // 2
    save_file(
        {"a.weight": np.arange(n, dtype=np.float32), "b.bias": np.ones(n, dtype=np.float32)},
        str(path),
        metadata={"format": "pt"},
    )
    return path


@pytest.fixture
def repo(local_hub, tmp_path):
    api = local_hub.api()
    api.create_repo("alice/dl")
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}')
    _weights(folder / "model.safetensors")
    api.upload_folder(repo_id="alice/dl", folder_path=folder)
    return folder


def test_hf_hub_download_and_snapshot(local_hub, repo, tmp_path) -> None:
    path = hf_hub_download(
        "alice/dl", "model.safetensors", endpoint=local_hub.url, cache_dir=tmp_path / "c1"
    )
    assert Path(path).read_bytes() == (repo / "model.safetensors").read_bytes()
    snap = snapshot_download("alice/dl", endpoint=local_hub.url, cache_dir=tmp_path / "c2")
    assert sorted(p.name for p in Path(snap).iterdir()) == [
        ".gitattributes",
        "config.json",
        "model.safetensors",
    ]
    assert Path(snap).name == local_hub.api().model_info("alice/dl").sha


def test_head_headers_and_ranges(local_hub, repo) -> None:
    sha = local_hub.api().model_info("alice/dl").sha
    url = f"{local_hub.url}/alice/dl/resolve/main/model.safetensors"
    data = (repo / "model.safetensors").read_bytes()
    head = httpx2.head(url)
    assert head.headers["X-Repo-Commit"] == sha
    assert head.headers["X-Linked-Etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert int(head.headers["X-Linked-Size"]) == len(data)
    part = httpx2.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    tail = httpx2.get(url, headers={"Range": "bytes=-5"})
    assert tail.content == data[-5:]
    bad = httpx2.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert bad.status_code == 416


def test_safetensors_metadata_reads_headers_only(local_hub, repo) -> None:
    size = (repo / "model.safetensors").stat().st_size
    assert size > 4_000_000
    local_hub.stats.reset()
    meta = local_hub.api().get_safetensors_metadata("alice/dl")
    info = meta.files_metadata["model.safetensors"]
    assert set(info.tensors) == {"a.weight", "b.bias"}
    # the client asks for bytes 0-100000 (its fixed first range), never the 4 MB file
    # (a retry under load may ask twice: still a tenth of the file at most)
    sent = local_hub.stats.file_bytes[("alice/dl", "model.safetensors")]
    assert sent % 100_001 == 0 and sent < size / 10
    assert local_hub.stats.bytes_sent < size / 10


def test_private_repos_are_invisible(local_hub) -> None:
    api = local_hub.api()
    api.create_repo("alice/secret", private=True)
    api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/secret")
    assert api.model_info("alice/secret").private is True
    for token in (local_hub.other_token, False):
        with pytest.raises(RepositoryNotFoundError):
            local_hub.api(token=token or None).model_info("alice/secret", token=token)
        with pytest.raises(RepositoryNotFoundError):
            hf_hub_download("alice/secret", "x.txt", endpoint=local_hub.url, token=token)
    assert local_hub.api(local_hub.read_token).model_info("alice/secret").private  # her own


def test_error_classes(local_hub) -> None:
    api = local_hub.api()
    api.create_repo("alice/err")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info("alice/nope")
    with pytest.raises(RevisionNotFoundError):
        api.model_info("alice/err", revision="no-branch")
    with pytest.raises(RemoteEntryNotFoundError):
        hf_hub_download("alice/err", "missing.txt", endpoint=local_hub.url)
    with pytest.raises(HfHubHTTPError) as bad_token:
        api.whoami(token="hf_not_a_token")
    assert bad_token.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as forbidden:  # bob writing to alice's repo
        local_hub.api(local_hub.other_token).upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/err"
        )
    assert forbidden.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as read_only:  # alice's read token
        local_hub.api(local_hub.read_token).upload_file(
            path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/err"
        )
    assert read_only.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as other_ns:
        api.create_repo("bob/mine")
    assert other_ns.value.response.status_code == 403
    response = httpx2.get(f"{local_hub.url}/api/models/alice/nope")
    assert response.headers["X-Error-Code"] == "RepoNotFound"


def test_unusual_file_names(local_hub, tmp_path) -> None:
    api = local_hub.api()
    api.create_repo("alice/names")
    names = ["données/é x.txt", "a+b=c&d.json", "sub dir/#hash?.md"]
    for name in names:
        api.upload_file(path_or_fileobj=name.encode(), path_in_repo=name, repo_id="alice/names")
    assert set(api.list_repo_files("alice/names")) == {".gitattributes", *names}
    for name in names:
        path = hf_hub_download("alice/names", name, endpoint=local_hub.url, cache_dir=tmp_path)
        assert Path(path).read_bytes() == name.encode()
