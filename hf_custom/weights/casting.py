"""Floating-point casts of raw little-endian bytes, without torch.

numpy does the work in cache-sized blocks: importing torch costs seconds (hundreds of MB of
libraries on a cold cache), more than casting a few GB. Finite values and infinities are
bit-identical to torch's ``Tensor.to`` (float32 -> bfloat16 and -> float16 round to nearest
even; float64 goes through float32 first, as in torch). A NaN stays a NaN (quiet, sign kept);
its payload bits are not specified (torch itself writes different NaN bits depending on the
position of the element in the tensor). Without numpy, torch does the cast.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

BLOCK = 1 << 16  # elements per block: 256 KiB of float32, stays in L2
SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2}


def prefetch() -> None:
    """Start importing numpy on a background thread: on a cold cache the import takes seconds,
    which then overlap the metadata read instead of delaying the first cast."""
    if "numpy" not in sys.modules:
        threading.Thread(target=_import_numpy, name="hfc-numpy-import", daemon=True).start()


def _import_numpy() -> None:
    try:
        import numpy  # noqa: F401
    except ImportError:  # pragma: no cover - the caster falls back to torch
        pass


class Caster:
    """Casts ``src`` bytes of safetensors dtype ``src_dt`` into ``dst`` bytes of ``dst_dt``
    (same element count)."""

    def __init__(self, src_dt: str, dst_dt: str) -> None:
        if src_dt not in SIZES or dst_dt not in SIZES or dst_dt == "F64":
            raise ValueError(f"unsupported cast {src_dt} -> {dst_dt}")
        self.src_dt, self.dst_dt = src_dt, dst_dt
        try:
            import numpy as np
        except ImportError:  # pragma: no cover - numpy comes with the ml extra
            self.np: Any = None
            return
        self.np = np
        self._u = np.empty(BLOCK, dtype=np.uint32)
        self._v = np.empty(BLOCK, dtype=np.uint32)
        self._f = np.empty(BLOCK, dtype=np.float32)

    def __call__(self, src: memoryview, dst: memoryview) -> None:
        if self.np is None:  # pragma: no cover
            self._torch(src, dst)
            return
        s, d = SIZES[self.src_dt], SIZES[self.dst_dt]
        n = len(src) // s
        for a in range(0, n, BLOCK):
            b = min(n, a + BLOCK)
            f32 = self._to_f32(src[a * s : b * s], b - a)
            self._from_f32(f32, dst[a * d : b * d], b - a)

    def _to_f32(self, raw: memoryview, n: int) -> Any:
        np = self.np
        if self.src_dt == "F32":
            return np.frombuffer(raw, dtype="<f4")
        if self.src_dt == "BF16":
            u = self._u[:n]
            np.left_shift(np.frombuffer(raw, dtype="<u2"), 16, out=u, dtype=np.uint32)
            return u.view(np.float32)
        out = self._f[:n]
        src = np.frombuffer(raw, dtype="<f8" if self.src_dt == "F64" else "<f2")
        with np.errstate(over="ignore", invalid="ignore"):
            np.copyto(out, src, casting="unsafe")
        return out

    def _from_f32(self, f32: Any, raw: memoryview, n: int) -> None:
        np = self.np
        if self.dst_dt == "F32":
            np.frombuffer(raw, dtype="<f4")[:] = f32
            return
        out = np.frombuffer(raw, dtype="<u2")
        if self.dst_dt == "F16":
            with np.errstate(over="ignore", invalid="ignore"):
                out[:] = f32.astype("<f2").view("<u2")
            return
        u = f32.view("<u4")
        v = self._v[:n]
        np.bitwise_and(u, 0x7FFFFFFF, out=v)  # NaN check first: |x| above infinity
        nan = bool(v.max(initial=0) > 0x7F800000)
        np.right_shift(u, 16, out=v)  # round to nearest even: + 0x7FFF + lowest kept bit
        np.bitwise_and(v, 1, out=v)
        np.add(v, u, out=v)
        np.add(v, 0x7FFF, out=v)
        out[:] = v.view("<u2")[1::2]
        if nan:
            where = np.isnan(f32)
            out[where] = ((u[where] >> 16) | 0x0040).astype("<u2")

    def _torch(self, src: memoryview, dst: memoryview) -> None:  # pragma: no cover
        import torch

        from hf_custom.weights.safetensors_format import ST_TO_TORCH

        s = torch.frombuffer(src, dtype=getattr(torch, ST_TO_TORCH[self.src_dt]))
        torch.frombuffer(dst, dtype=getattr(torch, ST_TO_TORCH[self.dst_dt])).copy_(s)
