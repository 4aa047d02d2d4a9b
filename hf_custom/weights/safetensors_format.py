"""The safetensors file format, without torch: dtype table, header reading and writing."""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from hf_custom.errors import InputError

# safetensors dtype -> bytes per element
DTYPE_SIZES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E4M3": 1,
    "F8_E5M2": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
    "C64": 8,
}

# torch dtype name (str(torch.float32) without "torch.") -> safetensors dtype
TORCH_TO_ST = {
    "bool": "BOOL",
    "uint8": "U8",
    "int8": "I8",
    "float8_e4m3fn": "F8_E4M3",
    "float8_e5m2": "F8_E5M2",
    "int16": "I16",
    "uint16": "U16",
    "float16": "F16",
    "bfloat16": "BF16",
    "int32": "I32",
    "uint32": "U32",
    "float32": "F32",
    "int64": "I64",
    "uint64": "U64",
    "float64": "F64",
    "complex64": "C64",
}
ST_TO_TORCH = {v: k for k, v in TORCH_TO_ST.items()}
FLOAT_DTYPES = {"F16", "BF16", "F32", "F64"}
MAX_HEADER = 100_000_000


def read_safetensors_header(data: bytes | BinaryIO, *, path: str | None = None) -> dict[str, Any]:
    """The header of a safetensors file (its first bytes, or an open binary file).

    Returns the parsed JSON: tensor name -> {"dtype", "shape", "data_offsets"} and an optional
    ``__metadata__``. Raises :class:`InputError` when the header is missing, truncated,
    not JSON, or inconsistent (unknown dtype, offsets that do not match the shape).
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        prefix, rest = raw[:8], raw[8:]
    else:
        prefix = data.read(8)
        rest = b""
    if len(prefix) < 8:
        raise InputError("not a safetensors file: shorter than 8 bytes", path=path)
    (n,) = struct.unpack("<Q", prefix)
    if n == 0 or n > MAX_HEADER:
        raise InputError(f"not a safetensors file: header length {n} is not plausible", path=path)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        rest = data.read(n)
    if len(rest) < n:
        raise InputError(
            f"safetensors header is truncated ({len(rest)} of {n} bytes)",
            path=path,
            hint="the file was cut short (interrupted download or copy); fetch it again",
        )
    try:
        header = json.loads(bytes(rest[:n]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"safetensors header is not valid JSON: {e}", path=path) from None
    if not isinstance(header, dict):
        raise InputError("safetensors header is not a JSON object", path=path)
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict):
                raise InputError("safetensors __metadata__ is not an object", path=path)
            continue
        _check_entry(name, info, path)
    return header


def _check_entry(name: str, info: Any, path: str | None) -> None:
    ok = isinstance(info, dict) and {"dtype", "shape", "data_offsets"} <= set(info)
    if not ok:
        raise InputError(f"safetensors entry {name!r} lacks dtype/shape/data_offsets", path=path)
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if dtype not in DTYPE_SIZES:
        raise InputError(f"tensor {name!r} has unknown dtype {dtype!r}", path=path)
    if not (isinstance(offsets, list) and len(offsets) == 2 and 0 <= offsets[0] <= offsets[1]):
        raise InputError(f"tensor {name!r} has bad data_offsets {offsets!r}", path=path)
    numel = 1
    for d in shape:
        if not isinstance(d, int) or d < 0:
            raise InputError(f"tensor {name!r} has bad shape {shape!r}", path=path)
        numel *= d
    if numel * DTYPE_SIZES[dtype] != offsets[1] - offsets[0]:
        raise InputError(f"tensor {name!r}: shape {shape} does not match its byte range", path=path)


def data_start(header_len: int) -> int:
    """Where the tensor data begins in a file whose JSON header is ``header_len`` bytes."""
    return 8 + header_len


def build_header(
    entries: Sequence[tuple[str, str, Sequence[int], int, int]],
    metadata: Mapping[str, str] | None = None,
) -> bytes:
    """The 8-byte length + JSON header for ``(name, dtype, shape, start, end)`` entries.

    Keys are sorted (``__metadata__`` first, as safetensors writes it); the JSON is padded with
    spaces so the data starts on an 8-byte boundary.
    """
    doc: dict[str, Any] = {}
    if metadata:
        doc["__metadata__"] = dict(sorted(metadata.items()))
    for name, dtype, shape, start, end in sorted(entries, key=lambda e: e[0]):
        doc[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [start, end]}
    body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    body += b" " * (-(len(body) + 8) % 8)
    return struct.pack("<Q", len(body)) + body
