"""A seekable binary file over range reads (a remote repository's file): zipfile and the pickle
walk read a checkpoint's central directory and ``data.pkl`` through it, never the tensors."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

BLOCK = 256 << 10


class RangeFile(io.RawIOBase):
    """``read_range(start, end)`` -> bytes, seen as a read-only file of ``size`` bytes.

    Reads are rounded to blocks of :data:`BLOCK` bytes and the blocks kept, so zipfile's small
    reads (end record, central directory, local headers) cost a few requests."""

    def __init__(self, read_range: Callable[[int, int], bytes], size: int) -> None:
        super().__init__()
        self._read_range = read_range
        self._size = size
        self._pos = 0
        self._blocks: dict[int, bytes] = {}
        self.fetched = 0  # bytes actually requested

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError("negative seek position")
        self._pos = base + offset
        return self._pos

    def _block(self, k: int) -> bytes:
        if k not in self._blocks:
            start = k * BLOCK
            data = self._read_range(start, min(self._size, start + BLOCK))
            self.fetched += len(data)
            self._blocks[k] = data
        return self._blocks[k]

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        n = max(0, min(len(view), self._size - self._pos))
        done = 0
        while done < n:
            k, off = divmod(self._pos + done, BLOCK)
            block = self._block(k)
            if off >= len(block):
                break
            take = min(n - done, len(block) - off)
            view[done : done + take] = block[off : off + take]
            done += take
        self._pos += done
        return done

    @property
    def size(self) -> int:
        return self._size


@contextlib.contextmanager
def open_source(src: str | Path | IO[bytes]) -> Iterator[tuple[IO[bytes], int, str]]:
    """A file path or an open seekable binary file, as (file, size, name for messages)."""
    if isinstance(src, (str, Path)):
        with Path(src).open("rb") as f:
            yield f, os.fstat(f.fileno()).st_size, str(src)
        return
    size = src.seek(0, io.SEEK_END)
    src.seek(0)
    yield src, size, getattr(src, "name", "<remote file>")
