"""The torch-free casts agree with torch bit for bit (NaN stays NaN)."""

from __future__ import annotations

import pytest
import torch

from hf_custom.weights import casting
from hf_custom.weights.casting import Caster

TORCH = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16}


def _values() -> torch.Tensor:
    special = [0.0, -0.0, 1.0, -1.5, 3.4028235e38, -3.4028235e38, float("inf"), float("-inf")]
    special += [1e-45, -1e-40, 1.00390625, 1.01171875, 65504.0, 65520.0, 1e-8, 6e-5, 3e-39]
    g = torch.Generator().manual_seed(0)
    ties = (
        torch.randint(0, 2**15, (2000,), generator=g).to(torch.int32) * 65536 + 32768
    )  # exact ties
    return torch.cat(
        [
            torch.tensor(special),
            torch.randn(50_000, generator=g) * 100,
            torch.randn(1000, generator=g) * 1e-39,
            ties.view(torch.float32)[ties.view(torch.float32).isfinite()],
        ]
    )


@pytest.mark.parametrize("src", ["F32", "F64", "F16", "BF16"])
@pytest.mark.parametrize("dst", ["F32", "F16", "BF16"])
def test_cast_matches_torch(src, dst, monkeypatch):
    monkeypatch.setattr(casting, "BLOCK", 4096)  # several blocks, a partial last one
    x = _values().to(TORCH[src])
    expected = x.to(TORCH[dst]).view(torch.uint8).numpy().tobytes()
    out = bytearray(len(expected))
    Caster(src, dst)(memoryview(x.view(torch.uint8).numpy().tobytes()), memoryview(out))
    assert bytes(out) == expected


@pytest.mark.parametrize("dst", ["F16", "BF16"])
def test_nan_stays_nan(dst):
    bits = torch.tensor(
        [0x7FC00000, -0x400000, 0x7F800001, 0x7FFFFFFF, -1, 0x3F800000], dtype=torch.int32
    )
    x = bits.view(torch.float32)
    out = bytearray(len(x) * 2)
    Caster("F32", dst)(memoryview(x.numpy().tobytes()), memoryview(out))
    raw = [int.from_bytes(out[i : i + 2], "little") for i in range(0, len(out), 2)]
    exp_mask, man_mask = (0x7C00, 0x03FF) if dst == "F16" else (0x7F80, 0x007F)
    for b in raw[:5]:
        assert b & exp_mask == exp_mask and b & man_mask, hex(b)  # a NaN
    assert raw[1] & 0x8000 and raw[4] & 0x8000 and not raw[0] & 0x8000  # sign kept
    assert raw[5] == (0x3C00 if dst == "F16" else 0x3F80)  # 1.0


def test_unsupported():
    with pytest.raises(ValueError):
        Caster("I64", "F32")
