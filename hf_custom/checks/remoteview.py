"""A :class:`RepoView` of a repository on a Hub, read through :class:`hf_custom.remote.RemoteRepo`.

The checks read small files whole and safetensors files by range (their header only), so what a
static doctor run downloads does not grow with the size of the weights; ``bytes_downloaded``
counts it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from hf_custom.checks.view import FileEntry
from hf_custom.events import EventSink, Progress, emit

if TYPE_CHECKING:
    from hf_custom.remote import RemoteRepo


class RemoteView:
    remote = True

    def __init__(self, repo: RemoteRepo) -> None:
        self.repo = repo
        self._files: list[FileEntry] | None = None

    @classmethod
    @contextmanager
    def open(
        cls,
        repo_id: str,
        *,
        revision: str | None = None,
        endpoint: str | None = None,
        token: str | None = None,
    ) -> Iterator[RemoteView]:
        """The view for a ``with`` block; ``endpoint="local"`` runs the embedded Hub for it."""
        from hf_custom.remote import RemoteRepo, connect, resolve_endpoint

        with connect(resolve_endpoint(endpoint, token)) as ep:
            yield cls(RemoteRepo(repo_id, endpoint=ep, revision=revision))

    @property
    def label(self) -> str:
        rev = self.repo.revision
        return self.repo.repo_id if rev in (None, "main") else f"{self.repo.repo_id}@{rev}"

    @property
    def bytes_downloaded(self) -> int:
        return int(self.repo.bytes_downloaded)

    def files(self) -> Sequence[FileEntry]:
        if self._files is None:
            self._files = sorted(FileEntry(f.path, f.size) for f in self.repo.files())
        return self._files

    def read_bytes(self, path: str) -> bytes:
        return self.repo.read_bytes(path)

    def read_range(self, path: str, start: int, end: int) -> bytes:
        return self.repo.read_range(path, start, end)

    def local_path(self, path: str) -> Path | None:
        return None


def download_snapshot(view: RemoteView, dest: Path, *, on_event: EventSink | None = None) -> None:
    """Every file of the repository into ``dest`` (for --load only: this downloads the weights)."""
    entries = list(view.files())
    total = sum(e.size for e in entries)
    done = 0
    for e in entries:
        target = dest / e.path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        with tmp.open("wb") as fh:
            pos = 0
            step = 64 * 1024 * 1024
            while pos < e.size:
                chunk = view.read_range(e.path, pos, min(e.size, pos + step))
                if not chunk:
                    break
                fh.write(chunk)
                pos += len(chunk)
                emit(on_event, Progress("download", done + pos, total, unit="B"))
        tmp.replace(target)
        done += e.size
