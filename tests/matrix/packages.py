"""Tiny staged packages for the matrix tests, written as text (the test never imports them).

``make_package(root, variant)``:
- ``both``: a plain encoder (AutoModel): loads on the v4 and the v5 line;
- ``v5_only``: initialises its weights with ``transformers.initialization`` (the v5 API, absent
  from 4.57; a dict-only ``_tied_weights_keys`` head was tried first and loads on 4.57.6 too);
- ``v4_only``: the encoder imports ``transformers.modeling_attn_mask_utils`` (removed in v5).
"""

from __future__ import annotations

import json
from pathlib import Path

VOCAB = 64
HIDDEN = 8

CONFIG_PY = """\
from transformers import PretrainedConfig


class MxConfig(PretrainedConfig):
    model_type = "mx-hfc-test"

    def __init__(self, vocab_size=64, hidden_size=8, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        super().__init__(**kwargs)
"""

MODELING_PY = """\
import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput
#EXTRA_IMPORT

from .configuration_mx import MxConfig


class MxPreTrainedModel(PreTrainedModel):
    config_class = MxConfig
    base_model_prefix = "model"

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(0.0, 0.02)


class MxBody(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.proj = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, input_ids):
        return torch.tanh(self.proj(self.embed(input_ids)))


class MxModel(MxPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.model = MxBody(config)
        self.post_init()

    def get_input_embeddings(self):
        return self.model.embed

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        return BaseModelOutput(last_hidden_state=self.model(input_ids))
"""


def make_package(root: Path, variant: str) -> Path:
    """Write the staged folder of ``variant`` under ``root`` and return it."""
    import torch
    from safetensors.torch import save_file

    assert variant in ("both", "v5_only", "v4_only"), variant
    out = root / variant
    out.mkdir(parents=True)
    (out / "configuration_mx.py").write_text(CONFIG_PY)
    extra = {
        "v4_only": "from transformers.modeling_attn_mask_utils import _prepare_4d_attention_mask",
        "v5_only": "from transformers import initialization as init",
    }.get(variant, "")
    modeling = MODELING_PY.replace("#EXTRA_IMPORT", extra)
    auto_map = {"AutoConfig": "configuration_mx.MxConfig", "AutoModel": "modeling_mx.MxModel"}
    if variant == "v5_only":
        modeling = modeling.replace(
            "module.weight.data.normal_(0.0, 0.02)", "init.normal_(module.weight, 0.0, 0.02)"
        )
    (out / "modeling_mx.py").write_text(modeling)
    config = {
        "model_type": "mx-hfc-test",
        "architectures": ["MxModel"],
        "auto_map": auto_map,
        "vocab_size": VOCAB,
        "hidden_size": HIDDEN,
        "tie_word_embeddings": True,
        "dtype": "float32",
    }
    (out / "config.json").write_text(json.dumps(config, indent=2))
    g = torch.Generator().manual_seed(0)
    sd = {
        "model.embed.weight": torch.randn(VOCAB, HIDDEN, generator=g),
        "model.proj.weight": torch.randn(HIDDEN, HIDDEN, generator=g),
        "model.proj.bias": torch.randn(HIDDEN, generator=g),
    }
    save_file(sd, str(out / "model.safetensors"), metadata={"format": "pt"})
    gen = {"use_cache": False, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2}
    (out / "generation_config.json").write_text(json.dumps(gen))
    return out
