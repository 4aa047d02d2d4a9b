"""Compatibility helpers written by hf-custom for transformers names that v5 removed.

`hf-custom fix` copies this file into a model package and imports from it only when the
transformers installed there no longer has the original (``try: from transformers... except
ImportError: from .hf_custom_compat import ...``), so v4 keeps its own. Each helper follows the
behaviour of the transformers v4 function it stands for.
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = [  # noqa: F822 (AutoModelForVision2Seq comes from __getattr__)
    "AutoModelForVision2Seq",
    "_prepare_4d_attention_mask",
    "_prepare_4d_attention_mask_for_sdpa",
    "_prepare_4d_causal_attention_mask",
    "find_pruneable_heads_and_indices",
    "is_torch_fx_available",
    "is_torch_sdpa_available",
    "model_get_extended_attention_mask",
    "model_get_head_mask",
    "model_invert_attention_mask",
    "remember_init_args",
    "restore_non_persistent_buffers",
]


def is_torch_fx_available() -> bool:
    """v4: True when torch.fx is importable (every torch transformers supports)."""
    try:
        import torch.fx  # noqa: F401
    except ImportError:
        return False
    return True


def is_torch_sdpa_available() -> bool:
    """v4: True when torch has scaled_dot_product_attention (torch >= 2.1.1)."""
    return hasattr(torch.nn.functional, "scaled_dot_product_attention")


def _expand_mask(
    mask: torch.Tensor, dtype: torch.dtype, tgt_len: int | None = None
) -> torch.Tensor:
    """[bsz, src] of 1/0 -> [bsz, 1, tgt, src] of 0 (attend) / dtype's min (masked)."""
    bsz, src_len = mask.size()
    tgt_len = tgt_len if tgt_len is not None else src_len
    expanded = mask[:, None, None, :].expand(bsz, 1, tgt_len, src_len).to(dtype)
    inverted = 1.0 - expanded
    return inverted.masked_fill(inverted.to(torch.bool), torch.finfo(dtype).min)


def _make_causal_mask(
    shape: tuple[int, int],
    dtype: torch.dtype,
    device: torch.device,
    past_key_values_length: int = 0,
    sliding_window: int | None = None,
) -> torch.Tensor:
    bsz, tgt_len = shape
    mask = torch.full((tgt_len, tgt_len), torch.finfo(dtype).min, device=device)
    cond = torch.arange(mask.size(-1), device=device)
    mask.masked_fill_(cond < (cond + 1).view(mask.size(-1), 1), 0)
    mask = mask.to(dtype)
    if past_key_values_length > 0:
        zeros = torch.zeros(tgt_len, past_key_values_length, dtype=dtype, device=device)
        mask = torch.cat([zeros, mask], dim=-1)
    if sliding_window is not None:
        diagonal = past_key_values_length - sliding_window - 1
        context = torch.tril(torch.ones_like(mask, dtype=torch.bool), diagonal=diagonal)
        mask = mask.masked_fill(context, torch.finfo(dtype).min)
    return mask[None, None, :, :].expand(bsz, 1, tgt_len, tgt_len + past_key_values_length)


def _prepare_4d_attention_mask(
    mask: torch.Tensor, dtype: torch.dtype, tgt_len: int | None = None
) -> torch.Tensor:
    """v4 ``modeling_attn_mask_utils._prepare_4d_attention_mask`` (padding mask, not causal)."""
    return _expand_mask(mask, dtype, tgt_len)


def _prepare_4d_attention_mask_for_sdpa(
    mask: torch.Tensor, dtype: torch.dtype, tgt_len: int | None = None
) -> torch.Tensor | None:
    """v4: None when nothing is masked (SDPA then needs no mask), else the expanded mask."""
    if not torch.jit.is_tracing() and torch.all(mask == 1):
        return None
    return _expand_mask(mask, dtype, tgt_len)


def _prepare_4d_causal_attention_mask(
    attention_mask: torch.Tensor | None,
    input_shape: tuple[int, ...] | torch.Size,
    inputs_embeds: torch.Tensor,
    past_key_values_length: int,
    sliding_window: int | None = None,
) -> torch.Tensor | None:
    """v4 ``modeling_attn_mask_utils._prepare_4d_causal_attention_mask``: a [bsz, 1, q, kv]
    float mask (0 attend, dtype's min masked) from a 2D padding mask, a 4D 1/0 mask, or None."""
    dtype, device = inputs_embeds.dtype, inputs_embeds.device
    bsz, q_len = int(input_shape[0]), int(input_shape[-1])
    kv_len = q_len + past_key_values_length
    causal = q_len > 1 or sliding_window is not None
    if attention_mask is not None and attention_mask.dim() == 2:
        expanded = _expand_mask(attention_mask, dtype, tgt_len=q_len).to(device)
        if causal:
            causal_mask = _make_causal_mask(
                (bsz, q_len), dtype, device, kv_len - q_len, sliding_window
            )
            expanded = causal_mask.masked_fill(expanded.bool(), torch.finfo(dtype).min)
        return expanded
    if attention_mask is not None and attention_mask.dim() == 4:
        expected = (bsz, 1, q_len, kv_len)
        if tuple(attention_mask.shape) != expected:
            raise ValueError(
                f"Incorrect 4D attention_mask shape: {tuple(attention_mask.shape)}; "
                f"expected: {expected}."
            )
        inverted = 1.0 - attention_mask
        return inverted.masked_fill(inverted.to(torch.bool), torch.finfo(dtype).min)
    if not causal:
        return None
    return _make_causal_mask((bsz, q_len), dtype, device, past_key_values_length, sliding_window)


def find_pruneable_heads_and_indices(
    heads: Any, n_heads: int, head_size: int, already_pruned_heads: set[int]
) -> tuple[set[int], torch.LongTensor]:
    """v4 ``pytorch_utils.find_pruneable_heads_and_indices``."""
    mask = torch.ones(n_heads, head_size)
    heads = set(heads) - already_pruned_heads
    for head in heads:
        head = head - sum(1 if h < head else 0 for h in already_pruned_heads)
        mask[head] = 0
    flat = mask.view(-1).contiguous().eq(1)
    index = torch.arange(len(flat))[flat].long()
    return heads, index  # type: ignore[return-value]


def __getattr__(name: str) -> Any:
    if name == "AutoModelForVision2Seq":  # v5 renamed it; imported lazily like transformers does
        from transformers import AutoModelForImageTextToText

        return AutoModelForImageTextToText
    raise AttributeError(name)


def remember_init_args(cls: Any) -> Any:
    """Class decorator: each instance keeps the arguments its ``__init__`` was called with, so
    that :func:`restore_non_persistent_buffers` can compute its buffers again (v4 and v5)."""
    init = cls.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if "_hfc_init_args" not in self.__dict__:  # the outermost decorated __init__ wins
            object.__setattr__(self, "_hfc_init_args", (cls, args, kwargs))

    __init__.__wrapped__ = init  # type: ignore[attr-defined]
    cls.__init__ = __init__
    return cls


def restore_non_persistent_buffers(module: Any) -> None:
    """Recompute ``module``'s non-persistent buffers the way its ``__init__`` made them.

    transformers v5 builds the model on the meta device and leaves buffers that are not in the
    checkpoint (``register_buffer(..., persistent=False)``) as uninitialised memory, expecting
    ``_init_weights`` to fill them. A module built by a :func:`remember_init_args` class is
    constructed again on the CPU with the same arguments and its buffers copied (same shapes
    only). Under v4 the values are the ones ``__init__`` already computed.
    """
    saved = module.__dict__.get("_hfc_init_args")
    names = getattr(module, "_non_persistent_buffers_set", ())
    if saved is None or not names:
        return
    cls, args, kwargs = saved
    with torch.device("cpu"), torch.no_grad():
        fresh = cls(*args, **kwargs)
        for name in names:
            new, old = fresh._buffers.get(name), module._buffers.get(name)
            if new is None or old is None or new.shape != old.shape or old.is_meta:
                continue
            old.copy_(new)


# --- PreTrainedModel methods v5 removed (ModuleUtilsMixin in v4), bound as methods ------------


def model_invert_attention_mask(self: Any, encoder_attention_mask: torch.Tensor) -> torch.Tensor:
    """v4 ``invert_attention_mask``: 1 = attend -> 0.0, 0 = masked -> dtype's minimum."""
    mask = encoder_attention_mask
    if mask.dim() == 3:
        mask = mask[:, None, :, :]
    elif mask.dim() == 2:
        mask = mask[:, None, None, :]
    mask = mask.to(dtype=self.dtype)
    return (1.0 - mask) * torch.finfo(self.dtype).min


def _decoder_mask(input_shape: Any, attention_mask: torch.Tensor) -> torch.Tensor:
    batch, length = input_shape
    ids = torch.arange(length, device=attention_mask.device)
    causal = (ids[None, None, :].repeat(batch, length, 1) <= ids[None, :, None]).to(
        attention_mask.dtype
    )
    prefix = attention_mask.shape[1] - causal.shape[1]
    if prefix > 0:  # past key values: the cached positions are all visible
        ones = torch.ones((batch, length, prefix), device=causal.device, dtype=causal.dtype)
        causal = torch.cat([ones, causal], dim=-1)
    return causal[:, None, :, :] * attention_mask[:, None, None, :]


def model_get_extended_attention_mask(
    self: Any,
    attention_mask: torch.Tensor,
    input_shape: Any,
    device: Any = None,
    dtype: Any = None,
) -> torch.Tensor:
    """v4 ``get_extended_attention_mask``: a broadcastable additive mask (causal for decoders)."""
    dtype = self.dtype if dtype is None else dtype
    if attention_mask.dim() == 3:
        mask = attention_mask[:, None, :, :]
    elif attention_mask.dim() == 2:
        if getattr(self.config, "is_decoder", False):
            mask = _decoder_mask(input_shape, attention_mask)
        else:
            mask = attention_mask[:, None, None, :]
    else:
        raise ValueError(
            f"Wrong shape for input_ids (shape {input_shape}) or attention_mask "
            f"(shape {attention_mask.shape})"
        )
    mask = mask.to(dtype=dtype)
    return (1.0 - mask) * torch.finfo(dtype).min


def model_get_head_mask(
    self: Any, head_mask: Any, num_hidden_layers: int, is_attention_chunked: bool = False
) -> Any:
    """v4 ``get_head_mask``: ``[None] * layers`` without a mask, else a 5-d float mask."""
    if head_mask is None:
        return [None] * num_hidden_layers
    if head_mask.dim() == 1:
        head_mask = head_mask[None, None, :, None, None].expand(num_hidden_layers, -1, -1, -1, -1)
    elif head_mask.dim() == 2:
        head_mask = head_mask[:, None, :, None, None]
    if head_mask.dim() != 5:
        raise ValueError(f"head_mask.dim != 5, instead {head_mask.dim()}")
    head_mask = head_mask.to(dtype=self.dtype)
    return head_mask.unsqueeze(-1) if is_attention_chunked is True else head_mask
