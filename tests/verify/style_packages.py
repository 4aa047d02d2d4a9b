"""Tiny custom-code packages written in the styles of popular public ones (our own code).

Each package is a staged-style folder (configuration file, modeling file, config.json with
auto_map and architectures, model.safetensors): ``make_style_package(root, "NAME")``. The
styles reproduce conventions the verifier must judge correctly:

- ``config_tuple``: the configuration stores ``gradient_checkpointing`` as a tuple (truthy), so
  transformers' ``post_init`` enables checkpointing and deletes the attribute from the config
  object the model was built from; the backbone's ``__init__`` reads it (a Baichuan-like
  package). It loads, runs and generates fine for its users.
- ``unused_buffer``: a non-persistent buffer created in ``__init__`` from a Python value
  (``torch.tensor(-1e4)``), not recomputed by ``_init_weights`` and not used by this forward:
  ``from_pretrained`` (meta-device construction) leaves it as uninitialised memory, although
  every output matches (a Qwen v1-like ``masked_bias``).
"""

from __future__ import annotations

import json
from pathlib import Path

VOCAB = 64
HIDDEN = 16

_CONFIG = """\
from transformers import PretrainedConfig


class StyleConfig(PretrainedConfig):
    model_type = "style-hfc-test"

    def __init__(
        self,
        vocab_size=64,
        hidden_size=16,
        num_hidden_layers=1,
        gradient_checkpointing=False,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        tie_word_embeddings=False,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        GRADIENT_CHECKPOINTING
        super().__init__(
            pad_token_id=pad_token_id,
            bos_token_id=bos_token_id,
            eos_token_id=eos_token_id,
            tie_word_embeddings=tie_word_embeddings,
            **kwargs,
        )
"""

_MODELING = """\
import torch
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutputWithPast, CausalLMOutputWithPast

from .configuration_style import StyleConfig


class StylePreTrainedModel(PreTrainedModel):
    config_class = StyleConfig
    base_model_prefix = "model"
    supports_gradient_checkpointing = True

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)


class StyleModel(StylePreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        BACKBONE_INIT
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        hidden = torch.tanh(self.proj(self.embed_tokens(input_ids)))
        return BaseModelOutputWithPast(last_hidden_state=hidden)


class StyleForCausalLM(StylePreTrainedModel, GenerationMixin):
    def __init__(self, config):
        super().__init__(config)
        self.model = StyleModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        # token-wise: the logits of a position depend on its token only (no cache needed)
        hidden = self.model(input_ids).last_hidden_state
        return CausalLMOutputWithPast(logits=self.lm_head(hidden))
"""

STYLES = {
    "config_tuple": {
        "GRADIENT_CHECKPOINTING": "self.gradient_checkpointing = (gradient_checkpointing,)",
        "BACKBONE_INIT": "self.gradient_checkpointing = config.gradient_checkpointing",
    },
    "unused_buffer": {
        "GRADIENT_CHECKPOINTING": "self.gradient_checkpointing = gradient_checkpointing",
        "BACKBONE_INIT": (
            'self.register_buffer("masked_bias", torch.tensor(-1e4), persistent=False)'
        ),
    },
}


def make_style_package(root: Path, style: str) -> Path:
    import torch
    from safetensors.torch import save_file

    texts = STYLES[style]
    config_text, modeling_text = _CONFIG, _MODELING
    for key, value in texts.items():
        config_text = config_text.replace(key, value)
        modeling_text = modeling_text.replace(key, value)
    root.mkdir(parents=True, exist_ok=True)
    (root / "configuration_style.py").write_text(config_text, encoding="utf-8")
    (root / "modeling_style.py").write_text(modeling_text, encoding="utf-8")
    config = {
        "model_type": "style-hfc-test",
        "vocab_size": VOCAB,
        "hidden_size": HIDDEN,
        "num_hidden_layers": 1,
        "gradient_checkpointing": style == "config_tuple",
        "pad_token_id": 0,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "tie_word_embeddings": False,
        "architectures": ["StyleForCausalLM"],
        "auto_map": {
            "AutoConfig": "configuration_style.StyleConfig",
            "AutoModel": "modeling_style.StyleModel",
            "AutoModelForCausalLM": "modeling_style.StyleForCausalLM",
        },
    }
    (root / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    gen = torch.Generator().manual_seed(0)
    state = {
        "model.embed_tokens.weight": torch.randn(VOCAB, HIDDEN, generator=gen),
        "model.proj.weight": torch.randn(HIDDEN, HIDDEN, generator=gen) * 0.3,
        "model.proj.bias": torch.randn(HIDDEN, generator=gen) * 0.1,
        "lm_head.weight": torch.randn(VOCAB, HIDDEN, generator=gen) * 0.3,
    }
    save_file(state, str(root / "model.safetensors"), metadata={"format": "pt"})
    return root
