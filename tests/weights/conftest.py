"""Tiny checkpoints built in the tests (hidden 8-16: fast)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch


def tiny_state_dict(*, seed: int = 0, tied: bool = True) -> dict[str, torch.Tensor]:
    """A small LLaMA-like state dict; ``lm_head.weight`` shares the embedding's storage."""
    g = torch.Generator().manual_seed(seed)
    sd = {
        "model.embed_tokens.weight": torch.randn(32, 16, generator=g),
        "model.layers.0.self_attn.q_proj.weight": torch.randn(16, 16, generator=g),
        "model.layers.0.mlp.up_proj.weight": torch.randn(24, 16, generator=g),
        "model.layers.0.input_layernorm.weight": torch.ones(16),
        "model.norm.weight": torch.ones(16),
        "model.position_ids": torch.arange(12, dtype=torch.int64),
    }
    if tied:
        sd["lm_head.weight"] = sd["model.embed_tokens.weight"]
    return sd


def load_output(out: Path) -> dict[str, torch.Tensor]:
    """Every tensor written in ``out`` (single file or shards), read by safetensors itself."""
    from safetensors.torch import load_file

    tensors: dict[str, torch.Tensor] = {}
    for f in sorted(out.glob("*.safetensors")):
        part = load_file(f)
        assert not set(part) & set(tensors), "a tensor is in two shards"
        tensors.update(part)
    return tensors


def assert_same(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    assert torch.equal(
        a.contiguous().reshape(-1).view(torch.uint8), b.contiguous().reshape(-1).view(torch.uint8)
    )


@pytest.fixture
def save(tmp_path: Path) -> Callable[..., Path]:
    """``save(obj, "name.bin", legacy=False)`` -> path of a torch.save'd file in tmp_path/src."""

    def _save(obj: object, name: str = "pytorch_model.bin", *, legacy: bool = False) -> Path:
        d = tmp_path / "src"
        d.mkdir(exist_ok=True)
        path = d / name
        torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
        return path

    return _save
