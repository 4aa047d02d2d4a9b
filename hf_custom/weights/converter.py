"""``convert``: any supported weights to sharded safetensors, streamed at near disk speed.

Route per shard: a shard whose tensors are all *direct* (contiguous, stored uncompressed in a
zip archive or in a safetensors file) and uncast is copied file to file by the kernel
(:mod:`hf_custom.weights.kcopy`, several shards at once), hashed from the bytes read back behind
the copy. Other shards go through the buffered route: direct tensors read in large chunks on
reader threads (cast on the way when asked), the others (views, legacy files) materialised
through torch's restricted, memory-mapped load, and the stream written from reused buffers.

Verification: every output file's header is re-read from disk and checked against the plan;
each tensor is then checked against an independent source: the zip archive's own CRC-32 of its
storage (computed by torch when it saved the file) for direct tensors from a zip (of the bytes
read back from the output on the kernel route, of the bytes read on the buffered route), and a
bitwise re-read of the written file against the source for everything else. Any mismatch fails
the conversion and nothing is left in OUT."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hf_custom.errors import HFCustomError, InputError
from hf_custom.events import EventSink, Progress, emit
from hf_custom.findings import Finding, finding
from hf_custom.weights import iopath, kcopy
from hf_custom.weights.casting import Caster
from hf_custom.weights.casting import prefetch as prefetch_numpy
from hf_custom.weights.checking import tensor_bytes, verify_shard
from hf_custom.weights.directio import ChunkReader, OutFile, Writer
from hf_custom.weights.names import Rename
from hf_custom.weights.plan import OutTensor, Plan, build_plan
from hf_custom.weights.safetensors_format import (
    DTYPE_SIZES,
    ST_TO_TORCH,
    build_header,
)
from hf_custom.weights.shards import plan_shards, shard_file_names
from hf_custom.weights.sources import Source, clear_cache, materialise, read_source

HUB_RECOMMENDED_FILE = 20_000_000_000
HUB_MAX_FILE = 50_000_000_000
INDEX_NAME = "model.safetensors.index.json"
PROGRESS_STEP = 64 << 20


@dataclass(frozen=True)
class OutputFile:
    name: str
    size: int
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class ConvertResult:
    files: tuple[OutputFile, ...]  # shards, then the index when there is one
    tensors: int
    total_bytes: int  # tensor data bytes (the index's metadata.total_size)
    renames: tuple[Rename, ...]
    dropped_duplicates: Mapping[str, str]
    dtype: str  # "kept" or the requested dtype
    findings: tuple[Finding, ...]
    seconds: float
    source_format: str = ""
    ignored_entries: tuple[str, ...] = ()
    verified_by_crc: int = 0  # tensors checked against the zip archive's CRC-32
    verified_by_reread: int = 0  # tensors re-read from the output and compared bitwise
    direct_io: bool = False  # whether O_DIRECT was used for writing
    kernel_copied: int = 0  # shards copied file to file by the kernel (copy_file_range)
    io: iopath.IoChoice | None = None  # the I/O route taken, and why
    weight_map: Mapping[str, str] = field(default_factory=dict)
    #: wall seconds per phase, in order: metadata (read and plan), copy (with hashing, which
    #: overlaps it), re-check (CRC / re-read verification), finalise (index, renames)
    phases: tuple[tuple[str, float], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "files": [f.to_json() for f in self.files],
            "tensors": self.tensors,
            "total_bytes": self.total_bytes,
            "renames": [r.to_json() for r in self.renames],
            "dropped_duplicates": dict(sorted(self.dropped_duplicates.items())),
            "dtype": self.dtype,
            "findings": [f.to_json() for f in self.findings],
            "seconds": round(self.seconds, 3),
            "source_format": self.source_format,
            "ignored_entries": list(self.ignored_entries),
            "verified": {"crc32": self.verified_by_crc, "reread": self.verified_by_reread},
            "direct_io": self.direct_io,
            "kernel_copied": self.kernel_copied,
            "io": self.io.to_json() if self.io else None,
            "phases": {name: round(sec, 3) for name, sec in self.phases},
        }


def convert(
    src: Path,
    out: Path,
    *,
    max_shard_size: int = 5_000_000_000,
    dtype: str | None = None,
    renames: Sequence[tuple[str, str]] = (),
    expected_keys: Collection[str] | None = None,
    base_model_prefix: str | None = None,
    tied: Mapping[str, str] | None = None,
    io: str = "auto",
    on_event: EventSink | None = None,
) -> ConvertResult:
    """Convert the weights at ``src`` (file or folder) into safetensors shards in ``out``.

    ``expected_keys`` (the target class's parameter and buffer names), ``base_model_prefix``
    and ``tied`` (tied target -> source) come from the model when it is at hand (publish);
    without them names are only stripped of wrapper prefixes and renamed by ``renames``
    (``(regex, replacement)`` pairs). ``io`` picks the I/O route (:mod:`hf_custom.weights.iopath`):
    ``auto`` (a short read probe of the source), ``kernel`` (kernel copies of uncast shards,
    page-cache writes: the data reaches the disk after the call returns, as with ``cp``),
    ``direct`` (O_DIRECT reads and writes) or ``buffered`` (no O_DIRECT, no kernel copy).

    Raises:
        InputError: no weights or unreadable weights at ``src``, an ``out`` that is not a
            folder or would overwrite the source, a ``max_shard_size`` or ``io`` out of range.
        Refusal: a pickle that torch's weights_only loader would refuse (it is never
            unpickled).
        HFCustomError: an I/O error while writing (disk full, permissions); nothing is left.
    """
    t0 = time.monotonic()
    src, out = Path(src), Path(out)
    if out.exists() and not out.is_dir():
        raise InputError("OUT exists and is not a folder", path=str(out))
    if max_shard_size <= 0:
        raise InputError(f"--max-shard-size must be positive, got {max_shard_size}")
    if io not in iopath.ROUTES:
        raise InputError(f"--io {io!r} is not one of {', '.join(iopath.ROUTES)}")
    if dtype is not None:
        prefetch_numpy()  # the casts need it: import it while the metadata is read
    source = read_source(src)
    plan = build_plan(
        source,
        dtype=dtype,
        renames=renames,
        expected_keys=expected_keys,
        base_model_prefix=base_model_prefix,
        tied=tied,
    )
    findings = list(plan.findings)
    if max_shard_size > HUB_RECOMMENDED_FILE:
        findings.append(
            finding(
                "HFC304",
                f"--max-shard-size {max_shard_size / 1e9:.0f} GB is above the Hub's recommended "
                f"{HUB_RECOMMENDED_FILE / 1e9:.0f} GB per file",
            )
        )
    marks = [("metadata", time.monotonic())]
    by_name = {t.name: t for t in plan.tensors}
    shards = plan_shards([(t.name, t.nbytes) for t in plan.tensors], max_shard_size)
    names = shard_file_names(len(shards))
    targets = {(out / n).resolve() for n in [*names, INDEX_NAME]}
    clash = sorted(str(p) for p in source.files if p.resolve() in targets)
    if clash:
        raise InputError(
            f"writing into OUT would overwrite the source: {', '.join(clash)}",
            path=str(out),
            hint="choose another OUT folder (the source checkpoint is never modified)",
        )
    created = not out.exists()
    temps = [out / f".{fname}.hfc-tmp-{os.getpid()}" for fname in names]
    job: _Job | None = None
    metadata = shard_metadata(plan)
    members_of = [[by_name[n] for n in members] for members in shards]
    choice = iopath.choose(io, [(f, f.stat().st_size) for f in source.files])
    kernel = choice.route == "kernel" and kcopy.available()
    straight = [kernel and _straight(m) for m in members_of]
    written: list[OutFile | kcopy.ShardCopy | None] = [None] * len(shards)
    crcs: dict[Path, dict[int, int]] = {}
    try:
        out.mkdir(parents=True, exist_ok=True)
        progress = _Progress(sum(t.rec.nbytes for t in plan.tensors), on_event)
        kernel_jobs = [
            (i, temps[i], shard_header(members_of[i], metadata), _pieces(members_of[i]))
            for i in range(len(shards))
            if straight[i]
        ]
        for i, copied in kcopy.copy_shards(kernel_jobs, on_bytes=progress.add):
            written[i] = copied
            for (path, start), crc in copied.crcs.items():
                crcs.setdefault(path, {})[start] = crc
        rest = [m for i, m in enumerate(members_of) if not straight[i]]
        if rest:
            job = _Job(
                source,
                [t for m in rest for t in m],
                metadata=metadata,
                progress=progress,
                direct=choice.route != "buffered",
                direct_write=choice.route == "direct",
            )
            for i, members in enumerate(members_of):
                if not straight[i]:
                    written[i] = job.write_shard(temps[i], members)
            job.close()
            for path, sums in job.checksums().items():
                crcs.setdefault(path, {}).update(sums)
        marks.append(("copy", time.monotonic()))
        by_crc = by_reread = 0
        for fname, members, w in zip(names, members_of, written, strict=True):
            assert w is not None
            c, r = verify_shard(w.path, members, fname=fname, crcs=crcs)
            by_crc, by_reread = by_crc + c, by_reread + r
        marks.append(("re-check", time.monotonic()))
        files = []
        for fname, w in zip(names, written, strict=True):
            assert w is not None
            files.append(OutputFile(fname, w.size, w.sha256))
        weight_map = {
            n: fname for fname, members in zip(names, shards, strict=True) for n in members
        }
        total = sum(t.nbytes for t in plan.tensors)
        if len(shards) > 1:
            tmp = out / f".{INDEX_NAME}.hfc-tmp-{os.getpid()}"
            temps.append(tmp)
            files.append(_write_index(tmp, weight_map, total, INDEX_NAME))
        for f_out, tmp in zip(files, temps, strict=True):
            tmp.replace(out / f_out.name)
    except BaseException as exc:
        if job is not None:
            job.abort()
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        if created:
            shutil.rmtree(out, ignore_errors=True)
        if isinstance(exc, OSError):  # disk full, permissions, a file vanishing: not a bug
            raise HFCustomError(
                f"I/O error while converting: {exc.strerror or exc}",
                path=exc.filename or str(out),
                hint="check free space and permissions of OUT; nothing was written",
            ) from exc
        raise
    finally:
        clear_cache()
    marks.append(("finalise", time.monotonic()))
    starts = [t0, *(t for _, t in marks[:-1])]
    phases = tuple((name, t - start) for (name, t), start in zip(marks, starts, strict=True))
    for of in files:
        if of.size > HUB_MAX_FILE:
            findings.append(finding("HFC304", f"{of.name} is {of.size / 1e9:.1f} GB", path=of.name))
    return ConvertResult(
        files=tuple(files),
        tensors=len(plan.tensors),
        total_bytes=total,
        renames=tuple(plan.renames),
        dropped_duplicates=dict(plan.dropped),
        dtype=dtype or "kept",
        findings=tuple(sorted(findings)),
        seconds=time.monotonic() - t0,
        source_format=source.kind,
        ignored_entries=tuple(source.ignored),
        verified_by_crc=by_crc,
        verified_by_reread=by_reread,
        direct_io=job is not None and any(f.direct_used for f in job.outputs),
        io=choice,
        kernel_copied=sum(isinstance(w, kcopy.ShardCopy) and w.kernel for w in written),
        weight_map=weight_map,
        phases=phases,
    )


def _write_index(tmp: Path, weight_map: Mapping[str, str], total: int, name: str) -> OutputFile:
    import hashlib

    doc = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    data = (json.dumps(doc, indent=2) + "\n").encode("utf-8")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return OutputFile(name, len(data), hashlib.sha256(data).hexdigest())


class _Job:
    """The buffered conversion of some shards: readers per source file, one writer, the output
    stream (for shards that need a cast or a materialised tensor)."""

    def __init__(
        self,
        source: Source,
        tensors: Sequence[OutTensor],
        *,
        metadata: Mapping[str, str],
        progress: _Progress,
        direct: bool,
        direct_write: bool = False,
    ):
        self.progress = progress
        self.metadata = metadata
        self.writer = Writer(direct=direct and direct_write)
        self.readers: dict[Path, ChunkReader] = {}  # opened one at a time, in source order
        self._ranges: dict[Path, list[tuple[int, int]]] = {}
        self._direct = direct
        self.outputs: list[OutFile] = []
        self._buf: Any = None
        self._fill = 0
        self._file: OutFile | None = None
        for path in source.files:
            ranges = sorted(
                (t.rec.start, t.rec.start + t.rec.nbytes)
                for t in tensors
                if t.rec.file == path and t.rec.direct and t.rec.nbytes
            )
            if ranges:
                self._ranges[path] = ranges

    # -- the output stream ---------------------------------------------------------------------
    def _region(self, limit: int) -> memoryview:
        """Writable space in the current output buffer (at most ``limit`` bytes)."""
        if self._buf is None:
            self._buf, self._fill = self.writer.buffer(), 0
        room = len(self._buf) - self._fill
        if room == 0:
            assert self._file is not None
            self.writer.submit(self._file, self._buf, self._fill)
            self._buf, self._fill = self.writer.buffer(), 0
            room = len(self._buf)
        return memoryview(self._buf)[self._fill : self._fill + min(room, limit)]

    def _put(self, data: memoryview | bytes | bytearray) -> None:
        mv = memoryview(data).cast("B")
        while len(mv):
            dst = self._region(len(mv))
            n = len(dst)
            dst[:] = mv[:n]
            self._fill += n
            mv = mv[n:]

    def write_shard(self, tmp: Path, tensors: list[OutTensor]) -> OutFile:
        header = shard_header(tensors, self.metadata)
        self._file = self.writer.open(tmp)
        self._put(header)
        for t in tensors:
            if t.rec.direct and t.rec.nbytes:
                self._copy_direct(t)
            else:
                self._copy_materialised(t)
            self.progress.add(t.rec.nbytes)
        if self._buf is not None and self._fill:
            self.writer.submit(self._file, self._buf, self._fill)
            self._buf = None
        elif self._buf is not None:
            self.writer.release(self._buf)
            self._buf = None
        self.writer.finish(self._file)
        f = self._file
        self._file = None
        self.outputs.append(f)
        return f

    def _copy_direct(self, t: OutTensor) -> None:
        r = t.rec
        reader = self._reader(r.file)
        if not t.cast:
            for piece in reader.pieces(r.start, r.start + r.nbytes):
                self._put(piece)
        else:
            cast = Caster(r.dtype, t.dtype)
            isz, osz = DTYPE_SIZES[r.dtype], DTYPE_SIZES[t.dtype]
            carry = b""
            for raw in reader.pieces(r.start, r.start + r.nbytes):
                piece = memoryview(carry + bytes(raw)) if carry else raw
                cut = len(piece) - len(piece) % isz
                carry = bytes(piece[cut:])
                done, count = 0, cut // isz
                while done < count:
                    dst = self._region((count - done) * osz)
                    k = len(dst) // osz
                    if k == 0:  # less than one element of room left: go through a copy
                        one = bytearray(osz)
                        cast(piece[done * isz : (done + 1) * isz], memoryview(one))
                        self._put(one)
                        done += 1
                        continue
                    cast(piece[done * isz : (done + k) * isz], dst[: k * osz])
                    self._fill += k * osz
                    done += k

    def _copy_materialised(self, t: OutTensor) -> None:
        if t.rec.nbytes == 0:
            return
        import torch

        value = materialise(t.rec)
        if t.cast:
            value = value.to(getattr(torch, ST_TO_TORCH[t.dtype]))
        self._put(tensor_bytes(value))

    def close(self) -> None:
        try:
            self.writer.close()
        finally:
            for reader in self.readers.values():
                reader.close()

    def abort(self) -> None:
        """After a failure: stop the threads, close every file descriptor."""
        self.writer.abort()
        for reader in self.readers.values():
            reader.close()

    def _reader(self, path: Path) -> ChunkReader:
        """The reader of ``path``; opening it closes the previous one (tensors come in source
        order, so each file is read in one stretch): one file's buffers in memory at a time,
        whatever the number of source shards."""
        reader = self.readers.get(path)
        if reader is None:
            for other in self.readers.values():
                other.close()
            reader = self.readers[path] = ChunkReader(path, self._ranges[path], direct=self._direct)
        return reader

    def checksums(self) -> dict[Path, dict[int, int]]:
        """CRC-32 of every range read, per source file (after :meth:`close`)."""
        return {p: r.checksums() for p, r in self.readers.items()}


class _Progress:
    """Bytes converted so far, reported as ``Progress`` events every ``PROGRESS_STEP``."""

    def __init__(self, total: int, on_event: EventSink | None) -> None:
        self.total, self.on_event = total, on_event
        self.done = self._next = 0
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:  # kernel copies report from their threads
            self.done += n
            if self.done < self._next and self.done != self.total:
                return
            self._next = self.done + PROGRESS_STEP
            emit(self.on_event, Progress("convert", self.done, self.total, "B"))


def shard_metadata(plan: Plan) -> dict[str, str]:
    metadata = {"format": "pt"}
    if plan.dropped:
        metadata["hf_custom.dropped_duplicates"] = json.dumps(
            dict(sorted(plan.dropped.items())), separators=(",", ":")
        )
    return metadata


def shard_header(tensors: Sequence[OutTensor], metadata: Mapping[str, str]) -> bytes:
    entries, pos = [], 0
    for t in tensors:
        entries.append((t.name, t.dtype, t.rec.shape, pos, pos + t.nbytes))
        pos += t.nbytes
    return build_header(entries, dict(metadata))


def _straight(tensors: Sequence[OutTensor]) -> bool:
    """Whether a shard is its header plus byte ranges of the sources (no cast, no view)."""
    return all((t.rec.direct or not t.rec.nbytes) and not t.cast for t in tensors)


def _pieces(tensors: Sequence[OutTensor]) -> list[kcopy.Piece]:
    return [kcopy.Piece(t.rec.file, t.rec.start, t.rec.nbytes) for t in tensors if t.rec.nbytes]
