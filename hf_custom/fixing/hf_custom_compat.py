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
    "AttentionMaskConverter",
    "AutoModelForVision2Seq",
    "_create_4d_causal_attention_mask",
    "_prepare_4d_attention_mask",
    "_prepare_4d_attention_mask_for_sdpa",
    "_prepare_4d_causal_attention_mask",
    "_prepare_4d_causal_attention_mask_for_sdpa",
    "bloom_expand_mask",
    "bloom_make_causal_mask",
    "cache_from_legacy",
    "cache_get_max_length",
    "cache_get_usable_length",
    "cache_seen_tokens",
    "cache_to_legacy",
    "find_pruneable_heads_and_indices",
    "generation_extract_past_from_model_output",
    "is_torch_fx_available",
    "is_torch_sdpa_available",
    "legacy_expand_mask",
    "legacy_make_causal_mask",
    "loaded_from_checkpoint",
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


def _tracing(tensor: Any = None) -> bool:
    """True under torch.jit tracing, torch.fx symbolic tracing or torch.compile (v4 then never
    drops a mask on a data-dependent test)."""
    if torch.jit.is_tracing():
        return True
    compiler = getattr(torch, "compiler", None)
    if compiler is not None and getattr(compiler, "is_compiling", lambda: False)():
        return True
    try:
        import torch.fx as fx
    except ImportError:  # pragma: no cover - every supported torch has torch.fx
        return False
    return isinstance(tensor, fx.Proxy)


class AttentionMaskConverter:
    """v4 ``modeling_attn_mask_utils.AttentionMaskConverter``: additive 4D masks (0 where a
    query may attend, the dtype's minimum where it may not) of shape [bsz, 1, q, kv]."""

    is_causal: bool
    sliding_window: int | None

    def __init__(self, is_causal: bool, sliding_window: int | None = None) -> None:
        if sliding_window is not None and sliding_window <= 0:
            raise ValueError(
                "Make sure that when passing `sliding_window` that its value is a strictly "
                f"positive integer, not `{sliding_window}`"
            )
        self.is_causal = is_causal
        self.sliding_window = sliding_window

    def to_causal_4d(
        self,
        batch_size: int,
        query_length: int,
        key_value_length: int,
        dtype: torch.dtype,
        device: torch.device | str = "cpu",
    ) -> torch.Tensor | None:
        """The causal mask alone; None for a single query without a sliding window."""
        if not self.is_causal:
            raise ValueError(
                f"Please use `to_causal_4d` only if {self.__class__} has `is_causal` set to True."
            )
        if query_length <= 1 and self.sliding_window is None:
            return None
        return self._make_causal_mask(
            (batch_size, query_length),
            dtype,
            device=torch.device(device),
            past_key_values_length=key_value_length - query_length,
            sliding_window=self.sliding_window,
        )

    def to_4d(
        self,
        attention_mask_2d: torch.Tensor,
        query_length: int,
        dtype: torch.dtype,
        key_value_length: int | None = None,
    ) -> torch.Tensor:
        """A [bsz, kv] 1/0 padding mask as a 4D additive mask, combined with the causal one."""
        causal = None
        if self.is_causal and (query_length > 1 or self.sliding_window is not None):
            if key_value_length is None:
                raise ValueError(
                    "This attention mask converter is causal. Make sure to pass "
                    "`key_value_length` to correctly create a causal mask."
                )
            causal = self._make_causal_mask(
                (attention_mask_2d.shape[0], query_length),
                dtype,
                device=attention_mask_2d.device,
                past_key_values_length=key_value_length - query_length,
                sliding_window=self.sliding_window,
            )
        elif self.sliding_window is not None:
            raise NotImplementedError(
                "Sliding window is currently only implemented for causal masking"
            )
        padding = self._expand_mask(attention_mask_2d, dtype, tgt_len=query_length)
        padding = padding.to(attention_mask_2d.device)
        if causal is None:
            return padding
        return causal.masked_fill(padding.bool(), torch.finfo(dtype).min)

    @staticmethod
    def _make_causal_mask(
        input_ids_shape: Any,
        dtype: torch.dtype,
        device: torch.device,
        past_key_values_length: int = 0,
        sliding_window: int | None = None,
    ) -> torch.Tensor:
        """[bsz, 1, q, past + q]: query i sees the past and keys up to itself (and, with a
        sliding window, none older than ``sliding_window`` positions)."""
        bsz, q_len = int(input_ids_shape[0]), int(input_ids_shape[1])
        low = torch.finfo(dtype).min
        rows = torch.arange(q_len, device=device)
        future = rows[None, :] > rows[:, None]
        mask = torch.zeros(q_len, q_len, dtype=dtype, device=device).masked_fill(future, low)
        if past_key_values_length > 0:
            past = torch.zeros(q_len, past_key_values_length, dtype=dtype, device=device)
            mask = torch.cat([past, mask], dim=-1)
        if sliding_window is not None:
            keys = torch.arange(mask.shape[-1], device=device)
            too_old = keys[None, :] <= rows[:, None] + (past_key_values_length - sliding_window - 1)
            mask = mask.masked_fill(too_old, low)
        return mask[None, None, :, :].expand(bsz, 1, q_len, q_len + past_key_values_length)

    @staticmethod
    def _expand_mask(
        mask: torch.Tensor, dtype: torch.dtype, tgt_len: int | None = None
    ) -> torch.Tensor:
        """[bsz, src] of 1/0 -> [bsz, 1, tgt, src] of 0 (attend) / dtype's min (masked)."""
        bsz, src_len = mask.size()
        tgt_len = tgt_len if tgt_len is not None else src_len
        expanded = mask[:, None, None, :].expand(bsz, 1, tgt_len, src_len).to(dtype)
        inverted = 1.0 - expanded
        return inverted.masked_fill(inverted.to(torch.bool), torch.finfo(dtype).min)

    @staticmethod
    def _unmask_unattended(expanded_mask: torch.Tensor, min_dtype: float) -> torch.Tensor:
        """Rows that mask every key (left padding) attend to all keys instead (SDPA's
        memory-efficient kernel returns NaN on fully masked rows)."""
        if expanded_mask.dtype == torch.bool:
            raise ValueError(
                "AttentionMaskConverter._unmask_unattended expects a float `expanded_mask`, "
                "got a BoolTensor."
            )
        fully_masked = torch.all(expanded_mask == min_dtype, dim=-1, keepdim=True)
        return expanded_mask.mul(~fully_masked)

    @staticmethod
    def _ignore_causal_mask_sdpa(
        attention_mask: torch.Tensor | None,
        inputs_embeds: torch.Tensor,
        past_key_values_length: int,
        sliding_window: int | None = None,
        is_training: bool = False,
    ) -> bool:
        """True when SDPA's own ``is_causal`` can stand for the mask (nothing padded and the
        queries are all keys, or a single query)."""
        q_len = inputs_embeds.shape[1]
        kv_len = q_len + past_key_values_length
        tracing = _tracing(inputs_embeds)
        square_or_single = q_len == 1 or kv_len == q_len
        window_ok = sliding_window is None or kv_len < sliding_window
        if attention_mask is None:
            return (is_training or not tracing) and square_or_single and window_ok
        if not window_ok or len(attention_mask.shape) == 4:
            return False
        return not tracing and bool(torch.all(attention_mask == 1)) and square_or_single


# --- private helpers of v4's model modules (bloom, opt, llama, bart, ...), removed in v5 ------


def legacy_expand_mask(
    mask: torch.Tensor, dtype: torch.dtype, tgt_len: int | None = None
) -> torch.Tensor:
    """v4 ``models.{opt,llama,bart,...}.modeling_*._expand_mask``: [bsz, src] of 1/0 ->
    [bsz, 1, tgt, src] of 0 (attend) / dtype's min (masked)."""
    return AttentionMaskConverter._expand_mask(mask, dtype, tgt_len)


def legacy_make_causal_mask(
    input_ids_shape: Any,
    dtype: torch.dtype,
    device: Any = None,
    past_key_values_length: int = 0,
) -> torch.Tensor:
    """v4 ``models.{opt,llama,bart,...}.modeling_*._make_causal_mask``: the additive causal
    mask [bsz, 1, q, past + q]. Early versions had no ``device`` (``(shape, dtype, past)``): an
    int in that place is the past length, as those callers meant."""
    if isinstance(device, int) and not isinstance(device, bool):
        device, past_key_values_length = None, device
    device = torch.device("cpu") if device is None else torch.device(device)
    return AttentionMaskConverter._make_causal_mask(
        input_ids_shape, dtype, device, past_key_values_length=past_key_values_length
    )


def bloom_make_causal_mask(
    input_ids_shape: Any, device: Any, past_key_values_length: int
) -> torch.Tensor:
    """v4 ``models.bloom.modeling_bloom._make_causal_mask``: a BOOL mask [bsz, 1, q, past + q],
    True where query i may not see key j (a later position); the past is all visible."""
    bsz, q_len = int(input_ids_shape[0]), int(input_ids_shape[1])
    ids = torch.arange(q_len, device=device)
    future = ids[:, None] < ids[None, :]
    past = torch.zeros(q_len, past_key_values_length, dtype=torch.bool, device=device)
    mask = torch.cat([past, future], dim=-1)
    return mask[None, None, :, :].expand(bsz, 1, q_len, q_len + past_key_values_length)


def bloom_expand_mask(mask: torch.Tensor, tgt_length: int | None) -> torch.Tensor:
    """v4 ``models.bloom.modeling_bloom._expand_mask``: [bsz, src] of 1/0 -> a BOOL mask
    [bsz, 1, tgt, src], True where the key is padding."""
    bsz, src_len = mask.shape
    tgt_length = tgt_length if tgt_length is not None else src_len
    return (~mask[:, None, None, :].to(torch.bool)).expand(bsz, 1, tgt_length, src_len)


def _prepare_4d_attention_mask(
    mask: torch.Tensor, dtype: torch.dtype, tgt_len: int | None = None
) -> torch.Tensor:
    """v4 ``modeling_attn_mask_utils._prepare_4d_attention_mask`` (padding mask, not causal)."""
    return AttentionMaskConverter._expand_mask(mask, dtype, tgt_len)


def _prepare_4d_attention_mask_for_sdpa(
    mask: torch.Tensor, dtype: torch.dtype, tgt_len: int | None = None
) -> torch.Tensor | None:
    """v4: None when nothing is masked (SDPA then needs no mask), else the expanded mask."""
    if not _tracing(mask) and torch.all(mask == 1):
        return None
    return AttentionMaskConverter._expand_mask(mask, dtype, tgt_len)


def _prepare_4d_causal_attention_mask(
    attention_mask: torch.Tensor | None,
    input_shape: Any,
    inputs_embeds: torch.Tensor,
    past_key_values_length: int,
    sliding_window: int | None = None,
) -> torch.Tensor | None:
    """v4 ``modeling_attn_mask_utils._prepare_4d_causal_attention_mask``: a [bsz, 1, q, kv]
    float mask (0 attend, dtype's min masked) from a 2D padding mask, a 4D 1/0 mask, or None."""
    converter = AttentionMaskConverter(is_causal=True, sliding_window=sliding_window)
    dtype = inputs_embeds.dtype
    bsz, q_len = int(input_shape[0]), int(input_shape[-1])
    kv_len = q_len + past_key_values_length
    if attention_mask is not None and attention_mask.dim() == 2:
        return converter.to_4d(attention_mask, q_len, dtype=dtype, key_value_length=kv_len)
    if attention_mask is not None and attention_mask.dim() == 4:
        expected = (bsz, 1, q_len, kv_len)
        if tuple(attention_mask.shape) != expected:
            raise ValueError(
                f"Incorrect 4D attention_mask shape: {tuple(attention_mask.shape)}; "
                f"expected: {expected}."
            )
        inverted = 1.0 - attention_mask
        return inverted.masked_fill(inverted.to(torch.bool), torch.finfo(dtype).min)
    return converter.to_causal_4d(bsz, q_len, kv_len, dtype=dtype, device=inputs_embeds.device)


def _prepare_4d_causal_attention_mask_for_sdpa(
    attention_mask: torch.Tensor | None,
    input_shape: Any,
    inputs_embeds: torch.Tensor,
    past_key_values_length: int,
    sliding_window: int | None = None,
) -> torch.Tensor | None:
    """v4: like :func:`_prepare_4d_causal_attention_mask`, but None when SDPA's ``is_causal``
    can stand for the mask, a 4D mask passed through as it is, and (on CUDA) fully masked rows
    unmasked."""
    converter = AttentionMaskConverter(is_causal=True, sliding_window=sliding_window)
    dtype, device = inputs_embeds.dtype, inputs_embeds.device
    bsz, q_len = int(input_shape[0]), int(input_shape[-1])
    kv_len = q_len + past_key_values_length
    if AttentionMaskConverter._ignore_causal_mask_sdpa(
        attention_mask, inputs_embeds, past_key_values_length, sliding_window
    ):
        return None
    if attention_mask is None:
        return converter.to_causal_4d(bsz, q_len, kv_len, dtype=dtype, device=device)
    if attention_mask.dim() == 4:
        mask = attention_mask
    else:
        mask = converter.to_4d(attention_mask, q_len, dtype=dtype, key_value_length=kv_len)
    if not _tracing(inputs_embeds) and mask.device.type == "cuda":
        mask = AttentionMaskConverter._unmask_unattended(mask, torch.finfo(dtype).min)
    return mask


def _create_4d_causal_attention_mask(
    input_shape: Any,
    dtype: torch.dtype,
    device: torch.device,
    past_key_values_length: int = 0,
    sliding_window: int | None = None,
) -> torch.Tensor | None:
    """v4: the causal [bsz, 1, q, past + q] mask without padding (None for one query)."""
    converter = AttentionMaskConverter(is_causal=True, sliding_window=sliding_window)
    q_len = int(input_shape[-1])
    return converter.to_causal_4d(
        int(input_shape[0]), q_len, past_key_values_length + q_len, dtype=dtype, device=device
    )


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


# --- model-side v4 behaviour (HFC263, HFC264) ----------------------------------------------


def loaded_from_checkpoint(module: Any) -> bool:
    """True when ``from_pretrained`` loaded every parameter and persistent buffer of ``module``.

    v4 ran ``_init_weights`` after loading only on modules with something left to initialise
    (its children, parameters and persistent buffers not all loaded). v5 also runs it on
    modules that keep a non-persistent buffer, so an ``_init_weights`` that loops over the
    module's sub-parameters overwrites loaded weights. Returning early when this is True gives
    v4's result; a model built from a config (nothing loaded) is initialised as before.
    """
    tensors = list(module.parameters())
    for sub in module.modules():
        skip = getattr(sub, "_non_persistent_buffers_set", ())
        tensors += [b for n, b in sub._buffers.items() if b is not None and n not in skip]
    return bool(tensors) and all(getattr(t, "_is_hf_initialized", False) for t in tensors)


def generation_extract_past_from_model_output(
    self: Any, outputs: Any, standardize_cache_format: bool = False
) -> Any:
    """transformers 4.41's ``GenerationMixin._extract_past_from_model_output`` (the cache of a
    model output; removed in 4.44), bound as a method."""
    past_key_values = None
    for key in ("past_key_values", "mems", "past_buckets_states"):
        if key in outputs:
            past_key_values = outputs[key]
            break
    convert = getattr(self, "_convert_to_standard_cache", None)  # Bloom's, in 4.41
    if standardize_cache_format and convert is not None:
        past_key_values = convert(past_key_values, batch_size=outputs.logits.shape[0])
    return past_key_values


# --- the v4 (4.39-era) Cache API that v5 removed: each helper uses the cache's own method when
# it has one (v4, or a package's own Cache subclass) and v5's layers otherwise ---------------


def cache_from_legacy(cls: Any, past_key_values: Any = None) -> Any:
    """v4 ``DynamicCache.from_legacy_cache``: a cache holding the per-layer (key, value) tuples."""
    own = getattr(cls, "from_legacy_cache", None)
    if own is not None:
        return own(past_key_values)
    cache = cls()
    for layer_idx, (key, value) in enumerate(past_key_values or ()):
        cache.update(key, value, layer_idx)
    return cache


def cache_to_legacy(cache: Any) -> Any:
    """v4 ``Cache.to_legacy_cache``: the per-layer (key, value) tuples."""
    own = getattr(cache, "to_legacy_cache", None)
    if own is not None:
        return own()
    return tuple(
        (layer.keys, layer.values)
        for layer in cache.layers
        if getattr(layer, "keys", None) is not None
    )


def cache_get_max_length(cache: Any) -> int | None:
    """v4 ``Cache.get_max_length``: None for a cache without a maximum (v5 says -1)."""
    own = getattr(cache, "get_max_length", None) or cache.get_max_cache_shape
    try:
        value = own()
    except ValueError:  # v5: max() over the layers of a cache that has none yet
        return None
    return None if value is None or value < 0 else int(value)


def cache_get_usable_length(cache: Any, new_seq_length: int, layer_idx: int | None = 0) -> int:
    """v4 ``Cache.get_usable_length``: the cached length, less what a bounded cache must drop."""
    own = getattr(cache, "get_usable_length", None)
    if own is not None:
        return int(own(new_seq_length, layer_idx))
    layer = 0 if layer_idx is None else layer_idx
    max_length = cache_get_max_length(cache)
    previous = int(cache.get_seq_length(layer))
    if max_length is not None and previous + new_seq_length > max_length:
        return max_length - new_seq_length
    return previous


def cache_seen_tokens(cache: Any) -> int:
    """v4 ``DynamicCache.seen_tokens``: the tokens the cache has seen (its length in v5)."""
    if "seen_tokens" in dir(type(cache)) or "seen_tokens" in vars(cache):
        return int(cache.seen_tokens)
    return int(cache.get_seq_length())
