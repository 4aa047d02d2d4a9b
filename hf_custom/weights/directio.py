"""Direct I/O plumbing: parallel aligned reads and writes, hashing beside them, reused buffers.

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
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path


def _fast_crc32() -> tuple[str, Callable[..., int]]:
    """ISA-L's CRC-32 when the optional ``isal`` package is installed (about 3x zlib's
    speed, and it releases the GIL too), else zlib's: the same function, the same values."""
    try:
        from isal import isal_zlib
    except ImportError:
        return "zlib", zlib.crc32
    return "isal", isal_zlib.crc32


CRC32_IMPL, crc32 = _fast_crc32()

ALIGN = 4096
READ_CHUNK = 16 << 20
READ_BUFFERS = 7  # one per read in flight, plus one being handed over
READ_THREADS = 6
WRITE_CHUNK = 16 << 20
WRITE_BUFFERS = 5  # (16 MB each: 192 MB in all, beside torch's ~150 MB once imported)
WRITE_THREADS = 4
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
    """Reads byte ranges of one file, in order, with several reads in flight.

    ``ranges`` are ascending, non-overlapping ``(start, end)``; ``pieces(start, end)`` then
    yields memoryviews covering each range in turn (valid until the next call). Reads are
    issued by ``READ_THREADS`` threads at once (virtual disks serve parallel requests much
    faster than one at a time) and delivered in order. Another thread computes the CRC-32 of
    every range from the same buffers (:meth:`checksums`), so checking costs the consumer nothing.
    """

    def __init__(self, path: Path, ranges: Sequence[tuple[int, int]], *, direct: bool = True):
        self.path = path
        self._ranges = [r for r in ranges if r[1] > r[0]]
        self._crcs = [0] * len(self._ranges)
        self._fd, self.direct_used = _open_read(path, direct)
        self._fd_plain = -1
        self._chunks = _chunks(_merge(self._ranges), aligned=self.direct_used)
        self._free: queue.Queue[mmap.mmap] = queue.Queue()
        for _ in range(READ_BUFFERS):
            self._free.put(_buffer(READ_CHUNK))
        self._cond = threading.Condition()
        self._done: dict[int, tuple[int, mmap.mmap, int] | _Failure] = {}
        self._users: dict[int, int] = {}
        self._next_index = 0
        self._stop = False
        self._main_index = 0
        self._cur: tuple[int, mmap.mmap, int] | None = None
        self._threads = [
            threading.Thread(target=self._read_loop, name=f"hfc-reader-{k}", daemon=True)
            for k in range(READ_THREADS)
        ]
        self._threads.append(threading.Thread(target=self._check, name="hfc-crc", daemon=True))
        for t in self._threads:
            t.start()

    # -- reading ---------------------------------------------------------------------------
    def _read_loop(self) -> None:
        while True:
            buf = self._free.get()  # a buffer first, then an index: the lowest index in flight
            with self._cond:  # always holds a buffer, so in-order delivery cannot deadlock
                i = self._next_index
                if self._stop or i >= len(self._chunks):
                    self._free.put(buf)
                    return
                self._next_index += 1
            pos, want = self._chunks[i]
            try:
                n = self._pread(buf, want, pos)
                if n <= 0:
                    raise OSError(errno.EIO, f"unexpected end of file at byte {pos}")
                item: tuple[int, mmap.mmap, int] | _Failure = (pos, buf, n)
            except BaseException as e:
                item = _Failure(e)
                self._free.put(buf)
            with self._cond:
                if not isinstance(item, _Failure):
                    self._users[id(buf)] = 2
                self._done[i] = item
                self._cond.notify_all()

    def _pread(self, buf: mmap.mmap, want: int, pos: int) -> int:
        view = memoryview(buf)[:want]
        try:
            if self._fd_plain < 0:
                try:
                    return os.preadv(self._fd, [view], pos)
                except OSError as e:
                    if not self.direct_used or e.errno != errno.EINVAL:
                        raise
                    with self._cond:
                        if self._fd_plain < 0:
                            self._fd_plain = os.open(self.path, os.O_RDONLY)
                        self.direct_used = False
            return os.preadv(self._fd_plain, [view], pos)
        finally:
            view.release()

    def _take(self, i: int) -> tuple[int, mmap.mmap, int] | None:
        """Chunk ``i`` once it has been read (None past the end)."""
        if i >= len(self._chunks):
            return None
        with self._cond:
            while i not in self._done:
                if self._stop:  # closing after a failure: this chunk will never come
                    return None
                self._cond.wait()
            item = self._done[i]
        if isinstance(item, _Failure):
            raise item.exc
        return item

    def _release(self, i: int, buf: mmap.mmap) -> None:
        with self._cond:
            left = self._users.get(id(buf), 1) - 1
            if left > 0:
                self._users[id(buf)] = left
                return
            self._users.pop(id(buf), None)
            self._done.pop(i, None)
        self._free.put(buf)

    # -- checksums -------------------------------------------------------------------------
    def _check(self) -> None:
        r = 0
        ranges, crcs = self._ranges, self._crcs
        for i in range(len(self._chunks)):
            try:
                item = self._take(i)
            except BaseException:
                return
            if item is None:
                return
            pos, buf, n = item
            view = memoryview(buf)
            while r < len(ranges) and ranges[r][0] < pos + n:
                a, b = max(ranges[r][0], pos), min(ranges[r][1], pos + n)
                if a < b:
                    crcs[r] = crc32(view[a - pos : b - pos], crcs[r])
                if ranges[r][1] > pos + n:
                    break
                r += 1
            view.release()
            self._release(i, buf)

    def checksums(self) -> dict[int, int]:
        """start of each range -> CRC-32 of its bytes as read (after :meth:`close`)."""
        return {r[0]: c for r, c in zip(self._ranges, self._crcs, strict=True)}

    # -- consuming -------------------------------------------------------------------------
    def pieces(self, start: int, end: int) -> Iterator[memoryview]:
        pos = start
        while pos < end:
            cur = self._cur
            if cur is None or not (cur[0] <= pos < cur[0] + cur[2]):
                if cur is not None:
                    self._release(self._main_index, cur[1])
                    self._main_index += 1
                    self._cur = None
                item = self._take(self._main_index)
                if item is None:
                    raise OSError(errno.EIO, f"{self.path}: ended before byte {pos}")
                self._cur = item
                continue
            off, buf, n = cur
            stop = min(end, off + n)
            yield memoryview(buf)[pos - off : stop - off]
            pos = stop

    def close(self) -> None:
        """Finish: wait for the threads, close the file (idempotent)."""
        if self._fd < 0:
            return
        if self._cur is not None:
            self._release(self._main_index, self._cur[1])
            self._main_index += 1
            self._cur = None
        # whatever the consumer did not take: let the checker finish on what was read
        for i in range(self._main_index, len(self._chunks)):
            try:
                item = self._take(i)
            except BaseException:
                break
            if item is not None:
                self._release(i, item[1])
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        for _ in range(READ_THREADS):
            self._free.put(_buffer(ALIGN))  # wake readers waiting for a buffer
        for t in self._threads:
            t.join()
        for fd in (self._fd, self._fd_plain):
            if fd >= 0:
                os.close(fd)
        self._fd = self._fd_plain = -1
        self._unmap()

    def _unmap(self) -> None:
        """Give the buffers back to the system now: a closed reader kept for its checksums
        would otherwise hold READ_BUFFERS x READ_CHUNK of memory."""
        bufs = []
        while True:
            try:
                bufs.append(self._free.get_nowait())
            except queue.Empty:
                break
        with self._cond:
            bufs.extend(item[1] for item in self._done.values() if not isinstance(item, _Failure))
            self._done.clear()
        for buf in bufs:
            with contextlib.suppress(BufferError):  # a view still exported: dropped instead
                buf.close()


def _merge(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in ranges:
        if out and a - out[-1][1] < GAP_MERGE and a >= out[-1][0]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _chunks(extents: Sequence[tuple[int, int]], *, aligned: bool) -> list[tuple[int, int]]:
    """(offset, length) of every read; aligned for O_DIRECT (the file end may come earlier)."""
    out = []
    for start, end in extents:
        pos = start - start % ALIGN if aligned else start
        while pos < end:
            want = min(READ_CHUNK, end - pos)
            if aligned:
                want = -(-want // ALIGN) * ALIGN
            out.append((pos, want))
            pos += want
    return out


@dataclass
class OutFile:
    path: Path
    size: int = 0  # bytes submitted so far (the file's size once finished)
    sha256: str = ""
    direct_used: bool = False
    _hash: hashlib._Hash = field(default_factory=hashlib.sha256)
    _fd: int = -1
    _fd_plain: int = -1


class Writer:
    """Writes output files from reused aligned buffers with ``WRITE_THREADS`` writes in flight,
    while another thread computes each file's sha256 from the same buffers, in order.

    Use: ``f = writer.open(path)``, then ``writer.buffer()`` / ``writer.submit(f, buf, n)``
    repeatedly (every buffer but a file's last is a multiple of the alignment),
    ``writer.finish(f)``, and ``writer.close()`` at the end (it closes the files).
    ``direct=False`` forces the portable path.
    """

    def __init__(self, *, direct: bool = True) -> None:
        self.direct = direct and bool(_O_DIRECT)
        self._free: queue.Queue[mmap.mmap] = queue.Queue()
        for _ in range(WRITE_BUFFERS):
            self._free.put(_buffer(WRITE_CHUNK))
        self._pending: dict[int, int] = {}
        self._lock = threading.Lock()
        self._error: BaseException | None = None
        self._files: list[OutFile] = []
        self._writes: queue.Queue[tuple[OutFile, mmap.mmap, int, int] | None] = queue.Queue()
        self._hashes: queue.Queue[tuple[OutFile, mmap.mmap | None, int] | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._write_loop, name=f"hfc-writer-{k}", daemon=True)
            for k in range(WRITE_THREADS)
        ]
        self._threads.append(
            threading.Thread(target=self._hash_loop, name="hfc-hasher", daemon=True)
        )
        for t in self._threads:
            t.start()
        self._closed = False

    def open(self, path: Path) -> OutFile:
        f = OutFile(path=path)
        f._fd_plain = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self._files.append(f)
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
            self._pending[id(buf)] = 2
        offset, f.size = f.size, f.size + n
        self._writes.put((f, buf, n, offset))
        self._hashes.put((f, buf, n))

    def finish(self, f: OutFile) -> None:
        self._hashes.put((f, None, 0))

    def close(self) -> None:
        """Wait for every write, close the files; re-raise the first error, if any."""
        if not self._closed:
            self._closed = True
            for _ in range(WRITE_THREADS):
                self._writes.put(None)
            self._hashes.put(None)
            for t in self._threads:
                t.join()
            for f in self._files:
                for fd in (f._fd, f._fd_plain):
                    if fd >= 0:
                        with contextlib.suppress(OSError):
                            os.close(fd)
                f._fd = f._fd_plain = -1
        self.check()

    def check(self) -> None:
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Stop the threads and close every file (after a failure)."""
        with contextlib.suppress(BaseException):
            self.close()

    def _done_with(self, buf: mmap.mmap) -> None:
        with self._lock:
            self._pending[id(buf)] -= 1
            last = self._pending[id(buf)] == 0
            if last:
                del self._pending[id(buf)]
        if last:
            self._free.put(buf)

    def _hash_loop(self) -> None:
        while (job := self._hashes.get()) is not None:
            f, buf, n = job
            try:
                if buf is None:
                    f.sha256 = f._hash.hexdigest()
                elif self._error is None:
                    view = memoryview(buf)[:n]
                    f._hash.update(view)
                    view.release()
            except BaseException as e:
                self._error = self._error or e
            finally:
                if buf is not None:
                    self._done_with(buf)

    def _write_loop(self) -> None:
        while (job := self._writes.get()) is not None:
            f, buf, n, offset = job
            try:
                if self._error is None:
                    view = memoryview(buf)[:n]
                    try:
                        self._write(f, view, offset)
                    finally:
                        view.release()
            except BaseException as e:
                self._error = self._error or e
            finally:
                self._done_with(buf)

    def _write(self, f: OutFile, data: memoryview, offset: int) -> None:
        n = len(data)
        aligned = n - n % ALIGN if f.direct_used and offset % ALIGN == 0 else 0
        if aligned:
            try:
                _pwrite_all(f._fd, data[:aligned], offset)
            except OSError as e:
                if e.errno != errno.EINVAL:
                    raise
                f.direct_used = False  # this filesystem refuses: the portable path from now on
                aligned = 0
        if aligned < n:
            _pwrite_all(f._fd_plain, data[aligned:], offset + aligned)


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while len(data):
        n = os.pwrite(fd, data, offset)
        data, offset = data[n:], offset + n
