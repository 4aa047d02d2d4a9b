"""Research decoders with a key/value cache of their own, in three common styles, each with the
greedy ``generate`` its author would write. Source text, written to a temporary folder.
"""

from __future__ import annotations

COMMON = """
import torch
from torch import nn
from torch.nn import functional as F


def attend(q, k, v, causal):
    # q: (b, h, t, d); k, v: (b, h, s, d); with a cache the new queries sit at the end
    att = (q @ k.transpose(-2, -1)) / k.size(-1) ** 0.5
    if causal:
        t, s = q.size(2), k.size(2)
        keep = torch.ones(t, s, dtype=torch.bool).tril(diagonal=s - t)
        att = att.masked_fill(~keep, float("-inf"))
    return F.softmax(att, dim=-1) @ v
"""

# (1) nanoGPT with a KV cache: forward(idx, targets=None, kv_cache=None) returns (logits, loss,
# new cache), the cache a list of (k, v) per layer; logits for the last position only without
# targets.
RETURNED = (
    COMMON
    + """

class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.n_head = n_head
        self.ln1 = nn.LayerNorm(n_embd)
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 2 * n_embd), nn.GELU(), nn.Linear(2 * n_embd, n_embd))

    def forward(self, x, past=None):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, -1).transpose(1, 2) for z in (q, k, v))
        if past is not None:
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        y = attend(q, k, v, causal=True).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.mlp(self.ln2(x)), (k, v)


class CachedGPT(nn.Module):
    def __init__(self, vocab_size=37, block_size=32, n_layer=2, n_head=2, n_embd=16):
        super().__init__()
        self.block_size = block_size
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.blocks = nn.ModuleList(Block(n_embd, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)

    def forward(self, idx, targets=None, kv_cache=None):
        past_len = 0 if kv_cache is None else kv_cache[0][0].size(2)
        pos = torch.arange(past_len, past_len + idx.size(1), device=idx.device)
        x = self.wte(idx) + self.wpe(pos)
        new_cache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, None if kv_cache is None else kv_cache[i])
            new_cache.append(kv)
        x = self.ln_f(x)
        if targets is None:
            return self.lm_head(x[:, [-1], :]), None, new_cache
        logits = self.lm_head(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-1)
        return logits, loss, new_cache

    @torch.no_grad()
    def generate(self, idx, max_new_tokens):
        logits, _, cache = self(idx)
        for _ in range(max_new_tokens):
            nxt = logits[:, -1].argmax(dim=-1, keepdim=True)
            idx = torch.cat([idx, nxt], dim=1)
            logits, _, cache = self(nxt, kv_cache=cache)
        return idx
"""
)

# (2) a cache held by each attention layer, switched on with use_cache=True and emptied with
# reset_cache(); the model counts the positions itself. Returns all positions' logits.
HELD = (
    COMMON
    + """

class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.out = nn.Linear(dim, dim, bias=False)
        self.k = self.v = None

    def forward(self, x, use_cache):
        b, t, c = x.shape
        q, k, v = (z.view(b, t, self.heads, -1).transpose(1, 2) for z in self.qkv(x).split(c, 2))
        if use_cache:
            if self.k is not None:
                k, v = torch.cat([self.k, k], 2), torch.cat([self.v, v], 2)
            self.k, self.v = k, v
        return self.out(attend(q, k, v, causal=True).transpose(1, 2).reshape(b, t, c))


class HeldLM(nn.Module):
    def __init__(self, n_vocab=41, dim=16, depth=2, heads=2, max_len=32):
        super().__init__()
        self.tok = nn.Embedding(n_vocab, dim)
        self.pos = nn.Embedding(max_len, dim)
        self.layers = nn.ModuleList(Attention(dim, heads) for _ in range(depth))
        self.norms = nn.ModuleList(nn.LayerNorm(dim) for _ in range(depth))
        self.head = nn.Linear(dim, n_vocab)
        self.offset = 0

    def reset_cache(self):
        self.offset = 0
        for layer in self.layers:
            layer.k = layer.v = None

    def forward(self, tokens, use_cache=False):
        start = self.offset if use_cache else 0
        pos = torch.arange(start, start + tokens.size(1), device=tokens.device)
        x = self.tok(tokens) + self.pos(pos)
        for norm, layer in zip(self.norms, self.layers):
            x = x + layer(norm(x), use_cache)
        if use_cache:
            self.offset += tokens.size(1)
        return self.head(x)

    @torch.no_grad()
    def generate(self, tokens, steps):
        self.reset_cache()
        logits = self(tokens, use_cache=True)
        for _ in range(steps):
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            tokens = torch.cat([tokens, nxt], 1)
            logits = self(nxt, use_cache=True)
        return tokens
"""
)

# (3) the reference-LLaMA style: forward(tokens, start_pos: int) with no default; caches
# preallocated per layer (max_batch_size, max_seq_len, heads, head_dim) and written at
# start_pos; rotary position embeddings; its generate keeps prev_pos / cur_pos.
POSITIONED = """
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class ModelArgs:
    dim: int = 16
    n_layers: int = 2
    n_heads: int = 2
    vocab_size: int = 43
    max_batch_size: int = 4
    max_seq_len: int = 32


def rotary(x, start_pos):
    b, t, h, d = x.shape
    freqs = 1.0 / (10000 ** (torch.arange(0, d, 2).float() / d))
    angles = torch.outer(torch.arange(start_pos, start_pos + t).float(), freqs)
    cos, sin = angles.cos()[None, :, None, :], angles.sin()[None, :, None, :]
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.n_heads = args.n_heads
        self.head_dim = args.dim // args.n_heads
        self.wq = nn.Linear(args.dim, args.dim, bias=False)
        self.wk = nn.Linear(args.dim, args.dim, bias=False)
        self.wv = nn.Linear(args.dim, args.dim, bias=False)
        self.wo = nn.Linear(args.dim, args.dim, bias=False)
        shape = (args.max_batch_size, args.max_seq_len, self.n_heads, self.head_dim)
        self.cache_k = torch.zeros(shape)
        self.cache_v = torch.zeros(shape)

    def forward(self, x, start_pos, mask):
        b, t, _ = x.shape
        xq = self.wq(x).view(b, t, self.n_heads, self.head_dim)
        xk = self.wk(x).view(b, t, self.n_heads, self.head_dim)
        xv = self.wv(x).view(b, t, self.n_heads, self.head_dim)
        xq, xk = rotary(xq, start_pos), rotary(xk, start_pos)
        self.cache_k = self.cache_k.to(xq)
        self.cache_v = self.cache_v.to(xq)
        self.cache_k[:b, start_pos : start_pos + t] = xk.detach()
        self.cache_v[:b, start_pos : start_pos + t] = xv.detach()
        keys = self.cache_k[:b, : start_pos + t]
        values = self.cache_v[:b, : start_pos + t]
        if t > 1 or start_pos == 0:  # training and prefill: this call's own keys, with grad
            keys = torch.cat([keys[:, :start_pos], xk], dim=1)
            values = torch.cat([values[:, :start_pos], xv], dim=1)
        q, k, v = xq.transpose(1, 2), keys.transpose(1, 2), values.transpose(1, 2)
        scores = q @ k.transpose(2, 3) / self.head_dim**0.5
        if mask is not None:
            scores = scores + mask
        out = F.softmax(scores.float(), dim=-1).type_as(q) @ v
        return self.wo(out.transpose(1, 2).reshape(b, t, -1))


class TransformerBlock(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.attention = Attention(args)
        self.feed_forward = nn.Sequential(
            nn.Linear(args.dim, 2 * args.dim), nn.SiLU(), nn.Linear(2 * args.dim, args.dim)
        )
        self.attention_norm = nn.RMSNorm(args.dim)
        self.ffn_norm = nn.RMSNorm(args.dim)

    def forward(self, x, start_pos, mask):
        h = x + self.attention(self.attention_norm(x), start_pos, mask)
        return h + self.feed_forward(self.ffn_norm(h))


class Transformer(nn.Module):
    def __init__(self, params: ModelArgs):
        super().__init__()
        self.params = params
        self.tok_embeddings = nn.Embedding(params.vocab_size, params.dim)
        self.layers = nn.ModuleList(TransformerBlock(params) for _ in range(params.n_layers))
        self.norm = nn.RMSNorm(params.dim)
        self.output = nn.Linear(params.dim, params.vocab_size, bias=False)

    def forward(self, tokens: torch.Tensor, start_pos: int):
        _bsz, seqlen = tokens.shape
        h = self.tok_embeddings(tokens)
        mask = None
        if seqlen > 1:
            mask = torch.full((seqlen, seqlen), float("-inf"), device=tokens.device).triu(1)
            mask = torch.hstack([torch.zeros((seqlen, start_pos), device=tokens.device), mask])
        for layer in self.layers:
            h = layer(h, start_pos, mask)
        return self.output(self.norm(h)).float()

    @torch.no_grad()
    def generate(self, tokens, max_gen_len):
        prev_pos = 0
        total = tokens.size(1) + max_gen_len
        for cur_pos in range(tokens.size(1), total):
            logits = self.forward(tokens[:, prev_pos:cur_pos], prev_pos)
            nxt = logits[:, -1].argmax(dim=-1, keepdim=True)
            tokens = torch.cat([tokens, nxt], dim=1)
            prev_pos = cur_pos
        return tokens
"""

# (4) written after Hugging Face's own models: forward(input_ids, attention_mask=None,
# past_key_values=None, use_cache=False) returning a dict; the mask covers the past and the new
# tokens (1 = keep), and the cache is a tuple of (k, v) per layer returned only with use_cache.
MASKED = (
    COMMON
    + """

class Layer(nn.Module):
    def __init__(self, hidden_size, heads):
        super().__init__()
        self.heads = heads
        self.norm = nn.LayerNorm(hidden_size)
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.out = nn.Linear(hidden_size, hidden_size)

    def forward(self, x, keep, past):
        b, t, c = x.shape
        q, k, v = (z.view(b, t, self.heads, -1).transpose(1, 2) for z in self.qkv(self.norm(x)).split(c, 2))
        if past is not None:
            k, v = torch.cat([past[0], k], 2), torch.cat([past[1], v], 2)
        s = k.size(2)
        att = (q @ k.transpose(-2, -1)) / k.size(-1) ** 0.5
        allowed = torch.ones(t, s, dtype=torch.bool).tril(diagonal=s - t)[None, None]
        allowed = allowed & keep[:, None, None, :].bool()
        att = att.masked_fill(~allowed, float("-inf")).softmax(-1)
        return x + self.out((att @ v).transpose(1, 2).reshape(b, t, c)), (k, v)


class HfStyleLM(nn.Module):
    def __init__(self, vocab_size=31, hidden_size=16, num_layers=2, num_heads=2, max_positions=32):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, hidden_size)
        self.positions = nn.Embedding(max_positions, hidden_size)
        self.layers = nn.ModuleList(Layer(hidden_size, num_heads) for _ in range(num_layers))
        self.lm_head = nn.Linear(hidden_size, vocab_size, bias=False)

    def forward(self, input_ids, attention_mask=None, past_key_values=None, use_cache=False):
        past_len = 0 if past_key_values is None else past_key_values[0][0].size(2)
        total = past_len + input_ids.size(1)
        if attention_mask is None:
            attention_mask = torch.ones(input_ids.size(0), total, dtype=torch.long)
        pos = torch.arange(past_len, total, device=input_ids.device)
        x = self.embed(input_ids) + self.positions(pos)
        presents = []
        for i, layer in enumerate(self.layers):
            x, kv = layer(x, attention_mask, None if past_key_values is None else past_key_values[i])
            presents.append(kv)
        out = {"logits": self.lm_head(x)}
        if use_cache:
            out["past_key_values"] = tuple(presents)
        return out

    @torch.no_grad()
    def generate(self, input_ids, max_new_tokens):
        out = self(input_ids, use_cache=True)
        for _ in range(max_new_tokens):
            nxt = out["logits"][:, -1].argmax(-1, keepdim=True)
            input_ids = torch.cat([input_ids, nxt], 1)
            out = self(nxt, past_key_values=out["past_key_values"], use_cache=True)
        return input_ids
"""
)
