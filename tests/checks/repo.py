"""A small custom-code model repository that passes every static check, built as plain data.

Cases (``cases.py``) derive failing and passing variants from it by overriding files.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG: dict[str, Any] = {
    "model_type": "toyhfc",
    "architectures": ["ToyForCausalLM"],
    "auto_map": {
        "AutoConfig": "configuration_toy.ToyConfig",
        "AutoModel": "modeling_toy.ToyModel",
        "AutoModelForCausalLM": "modeling_toy.ToyForCausalLM",
    },
    "hidden_size": 16,
    "vocab_size": 8,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "pad_token_id": 0,
    "tie_word_embeddings": True,
    "dtype": "float32",
    "transformers_version": "5.24.0",
}

CONFIGURATION = """\
from transformers import PretrainedConfig


class ToyConfig(PretrainedConfig):
    model_type = "toyhfc"

    def __init__(self, hidden_size=16, vocab_size=8, tie_word_embeddings=True, **kwargs):
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        self.tie_word_embeddings = tie_word_embeddings
        super().__init__(**kwargs)
"""

MODELING = """\
import torch
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput, CausalLMOutput

from .configuration_toy import ToyConfig


class ToyPreTrainedModel(PreTrainedModel):
    config_class = ToyConfig
    base_model_prefix = "model"


class ToyModel(ToyPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)
        self.post_init()

    def forward(self, input_ids=None, **kwargs):
        return BaseModelOutput(last_hidden_state=self.embed(input_ids))


class ToyForCausalLM(ToyPreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "model.embed.weight"}

    def __init__(self, config):
        super().__init__(config)
        self.model = ToyModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids=None, labels=None, **kwargs):
        hidden = self.model(input_ids).last_hidden_state
        return CausalLMOutput(logits=self.lm_head(hidden))
"""

VOCAB = {"<pad>": 0, "<s>": 1, "</s>": 2, "a": 3, "b": 4, "c": 5, "d": 6, "<unk>": 7}

TOKENIZER = {
    "version": "1.0",
    "added_tokens": [],
    "normalizer": None,
    "pre_tokenizer": {"type": "Whitespace"},
    "post_processor": None,
    "decoder": None,
    "model": {"type": "WordLevel", "vocab": VOCAB, "unk_token": "<unk>"},
}
TOKENIZER_CONFIG = {
    "tokenizer_class": "PreTrainedTokenizerFast",
    "bos_token": "<s>",
    "eos_token": "</s>",
    "pad_token": "<pad>",
    "unk_token": "<unk>",
}
SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "pad_token": "<pad>",
    "unk_token": "<unk>",
}

CARD = """\
---
library_name: transformers
license: apache-2.0
tags:
- custom_code
---
# Toy

A toy model for hf-custom's tests.
"""


def safetensors_bytes(
    tensors: Mapping[str, tuple[str, list[int]]], *, metadata: Mapping[str, str] | None = None
) -> bytes:
    """A valid safetensors file (zero-filled data) for name -> (dtype, shape)."""
    sizes = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1}
    header: dict[str, Any] = {}
    if metadata is not None:
        header["__metadata__"] = dict(metadata)
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = sizes[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + b"\0" * offset


WEIGHTS = {"model.embed.weight": ("F32", [8, 16])}


@dataclass(frozen=True)
class Sparse:
    """A file of ``size`` bytes that takes no disk space (for size limits)."""

    size: int


Content = str | bytes | Sparse | None  # None deletes the file


def base_files() -> dict[str, Content]:
    return {
        "config.json": json.dumps(CONFIG, indent=2),
        "configuration_toy.py": CONFIGURATION,
        "modeling_toy.py": MODELING,
        "model.safetensors": safetensors_bytes(WEIGHTS, metadata={"format": "pt"}),
        "tokenizer.json": json.dumps(TOKENIZER),
        "tokenizer_config.json": json.dumps(TOKENIZER_CONFIG),
        "special_tokens_map.json": json.dumps(SPECIAL_TOKENS),
        "README.md": CARD,
    }


def config_with(**changes: Any) -> str:
    """config.json with keys changed (a value of None removes the key)."""
    cfg = json.loads(json.dumps(CONFIG))
    for k, v in changes.items():
        if v is None:
            cfg.pop(k, None)
        else:
            cfg[k] = v
    return json.dumps(cfg, indent=2)


def write_repo(root: Path, overrides: Mapping[str, Content] | None = None) -> Path:
    files = base_files()
    files.update(overrides or {})
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        if content is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Sparse):
            with path.open("wb") as fh:
                fh.truncate(content.size)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root
