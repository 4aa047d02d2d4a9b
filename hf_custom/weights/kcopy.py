"""Kernel copies: a shard whose tensors are plain byte ranges of their source files.

When no tensor of an output shard is cast or materialised, the shard is its header followed by
byte ranges of the sources, in order. Those ranges are copied file to file by the kernel
(``copy_file_range``: no copy through user space; on filesystems that share extents it may
not copy at all), while the calling thread reads the written output back from the page cache
behind the copy to compute its sha256 and the CRC-32 of every tensor's bytes *as written*
(checked by the caller against the zip archive's own CRC-32).

Where the filesystem or kernel refuses ``copy_file_range`` (other filesystems, old kernels,
some network and FUSE filesystems), the copy falls back to ``pread``/``pwrite`` through one
reused buffer for the rest of the shard; the result is the same bytes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from hf_custom.weights.directio import crc32

COPY_CHUNK = 64 << 20  # bytes per copy_file_range call (progress granularity)
HASH_CHUNK = 8 << 20  # bytes per read-back for hashing (one reused buffer per shard)
MAX_WORKERS = 4  # output shards copied at once
#: errors that mean "this filesystem/kernel cannot copy_file_range here": fall back
_UNSUPPORTED = frozenset(
    {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOTSUP, errno.EBADF}
)


def available() -> bool:
    return hasattr(os, "copy_file_range")


@dataclass(frozen=True)
class Piece:
    """``nbytes`` bytes of ``file`` from ``start``; ``key`` names it in the returned CRCs."""

    file: Path
    start: int
    nbytes: int


@dataclass
class ShardCopy:
    """What :func:`copy_shard` wrote: size, sha256, CRC-32 per piece as read back, and
    whether the kernel did the copy (False: the pread/pwrite fallback was needed)."""

    path: Path
    size: int
    sha256: str
    crcs: dict[tuple[Path, int], int] = field(default_factory=dict)
    kernel: bool = True


class _Copier(threading.Thread):
    def __init__(
        self, fd_out: int, pieces: Sequence[Piece], offset: int, on_bytes: Callable[[int], None]
    ):
        super().__init__(name="hfc-kcopy", daemon=True)
        self.fd_out, self.pieces, self.offset = fd_out, pieces, offset
        self.on_bytes = on_bytes
        self.copied = offset  # bytes of the output written so far (a prefix)
        self.cond = threading.Condition()
        self.error: BaseException | None = None
        self.kernel = available()
        self.stop = False

    def run(self) -> None:
        fds: dict[Path, int] = {}
        try:
            pos = self.offset
            for p in self.pieces:
                fd = fds.get(p.file)
                if fd is None:
                    fd = fds[p.file] = os.open(p.file, os.O_RDONLY)
                    if hasattr(os, "posix_fadvise"):
                        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
                done = 0
                while done < p.nbytes:
                    if self.stop:
                        return
                    want = min(COPY_CHUNK, p.nbytes - done)
                    n = self._copy(fd, want, p.start + done, pos)
                    if n <= 0:
                        raise OSError(errno.EIO, f"unexpected end of file at byte {p.start + done}")
                    done += n
                    pos += n
                    with self.cond:
                        self.copied = pos
                        self.cond.notify_all()
                    self.on_bytes(n)
        except BaseException as e:  # reported by the reading side
            with self.cond:
                self.error = e
                self.cond.notify_all()
        finally:
            for fd in fds.values():
                os.close(fd)

    def _copy(self, fd_in: int, want: int, src_pos: int, dst_pos: int) -> int:
        if self.kernel:
            try:
                return os.copy_file_range(fd_in, self.fd_out, want, src_pos, dst_pos)
            except OSError as e:
                if e.errno not in _UNSUPPORTED:
                    raise
                self.kernel = False
        buf = bytearray(min(want, HASH_CHUNK))
        view = memoryview(buf)
        n = os.preadv(fd_in, [view], src_pos)
        if n > 0:
            _pwrite_all(self.fd_out, view[:n], dst_pos)
        return n


def copy_shard(
    tmp: Path,
    header: bytes,
    pieces: Sequence[Piece],
    *,
    on_bytes: Callable[[int], None] = lambda n: None,
) -> ShardCopy:
    """Write ``header`` then every piece, in order, into the new file ``tmp``."""
    total = len(header) + sum(p.nbytes for p in pieces)
    fd_out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        _pwrite_all(fd_out, memoryview(header), 0)
        copier = _Copier(fd_out, pieces, len(header), on_bytes)
        copier.start()
        try:
            sha, crcs = _read_back(tmp, header, pieces, copier, total)
        finally:
            copier.stop = True
            copier.join()
        if copier.error is not None:
            raise copier.error
    finally:
        os.close(fd_out)
    return ShardCopy(tmp, total, sha, crcs, kernel=copier.kernel)


def copy_shards(
    jobs: Sequence[tuple[int, Path, bytes, Sequence[Piece]]],
    *,
    on_bytes: Callable[[int], None] = lambda n: None,
    workers: int | None = None,
) -> Iterator[tuple[int, ShardCopy]]:
    """:func:`copy_shard` for every ``(index, tmp, header, pieces)``, ``workers`` shards at a
    time (default: one per core, at most ``MAX_WORKERS``); yields ``(index, result)`` in
    order of completion. Memory per shard in flight: one ``HASH_CHUNK`` buffer."""
    if not jobs:
        return
    n = workers or max(1, min(MAX_WORKERS, os.cpu_count() or 1, len(jobs)))
    if n == 1:
        for i, tmp, header, pieces in jobs:
            yield i, copy_shard(tmp, header, pieces, on_bytes=on_bytes)
        return
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="hfc-shard") as pool:
        futures = {
            pool.submit(copy_shard, tmp, header, pieces, on_bytes=on_bytes): i
            for i, tmp, header, pieces in jobs
        }
        try:
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            for fut in futures:
                fut.cancel()


def _read_back(
    tmp: Path, header: bytes, pieces: Sequence[Piece], copier: _Copier, total: int
) -> tuple[str, dict[tuple[Path, int], int]]:
    """sha256 of the whole file and CRC-32 per piece, read back behind the copier."""
    h = hashlib.sha256(header)
    crcs: dict[tuple[Path, int], int] = {}
    buf = bytearray(HASH_CHUNK)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        pos = len(header)
        for p in pieces:
            key, c, end = (p.file, p.start), 0, pos + p.nbytes
            while pos < end:
                with copier.cond:
                    while copier.copied <= pos and copier.error is None:
                        copier.cond.wait()
                    if copier.error is not None:
                        raise copier.error
                    ready = copier.copied
                n = min(HASH_CHUNK, end - pos, ready - pos)
                view = memoryview(buf)[:n]
                got = os.preadv(fd, [view], pos)
                if got != n:
                    raise OSError(errno.EIO, f"{tmp}: short read back at byte {pos}")
                h.update(view)
                c = crc32(view, c)
                view.release()
                pos += n
            crcs[key] = c
        if pos != total:  # pragma: no cover - defensive
            raise OSError(errno.EIO, f"{tmp}: read back {pos} of {total} bytes")
    finally:
        os.close(fd)
    return h.hexdigest(), crcs


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while len(data):
        n = os.pwrite(fd, data, offset)
        data, offset = data[n:], offset + n
