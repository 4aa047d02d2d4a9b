"""One checkpoint reader: the names architecture fitting reads are the names convert writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hf_custom.inventory import read_checkpoint, weight_names
from hf_custom.weights import convert
from tests.weights.conftest import load_output


def _sd() -> dict[str, torch.Tensor]:
    return {
        "enc.weight": torch.ones(4, 3),
        "enc.bias": torch.zeros(4),
        "head.weight": torch.ones(2),
    }


def _nested() -> dict[str, object]:
    return {
        "enc": {"weight": torch.ones(4, 3), "bias": torch.zeros(4)},
        "head": {"weight": torch.ones(2)},
    }


def _lightning() -> dict[str, object]:
    return {
        "epoch": 3,
        "global_step": 120,
        "pytorch-lightning_version": "2.4.0",
        "state_dict": _sd(),
        "optimizer_states": [{"state": {0: {"exp_avg": torch.zeros(4)}}, "param_groups": []}],
        "lr_schedulers": [],
        "callbacks": {},
    }


SHAPES = {
    "plain": _sd,
    "state_dict": lambda: {"state_dict": _sd(), "epoch": 1},
    "model_state_dict": lambda: {"model_state_dict": _sd(), "optimizer_state_dict": {}},
    "model": lambda: {"model": _sd(), "step": 7},
    "module": lambda: {"module": _sd()},
    "state": lambda: {"state": _sd(), "iteration": 2},
    "net": lambda: {"net": _sd()},
    "network": lambda: {"network": _sd(), "config": {"lr": 0.1}},
    "lightning": _lightning,
    "nested": _nested,
    "nested_under_model": lambda: {"model": _nested(), "epoch": 1},
}


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_fitting_names_equal_converted_names(tmp_path: Path, shape: str, legacy: bool) -> None:
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    torch.save(SHAPES[shape](), ckpt / "model.pt", _use_new_zipfile_serialization=not legacy)
    fitted = weight_names(ckpt, read_checkpoint(ckpt))
    assert fitted is not None
    assert sorted(fitted) == ["enc.bias", "enc.weight", "head.weight"]
    convert(ckpt, tmp_path / "out")
    assert sorted(load_output(tmp_path / "out")) == sorted(fitted)
