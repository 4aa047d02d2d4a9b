"""Tensor metadata of a zip-format torch checkpoint, without importing torch.

``data.pkl`` is read by a minimal allow-list unpickler: ``find_class`` resolves only the handful
of globals a plain state dict uses (``collections.OrderedDict``, ``torch._utils._rebuild_tensor_v2``,
``torch._utils._rebuild_parameter``, ``torch.<Type>Storage``) and maps each to an inert
stand-in defined here that only records numbers; every other global raises :class:`NotPlain`
before anything is built. That allow-list is a strict subset of torch's ``weights_only``
allow-list, so whatever passes here torch's restricted unpickler would accept too; a checkpoint
needing anything else is handed to torch's restricted unpickler (``weights_only=True``), which
loads it or refuses it naming the globals. No tensor data is read: storages are recorded by
key and the tensors' bytes are later copied from the archive at their offsets.

The point is speed: importing torch costs seconds (hundreds of MB of libraries read and mapped
on a cold cache), more than copying a model of a few GB.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from typing import Any

STORAGE_DTYPES = {
    "FloatStorage": "F32",
    "DoubleStorage": "F64",
    "HalfStorage": "F16",
    "BFloat16Storage": "BF16",
    "LongStorage": "I64",
    "IntStorage": "I32",
    "ShortStorage": "I16",
    "CharStorage": "I8",
    "ByteStorage": "U8",
    "BoolStorage": "BOOL",
}


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


@dataclass(frozen=True, slots=True)
class _StorageType:
    dtype: str


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if not isinstance(value, tuple) or not all(type(v) is int and v >= 0 for v in value):
        raise NotPlain(f"unexpected {what}: {value!r}")
    return value


def _rebuild_tensor_v2(
    storage: Any,
    storage_offset: Any,
    size: Any,
    stride: Any,
    requires_grad: Any = False,
    backward_hooks: Any = None,
    metadata: Any = None,
) -> TensorMeta:
    if not isinstance(storage, StorageRef) or type(storage_offset) is not int or storage_offset < 0:
        raise NotPlain("unexpected tensor arguments")
    if metadata:
        raise NotPlain("tensor with metadata")
    shape, strides = _ints(size, "size"), _ints(stride, "stride")
    if len(shape) != len(strides):
        raise NotPlain("size and stride differ in length")
    return TensorMeta(storage, storage_offset, shape, strides)


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any) -> TensorMeta:
    if not isinstance(data, TensorMeta):
        raise NotPlain("parameter of a non-tensor")
    return data


def _ordered_dict(*args: Any) -> dict[Any, Any]:
    if args:
        raise NotPlain("OrderedDict with arguments")
    return {}


_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}
_ALLOWED |= {("torch", name): _StorageType(dt) for name, dt in STORAGE_DTYPES.items()}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise NotPlain(f"global {module}.{name}") from None

    def persistent_load(self, pid: Any) -> StorageRef:
        ok = isinstance(pid, tuple) and len(pid) == 5 and pid[0] in ("storage", b"storage")
        if not ok or not isinstance(pid[1], _StorageType) or type(pid[4]) is not int:
            raise NotPlain(f"unexpected persistent id {pid!r:.80}")
        key = pid[2].decode() if isinstance(pid[2], bytes) else str(pid[2])
        return StorageRef(key=key, dtype=pid[1].dtype, numel=pid[4])


def load_plain(data: bytes) -> Any:
    """The object in ``data.pkl`` with tensors as :class:`TensorMeta`; NotPlain otherwise."""
    try:
        return _Unpickler(io.BytesIO(data), encoding="utf-8").load()
    except NotPlain:
        raise
    except Exception as e:  # any oddity: let torch's restricted unpickler decide
        raise NotPlain(f"{type(e).__name__}: {e}") from None
