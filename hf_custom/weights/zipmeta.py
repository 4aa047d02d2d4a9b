"""Tensor metadata of a zip-format torch checkpoint, without reading any tensor data or torch.

``data.pkl`` is walked symbolically by :mod:`hf_custom.weights.pickle_walk` (torch's
``weights_only`` rules, nothing constructed): each storage is recorded by key and the tensors'
bytes are later copied straight from the archive at their offsets. What torch would refuse
raises ``Refused``; tensors beyond plain ones (quantized, sparse, subclasses) raise
:class:`NotPlain`, and the caller then goes through ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

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
    """The object in ``data.pkl`` with tensors as :class:`TensorMeta`.

    Raises :class:`~hf_custom.weights.pickle_walk.Refused` where torch's weights_only loader
    would refuse the pickle, :class:`NotPlain` where it holds tensors beyond plain ones.
    """
    from hf_custom.weights.pickle_walk import walk

    result = walk(data)
    if result.beyond_plain:
        raise NotPlain(", ".join(sorted(set(result.beyond_plain))))
    return result.obj
