"""A researcher-style tiny checkpoint folder, written as text and tensors into a tmp dir.

Used by the publish tests (library and CLI). The folder is left the way researchers leave one:
config.json without auto_map and with torch_dtype, weights of the wrapped model saved under a
DDP ``module.`` prefix, the misspelled special_token_map.json, a training artefact, a .git
folder and a note holding a token.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

VOCAB = 12
HIDDEN = 16
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "cat", "sat", "on", "mat", "dog", "ran"]

CONFIGURATION = """\
from transformers import PretrainedConfig


class TinyEncConfig(PretrainedConfig):
    model_type = "tinyenc"

    def __init__(self, vocab_size=12, hidden_size=16, num_labels=2, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        super().__init__(num_labels=num_labels, **kwargs)
"""

MODELING = """\
import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import (
    BaseModelOutput,
    MaskedLMOutput,
    SequenceClassifierOutput,
)

from .configuration_tinyenc import TinyEncConfig


class TinyEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layer = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, input_ids):
        return torch.tanh(self.layer(self.embed(input_ids)))


class TinyEncPreTrainedModel(PreTrainedModel):
    config_class = TinyEncConfig
    base_model_prefix = "model"

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)


class TinyEncModel(TinyEncPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.model = TinyEncoder(config)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        return BaseModelOutput(last_hidden_state=self.model(input_ids))


class TinyEncForMaskedLM(TinyEncPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.model = TinyEncoder(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        logits = self.lm_head(self.model(input_ids))
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), labels.view(-1))
        return MaskedLMOutput(loss=loss, logits=logits)


class TinyEncForSequenceClassification(TinyEncPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.model = TinyEncoder(config)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        logits = self.classifier(self.model(input_ids)[:, 0])
        return SequenceClassifierOutput(logits=logits)
"""

TOKEN = "hf_" + "Zq9x" * 9


def tokenizer_json() -> dict[str, object]:
    vocab = {t: i for i, t in enumerate(SPECIALS + WORDS)}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": i,
                "content": t,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
            for i, t in enumerate(SPECIALS)
        ],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
    }


def make_checkpoint(root: Path, *, config: dict[str, object] | None = None) -> Path:
    """Write the checkpoint into ``root`` (created) and return it."""
    import torch

    root.mkdir(parents=True, exist_ok=True)
    (root / "configuration_tinyenc.py").write_text(CONFIGURATION)
    (root / "modeling_tinyenc.py").write_text(MODELING)
    cfg = {"vocab_size": VOCAB, "hidden_size": HIDDEN, "torch_dtype": "float32"}
    if config is not None:
        cfg = config
    (root / "config.json").write_text(json.dumps(cfg, indent=2))
    gen = torch.Generator().manual_seed(0)
    state = {
        "module.model.embed.weight": torch.randn(VOCAB, HIDDEN, generator=gen),
        "module.model.layer.weight": torch.randn(HIDDEN, HIDDEN, generator=gen),
        "module.model.layer.bias": torch.randn(HIDDEN, generator=gen),
        "module.lm_head.weight": torch.randn(VOCAB, HIDDEN, generator=gen),
        "module.lm_head.bias": torch.randn(VOCAB, generator=gen),
    }
    torch.save(state, root / "pytorch_model.bin")
    torch.save({"step": torch.tensor(3)}, root / "optimizer.pt")
    (root / "tokenizer.json").write_text(json.dumps(tokenizer_json()))
    (root / "tokenizer_config.json").write_text(
        json.dumps({"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 32})
    )
    (root / "special_token_map.json").write_text(
        json.dumps(
            {
                "pad_token": "[PAD]",
                "unk_token": "[UNK]",
                "cls_token": "[CLS]",
                "sep_token": "[SEP]",
                "mask_token": "[MASK]",
            }
        )
    )
    (root / ".git").mkdir(exist_ok=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "notes.txt").write_text(f"upload with {TOKEN}\n")
    return root


def digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (to prove the source is never modified)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
