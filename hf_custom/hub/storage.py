"""On-disk storage of the local Hub: content-addressed objects, commits, refs.

Layout under the data directory (it survives restarts)::

    objects/ab/cdef...           file contents, named by their sha256
    repos/<type>s/<ns>/<name>/
        meta.json                visibility, owner, creation date
        refs.json                {"refs/heads/main": <commit id>, "refs/pr/1": ...}
        commits/<id>.json        one commit: parents, message, author, date, the full file table
    tmp/                         partial writes (renamed into place when complete)

A commit is atomic: the objects and the commit file are written first, then ``refs.json`` is
swapped in one ``os.replace`` under a lock. A crash or an error before the swap leaves the
repository exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, BinaryIO

LFS_THRESHOLD = 10 * 1024 * 1024  # the Hub stores files of 10 MB and more in LFS
CHUNK = 1024 * 1024
_OID = re.compile(r"^[0-9a-f]{40}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")

DEFAULT_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib",
        "*.lfs.*", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot",
        "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors",
        "saved_model/**/*", "*.tar.*", "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip",
        "*.zst", "*tfevents*",
    )
)  # fmt: skip


def now() -> str:
    """The Hub's date format (huggingface_hub parses exactly this)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def git_blob_header(size: int) -> bytes:
    return b"blob %d\0" % size


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(git_blob_header(len(data)) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()
    )


class StorageError(Exception):
    """A request the storage cannot honour; ``kind`` picks the HTTP answer."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = (
            kind  # "not_found_entry" | "not_found_revision" | "conflict" | "stale" | "invalid"
        )
        self.message = message


@dataclass(frozen=True)
class Entry:
    """One file of a commit. ``sha1`` is the git blob id of the content itself."""

    sha256: str
    sha1: str
    size: int
    lfs: bool

    @property
    def blob_id(self) -> str:
        """What git (and the Hub) call the file's oid: the pointer's blob id for LFS files."""
        return git_sha1(lfs_pointer(self.sha256, self.size)) if self.lfs else self.sha1

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(self.sha256, self.size))

    def to_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "sha1": self.sha1, "size": self.size, "lfs": self.lfs}


@dataclass(frozen=True)
class Commit:
    id: str
    parents: tuple[str, ...]
    title: str
    message: str
    author: str
    date: str
    files: Mapping[str, Entry] = field(repr=False)


@dataclass(frozen=True)
class RepoMeta:
    repo_type: str
    repo_id: str
    private: bool
    owner: str
    created: str


@dataclass(frozen=True)
class Operation:
    """One line of a commit: add (entry set), delete a file, or delete a folder."""

    kind: str  # "add" | "delete_file" | "delete_folder"
    path: str
    entry: Entry | None = None


REPO_TYPE_NAMES = ("model", "dataset", "space")
TMP_GRACE_SECONDS = 600.0


def validate_repo_id(repo_id: str) -> bool:
    parts = repo_id.split("/")
    return len(parts) == 2 and all(_NAME.match(p) and ".." not in p for p in parts)


def validate_path(path: str) -> bool:
    parts = path.split("/")
    return bool(path) and not path.startswith("/") and all(p not in ("", ".", "..") for p in parts)


def lfs_patterns(gitattributes: bytes) -> list[str]:
    patterns = []
    for line in gitattributes.decode("utf-8", "replace").splitlines():
        fields = line.split()
        if len(fields) >= 2 and not fields[0].startswith("#") and "filter=lfs" in fields[1:]:
            patterns.append(fields[0])
    return patterns


def matches_lfs(path: str, patterns: Iterable[str]) -> bool:
    name = path.rsplit("/", 1)[-1]
    for pattern in patterns:
        if "/" in pattern.rstrip("/"):
            if fnmatch(path, pattern.replace("**/", "*")):
                return True
        elif fnmatch(name, pattern):
            return True
    return False


class Storage:
    """Thread-safe (and process-safe where ``fcntl`` exists) store for the local Hub."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        for sub in ("objects", "repos", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._depth = 0

    # -- locking ------------------------------------------------------------------------------
    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            self._depth += 1
            try:
                if self._depth > 1:
                    yield
                    return
                try:
                    import fcntl
                except ImportError:  # pragma: no cover - Windows: one process per data dir
                    yield
                    return
                with open(self.root / ".lock", "a+b") as fh:
                    fcntl.flock(fh, fcntl.LOCK_EX)
                    try:
                        yield
                    finally:
                        fcntl.flock(fh, fcntl.LOCK_UN)
            finally:
                self._depth -= 1

    def _write_json(self, path: Path, doc: Any) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(path)

    @staticmethod
    def _read_json(path: Path) -> Any:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)

    # -- objects ------------------------------------------------------------------------------
    def object_path(self, sha256: str) -> Path:
        return self.root / "objects" / sha256[:2] / sha256[2:]

    def has_object(self, sha256: str, size: int | None = None) -> bool:
        if not _SHA256.match(sha256):
            return False
        path = self.object_path(sha256)
        return path.is_file() and (size is None or path.stat().st_size == size)

    def put_bytes(self, data: bytes, *, lfs: bool = False) -> Entry:
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.has_object(sha256, len(data)):
            fd, tmp = tempfile.mkstemp(dir=self.root / "tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            self._install(Path(tmp), sha256)
        return Entry(sha256=sha256, sha1=git_sha1(data), size=len(data), lfs=lfs)

    def put_stream(self, chunks: Iterable[bytes], *, size: int, expected_sha256: str) -> Entry:
        """Store a streamed upload if it has the announced size and sha256 (else raise)."""
        sha256, sha1, written = hashlib.sha256(), hashlib.sha1(git_blob_header(size)), 0
        fd, tmp = tempfile.mkstemp(dir=self.root / "tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
                    sha256.update(chunk)
                    sha1.update(chunk)
                    written += len(chunk)
            if written != size or sha256.hexdigest() != expected_sha256:
                raise StorageError(
                    "invalid",
                    f"upload corrupted: received {written} bytes with sha256 {sha256.hexdigest()}, "
                    f"expected {size} bytes with sha256 {expected_sha256}",
                )
            self._install(Path(tmp), expected_sha256)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return Entry(sha256=expected_sha256, sha1=sha1.hexdigest(), size=size, lfs=True)

    def _install(self, tmp: Path, sha256: str) -> None:
        dest = self.object_path(sha256)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp.replace(dest)

    def entry_for_object(self, sha256: str, *, lfs: bool) -> Entry:
        """Describe a stored object (hashing it again for its git blob id)."""
        path = self.object_path(sha256)
        size = path.stat().st_size
        sha1 = hashlib.sha1(git_blob_header(size))
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                sha1.update(chunk)
        return Entry(sha256=sha256, sha1=sha1.hexdigest(), size=size, lfs=lfs)

    def open_object(self, entry: Entry) -> BinaryIO:
        return open(self.object_path(entry.sha256), "rb")

    # -- repositories -------------------------------------------------------------------------
    def _repo_dir(self, repo_type: str, repo_id: str) -> Path:
        # The last line of defence: no caller can name a folder outside repos/.
        if repo_type not in REPO_TYPE_NAMES or not validate_repo_id(repo_id):
            raise StorageError("invalid", f"invalid repository: {repo_type} {repo_id!r}")
        return self.root / "repos" / f"{repo_type}s" / repo_id

    def sweep_tmp(self, *, older_than: float = TMP_GRACE_SECONDS) -> int:
        """Remove partial writes left in tmp/ by a crash; return how many were removed.

        Files touched in the last ``older_than`` seconds are kept: another server process may
        share the data directory and be writing them right now.
        """
        import time

        removed, cutoff = 0, time.time() - older_than
        with self.locked():
            for path in (self.root / "tmp").iterdir():
                try:
                    if path.is_file() and path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
                except OSError:
                    continue
        return removed

    def get_repo(self, repo_type: str, repo_id: str) -> RepoMeta | None:
        if repo_type not in REPO_TYPE_NAMES or not validate_repo_id(repo_id):
            return None
        path = self._repo_dir(repo_type, repo_id) / "meta.json"
        if not path.is_file():
            return None
        doc = self._read_json(path)
        return RepoMeta(repo_type, repo_id, bool(doc["private"]), doc["owner"], doc["created"])

    def create_repo(self, repo_type: str, repo_id: str, *, private: bool, owner: str) -> RepoMeta:
        with self.locked():
            if self.get_repo(repo_type, repo_id) is not None:
                raise StorageError("conflict", f"You already created this {repo_type} repo")
            directory = self._repo_dir(repo_type, repo_id)
            date = now()
            entry = self.put_bytes(DEFAULT_GITATTRIBUTES.encode())
            first = self._write_commit(
                repo_type, repo_id, parents=(), title="initial commit", message="",
                author=owner, date=date, files={".gitattributes": entry},
            )  # fmt: skip
            self._write_json(directory / "refs.json", {"refs/heads/main": first.id})
            meta = {"private": private, "owner": owner, "created": date}
            self._write_json(directory / "meta.json", meta)  # last: the repo exists from here on
        return RepoMeta(repo_type, repo_id, private, owner, date)

    def delete_repo(self, repo_type: str, repo_id: str) -> None:
        import shutil

        with self.locked():
            directory = self._repo_dir(repo_type, repo_id)
            (directory / "meta.json").unlink(missing_ok=True)
            shutil.rmtree(directory, ignore_errors=True)

    def refs(self, repo_type: str, repo_id: str) -> dict[str, str]:
        doc = self._read_json(self._repo_dir(repo_type, repo_id) / "refs.json")
        return dict(doc)

    def get_commit(self, repo_type: str, repo_id: str, oid: str) -> Commit | None:
        if not _OID.match(oid):
            return None
        path = self._repo_dir(repo_type, repo_id) / "commits" / f"{oid}.json"
        if not path.is_file():
            return None
        doc = self._read_json(path)
        files = {p: Entry(**e) for p, e in doc["files"].items()}
        return Commit(
            oid,
            tuple(doc["parents"]),
            doc["title"],
            doc["message"],
            doc["author"],
            doc["date"],
            files,
        )

    def ref_name(self, repo_type: str, repo_id: str, revision: str) -> str | None:
        """The full ref a revision names (``main`` -> ``refs/heads/main``), or None."""
        refs = self.refs(repo_type, repo_id)
        for candidate in (revision, f"refs/heads/{revision}"):
            if candidate in refs:
                return candidate
        return None

    def resolve(self, repo_type: str, repo_id: str, revision: str) -> Commit | None:
        ref = self.ref_name(repo_type, repo_id, revision)
        if ref is not None:
            return self.get_commit(repo_type, repo_id, self.refs(repo_type, repo_id)[ref])
        return self.get_commit(repo_type, repo_id, revision.lower())

    def history(self, repo_type: str, repo_id: str, head: Commit) -> list[Commit]:
        """First-parent history, newest first."""
        out, current = [head], head
        while current.parents:
            parent = self.get_commit(repo_type, repo_id, current.parents[0])
            if parent is None:
                break
            out.append(parent)
            current = parent
        return out

    def _write_commit(
        self,
        repo_type: str,
        repo_id: str,
        *,
        parents: tuple[str, ...],
        title: str,
        message: str,
        author: str,
        date: str,
        files: Mapping[str, Entry],
    ) -> Commit:
        doc = {
            "parents": list(parents),
            "title": title,
            "message": message,
            "author": author,
            "date": date,
            "files": {p: files[p].to_json() for p in sorted(files)},
        }
        oid = hashlib.sha1(json.dumps(doc, sort_keys=True).encode()).hexdigest()
        self._write_json(self._repo_dir(repo_type, repo_id) / "commits" / f"{oid}.json", doc)
        return Commit(oid, parents, title, message, author, date, dict(files))

    def create_branch(self, repo_type: str, repo_id: str, branch: str, *, start: Commit) -> None:
        with self.locked():
            refs = self.refs(repo_type, repo_id)
            ref = f"refs/heads/{branch}"
            if ref in refs:
                raise StorageError("conflict", f"Reference already exists: {ref}")
            refs[ref] = start.id
            self._write_json(self._repo_dir(repo_type, repo_id) / "refs.json", refs)

    def delete_branch(self, repo_type: str, repo_id: str, branch: str) -> None:
        with self.locked():
            refs = self.refs(repo_type, repo_id)
            ref = f"refs/heads/{branch}"
            if ref not in refs or branch == "main":
                raise StorageError("not_found_revision", f"Invalid rev id: {branch}")
            del refs[ref]
            self._write_json(self._repo_dir(repo_type, repo_id) / "refs.json", refs)

    def commit(
        self,
        repo_type: str,
        repo_id: str,
        *,
        revision: str,
        operations: Iterable[Operation],
        title: str,
        message: str,
        author: str,
        parent_commit: str | None = None,
        create_pr: bool = False,
    ) -> tuple[Commit, int | None]:
        """Apply ``operations`` on ``revision``; return the new commit and the PR number."""
        with self.locked():
            ref = self.ref_name(repo_type, repo_id, revision)
            if ref is None:
                raise StorageError("not_found_revision", f"Invalid rev id: {revision}")
            head = self.resolve(repo_type, repo_id, ref)
            assert head is not None
            if parent_commit is not None and parent_commit != head.id:
                raise StorageError(
                    "stale",
                    f"A commit has happened since {parent_commit}: {revision} is now at "
                    f"{head.id}. Refresh and try again.",
                )
            files = dict(head.files)
            for op in operations:
                if op.kind == "add":
                    assert op.entry is not None
                    files[op.path] = op.entry
                elif op.kind == "delete_file":
                    if op.path not in files:
                        raise StorageError(
                            "not_found_entry", f"A file with this name doesn't exist: {op.path}"
                        )
                    del files[op.path]
                else:
                    prefix = op.path.rstrip("/") + "/"
                    doomed = [p for p in files if p.startswith(prefix)]
                    if not doomed:
                        raise StorageError(
                            "not_found_entry", f"No folder with this name: {op.path}"
                        )
                    for p in doomed:
                        del files[p]
            new = self._write_commit(
                repo_type, repo_id, parents=(head.id,), title=title, message=message,
                author=author, date=now(), files=files,
            )  # fmt: skip
            refs = self.refs(repo_type, repo_id)
            number = None
            if create_pr:
                taken = [int(r.rsplit("/", 1)[1]) for r in refs if r.startswith("refs/pr/")]
                number = max(taken, default=0) + 1
                refs[f"refs/pr/{number}"] = new.id
            else:
                refs[ref] = new.id
            self._write_json(self._repo_dir(repo_type, repo_id) / "refs.json", refs)  # the swap
        return new, number
