"""A read-only view of a git tree or of the index, read with git plumbing (never checked out).

The hooks check exactly what is being pushed (a commit's tree) or committed (the index), not the
working tree. Files tracked with git-lfs are stored as pointers in git; their content is read
from the local LFS store (``.git/lfs/objects``), where ``git add`` put it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hf_custom.checks.view import IGNORED_DIRS, FileEntry
from hf_custom.errors import InputError

LFS_PREFIX = b"version https://git-lfs.github.com/spec/v1"


def git(repo: Path, *args: str, input: bytes | None = None) -> bytes:
    proc = subprocess.run(["git", *args], cwd=repo, input=input, capture_output=True)
    if proc.returncode != 0:
        raise InputError(
            f"git {' '.join(args)} failed: {proc.stderr.decode(errors='replace').strip()}",
            path=str(repo),
        )
    return proc.stdout


@contextmanager
def stream_blob(repo: Path, sha: str) -> Iterator[IO[bytes]]:
    """A git object's content as a stream from ``git cat-file`` (never read whole)."""
    proc = subprocess.Popen(
        ["git", "cat-file", "blob", sha],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    try:
        yield proc.stdout
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()


@dataclass(frozen=True)
class _Blob:
    sha: str
    size: int  # size of the git blob (the pointer, for LFS files)
    lfs_oid: str | None = None
    lfs_size: int = 0


class GitTreeView:
    """The tree of ``treeish`` in ``repo`` (a commit, branch, tag), or the index when None."""

    remote = False

    def __init__(self, repo: Path, treeish: str | None = None) -> None:
        self.repo = Path(repo)
        self.treeish = treeish
        self._blobs: dict[str, _Blob] | None = None
        common = git(self.repo, "rev-parse", "--git-common-dir").decode().strip()
        self._lfs_dir = (self.repo / common / "lfs" / "objects").resolve()

    @property
    def label(self) -> str:
        return f"{self.repo}@{self.treeish[:12]}" if self.treeish else f"{self.repo} (staged)"

    def _list(self) -> dict[str, _Blob]:
        if self._blobs is not None:
            return self._blobs
        entries: list[tuple[str, str, int | None]] = []
        if self.treeish is None:
            out = git(self.repo, "ls-files", "-s", "-z")
            for rec in filter(None, out.split(b"\0")):
                meta, _, raw = rec.partition(b"\t")
                mode, sha, _stage = meta.decode().split()
                if mode in ("100644", "100755"):
                    entries.append((raw.decode(), sha, None))
        else:
            out = git(self.repo, "ls-tree", "-r", "-l", "-z", "--full-tree", self.treeish)
            for rec in filter(None, out.split(b"\0")):
                meta, _, raw = rec.partition(b"\t")
                mode, kind, sha, size = meta.decode().split()
                if kind == "blob" and mode in ("100644", "100755"):
                    entries.append((raw.decode(), sha, int(size)))
        entries = [e for e in entries if not set(e[0].split("/")[:-1]) & IGNORED_DIRS]
        sizes = {sha: size for _, sha, size in entries if size is not None}
        missing = sorted({sha for _, sha, size in entries if size is None})
        if missing:
            out = git(self.repo, "cat-file", "--batch-check", input="\n".join(missing).encode())
            for line in out.decode().splitlines():
                sha, _kind, size = line.split()
                sizes[sha] = int(size)
        small = sorted({sha for _, sha, _ in entries if sizes[sha] < 1024})
        pointers = self._lfs_pointers(small)
        blobs: dict[str, _Blob] = {}
        for path, sha, _ in entries:
            oid, lfs_size = pointers.get(sha, (None, 0))
            blobs[path] = _Blob(sha, sizes[sha], oid, lfs_size)
        self._blobs = blobs
        return blobs

    def _lfs_pointers(self, shas: Sequence[str]) -> dict[str, tuple[str, int]]:
        """Parse the small blobs that are git-lfs pointers: sha -> (oid, size)."""
        if not shas:
            return {}
        out = git(self.repo, "cat-file", "--batch", input="\n".join(shas).encode())
        found: dict[str, tuple[str, int]] = {}
        pos = 0
        while pos < len(out):
            nl = out.index(b"\n", pos)
            sha, _kind, size_s = out[pos:nl].decode().split()
            body = out[nl + 1 : nl + 1 + int(size_s)]
            pos = nl + 1 + int(size_s) + 1
            if body.startswith(LFS_PREFIX):
                fields = dict(
                    line.split(" ", 1) for line in body.decode().splitlines() if " " in line
                )
                oid = fields.get("oid", "").removeprefix("sha256:")
                if oid and fields.get("size", "").isdigit():
                    found[sha] = (oid, int(fields["size"]))
        return found

    def files(self) -> Sequence[FileEntry]:
        return sorted(
            FileEntry(p, b.lfs_size if b.lfs_oid else b.size) for p, b in self._list().items()
        )

    def _lfs_path(self, blob: _Blob) -> Path:
        assert blob.lfs_oid is not None
        oid = blob.lfs_oid
        path = self._lfs_dir / oid[:2] / oid[2:4] / oid
        if not path.is_file():
            raise FileNotFoundError(f"git-lfs object {oid} is not in the local LFS store")
        return path

    def read_bytes(self, path: str) -> bytes:
        blob = self._list()[path]
        if blob.lfs_oid:
            return self._lfs_path(blob).read_bytes()
        return git(self.repo, "cat-file", "blob", blob.sha)

    def read_range(self, path: str, start: int, end: int) -> bytes:
        blob = self._list()[path]
        if blob.lfs_oid:
            with self._lfs_path(blob).open("rb") as fh:
                fh.seek(start)
                return fh.read(max(0, end - start))
        proc = subprocess.Popen(
            ["git", "cat-file", "blob", blob.sha],
            cwd=self.repo,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        try:
            data = proc.stdout.read(end)
        finally:
            proc.stdout.close()
            proc.kill()
            proc.wait()
        return data[start:end]

    @contextmanager
    def open_stream(self, path: str) -> Iterator[IO[bytes]]:
        """The content of ``path`` as a stream (any size, memory bounded): for the token scan."""
        blob = self._list()[path]
        if blob.lfs_oid:
            with self._lfs_path(blob).open("rb") as fh:
                yield fh
            return
        with stream_blob(self.repo, blob.sha) as fh:
            yield fh

    def local_path(self, path: str) -> Path | None:
        blob = self._list()[path]
        if blob.lfs_oid:
            try:
                return self._lfs_path(blob)
            except FileNotFoundError:
                return None
        return None
