"""Read-only views of a model repository: a folder, a git tree, or a repo on a Hub.

Checks never touch the filesystem or the network themselves: they read through a
:class:`RepoView`, so the same check runs on a checkpoint folder, on the tree a git hook is about
to push, and on a remote repo (where only small files and safetensors headers are fetched).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

# Directories that are never part of a model repository's content.
IGNORED_DIRS = frozenset({".git"})


@dataclass(frozen=True, order=True)
class FileEntry:
    """One file of the repository: its POSIX path relative to the root and its size in bytes."""

    path: str
    size: int


@runtime_checkable
class RepoView(Protocol):
    """What a check may read. Paths are POSIX, relative to the repository root."""

    @property
    def label(self) -> str:
        """How the repository is named in reports (a folder path, a repo id, a git revision)."""
        ...

    @property
    def remote(self) -> bool:
        """True when every read costs a download (checks avoid reading big files)."""
        ...

    def files(self) -> Sequence[FileEntry]:
        """Every file, sorted by path."""
        ...

    def read_bytes(self, path: str) -> bytes:
        """The whole content of ``path`` (checks call it on small files only)."""
        ...

    def read_range(self, path: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive) of ``path``; shorter at the end of the file."""
        ...

    def local_path(self, path: str) -> Path | None:
        """A local file holding ``path``'s content, when there is one (never downloads)."""
        ...


class FolderView:
    """A checkpoint or staging folder on disk; nothing is written.

    Symlinks are followed only when they stay inside the folder; the others are not listed
    (``links_outside`` names them, for HFC608).
    """

    remote = False

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._files: list[FileEntry] | None = None
        self.links_outside: tuple[str, ...] = ()  # known once files() ran

    @property
    def label(self) -> str:
        return str(self.root)

    def files(self) -> Sequence[FileEntry]:
        if self._files is None:
            from hf_custom.inventory import link_outside

            found: list[FileEntry] = []
            outside: list[str] = []
            for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
                here = Path(dirpath)
                for d in dirnames:
                    if link_outside(self.root, here / d):
                        outside.append((here / d).relative_to(self.root).as_posix() + "/")
                dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
                for name in filenames:
                    full = here / name
                    rel = full.relative_to(self.root).as_posix()
                    if link_outside(self.root, full):  # never read: see HFC608
                        outside.append(rel)
                        continue
                    if not full.is_file():
                        continue
                    found.append(FileEntry(rel, full.stat().st_size))
            self._files = sorted(found)
            self.links_outside = tuple(sorted(outside))
        return self._files

    def read_bytes(self, path: str) -> bytes:
        return (self.root / path).read_bytes()

    def read_range(self, path: str, start: int, end: int) -> bytes:
        with (self.root / path).open("rb") as fh:
            fh.seek(start)
            return fh.read(max(0, end - start))

    def local_path(self, path: str) -> Path | None:
        return self.root / path


class MemoryView:
    """Files held in memory: the staging plan before anything is written (the gate step's view).

    ``files`` maps POSIX paths to their content; nothing is read from disk.
    """

    remote = False

    def __init__(self, files: Mapping[str, bytes], *, label: str) -> None:
        self._data = dict(files)
        self._label = label

    @property
    def label(self) -> str:
        return self._label

    def files(self) -> Sequence[FileEntry]:
        return sorted(FileEntry(p, len(b)) for p, b in self._data.items())

    def read_bytes(self, path: str) -> bytes:
        return self._data[path]

    def read_range(self, path: str, start: int, end: int) -> bytes:
        return self._data[path][start : max(start, end)]

    def local_path(self, path: str) -> Path | None:
        return None
