"""Verification of written shards against their source.

Every shard's header is re-read from disk and compared with the plan (names, dtypes, shapes,
file size). Then each tensor is checked against an independent source of truth:

- direct copies out of a zip archive (the common case): the CRC-32 of the bytes read for the
  tensor must equal the CRC-32 the archive itself recorded when torch saved it;
- everything else (safetensors input, views, legacy files, casts without a CRC): the tensor is
  read back from the written file and compared bitwise with the source, read again from disk
  (through torch's restricted loader for materialised tensors, after the requested cast).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hf_custom.errors import HFCustomError
from hf_custom.weights.safetensors_format import ST_TO_TORCH, read_safetensors_header
from hf_custom.weights.sources import materialise

if TYPE_CHECKING:
    from hf_custom.weights.plan import OutTensor

WINDOW = 16 << 20


def verify_shard(
    path: Path,
    tensors: list[OutTensor],
    *,
    fname: str,
    crcs: Mapping[Path, Mapping[int, int]],
) -> tuple[int, int]:
    """Raise when the shard at ``path`` differs from the plan or the source; returns how many
    tensors were checked by CRC-32 and by re-reading."""
    with path.open("rb") as f:
        header = read_safetensors_header(f, path=fname)
        f.seek(0)
        base = 8 + int.from_bytes(f.read(8), "little")
        size = f.seek(0, os.SEEK_END)
    if {k for k in header if k != "__metadata__"} != {t.name for t in tensors}:
        raise mismatch(fname, "the header does not list the planned tensors")
    end = 0
    for t in tensors:
        info = header[t.name]
        if info["dtype"] != t.dtype or tuple(info["shape"]) != t.rec.shape:
            raise mismatch(fname, f"{t.name}: dtype/shape differ in the written header")
        end = max(end, info["data_offsets"][1])
    if base + end != size:
        raise mismatch(fname, f"size {size} != header end {base + end}")
    by_crc, reread = 0, []
    for t in tensors:
        expect = t.rec.crc if t.rec.direct else None
        got = crcs.get(t.rec.file, {}).get(t.rec.start)
        if expect is not None and got is not None:
            if got != expect:
                raise mismatch(fname, f"{t.name}: bytes differ from the archive's CRC-32")
            by_crc += 1
        elif t.rec.nbytes:
            reread.append(t)
    if reread:
        with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as out:
            for t in reread:
                a, b = header[t.name]["data_offsets"]
                if not _equal_to_source(t, out, base + a, base + b):
                    raise mismatch(fname, f"{t.name}: written bytes differ from the source")
    return by_crc, len(reread)


def _equal_to_source(t: OutTensor, out: mmap.mmap, a: int, b: int) -> bool:
    r = t.rec
    if r.direct:
        with r.file.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as src:
            if not t.cast:
                for off in range(0, r.nbytes, WINDOW):
                    n = min(WINDOW, r.nbytes - off)
                    if src[r.start + off : r.start + off + n] != out[a + off : a + off + n]:
                        return False
                return True
            from hf_custom.weights.casting import Caster

            expected = bytearray(b - a)
            Caster(r.dtype, t.dtype)(
                memoryview(src[r.start : r.start + r.nbytes]), memoryview(expected)
            )
            return bytes(expected) == out[a:b]
    import torch

    value = materialise(r)
    if t.cast:
        value = value.to(getattr(torch, ST_TO_TORCH[t.dtype]))
    return bytes(tensor_bytes(value)) == out[a:b]


def tensor_bytes(value: Any) -> memoryview:
    """The raw little-endian bytes of a CPU tensor, row-major."""
    import torch

    flat = value.contiguous().reshape(-1)
    if flat.dtype == torch.bool:
        flat = flat.to(torch.uint8)
    return memoryview(flat.view(torch.uint8).numpy())


def mismatch(fname: str, what: str) -> HFCustomError:
    return HFCustomError(
        f"verification failed: {what}; nothing was written",
        path=fname,
        hint="this is a bug or a damaged source file: please report it with the command line",
    )
