"""Hugging Face wrapper around the research ``LtgBert`` (kept unchanged in ``ltgbert.py``).

Every class keeps the original network as ``self.model``, so one set of weight names
(``model.embedding...``, ``model.layers...``, ``model.classifier...``) serves all of them. The
wrapper turns the standard batch-first arguments (``input_ids``, ``attention_mask``, ``labels``)
into the research module's sequence-first ones and returns the matching ``ModelOutput``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import PreTrainedModel

try:  # v5: initialisers that leave tensors loaded from the checkpoint alone
    from transformers import initialization as init
except ImportError:  # transformers v4 (4.57): it only initialises what the checkpoint lacks
    from torch.nn import init
from transformers.modeling_outputs import (
    BaseModelOutput,
    MaskedLMOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)

from .configuration_ltgbert import LtgbertConfig
from .ltgbert import Embedding, LtgBert


class LtgbertPreTrainedModel(PreTrainedModel):
    config_class = LtgbertConfig
    base_model_prefix = "model"
    main_input_name = "input_ids"
    # The research module ties its masked-LM decoder to the word embeddings (in every class,
    # because every class holds the whole research module).
    _tied_weights_keys = {  # noqa: RUF012 (transformers reads it as a class attribute)
        "model.classifier.decoder.weight": "model.embedding.word_embedding.weight"
    }

    # Every class holds the whole research module, so every class has both embeddings;
    # transformers v4 ties the decoder to the word embeddings through these two methods (v5
    # through _tied_weights_keys).
    def get_input_embeddings(self) -> nn.Embedding:
        return self.model.embedding.word_embedding

    def get_output_embeddings(self) -> nn.Linear:
        return self.model.classifier.decoder

    def _init_weights(self, module: nn.Module) -> None:
        super()._init_weights(module)
        if isinstance(module, Embedding):  # a bare nn.Parameter that the default init skips
            init.normal_(module.relative_embedding, std=self.config.initializer_range)

    def _encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """Batch-first ids and mask (1 = keep) -> batch-first hidden states."""
        padding_mask = None if attention_mask is None else attention_mask == 0
        hidden = self.model(input_ids.transpose(0, 1), padding_mask)
        return hidden.transpose(0, 1)


def _new_research_module(config: LtgbertConfig) -> LtgBert:
    return LtgBert(
        vocab_size=config.vocab_size,
        hidden_size=config.hidden_size,
        num_layers=config.num_hidden_layers,
        num_heads=config.num_attention_heads,
        intermediate_size=config.intermediate_size,
        position_bucket_size=config.position_bucket_size,
        max_position_embeddings=config.max_position_embeddings,
        dropout=config.hidden_dropout_prob,
        layer_norm_eps=config.layer_norm_eps,
    )


class LtgbertModel(LtgbertPreTrainedModel):
    def __init__(self, config: LtgbertConfig) -> None:
        super().__init__(config)
        self.model = _new_research_module(config)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> BaseModelOutput | tuple[torch.Tensor, ...]:
        output = BaseModelOutput(last_hidden_state=self._encode(input_ids, attention_mask))
        return output if return_dict is not False else output.to_tuple()


class LtgbertForMaskedLM(LtgbertPreTrainedModel):
    def __init__(self, config: LtgbertConfig) -> None:
        super().__init__(config)
        self.model = _new_research_module(config)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> MaskedLMOutput | tuple[torch.Tensor, ...]:
        hidden = self._encode(input_ids, attention_mask)
        logits = self.model.classifier(hidden)
        loss = None
        if labels is not None:  # -100 marks positions that were not masked
            loss = nn.functional.cross_entropy(
                logits.view(-1, logits.size(-1)), labels.view(-1), ignore_index=-100
            )
        output = MaskedLMOutput(loss=loss, logits=logits)
        return output if return_dict is not False else output.to_tuple()


class ClassificationHead(nn.Module):
    def __init__(self, config: LtgbertConfig) -> None:
        super().__init__()
        dropout = config.classifier_dropout
        if dropout is None:
            dropout = config.hidden_dropout_prob
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(dropout)
        self.out_proj = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        x = self.norm(nn.functional.gelu(self.dense(self.dropout(hidden))))
        return self.out_proj(self.dropout(x))


class LtgbertForSequenceClassification(LtgbertPreTrainedModel):
    def __init__(self, config: LtgbertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = _new_research_module(config)
        self.head = ClassificationHead(config)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> SequenceClassifierOutput | tuple[torch.Tensor, ...]:
        hidden = self._encode(input_ids, attention_mask)
        logits = self.head(hidden[:, 0])  # the first ([CLS]) position
        loss = None
        if labels is not None:
            loss = self._loss(logits, labels)
        output = SequenceClassifierOutput(loss=loss, logits=logits)
        return output if return_dict is not False else output.to_tuple()

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if self.config.problem_type is None:
            if self.num_labels == 1:
                self.config.problem_type = "regression"
            elif labels.dtype in (torch.long, torch.int):
                self.config.problem_type = "single_label_classification"
            else:
                self.config.problem_type = "multi_label_classification"
        if self.config.problem_type == "regression":
            return nn.functional.mse_loss(logits.squeeze(-1), labels.squeeze(-1).to(logits.dtype))
        if self.config.problem_type == "single_label_classification":
            return nn.functional.cross_entropy(logits.view(-1, self.num_labels), labels.view(-1))
        return nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))


class LtgbertForTokenClassification(LtgbertPreTrainedModel):
    def __init__(self, config: LtgbertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.model = _new_research_module(config)
        dropout = config.classifier_dropout
        self.dropout = nn.Dropout(config.hidden_dropout_prob if dropout is None else dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        return_dict: bool | None = None,
        **kwargs: Any,
    ) -> TokenClassifierOutput | tuple[torch.Tensor, ...]:
        hidden = self._encode(input_ids, attention_mask)
        logits = self.classifier(self.dropout(hidden))
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(
                logits.view(-1, self.num_labels), labels.view(-1), ignore_index=-100
            )
        output = TokenClassifierOutput(loss=loss, logits=logits)
        return output if return_dict is not False else output.to_tuple()
