"""Research modules written for the wrap tests: three differently shaped networks.

Each is source text written to a temporary folder, as a researcher's file would be.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

# (a) an encoder whose layers put the sequence first (as LTG-BERT's original code does): takes
# batch-first ids, returns (seq, batch, hidden) states; its mask marks padding with True. The
# layer lives in a second file, imported relatively.
ENCODER_LAYERS = """
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, hidden: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(hidden, heads, dropout=dropout)
        self.norm1 = nn.LayerNorm(hidden)
        self.ff = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden))
        self.norm2 = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None) -> torch.Tensor:
        a, _ = self.attn(x, x, x, key_padding_mask=padding_mask, need_weights=False)
        x = self.norm1(x + a)
        return self.norm2(x + self.ff(x))
"""

ENCODER = """
import torch
from torch import nn

from .layers import Block


class TinyEncoder(nn.Module):
    def __init__(self, vocab_size=48, hidden_size=16, num_layers=2, num_heads=2, max_len=64, dropout=0.1):
        super().__init__()
        self.word_embedding = nn.Embedding(vocab_size, hidden_size)
        self.position = nn.Parameter(torch.randn(max_len, 1, hidden_size) * 0.02)
        self.layers = nn.ModuleList(Block(hidden_size, num_heads, dropout) for _ in range(num_layers))

    def forward(self, input_ids, attention_mask=None):
        x = self.word_embedding(input_ids.t())  # (seq, batch, hidden)
        x = x + self.position[: x.size(0)]
        for layer in self.layers:
            x = layer(x, attention_mask)
        return x
"""

# (b) a decoder returning logits, its output projection tied to the token embedding,
# with a causal mask built in forward; the mask argument follows the HF convention (1 = keep).
DECODER = """
import torch
from torch import nn


class TinyDecoder(nn.Module):
    def __init__(self, n_vocab: int = 40, d_model: int = 24, n_layers: int = 1, max_len: int = 64):
        super().__init__()
        self.tok = nn.Embedding(n_vocab, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, 2, 2 * d_model, dropout=0.0, batch_first=True)
        self.blocks = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, n_vocab, bias=False)
        self.head.weight = self.tok.weight

    def forward(self, tokens, mask=None):
        seq = tokens.size(1)
        pos = torch.arange(seq, device=tokens.device)
        x = self.tok(tokens) + self.pos(pos)[None]
        causal = torch.triu(torch.full((seq, seq), float("-inf")), diagonal=1)
        pad = None if mask is None else mask == 0
        x = self.blocks(x, mask=causal, src_key_padding_mask=pad, is_causal=True)
        return {"logits": self.head(self.norm(x))}
"""

# (c) a module built from a config object (a dataclass defined in its own file), returning a
# tuple (hidden states, pooled); no mask argument at all.
CONFIGURED_ARGS = """
from dataclasses import dataclass


@dataclass
class MixerArgs:
    vocab_size: int = 30
    dim: int = 20
    depth: int = 2
    expansion: int = 2
"""

CONFIGURED = """
import torch
from torch import nn

from .args import MixerArgs


class Mixer(nn.Module):
    def __init__(self, args: MixerArgs):
        super().__init__()
        self.embed = nn.Embedding(args.vocab_size, args.dim)
        self.mix = nn.ModuleList(nn.Linear(args.dim, args.dim) for _ in range(args.depth))
        self.ff = nn.Sequential(
            nn.Linear(args.dim, args.expansion * args.dim), nn.ReLU(), nn.Linear(args.expansion * args.dim, args.dim)
        )

    def forward(self, ids):
        x = self.embed(ids)
        for layer in self.mix:
            x = x + torch.tanh(layer(x.mean(dim=1, keepdim=True)))  # global mixing
        x = x + self.ff(x)
        return x, x.mean(dim=1)
"""


RUFF = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
# a strict rule set, independent of whatever configuration surrounds the output folder
RUFF_RULES = "E,F,W,I,B,UP,SIM,RUF,PTH"


def ruff_clean(files: list[Path]) -> None:
    """Assert that generated files pass a strict ruff rule set and ruff format."""
    names = [str(f) for f in files]
    check = subprocess.run(
        [RUFF, "check", "--isolated", "--no-cache", "--select", RUFF_RULES, *names],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = subprocess.run(
        [RUFF, "format", "--isolated", "--no-cache", "--check", "--diff", *names],
        capture_output=True,
        text=True,
    )
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
