"""The unmodified huggingface_hub client against the local Hub: repos, commits, listings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, CommitOperationDelete
from huggingface_hub.errors import HfHubHTTPError

pytestmark = pytest.mark.network


def make_folder(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


BIG = bytes(range(256)) * 4096  # 1 MiB, binary: goes through the LFS batch API


def test_whoami_and_create_repo(local_hub) -> None:
    api = local_hub.api()
    me = api.whoami()
    assert me["name"] == "alice" and [o["name"] for o in me["orgs"]] == ["acme"]
    url = api.create_repo("alice/model")
    assert url == f"{local_hub.url}/alice/model"
    with pytest.raises(HfHubHTTPError) as info:
        api.create_repo("alice/model")
    assert info.value.response.status_code == 409
    assert api.create_repo("alice/model", exist_ok=True) == url  # the 409 body carries the url
    assert api.create_repo("acme/shared").repo_id == "acme/shared"  # an org of alice's


def test_upload_folder_lists_and_info(local_hub, tmp_path) -> None:
    api = local_hub.api()
    api.create_repo("alice/m")
    folder = make_folder(
        tmp_path / "f",
        {"config.json": b'{"a": 1}', "model.safetensors": BIG, "sub/deep/x.txt": b"hi"},
    )
    info = api.upload_folder(repo_id="alice/m", folder_path=folder, commit_message="first")
    assert len(info.oid) == 40 and info.commit_url.endswith(info.oid)
    model = api.model_info("alice/m", files_metadata=True)
    assert model.sha == info.oid
    siblings = {s.rfilename: s for s in model.siblings}
    assert set(siblings) == {".gitattributes", "config.json", "model.safetensors", "sub/deep/x.txt"}
    assert siblings["model.safetensors"].lfs.size == len(BIG)
    assert siblings["config.json"].lfs is None and siblings["config.json"].size == 8
    tree = {e.path: e for e in api.list_repo_tree("alice/m", recursive=True)}
    assert {"sub", "sub/deep", "sub/deep/x.txt", "model.safetensors"} <= set(tree)
    assert tree["model.safetensors"].lfs.sha256 == __import__("hashlib").sha256(BIG).hexdigest()
    top = {e.path for e in api.list_repo_tree("alice/m")}
    assert top == {".gitattributes", "config.json", "model.safetensors", "sub"}
    assert {e.path for e in api.list_repo_tree("alice/m", path_in_repo="sub")} == {"sub/deep"}
    paths = api.get_paths_info("alice/m", ["config.json", "sub", "missing.txt"])
    assert sorted(p.path for p in paths) == ["config.json", "sub"]
    commits = api.list_repo_commits("alice/m")
    assert [c.title for c in commits] == ["first", "initial commit"]


def test_tree_pagination_follows_link_header(local_hub, tmp_path) -> None:
    local_hub.server.tree_page_size = 2
    api = local_hub.api()
    api.create_repo("alice/many")
    files = {f"f{i:02d}.txt": str(i).encode() for i in range(7)}
    api.upload_folder(repo_id="alice/many", folder_path=make_folder(tmp_path / "f", files))
    listed = [e.path for e in api.list_repo_tree("alice/many", recursive=True)]
    assert sorted(listed) == sorted([*files, ".gitattributes"])
    assert len(listed) == len(set(listed))


def test_create_commit_deletes_and_stale_parent(local_hub) -> None:
    api = local_hub.api()
    api.create_repo("alice/d")
    first = api.create_commit(
        "alice/d",
        operations=[
            CommitOperationAdd("old/pytorch_model.bin", b"\0pickle" * 100),
            CommitOperationAdd("old/notes.txt", b"notes"),
            CommitOperationAdd("keep.txt", b"keep"),
        ],
        commit_message="add",
    )
    second = api.create_commit(
        "alice/d",
        operations=[
            CommitOperationDelete("keep.txt"),
            CommitOperationDelete("old/", is_folder=True),
            CommitOperationAdd("model.safetensors", BIG),
        ],
        commit_message="replace",
        parent_commit=first.oid,
    )
    files = set(api.list_repo_files("alice/d"))
    assert files == {".gitattributes", "model.safetensors"}
    with pytest.raises(HfHubHTTPError) as info:
        api.create_commit(
            "alice/d",
            operations=[CommitOperationAdd("late.txt", b"late")],
            commit_message="late",
            parent_commit=first.oid,  # stale: second landed since
        )
    assert info.value.response.status_code == 412
    assert api.model_info("alice/d").sha == second.oid
    assert "late.txt" not in api.list_repo_files("alice/d")


def test_unchanged_files_make_no_commit(local_hub, tmp_path) -> None:
    api = local_hub.api()
    api.create_repo("alice/same")
    folder = make_folder(tmp_path / "f", {"config.json": b"{}", "model.safetensors": BIG})
    api.upload_folder(repo_id="alice/same", folder_path=folder)
    before = len(api.list_repo_commits("alice/same"))
    local_hub.stats.reset()
    again = api.upload_folder(repo_id="alice/same", folder_path=folder)
    assert len(api.list_repo_commits("alice/same")) == before
    assert again.oid == api.model_info("alice/same").sha
    assert local_hub.stats.bytes_sent < 10_000  # the big file was not sent either way


def test_create_pr_and_branches(local_hub, tmp_path) -> None:
    api = local_hub.api()
    api.create_repo("alice/pr")
    main_sha = api.model_info("alice/pr").sha
    info = api.upload_folder(
        repo_id="alice/pr", folder_path=make_folder(tmp_path / "f", {"a.txt": b"a"}), create_pr=True
    )
    assert info.pr_url is not None and info.pr_url.endswith("/discussions/1")
    assert info.pr_revision == "refs/pr/1"
    refs = api.list_repo_refs("alice/pr", include_pull_requests=True)
    assert [r.ref for r in refs.pull_requests] == ["refs/pr/1"]
    assert refs.pull_requests[0].target_commit == info.oid
    assert api.model_info("alice/pr").sha == main_sha  # main untouched
    assert "a.txt" in api.list_repo_files("alice/pr", revision="refs/pr/1")
    assert api.model_info("alice/pr", revision="refs/pr/1").sha == info.oid
    api.create_branch("alice/pr", branch="dev")
    api.create_branch("alice/pr", branch="dev", exist_ok=True)
    api.upload_file(path_or_fileobj=b"d", path_in_repo="d.txt", repo_id="alice/pr", revision="dev")
    assert "d.txt" in api.list_repo_files("alice/pr", revision="dev")
    assert "d.txt" not in api.list_repo_files("alice/pr")
    assert {b.name for b in api.list_repo_refs("alice/pr").branches} == {"main", "dev"}


def test_storage_survives_restart(local_hub, tmp_path) -> None:
    from hf_custom.hub import Account, HubServer

    api = local_hub.api()
    api.create_repo("alice/persist", private=True)
    api.upload_file(path_or_fileobj=BIG, path_in_repo="w.bin", repo_id="alice/persist")
    sha = api.model_info("alice/persist").sha
    local_hub.server.stop()
    with HubServer(local_hub.data_dir, tokens={"t": Account("alice")}) as again:
        from huggingface_hub import HfApi

        info = HfApi(endpoint=again.url, token="t").model_info("alice/persist", files_metadata=True)
        assert info.sha == sha and info.private
        assert {s.rfilename for s in info.siblings} == {".gitattributes", "w.bin"}
    commit_files = list(
        (local_hub.data_dir / "repos" / "models" / "alice" / "persist").rglob("*.json")
    )
    assert all(json.loads(p.read_text()) is not None for p in commit_files)


def test_commit_is_all_or_nothing(local_hub) -> None:
    import base64

    import httpx2

    api = local_hub.api()
    api.create_repo("alice/atomic")
    head = api.model_info("alice/atomic").sha
    lines = [
        {"key": "header", "value": {"summary": "half"}},
        {
            "key": "file",
            "value": {
                "path": "a.txt",
                "content": base64.b64encode(b"a").decode(),
                "encoding": "base64",
            },
        },
        {
            "key": "lfsFile",
            "value": {"path": "w.bin", "algo": "sha256", "oid": "0" * 64, "size": 3},
        },
    ]
    response = httpx2.post(
        f"{local_hub.url}/api/models/alice/atomic/commit/main",
        content=b"".join(json.dumps(line).encode() + b"\n" for line in lines),
        headers={
            "Authorization": f"Bearer {local_hub.token}",
            "Content-Type": "application/x-ndjson",
        },
    )
    assert response.status_code == 422  # the LFS object was never uploaded
    assert api.model_info("alice/atomic").sha == head
    assert api.list_repo_files("alice/atomic") == [".gitattributes"]


def test_dataset_repos(local_hub) -> None:
    from huggingface_hub import hf_hub_download

    api = local_hub.api()
    url = api.create_repo("acme/data", repo_type="dataset")
    assert url == f"{local_hub.url}/datasets/acme/data"
    api.upload_file(
        path_or_fileobj=BIG, path_in_repo="d/x.bin", repo_id="acme/data", repo_type="dataset"
    )
    assert "d/x.bin" in api.list_repo_files("acme/data", repo_type="dataset")
    path = hf_hub_download("acme/data", "d/x.bin", repo_type="dataset", endpoint=local_hub.url)
    assert Path(path).read_bytes() == BIG


def test_lfs_upload_urls_authorise_themselves_only(local_hub) -> None:
    import hashlib

    import httpx2

    oid = hashlib.sha256(BIG).hexdigest()
    batch = httpx2.post(
        f"{local_hub.url}/alice/lfs.git/info/lfs/objects/batch",
        json={"operation": "upload", "objects": [{"oid": oid, "size": len(BIG)}]},
        headers={"Authorization": f"Bearer {local_hub.token}"},
    )
    assert batch.status_code == 404  # no such repo yet
    local_hub.api().create_repo("alice/lfs")
    anonymous = httpx2.post(
        f"{local_hub.url}/alice/lfs.git/info/lfs/objects/batch",
        json={"operation": "upload", "objects": [{"oid": oid, "size": len(BIG)}]},
    )
    assert anonymous.status_code == 401
    batch = httpx2.post(
        f"{local_hub.url}/alice/lfs.git/info/lfs/objects/batch",
        json={"operation": "upload", "objects": [{"oid": oid, "size": len(BIG)}]},
        headers={"Authorization": f"Bearer {local_hub.token}"},
    )
    href = batch.json()["objects"][0]["actions"]["upload"]["href"]
    forged = href.replace("sig=", "sig=0")
    assert httpx2.put(forged, content=BIG).status_code == 403
    assert httpx2.put(href.split("?")[0], content=BIG).status_code == 403
    assert httpx2.put(href, content=BIG).status_code == 200  # no Authorization header needed
    again = httpx2.post(
        f"{local_hub.url}/alice/lfs.git/info/lfs/objects/batch",
        json={"operation": "upload", "objects": [{"oid": oid, "size": len(BIG)}]},
        headers={"Authorization": f"Bearer {local_hub.token}"},
    )
    assert "actions" not in again.json()["objects"][0]  # already stored: nothing to send


def test_commit_listing_is_paginated(local_hub) -> None:
    local_hub.server.commits_page_size = 2
    api = local_hub.api()
    api.create_repo("alice/log")
    for i in range(4):
        api.upload_file(path_or_fileobj=str(i).encode(), path_in_repo="n.txt", repo_id="alice/log",
                        commit_message=f"c{i}")  # fmt: skip
    titles = [c.title for c in api.list_repo_commits("alice/log")]
    assert titles == ["c3", "c2", "c1", "c0", "initial commit"]


def test_delete_file_branch_and_repo(local_hub) -> None:
    api = local_hub.api()
    api.create_repo("alice/gone")
    api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/gone")
    api.delete_file("x.txt", repo_id="alice/gone")
    assert api.list_repo_files("alice/gone") == [".gitattributes"]
    api.create_branch("alice/gone", branch="tmp")
    api.delete_branch("alice/gone", branch="tmp")
    assert [b.name for b in api.list_repo_refs("alice/gone").branches] == ["main"]
    assert api.file_exists("alice/gone", ".gitattributes")
    assert not api.file_exists("alice/gone", "x.txt")
    with pytest.raises(HfHubHTTPError):
        local_hub.api(local_hub.other_token).delete_repo("alice/gone")
    api.delete_repo("alice/gone")
    assert not api.repo_exists("alice/gone")
    api.create_repo("alice/gone")  # the name is free again
    assert api.list_repo_files("alice/gone") == [".gitattributes"]
