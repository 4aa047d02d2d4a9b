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


_saved_threads: int | None = None


def restore_threads() -> None:
    """Give torch back the intra-op thread count it had before the first cast."""
    global _saved_threads
    if _saved_threads is not None and _torch is not None:
        _torch.set_num_threads(_saved_threads)
    _saved_threads = None


class Caster:
    """Casts ``src`` bytes of safetensors dtype ``src_dt`` into ``dst`` bytes of ``dst_dt``
    (element counts must match), bit-identical to ``Tensor.to``."""

    def __init__(self, src_dt: str, dst_dt: str) -> None:
        from hf_custom.weights.safetensors_format import ST_TO_TORCH

        global _saved_threads
        torch = _get_torch()
        if _saved_threads is None:
            # One thread: the casts run beside the hashing and I/O threads on few cores, and
            # torch's parallel copy is slower than a single one there (measured 1.5 vs 4 GB/s).
            _saved_threads = torch.get_num_threads()
            torch.set_num_threads(1)
        self.torch = torch
        self.src = getattr(torch, ST_TO_TORCH[src_dt])
        self.dst = getattr(torch, ST_TO_TORCH[dst_dt])

    def __call__(self, src: memoryview, dst: memoryview) -> None:
        if not len(src):
            return
        s = self.torch.frombuffer(src, dtype=self.src)
        self.torch.frombuffer(dst, dtype=self.dst).copy_(s)
