"""TinyLM: a small pre-norm decoder with learned positions and a key/value cache.

Written the way transformers v5 expects custom code to be: ``post_init()`` in every constructor,
``_tied_weights_keys`` as a dict with ``tie_word_embeddings`` set in the config, ``GenerationMixin``
inherited explicitly by the causal-LM class, and the cache passed as ``cache`` (a ``Cache`` object,
``DynamicCache`` by default) and returned in the output.

It also loads and generates under transformers 4.57: there the cache argument and output field
are called ``past_key_values``. The forwards accept both names and the outputs use the field the
installed transformers has (``_CACHE``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.cache_utils import Cache, DynamicCache
from transformers.modeling_outputs import BaseModelOutputWithPast, CausalLMOutputWithPast

from .configuration_tinylm import TinyLMConfig

# The output field holding the cache: "cache" in transformers v5, "past_key_values" in v4.
_CACHE = "cache" if "cache" in BaseModelOutputWithPast.__dataclass_fields__ else "past_key_values"


class TinyLMAttention(nn.Module):
    def __init__(self, config: TinyLMConfig, layer_idx: int) -> None:
        super().__init__()
        self.layer_idx = layer_idx
        self.num_heads = config.num_attention_heads
        self.head_dim = config.hidden_size // config.num_attention_heads
        self.qkv_proj = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.o_proj = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = config.dropout

    def forward(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor | None, cache: Cache | None
    ) -> torch.Tensor:
        batch, length, hidden_size = hidden.shape
        qkv = self.qkv_proj(hidden).view(batch, length, 3, self.num_heads, self.head_dim)
        query, key, value = qkv.permute(2, 0, 3, 1, 4)  # each (batch, heads, length, head_dim)
        if cache is not None:
            key, value = cache.update(key, value, self.layer_idx)

        # Query i (at absolute position past + i) sees keys 0 .. past + i that are not padding.
        past = key.shape[2] - length
        allowed = torch.ones(length, key.shape[2], dtype=torch.bool, device=hidden.device)
        allowed = allowed.tril(diagonal=past)[None, None]
        if attention_mask is not None:
            allowed = allowed & attention_mask[:, None, None, -key.shape[2] :].bool()
        # A large finite negative (not -inf) keeps fully masked rows (left padding) finite.
        bias = torch.zeros(allowed.shape, dtype=query.dtype, device=hidden.device)
        bias = bias.masked_fill(~allowed, torch.finfo(query.dtype).min)

        context = nn.functional.scaled_dot_product_attention(
            query, key, value, attn_mask=bias, dropout_p=self.dropout if self.training else 0.0
        )
        return self.o_proj(context.transpose(1, 2).reshape(batch, length, hidden_size))


class TinyLMBlock(nn.Module):
    def __init__(self, config: TinyLMConfig, layer_idx: int) -> None:
        super().__init__()
        self.attn_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.attn = TinyLMAttention(config, layer_idx)
        self.mlp_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.mlp = nn.Sequential(
            nn.Linear(config.hidden_size, config.intermediate_size),
            nn.GELU(),
            nn.Linear(config.intermediate_size, config.hidden_size),
        )

    def forward(
        self, hidden: torch.Tensor, attention_mask: torch.Tensor | None, cache: Cache | None
    ) -> torch.Tensor:
        hidden = hidden + self.attn(self.attn_norm(hidden), attention_mask, cache)
        return hidden + self.mlp(self.mlp_norm(hidden))


class TinyLMPreTrainedModel(PreTrainedModel):
    config_class = TinyLMConfig
    base_model_prefix = "model"
    main_input_name = "input_ids"
    _no_split_modules = ["TinyLMBlock"]  # noqa: RUF012 (read by transformers)


class TinyLMModel(TinyLMPreTrainedModel):
    def __init__(self, config: TinyLMConfig) -> None:
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.embed_positions = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.layers = nn.ModuleList(TinyLMBlock(config, i) for i in range(config.num_hidden_layers))
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.embed_tokens = value

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        cache: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        return_dict: bool | None = None,
        past_key_values: Cache | None = None,  # the v4 name of ``cache``
        **kwargs: Any,
    ) -> BaseModelOutputWithPast | tuple[Any, ...]:
        cache = cache if cache is not None else past_key_values
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids and inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.embed_tokens(input_ids)
        use_cache = self.config.use_cache if use_cache is None else use_cache
        if use_cache and cache is None:
            cache = DynamicCache(config=self.config)
        if not use_cache:
            cache = None
        if position_ids is None:
            past = cache.get_seq_length() if cache is not None else 0
            position_ids = torch.arange(
                past, past + inputs_embeds.shape[1], device=inputs_embeds.device
            )[None]

        hidden = inputs_embeds + self.embed_positions(position_ids)
        for layer in self.layers:
            hidden = layer(hidden, attention_mask, cache)
        output = BaseModelOutputWithPast(last_hidden_state=self.norm(hidden), **{_CACHE: cache})
        return output if return_dict is not False else output.to_tuple()


class TinyLMForCausalLM(TinyLMPreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}  # noqa: RUF012

    def __init__(self, config: TinyLMConfig) -> None:
        super().__init__(config)
        self.model = TinyLMModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.embed_tokens

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.model.embed_tokens = value

    def get_output_embeddings(self) -> nn.Linear:
        return self.lm_head

    def set_output_embeddings(self, value: nn.Linear) -> None:
        self.lm_head = value

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        cache: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        use_cache: bool | None = None,
        return_dict: bool | None = None,
        past_key_values: Cache | None = None,  # the v4 name of ``cache``
        **kwargs: Any,
    ) -> CausalLMOutputWithPast | tuple[Any, ...]:
        outputs = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            cache=cache if cache is not None else past_key_values,
            inputs_embeds=inputs_embeds,
            use_cache=use_cache,
        )
        logits = self.lm_head(outputs.last_hidden_state)
        loss = None
        if labels is not None:  # predict token t + 1 from tokens .. t; -100 is ignored
            loss = nn.functional.cross_entropy(
                logits[:, :-1].reshape(-1, logits.size(-1)),
                labels[:, 1:].reshape(-1),
                ignore_index=-100,
            )
        output = CausalLMOutputWithPast(
            loss=loss, logits=logits, **{_CACHE: getattr(outputs, _CACHE)}
        )
        return output if return_dict is not False else output.to_tuple()
