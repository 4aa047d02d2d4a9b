"""Direct I/O plumbing: an aligned reader thread, a hashing writer thread, reused buffers.

Everything through the page cache costs a first touch of every page (slow on VMs); here the
source is read with ``O_DIRECT`` into a few reused aligned buffers and the output written with
``O_DIRECT`` from a few others, so memory stays flat whatever the model size. Where
``O_DIRECT`` is unavailable (tmpfs, some filesystems, odd sizes) the same code falls back to
ordinary reads and writes; the unaligned tail of a file is always written without it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import mmap
import os
import queue
import threading
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ALIGN = 4096
READ_CHUNK = 32 << 20
READ_BUFFERS = 4
WRITE_CHUNK = 32 << 20
WRITE_BUFFERS = 3
GAP_MERGE = 1 << 20  # read through holes smaller than this instead of seeking

_O_DIRECT = getattr(os, "O_DIRECT", 0)


def _buffer(size: int) -> mmap.mmap:
    """A page-aligned buffer (private anonymous memory, as plain allocations are)."""
    flags = getattr(mmap, "MAP_PRIVATE", 0) | getattr(mmap, "MAP_ANONYMOUS", 0)
    if flags:
        return mmap.mmap(-1, size, flags=flags)
    return mmap.mmap(-1, size)  # pragma: no cover - Windows


def _open_read(path: Path, direct: bool) -> tuple[int, bool]:
    if direct and _O_DIRECT:
        try:
            return os.open(path, os.O_RDONLY | _O_DIRECT), True
        except OSError:
            pass
    return os.open(path, os.O_RDONLY), False


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


class ChunkReader:
    """Reads byte ranges of one file, in order, on a background thread.

    ``ranges`` are ascending, non-overlapping ``(start, end)``; ``pieces(start, end)`` then
    yields memoryviews covering each range in turn (valid until the next call). A second thread
    computes the CRC-32 of every range from the same buffers (:meth:`checksums`), so checking
    the bytes costs the consumer nothing.
    """

    def __init__(self, path: Path, ranges: Sequence[tuple[int, int]], *, direct: bool = True):
        self.path = path
        self.direct_used = False
        self._ranges = [r for r in ranges if r[1] > r[0]]
        self._extents = _merge(self._ranges)
        self._crcs = [0] * len(self._ranges)
        self._free: queue.Queue[mmap.mmap] = queue.Queue()
        for _ in range(READ_BUFFERS):
            self._free.put(_buffer(READ_CHUNK))
        self._ready: queue.Queue[tuple[int, mmap.mmap, int] | _Failure | None] = queue.Queue()
        self._to_check: queue.Queue[tuple[int, mmap.mmap, int] | None] = queue.Queue()
        self._users: dict[int, int] = {}
        self._lock = threading.Lock()
        self._stop = False
        self._direct = direct
        self._cur: tuple[int, mmap.mmap, int] | None = None
        self._thread = threading.Thread(target=self._run, name="hfc-reader", daemon=True)
        self._checker = threading.Thread(target=self._check, name="hfc-crc", daemon=True)
        self._thread.start()
        self._checker.start()

    def _release(self, buf: mmap.mmap) -> None:
        with self._lock:
            left = self._users.get(id(buf), 1) - 1
            if left > 0:
                self._users[id(buf)] = left
                return
            self._users.pop(id(buf), None)
        self._free.put(buf)

    def _run(self) -> None:
        try:
            fd, direct = _open_read(self.path, self._direct)
            self.direct_used = direct
            try:
                for start, end in self._extents:
                    pos = start - start % ALIGN if direct else start
                    while pos < end and not self._stop:
                        buf = self._free.get()
                        if self._stop:
                            break
                        want = min(READ_CHUNK, end - pos)
                        if direct:
                            want = -(-want // ALIGN) * ALIGN
                        try:
                            n = os.preadv(fd, [memoryview(buf)[:want]], pos)
                        except OSError as e:
                            if not direct or e.errno != errno.EINVAL:
                                raise
                            os.close(fd)
                            fd, direct = _open_read(self.path, False)
                            self.direct_used = False
                            n = os.preadv(fd, [memoryview(buf)[:want]], pos)
                        if n <= 0:
                            raise OSError(errno.EIO, f"unexpected end of file at byte {pos}")
                        with self._lock:
                            self._users[id(buf)] = 2
                        self._to_check.put((pos, buf, n))
                        self._ready.put((pos, buf, n))
                        pos += n
            finally:
                os.close(fd)
            self._ready.put(None)
        except BaseException as e:
            self._ready.put(_Failure(e))
        finally:
            self._to_check.put(None)

    def _check(self) -> None:
        i = 0
        ranges, crcs = self._ranges, self._crcs
        while True:
            item = self._to_check.get()
            if item is None:
                return
            pos, buf, n = item
            view = memoryview(buf)
            while i < len(ranges) and ranges[i][0] < pos + n:
                a, b = max(ranges[i][0], pos), min(ranges[i][1], pos + n)
                if a < b:
                    crcs[i] = zlib.crc32(view[a - pos : b - pos], crcs[i])
                if ranges[i][1] > pos + n:
                    break
                i += 1
            view.release()
            self._release(buf)

    def checksums(self) -> dict[int, int]:
        """start of each range -> CRC-32 of its bytes as read (after :meth:`close`)."""
        return {r[0]: c for r, c in zip(self._ranges, self._crcs, strict=True)}

    def pieces(self, start: int, end: int) -> Iterator[memoryview]:
        pos = start
        while pos < end:
            cur = self._cur
            if cur is None or not (cur[0] <= pos < cur[0] + cur[2]):
                if cur is not None:
                    self._release(cur[1])
                    self._cur = None
                item = self._ready.get()
                if item is None:
                    raise OSError(errno.EIO, f"{self.path}: ended before byte {pos}")
                if isinstance(item, _Failure):
                    raise item.exc
                self._cur = item
                continue
            off, buf, n = cur
            stop = min(end, off + n)
            yield memoryview(buf)[pos - off : stop - off]
            pos = stop

    def close(self) -> None:
        """Stop reading, wait for both threads (idempotent)."""
        self._stop = True
        if self._cur is not None:
            self._release(self._cur[1])
            self._cur = None
        for _ in range(READ_BUFFERS):
            self._free.put(_buffer(ALIGN))  # wake a waiting reader
        self._thread.join()
        self._to_check.put(None)
        self._checker.join()


def _merge(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in ranges:
        if out and a - out[-1][1] < GAP_MERGE and a >= out[-1][0]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@dataclass
class OutFile:
    path: Path
    size: int = 0
    sha256: str = ""
    direct_used: bool = False
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256)
    _fd: int = -1
    _fd_plain: int = -1


class Writer:
    """Writes output files from reused aligned buffers on a background thread, while another
    thread computes each file's sha256 from the same buffers (hashing and writing overlap).

    Use: ``f = writer.open(path)``, then ``writer.buffer()`` / ``writer.submit(f, buf, n)``
    repeatedly (every full buffer is a multiple of the alignment), ``writer.finish(f)``, and
    ``writer.close()`` at the end. ``direct=False`` forces the portable path.
    """

    def __init__(self, *, direct: bool = True) -> None:
        self.direct = direct and bool(_O_DIRECT)
        self._free: queue.Queue[mmap.mmap] = queue.Queue()
        for _ in range(WRITE_BUFFERS):
            self._free.put(_buffer(WRITE_CHUNK))
        self._pending: dict[int, int] = {}
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._queues: list[queue.Queue[tuple[str, OutFile, mmap.mmap | None, int]]] = []
        self._threads = []
        for name, work in (("hfc-writer", self._write_job), ("hfc-hasher", self._hash_job)):
            q: queue.Queue[tuple[str, OutFile, mmap.mmap | None, int]] = queue.Queue()
            t = threading.Thread(target=self._run, args=(q, work), name=name, daemon=True)
            self._queues.append(q)
            self._threads.append(t)
            t.start()

    def open(self, path: Path) -> OutFile:
        f = OutFile(path=path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        f._fd_plain = os.open(path, flags, 0o644)
        if self.direct:
            try:
                f._fd = os.open(path, os.O_WRONLY | _O_DIRECT)
                f.direct_used = True
            except OSError:
                f._fd = -1
        return f

    def buffer(self) -> mmap.mmap:
        self.check()
        while True:
            try:
                return self._free.get(timeout=0.5)
            except queue.Empty:
                self.check()

    def release(self, buf: mmap.mmap) -> None:
        """Give back a buffer obtained from :meth:`buffer` without submitting it."""
        self._free.put(buf)

    def submit(self, f: OutFile, buf: mmap.mmap, n: int) -> None:
        with self._lock:
            self._pending[id(buf)] = len(self._queues)
        for q in self._queues:
            q.put(("data", f, buf, n))

    def finish(self, f: OutFile) -> None:
        for q in self._queues:
            q.put(("close", f, None, 0))

    def close(self) -> None:
        """Wait for every job; re-raise the first error, if any."""
        for q in self._queues:
            q.put(("stop", OutFile(Path()), None, 0))
        for t in self._threads:
            t.join()
        self.check()

    def check(self) -> None:
        if self._error is not None:
            raise self._error

    def _done_with(self, buf: mmap.mmap) -> None:
        with self._lock:
            self._pending[id(buf)] -= 1
            last = self._pending[id(buf)] == 0
            if last:
                del self._pending[id(buf)]
        if last:
            self._free.put(buf)

    def _run(self, q: queue.Queue[tuple[str, OutFile, mmap.mmap | None, int]], work: Any) -> None:
        while True:
            kind, f, buf, n = q.get()
            if kind == "stop":
                return
            try:
                if self._error is None:
                    work(kind, f, None if buf is None else memoryview(buf)[:n])
            except BaseException as e:
                self._error = self._error or e
            finally:
                if buf is not None:
                    self._done_with(buf)

    def _hash_job(self, kind: str, f: OutFile, data: memoryview | None) -> None:
        if kind == "data":
            assert data is not None
            f._hash.update(data)
        else:
            f.sha256 = f._hash.hexdigest()

    def _write_job(self, kind: str, f: OutFile, data: memoryview | None) -> None:
        if kind == "close":
            # No fsync, like cp and save_pretrained: O_DIRECT data has reached the device and
            # the rename that publishes the file happens only after verification.
            for fd in (f._fd, f._fd_plain):
                if fd >= 0:
                    os.close(fd)
            f._fd = f._fd_plain = -1
            return
        assert data is not None
        n = len(data)
        aligned = n - n % ALIGN if f._fd >= 0 and f.size % ALIGN == 0 else 0
        if aligned:
            try:
                _pwrite_all(f._fd, data[:aligned], f.size)
            except OSError as e:
                if e.errno != errno.EINVAL:
                    raise
                os.close(f._fd)
                f._fd, f.direct_used = -1, False
                aligned = 0
        if aligned < n:
            _pwrite_all(f._fd_plain, data[aligned:], f.size + aligned)
        f.size += n

    def abort(self) -> None:
        """Stop the threads and close whatever is still open (after a failure)."""
        with contextlib.suppress(BaseException):
            self.close()


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while len(data):
        n = os.pwrite(fd, data, offset)
        data, offset = data[n:], offset + n
