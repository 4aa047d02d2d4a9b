"""Configuration of the LTG-BERT wrapper: every argument of the research ``LtgBert`` plus the
fields transformers expects (special token ids, classifier settings, tying)."""

from __future__ import annotations

from typing import Any

from transformers import PretrainedConfig


class LtgbertConfig(PretrainedConfig):
    model_type = "ltgbert"

    def __init__(
        self,
        vocab_size: int = 16384,
        hidden_size: int = 768,
        num_hidden_layers: int = 12,
        num_attention_heads: int = 12,
        intermediate_size: int = 2048,
        position_bucket_size: int = 32,
        max_position_embeddings: int = 512,
        hidden_dropout_prob: float = 0.1,
        layer_norm_eps: float = 1e-7,
        initializer_range: float = 0.02,
        classifier_dropout: float | None = None,
        pad_token_id: int | None = 0,
        cls_token_id: int | None = None,
        sep_token_id: int | None = None,
        mask_token_id: int | None = None,
        tie_word_embeddings: bool = True,
        **kwargs: Any,
    ) -> None:
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_hidden_layers = num_hidden_layers
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.position_bucket_size = position_bucket_size
        self.max_position_embeddings = max_position_embeddings
        self.hidden_dropout_prob = hidden_dropout_prob
        self.layer_norm_eps = layer_norm_eps
        self.initializer_range = initializer_range
        self.classifier_dropout = classifier_dropout
        self.pad_token_id = pad_token_id
        self.cls_token_id = cls_token_id
        self.sep_token_id = sep_token_id
        self.mask_token_id = mask_token_id
        # transformers v5 no longer defaults this on the base config: the masked-LM head shares the
        # word embedding matrix, so say so explicitly.
        self.tie_word_embeddings = tie_word_embeddings
        super().__init__(**kwargs)
