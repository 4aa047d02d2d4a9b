"""HFC508 names ``_init_weights`` when it is why loaded tensors differ from the weights file:
transformers v5 runs it, after loading, on modules holding a tensor the file lacks (here a
non-persistent buffer), and an ``_init_weights`` that writes a submodule's parameters by name
(the Qwen v1 pattern) overwrites loaded values. Our own minimal package, verified for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CONFIG = """\
from transformers import PretrainedConfig


class QxConfig(PretrainedConfig):
    model_type = "qx-init-test"

    def __init__(self, vocab_size=20, hidden_size=8, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        super().__init__(**kwargs)
"""

MODELING = """\
import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput

from .configuration_qx import QxConfig


class QxAttention(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.c_attn = nn.Linear(hidden, hidden)
        self.c_proj = nn.Linear(hidden, hidden)
        self.register_buffer("scale", torch.ones(hidden), persistent=False)

    def forward(self, x):
        return self.c_proj(torch.tanh(self.c_attn(x)) * self.scale)


class QxPreTrainedModel(PreTrainedModel):
    config_class = QxConfig
    base_model_prefix = "transformer"

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=0.02)
            module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=0.02)
        elif isinstance(module, QxAttention):
            module.scale.fill_(1.0)
#REACH#


class QxModel(QxPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.attn = QxAttention(config.hidden_size)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        return BaseModelOutput(last_hidden_state=self.attn(self.embed(input_ids)))
"""

# What Qwen v1's _init_weights does: reach into the submodule's parameters by name
REACH = """\
        for name, p in module.named_parameters():
            if name == "c_proj.weight":
                p.data.normal_(mean=0.0, std=0.01)
"""


def _package(root: Path, *, reach: bool) -> Path:
    import torch
    from safetensors.torch import save_file

    root.mkdir(parents=True)
    (root / "configuration_qx.py").write_text(CONFIG)
    (root / "modeling_qx.py").write_text(MODELING.replace("#REACH#\n", REACH if reach else ""))
    cfg = {
        "model_type": "qx-init-test",
        "vocab_size": 20,
        "hidden_size": 8,
        "architectures": ["QxModel"],
        "auto_map": {
            "AutoConfig": "configuration_qx.QxConfig",
            "AutoModel": "modeling_qx.QxModel",
        },
    }
    (root / "config.json").write_text(json.dumps(cfg, indent=2))
    gen = torch.Generator().manual_seed(0)
    shapes = {
        "embed.weight": (20, 8),
        "attn.c_attn.weight": (8, 8),
        "attn.c_attn.bias": (8,),
        "attn.c_proj.weight": (8, 8),
        "attn.c_proj.bias": (8,),
    }
    tensors = {k: torch.rand(s, generator=gen) - 0.5 for k, s in shapes.items()}
    save_file(tensors, str(root / "model.safetensors"), metadata={"format": "pt"})
    return root


@pytest.mark.slow
def test_init_weights_reaching_into_a_submodule_is_named(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from hf_custom.verification import verify

    report = verify(_package(tmp_path / "bad", reach=True), timeout=300)
    assert not report.ok
    (f,) = [f for f in report.findings if f.id == "HFC508"]
    assert "attn.c_proj.weight" in f.message
    assert "QxPreTrainedModel._init_weights (modeling_qx.py:" in f.message, f.message
    assert "when called on `attn`, QxAttention" in f.message
    assert "a submodule's parameters by name" in f.message
    assert f.path == "modeling_qx.py" and "transformers.initialization" in f.fix
    # the owning Linear's own init is not blamed for the other, intact, tensors
    assert "c_attn" not in f.message

    sound = verify(_package(tmp_path / "good", reach=False), timeout=300)
    assert sound.ok and "HFC508" not in {f.id for f in sound.findings}, sound.findings
