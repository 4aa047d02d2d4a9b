"""Floating-point casts of raw little-endian bytes, done by torch (``Tensor.copy_``).

torch is imported on a background thread as soon as a cast is planned (see :func:`preload`),
so its start-up overlaps the first reads.
"""

from __future__ import annotations

import threading
from typing import Any

_ready = threading.Event()
_torch: Any = None
_error: BaseException | None = None


def preload() -> None:
    """Start importing torch in the background (idempotent)."""
    if _ready.is_set() or getattr(preload, "started", False):
        return
    preload.started = True  # type: ignore[attr-defined]

    def run() -> None:
        global _torch, _error
        try:
            import torch

            _torch = torch
        except BaseException as e:  # re-raised by the first cast
            _error = e
        finally:
            _ready.set()

    threading.Thread(target=run, name="hfc-import-torch", daemon=True).start()


def _get_torch() -> Any:
    preload()
    _ready.wait()
    if _error is not None:
        raise _error
    return _torch


class Caster:
    """Casts ``src`` bytes of safetensors dtype ``src_dt`` into ``dst`` bytes of ``dst_dt``
    (element counts must match), bit-identical to ``Tensor.to``."""

    def __init__(self, src_dt: str, dst_dt: str) -> None:
        from hf_custom.weights.safetensors_format import ST_TO_TORCH

        torch = _get_torch()
        self.torch = torch
        self.src = getattr(torch, ST_TO_TORCH[src_dt])
        self.dst = getattr(torch, ST_TO_TORCH[dst_dt])

    def __call__(self, src: memoryview, dst: memoryview) -> None:
        if not len(src):
            return
        s = self.torch.frombuffer(src, dtype=self.src)
        self.torch.frombuffer(dst, dtype=self.dst).copy_(s)
