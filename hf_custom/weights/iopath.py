"""Which I/O route a conversion takes: chosen by a short read probe of the source.

Two routes can win, depending on the machine and its load at that moment:

- ``kernel``: page-cache I/O. Uncast shards are copied file to file by the kernel
  (``copy_file_range``), cast shards are written through the page cache. Cheapest on a quiet
  machine and when the source is already cached (just downloaded or written);
- ``direct``: ``O_DIRECT`` reads and writes through a few reused buffers. The disk moves the
  bytes (DMA) and no CPU time goes to the page cache, which wins when the cores are busy with
  other work or the page cache is slow (some VMs).

The probe first measures the share of a core this process gets (a busy loop of about 30 ms:
CPU time over wall time). Page-cache copies cost CPU in the kernel, so below
``MIN_CPU_SHARE`` (a machine busy with other work) the ``direct`` route is taken. Otherwise it
reads a few chunks of the largest source file alternately with and without ``O_DIRECT``
(about 32 MB in all; the conversion reads them again) and keeps the faster route. Sources smaller than ``PROBE_MIN`` are not probed (``kernel``). ``buffered`` (no
``O_DIRECT``, no kernel copy) is never chosen by the probe; it is there to be asked for.
"""

from __future__ import annotations

import mmap
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROUTES = ("auto", "kernel", "direct", "buffered")
PROBE_CHUNK = 8 << 20
PROBE_ROUNDS = 2  # each round: one direct chunk, one buffered chunk
MIN_CPU_SHARE = 0.5  # measured on a shared 2-core VM: below it O_DIRECT won (see CHANGELOG)
BUSY_SECONDS = 0.03
PROBE_MIN = 256 << 20  # bytes of source below which the probe costs more than it can save
_O_DIRECT = getattr(os, "O_DIRECT", 0)


@dataclass(frozen=True)
class IoChoice:
    route: str  # "kernel" | "direct" | "buffered"
    reason: str  # "asked", "small source", "probe", "no O_DIRECT"
    #: what the probe measured: ``cpu_share`` (0-1) and read MB/s ``direct``, ``buffered``
    probe: dict[str, float]

    def to_json(self) -> dict[str, object]:
        return {"route": self.route, "reason": self.reason, "probe": dict(self.probe)}


def choose(asked: str, files: Sequence[tuple[Path, int]]) -> IoChoice:
    """The route for ``asked`` (one of :data:`ROUTES`) over source ``files`` (path, size)."""
    if asked not in ROUTES:
        raise ValueError(f"unknown I/O route {asked!r}: one of {', '.join(ROUTES)}")
    if asked != "auto":
        return IoChoice(asked, "asked", {})
    if not _O_DIRECT:
        return IoChoice("kernel", "no O_DIRECT", {})
    total = sum(size for _, size in files)
    if total < PROBE_MIN or not files:
        return IoChoice("kernel", "small source", {})
    share = cpu_share()
    if share < MIN_CPU_SHARE:
        return IoChoice("direct", "busy CPU", {"cpu_share": share})
    path, size = max(files, key=lambda f: f[1])
    speeds = probe(path, size)
    if not speeds:
        return IoChoice("kernel", "no O_DIRECT", {"cpu_share": share})
    route = "direct" if speeds["direct"] > speeds["buffered"] else "kernel"
    return IoChoice(route, "probe", {"cpu_share": share, **speeds})


def cpu_share(seconds: float = BUSY_SECONDS) -> float:
    """CPU time this thread got over wall time, during a busy loop of ``seconds``."""
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    x = 0
    while time.perf_counter() - wall0 < seconds:
        for k in range(2000):
            x ^= k
    wall, cpu = time.perf_counter() - wall0, time.thread_time() - cpu0
    return round(min(1.0, cpu / max(wall, 1e-9)), 2)


def probe(path: Path, size: int, *, chunk: int = PROBE_CHUNK) -> dict[str, float]:
    """MB/s of ``O_DIRECT`` and of page-cache reads of consecutive chunks from the middle of
    the file (alternating, so that both see the same moment); empty when ``O_DIRECT`` is
    refused."""
    need = 2 * PROBE_ROUNDS * chunk
    pos = max(0, (size - need) // 2)
    pos -= pos % mmap.PAGESIZE
    try:
        fd_direct = os.open(path, os.O_RDONLY | _O_DIRECT)
    except OSError:
        return {}
    fd = os.open(path, os.O_RDONLY)
    buf = mmap.mmap(-1, chunk)  # page-aligned, as O_DIRECT needs
    spent = {"direct": 0.0, "buffered": 0.0}
    moved = {"direct": 0, "buffered": 0}
    try:
        for _ in range(PROBE_ROUNDS):
            for kind, f in (("direct", fd_direct), ("buffered", fd)):
                t = time.perf_counter()
                try:
                    n = os.preadv(f, [buf], pos)
                except OSError:
                    return {}
                spent[kind] += time.perf_counter() - t
                moved[kind] += n
                pos += chunk
    finally:
        buf.close()
        os.close(fd)
        os.close(fd_direct)
    return {k: round(moved[k] / max(spent[k], 1e-9) / 1e6, 1) for k in spent}
