"""HFC253 for weights tied by hand (BERT-style heads): the listed ``_tied_weights_keys`` become
the v5 dict from the assignments ``self.X.weight = self.Y.weight`` / ``self.decoder.bias =
self.bias`` in ``__init__`` / ``tie_weights()`` of the model and the classes it builds."""

from __future__ import annotations

from hf_custom.fixing import plan_fixes

CONFIGURATION = """\
from transformers import PretrainedConfig


class TieConfig(PretrainedConfig):
    model_type = "hfc-tie"

    def __init__(self, vocab_size=8, hidden_size=8, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        super().__init__(**kwargs)
"""
MODELING = """\
import torch
from torch import nn
from transformers import PreTrainedModel

from .configuration_tie import TieConfig


class Embeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embeddings = nn.Embedding(16, config.hidden_size)


class LMHead(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.decoder.bias = self.bias  # BIAS_TIE


class Heads(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.predictions = LMHead(config)


class TiePreTrainedModel(PreTrainedModel):
    config_class = TieConfig
    base_model_prefix = "bert"


class TieModel(TiePreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embeddings = Embeddings(config)
        self.post_init()


class TieForPreTraining(TiePreTrainedModel):
    _tied_weights_keys = ["predictions.decoder.bias", "cls.predictions.decoder.weight"]

    def __init__(self, config):
        super().__init__(config)
        self.bert = TieModel(config)
        self.cls = Heads(config)
        self.post_init()
        self.tie_weights()

    def tie_weights(self):
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight
"""
CONFIG = {
    "model_type": "hfc-tie",
    "auto_map": {
        "AutoConfig": "configuration_tie.TieConfig",
        "AutoModelForPreTraining": "modeling_tie.TieForPreTraining",
    },
}


def _plan(modeling: str):  # type: ignore[no-untyped-def]
    files = {"modeling_tie.py": modeling.encode(), "configuration_tie.py": CONFIGURATION.encode()}
    return files, plan_fixes(files, config=CONFIG, rules={"HFC253"})


def test_hand_ties_become_the_v5_dict() -> None:
    files, plan = _plan(MODELING)
    assert not plan.unrepaired, plan.unrepaired
    out = {c.path: c.after for c in plan.changes}["modeling_tie.py"].decode()
    want = (
        '_tied_weights_keys = {"cls.predictions.decoder.bias": "cls.predictions.bias", '
        '"cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight"}'
    )
    assert want in out
    fixed = {**files, "modeling_tie.py": out.encode()}
    assert not plan_fixes(fixed, config=CONFIG).changes  # idempotent


def test_a_listed_bias_no_code_ties_is_dropped_and_said() -> None:
    # nomic-bert: the head has no bias tie; v4's list only silenced the key's warning
    _, plan = _plan(MODELING.replace("        self.decoder.bias = self.bias  # BIAS_TIE\n", ""))
    assert not plan.unrepaired
    out = {c.path: c.after for c in plan.changes}["modeling_tie.py"].decode()
    assert (
        '_tied_weights_keys = {"cls.predictions.decoder.weight": '
        '"bert.embeddings.word_embeddings.weight"}' in out
    )
    assert "predictions.decoder.bias: no code ties it" in plan.repairs[0].change


def test_a_key_with_no_tie_and_two_embeddings_is_left_named() -> None:
    text = MODELING.replace(
        "        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight\n",
        "        super().tie_weights()\n",
    ).replace("self.position_embeddings", "self.word_embeddings_2")
    _, plan = _plan(text)
    assert not plan.changes
    assert [u.rule for u in plan.unrepaired] == ["HFC253"]
    assert "cls.predictions.decoder.weight" in plan.unrepaired[0].cause
