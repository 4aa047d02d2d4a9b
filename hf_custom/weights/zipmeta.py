"""Tensor metadata of a zip-format torch checkpoint, without reading any tensor data.

``data.pkl`` is read by torch's own restricted unpickler (the ``weights_only=True`` one,
``torch._weights_only_unpickler``), so only the globals torch allows for weights can resolve and
nothing in the pickle runs. Its storage hook is ours: each storage becomes an empty *meta-device*
storage recorded by key, so unpickling costs no I/O and no memory, and the tensors' bytes are
later copied straight from the archive at their offsets. Anything torch's unpickler refuses, or
anything beyond plain tensors in containers, raises :class:`NotPlain`; the caller then goes
through ``torch.load(weights_only=True)``, which loads it or refuses it naming the globals.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any


class NotPlain(Exception):
    """The pickle uses something beyond a plain state dict (hand it to torch)."""


@dataclass(frozen=True, slots=True)
class StorageRef:
    key: str
    dtype: str  # safetensors dtype
    numel: int


@dataclass(frozen=True, slots=True)
class TensorMeta:
    storage: StorageRef
    offset: int  # in elements
    shape: tuple[int, ...]
    stride: tuple[int, ...]

    @property
    def numel(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def is_contiguous(self) -> bool:
        expected = 1
        for size, stride in zip(reversed(self.shape), reversed(self.stride), strict=True):
            if size != 1 and stride != expected:
                return False
            expected *= size
        return True


def load_plain(data: bytes) -> Any:
    """The object in ``data.pkl`` with tensors as :class:`TensorMeta`; NotPlain otherwise."""
    import torch
    from torch import _weights_only_unpickler as restricted

    storages: dict[int, StorageRef] = {}
    by_dtype = {
        torch.float32: "F32",
        torch.float64: "F64",
        torch.float16: "F16",
        torch.bfloat16: "BF16",
        torch.int64: "I64",
        torch.int32: "I32",
        torch.int16: "I16",
        torch.int8: "I8",
        torch.uint8: "U8",
        torch.bool: "BOOL",
    }

    class _MetaUnpickler(restricted.Unpickler):  # torch's restricted unpickler, storage hook ours
        def persistent_load(self, pid: Any) -> Any:
            kind = pid[0].decode() if isinstance(pid[0], bytes) else pid[0]
            if not (isinstance(pid, tuple) and len(pid) == 5 and kind == "storage"):
                raise NotPlain(f"unexpected persistent id {pid!r:.80}")
            storage_type, key, _location, numel = pid[1:]
            # torch resolves the storage class to an object carrying its dtype
            torch_dtype = getattr(storage_type, "dtype", None)
            dtype = by_dtype.get(torch_dtype) if isinstance(torch_dtype, torch.dtype) else None
            if dtype is None or type(numel) is not int:
                raise NotPlain(f"unexpected storage {storage_type!r:.80}")
            nbytes = numel * torch.empty((), dtype=torch_dtype).element_size()
            untyped = torch.UntypedStorage(nbytes, device="meta")
            key = key.decode() if isinstance(key, bytes) else str(key)
            storages[untyped._cdata] = StorageRef(key=key, dtype=dtype, numel=numel)
            return torch.storage.TypedStorage(
                wrap_storage=untyped, dtype=torch_dtype, _internal=True
            )

    try:
        obj = _MetaUnpickler(io.BytesIO(data), encoding="utf-8").load()
    except NotPlain:
        raise
    except Exception as e:  # refused or odd: torch.load(weights_only=True) decides and names it
        raise NotPlain(f"{type(e).__name__}: {e}") from None

    def convert(value: Any) -> Any:
        if isinstance(value, torch.Tensor):
            ref = storages.get(value.untyped_storage()._cdata)
            if ref is None or value.dtype.is_complex:
                raise NotPlain("tensor without a recorded storage")
            shape = tuple(int(d) for d in value.shape)
            return TensorMeta(ref, int(value.storage_offset()), shape, tuple(value.stride()))
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(convert(v) for v in value)
        return value

    return convert(obj)
