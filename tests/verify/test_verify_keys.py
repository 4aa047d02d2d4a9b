"""expected_state_keys: state-dict names of classes instantiated on the meta device."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_custom.verification import expected_state_keys

pytestmark = pytest.mark.slow


def test_expected_state_keys(heads_dir: Path) -> None:
    names = [
        "TinyForCausalLM",
        "modeling_tiny.TinyForSequenceClassification",
        "TinyForMaskedLM",
        "TinyForPreTraining",
        "NoSuchClass",
    ]
    keys = expected_state_keys(heads_dir, names, timeout=300)
    assert set(keys) == set(names)

    lm = keys["TinyForCausalLM"]
    assert lm.ok and not lm.findings
    assert {"lm_head.weight", "model.embed.weight", "model.layers.0.bias"} <= set(lm.params)
    assert lm.tied == {"lm_head.weight": "model.embed.weight"}
    assert lm.base_model_prefix == "model"
    assert lm.shapes["model.embed.weight"] == (300, 16)
    assert lm.dtypes["model.embed.weight"] == "float32"
    assert "model.scale" not in lm.keys  # a non-persistent buffer is not a state-dict key
    assert lm.stored == lm.keys - {"lm_head.weight"}

    seq = keys["modeling_tiny.TinyForSequenceClassification"]
    assert {"score.weight", "score.bias"} <= seq.keys and seq.tied == {}

    masked = keys["TinyForMaskedLM"]  # no post_init(): keys listed, the defect reported
    assert masked.ok and "lm_head.weight" in masked.keys
    assert [f.id for f in masked.findings] == ["HFC501"]

    pre = keys["TinyForPreTraining"]  # _tied_weights_keys a list: cannot be instantiated
    assert not pre.ok and "HFC502" in {f.id for f in pre.findings}

    assert not keys["NoSuchClass"].ok and "NoSuchClass" in keys["NoSuchClass"].error
