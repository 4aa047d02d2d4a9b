"""An LTG-BERT-style masked language model in plain PyTorch: the research code, as written.

The traits that make it "not a BERT" and that the Hugging Face wrapper has to respect:

- sequence-first tensors: ``input_ids`` is ``(seq_len, batch)`` and so are the hidden states;
- a *padding* mask that is True at padded positions (the opposite of ``attention_mask``);
- disentangled attention over log-bucketed relative positions, no absolute position embeddings;
- layer norms without learned parameters almost everywhere, GEGLU feed-forward layers;
- a masked-LM head whose output matrix is the word embedding matrix (tied).

This file imports nothing from transformers: ``modeling_ltgbert.py`` wraps it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def position_buckets(length: int, *, bucket_size: int, max_position: int) -> torch.Tensor:
    """Bucket of the relative position ``j - i`` for query ``i`` and key ``j``: ``(length, length)``.

    Distances below ``bucket_size // 2`` get a bucket each; longer ones share buckets on a log scale
    that reaches the last bucket at ``max_position``. Buckets are shifted to ``[0, 2 * bucket_size - 2]``.
    """
    positions = torch.arange(length)
    relative = positions[None, :] - positions[:, None]
    distance = relative.abs()
    half = bucket_size // 2
    log_scale = torch.log(distance.clamp(min=1) / half) / math.log((max_position - 1) / half)
    far = (half + torch.ceil(log_scale * (half - 1))).long().clamp(max=bucket_size - 1)
    bucket = torch.where(distance < half, relative, torch.sign(relative) * far)
    return bucket + bucket_size - 1


class Embedding(nn.Module):
    def __init__(
        self, vocab_size: int, hidden_size: int, bucket_size: int, dropout: float, eps: float
    ) -> None:
        super().__init__()
        self.word_embedding = nn.Embedding(vocab_size, hidden_size)
        self.word_layer_norm = nn.LayerNorm(hidden_size, eps=eps, elementwise_affine=False)
        self.relative_embedding = nn.Parameter(torch.empty(2 * bucket_size - 1, hidden_size))
        self.relative_layer_norm = nn.LayerNorm(hidden_size, eps=eps)
        self.dropout = nn.Dropout(dropout)

    def forward(self, input_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        words = self.dropout(self.word_layer_norm(self.word_embedding(input_ids)))
        relative = self.relative_layer_norm(self.relative_embedding)
        return words, relative


class Attention(nn.Module):
    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        *,
        bucket_size: int,
        max_position: int,
        dropout: float,
        eps: float,
    ) -> None:
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(
                f"hidden_size {hidden_size} is not a multiple of num_heads {num_heads}"
            )
        self.num_heads = num_heads
        self.head_size = hidden_size // num_heads
        self.bucket_size = bucket_size
        self.max_position = max_position
        self.scale = 1.0 / math.sqrt(3 * self.head_size)  # three score terms are summed
        self.pre_layer_norm = nn.LayerNorm(hidden_size, eps=eps, elementwise_affine=False)
        self.in_proj_qk = nn.Linear(hidden_size, 2 * hidden_size)
        self.in_proj_v = nn.Linear(hidden_size, hidden_size)
        self.out_proj = nn.Linear(hidden_size, hidden_size)
        self.post_layer_norm = nn.LayerNorm(hidden_size, eps=eps)
        self.dropout = nn.Dropout(dropout)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(seq, batch, hidden) -> (batch, heads, seq, head_size)."""
        seq_len, batch, _ = x.shape
        return x.view(seq_len, batch, self.num_heads, self.head_size).permute(1, 2, 0, 3)

    def forward(
        self, hidden: torch.Tensor, padding_mask: torch.Tensor, relative: torch.Tensor
    ) -> torch.Tensor:
        seq_len, batch, hidden_size = hidden.shape
        x = self.pre_layer_norm(hidden)
        query, key = self.in_proj_qk(x).chunk(2, dim=-1)
        query, key = self._split_heads(query), self._split_heads(key)
        value = self._split_heads(self.in_proj_v(x))

        # Relative position embeddings projected with the same weights: (heads, buckets, head_size).
        pos_query, pos_key = self.in_proj_qk(self.dropout(relative)).chunk(2, dim=-1)
        pos_query = pos_query.view(-1, self.num_heads, self.head_size).transpose(0, 1)
        pos_key = pos_key.view(-1, self.num_heads, self.head_size).transpose(0, 1)
        buckets = position_buckets(
            seq_len, bucket_size=self.bucket_size, max_position=self.max_position
        ).to(hidden.device)
        buckets = buckets.expand(batch, self.num_heads, seq_len, seq_len)

        content = query @ key.transpose(-1, -2)
        content_to_position = (query @ pos_key.transpose(-1, -2)).gather(-1, buckets)
        position_to_content = (key @ pos_query.transpose(-1, -2)).gather(-1, buckets)
        scores = (
            content + content_to_position + position_to_content.transpose(-1, -2)
        ) * self.scale

        scores = scores.masked_fill(padding_mask[:, None, None, :], float("-inf"))
        probs = self.dropout(torch.softmax(scores, dim=-1))
        context = (probs @ value).permute(2, 0, 1, 3).reshape(seq_len, batch, hidden_size)
        return self.dropout(self.post_layer_norm(self.out_proj(context)))


class FeedForward(nn.Module):
    def __init__(
        self, hidden_size: int, intermediate_size: int, dropout: float, eps: float
    ) -> None:
        super().__init__()
        self.pre_layer_norm = nn.LayerNorm(hidden_size, eps=eps, elementwise_affine=False)
        self.up = nn.Linear(hidden_size, 2 * intermediate_size, bias=False)
        self.mid_layer_norm = nn.LayerNorm(intermediate_size, eps=eps, elementwise_affine=False)
        self.down = nn.Linear(intermediate_size, hidden_size, bias=False)
        self.dropout = nn.Dropout(dropout)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x, gate = self.up(self.pre_layer_norm(hidden)).chunk(2, dim=-1)
        x = self.mid_layer_norm(x * F.gelu(gate))  # GEGLU
        return self.dropout(self.down(x))


class EncoderLayer(nn.Module):
    def __init__(self, attention: Attention, feed_forward: FeedForward) -> None:
        super().__init__()
        self.attention = attention
        self.feed_forward = feed_forward

    def forward(
        self, hidden: torch.Tensor, padding_mask: torch.Tensor, relative: torch.Tensor
    ) -> torch.Tensor:
        hidden = hidden + self.attention(hidden, padding_mask, relative)
        return hidden + self.feed_forward(hidden)


class MaskClassifier(nn.Module):
    """Masked-LM head; its output matrix is the word embedding matrix."""

    def __init__(self, word_embedding: nn.Embedding, dropout: float, eps: float) -> None:
        super().__init__()
        vocab_size, hidden_size = word_embedding.weight.shape
        self.pre_layer_norm = nn.LayerNorm(hidden_size, eps=eps, elementwise_affine=False)
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.post_layer_norm = nn.LayerNorm(hidden_size, eps=eps, elementwise_affine=False)
        self.dropout = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        self.decoder.weight = word_embedding.weight

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.dense(self.pre_layer_norm(hidden)))
        return self.decoder(self.dropout(self.post_layer_norm(x)))


class LtgBert(nn.Module):
    """The encoder plus its masked-LM head (``self.classifier``), as in the original code.

    ``forward(input_ids, padding_mask)`` takes ``(seq_len, batch)`` token ids and a ``(batch,
    seq_len)`` boolean mask that is True at padding, and returns ``(seq_len, batch, hidden_size)``.
    """

    def __init__(
        self,
        vocab_size: int = 16384,
        hidden_size: int = 768,
        num_layers: int = 12,
        num_heads: int = 12,
        intermediate_size: int = 2048,
        position_bucket_size: int = 32,
        max_position_embeddings: int = 512,
        dropout: float = 0.1,
        layer_norm_eps: float = 1e-7,
    ) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = Embedding(
            vocab_size, hidden_size, position_bucket_size, dropout, layer_norm_eps
        )
        self.layers = nn.ModuleList(
            EncoderLayer(
                Attention(
                    hidden_size,
                    num_heads,
                    bucket_size=position_bucket_size,
                    max_position=max_position_embeddings,
                    dropout=dropout,
                    eps=layer_norm_eps,
                ),
                FeedForward(hidden_size, intermediate_size, dropout, layer_norm_eps),
            )
            for _ in range(num_layers)
        )
        self.classifier = MaskClassifier(self.embedding.word_embedding, dropout, layer_norm_eps)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        std = math.sqrt(2.0 / (5.0 * self.hidden_size))
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=std, a=-2 * std, b=2 * std)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        nn.init.trunc_normal_(self.embedding.word_embedding.weight, std=std, a=-2 * std, b=2 * std)
        nn.init.trunc_normal_(self.embedding.relative_embedding, std=std, a=-2 * std, b=2 * std)

    def forward(
        self, input_ids: torch.Tensor, padding_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        if padding_mask is None:
            padding_mask = torch.zeros(input_ids.T.shape, dtype=torch.bool, device=input_ids.device)
        hidden, relative = self.embedding(input_ids)
        for layer in self.layers:
            hidden = layer(hidden, padding_mask, relative)
        return hidden
