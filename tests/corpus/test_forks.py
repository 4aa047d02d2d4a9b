"""The fork corpus generator itself: forks look like researchers' forks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.corpus.forks import FORK_ARCHS, FORKS, fork_model_type, make_fork, renamed


def test_corpus_covers_every_kind() -> None:
    assert len(FORK_ARCHS) >= 20
    kinds = {FORKS[a].kind for a in FORK_ARCHS}
    assert kinds == {"encoder", "decoder", "encoder-decoder", "vision", "audio", "multimodal"}
    assert {FORKS[a].weights for a in FORK_ARCHS} == {"bin", "module", "train"}


@pytest.mark.parametrize("arch", FORK_ARCHS)
def test_fork_is_a_renamed_copy_with_imports_left_as_copied(arch: str, tmp_path: Path) -> None:
    import torch

    spec = FORKS[arch]
    dest = make_fork(arch, tmp_path / arch)
    modeling = (dest / f"modeling_{arch}.py").read_text()
    configuration = (dest / f"configuration_{arch}.py").read_text()
    assert "from ..." in modeling  # package-relative imports above the checkpoint, as copied
    assert f"class {renamed(spec.head)}(" in modeling
    assert f"class {spec.head}(" not in modeling
    assert f"class {renamed(spec.config_class)}(" in configuration
    config = json.loads((dest / "config.json").read_text())
    assert config["model_type"].startswith(fork_model_type(""))
    assert config["architectures"] == [renamed(spec.head)]
    assert ("auto_map" in config) == spec.auto_map
    weights = dest / ("checkpoint.pt" if spec.weights == "train" else "pytorch_model.bin")
    obj = torch.load(weights, weights_only=True)
    state = obj["state_dict"] if spec.weights == "train" else obj
    assert state and all(k.startswith("module.") == (spec.weights == "module") for k in state)
