"""The local Hub's storage rules, as plain data (no server)."""

from __future__ import annotations

import pytest

from hf_custom.hub.storage import (
    DEFAULT_GITATTRIBUTES,
    Operation,
    Storage,
    StorageError,
    git_sha1,
    lfs_patterns,
    matches_lfs,
    validate_path,
    validate_repo_id,
)


def test_git_blob_ids_match_git() -> None:
    assert git_sha1(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"  # `git hash-object` of ""
    assert git_sha1(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_lfs_patterns_of_the_default_gitattributes() -> None:
    patterns = lfs_patterns(DEFAULT_GITATTRIBUTES.encode())
    assert matches_lfs("model.safetensors", patterns)
    assert matches_lfs("sub/pytorch_model.bin", patterns)
    assert matches_lfs("saved_model/a/b.pb", patterns)
    assert not matches_lfs("config.json", patterns)
    assert not matches_lfs("modeling_x.py", patterns)


@pytest.mark.parametrize("path", ["a.txt", "a/b.txt", ".gitattributes"])
def test_valid_paths(path: str) -> None:
    assert validate_path(path)


@pytest.mark.parametrize("path", ["", "/abs", "a/../b", "./a", "a//b", ".."])
def test_invalid_paths(path: str) -> None:
    assert not validate_path(path)


def test_repo_ids() -> None:
    assert validate_repo_id("alice/model-1.5")
    assert not validate_repo_id("model")
    assert not validate_repo_id("a/b/c")
    assert not validate_repo_id("../b")


def test_commits_chain_and_failed_commits_change_nothing(tmp_path) -> None:
    storage = Storage(tmp_path)
    storage.create_repo("model", "a/b", private=False, owner="a")
    head = storage.resolve("model", "a/b", "main")
    assert head is not None and set(head.files) == {".gitattributes"}
    entry = storage.put_bytes(b"hi")
    new, pr = storage.commit(
        "model", "a/b", revision="main", operations=[Operation("add", "x.txt", entry)],
        title="t", message="", author="a", parent_commit=head.id,
    )  # fmt: skip
    assert pr is None and new.parents == (head.id,) and len(new.id) == 40
    with pytest.raises(StorageError) as missing:
        storage.commit(
            "model", "a/b", revision="main", title="t", message="", author="a",
            operations=[Operation("add", "y.txt", entry), Operation("delete_file", "nope.txt")],
        )  # fmt: skip
    assert missing.value.kind == "not_found_entry"
    with pytest.raises(StorageError) as stale:
        storage.commit(
            "model", "a/b", revision="main", operations=[], title="t", message="", author="a",
            parent_commit=head.id,
        )  # fmt: skip
    assert stale.value.kind == "stale"
    after = storage.resolve("model", "a/b", "main")
    assert (
        after is not None and after.id == new.id and set(after.files) == {".gitattributes", "x.txt"}
    )
    assert Storage(tmp_path).resolve("model", "a/b", "main") == after  # read back from disk


def test_corrupt_stream_is_not_stored(tmp_path) -> None:
    import hashlib

    storage = Storage(tmp_path)
    data = b"x" * 1000
    oid = hashlib.sha256(data).hexdigest()
    with pytest.raises(StorageError):
        storage.put_stream([data[:500]], size=1000, expected_sha256=oid)
    assert not storage.has_object(oid)
    assert list((tmp_path / "tmp").iterdir()) == []
    entry = storage.put_stream([data[:500], data[500:]], size=1000, expected_sha256=oid)
    assert storage.has_object(oid, 1000) and entry.sha1 == git_sha1(data)
