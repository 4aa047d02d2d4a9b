from __future__ import annotations

from typing import Any

import pytest

from hf_custom.codeinfo import CodePackage, analyze_package
from hf_custom.staging.config import (
    choose_architecture,
    fit_score,
    normalize_config,
    rename_model_type_in_source,
)

CONFIG_SRC = """
from transformers import PretrainedConfig

class LtgBertConfig(PretrainedConfig):
    model_type = "ltgbert"

    def __init__(self, hidden_size=32, **kwargs):
        self.hidden_size = hidden_size
        super().__init__(**kwargs)
"""

MODELING_SRC = """
from transformers import PreTrainedModel
from .configuration_ltgbert import LtgBertConfig

class LtgBertPreTrainedModel(PreTrainedModel):
    config_class = LtgBertConfig
    base_model_prefix = "model"

class LtgBertModel(LtgBertPreTrainedModel):
    def forward(self, input_ids):
        return input_ids

class LtgBertForMaskedLM(LtgBertPreTrainedModel):
    def forward(self, input_ids):
        return input_ids

class LtgBertForSequenceClassification(LtgBertPreTrainedModel):
    def forward(self, input_ids):
        return input_ids
"""


def package(**extra: str) -> CodePackage:
    files = {"configuration_ltgbert.py": CONFIG_SRC, "modeling_ltgbert.py": MODELING_SRC}
    files.update(extra)
    return analyze_package(files)


FULL_AUTO_MAP = {
    "AutoConfig": "configuration_ltgbert.LtgBertConfig",
    "AutoModel": "modeling_ltgbert.LtgBertModel",
    "AutoModelForMaskedLM": "modeling_ltgbert.LtgBertForMaskedLM",
    "AutoModelForSequenceClassification": "modeling_ltgbert.LtgBertForSequenceClassification",
}

# (id, input config, options, expected subset of the output config, expected finding ids)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], set[str]]] = [
    (
        "fills-model-type-and-auto-map",
        {"hidden_size": 32},
        {},
        {"model_type": "ltgbert", "auto_map": FULL_AUTO_MAP},
        set(),
    ),
    (
        "mismatch-is-error",
        {"model_type": "ltg-bert", "auto_map": FULL_AUTO_MAP},
        {},
        {"model_type": "ltg-bert"},
        {"HFC102"},
    ),
    ("builtin-is-refused", {"model_type": "bert"}, {}, {}, {"HFC102", "HFC103"}),
    (
        "rename-with-model-type",
        {"model_type": "bert"},
        {"model_type": "ltgbert2"},
        {"model_type": "ltgbert2"},
        set(),
    ),
    (
        "rename-to-builtin-refused",
        {},
        {"model_type": "llama"},
        {"model_type": "llama"},
        {"HFC103"},
    ),
    (
        "partial-auto-map-completed",
        {
            "model_type": "ltgbert",
            "auto_map": {"AutoModelForMaskedLM": "modeling_ltgbert.LtgBertForMaskedLM"},
        },
        {},
        {"auto_map": FULL_AUTO_MAP},
        set(),
    ),
    (
        "missing-module-in-auto-map",
        {"model_type": "ltgbert", "auto_map": {"AutoModel": "modeling_x.LtgBertModel"}},
        {},
        {"auto_map": FULL_AUTO_MAP},
        {"HFC105"},
    ),
    (
        "missing-class-in-auto-map",
        {"model_type": "ltgbert", "auto_map": {"AutoModel": "modeling_ltgbert.Nope"}},
        {},
        {},
        {"HFC105"},
    ),
    (
        "torch-dtype-renamed",
        {"model_type": "ltgbert", "torch_dtype": "float32"},
        {},
        {"dtype": "float32"},
        set(),
    ),
    (
        "transformers-version-written",
        {"model_type": "ltgbert"},
        {"transformers_version": "5.24.0"},
        {"transformers_version": "5.24.0"},
        set(),
    ),
    (
        "legacy-rope-reported",
        {"model_type": "ltgbert", "rope_scaling": {"type": "linear", "factor": 2.0}},
        {},
        {"rope_scaling": {"type": "linear", "factor": 2.0}},
        {"HFC110"},
    ),
    (
        "generation-params-reported",
        {"model_type": "ltgbert", "max_length": 128, "hidden_size": 32},
        {},
        {"max_length": 128},
        {"HFC111"},
    ),
    (
        "architecture-option",
        {"model_type": "ltgbert"},
        {"architecture": "LtgBertForMaskedLM"},
        {"architectures": ["LtgBertForMaskedLM"]},
        set(),
    ),
    (
        "architecture-option-unknown",
        {"model_type": "ltgbert"},
        {"architecture": "LtgBertForFlying"},
        {},
        {"HFC114"},
    ),
    (
        "auto-class-option-unknown-auto",
        {"model_type": "ltgbert"},
        {"auto_classes": {"LtgBertModel": "AutoModelForMLM"}},
        {},
        {"HFC114"},
    ),
    (
        "stale-architectures",
        {"model_type": "ltgbert", "architectures": ["BertForMaskedLM"]},
        {},
        {"architectures": ["BertForMaskedLM"]},
        {"HFC107"},
    ),
]


@pytest.mark.parametrize(
    ("config", "options", "expected", "ids"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_normalize_config(
    config: dict[str, Any], options: dict[str, Any], expected: dict[str, Any], ids: set[str]
) -> None:
    before = repr(config)
    result = normalize_config(config, package(), **options)
    assert repr(config) == before  # pure: the input is not modified
    for key, value in expected.items():
        assert result.config.get(key) == value, key
    assert {f.id for f in result.findings} == ids
    # every difference is recorded as a change
    changed_keys = {c.key.split(".")[0] for c in result.changes}
    for key in set(config) | set(result.config):
        if config.get(key) != result.config.get(key):
            assert key in changed_keys, key


def test_torch_dtype_not_left_behind() -> None:
    result = normalize_config({"model_type": "ltgbert", "torch_dtype": "bfloat16"}, package())
    assert "torch_dtype" not in result.config
    assert any(c.key == "dtype" and c.new == "bfloat16" for c in result.changes)


def test_rename_model_type_records_source_rename() -> None:
    result = normalize_config({"model_type": "bert"}, package(), model_type="ltgbert2")
    assert result.rename_model_type == ("ltgbert", "ltgbert2")
    new = rename_model_type_in_source(CONFIG_SRC, "LtgBertConfig", "ltgbert2")
    assert new is not None and 'model_type = "ltgbert2"' in new.replace("'", '"')
    assert rename_model_type_in_source(CONFIG_SRC, "Missing", "x") is None


def test_ambiguous_head_needs_auto_class() -> None:
    extra = (
        "from transformers import PreTrainedModel\n"
        "from .modeling_ltgbert import LtgBertPreTrainedModel\n"
        "class LtgBertForConditionalGeneration(LtgBertPreTrainedModel):\n    pass\n"
    )
    code = package(**{"modeling_gen.py": extra})
    result = normalize_config({"model_type": "ltgbert"}, code)
    assert "HFC106" in {f.id for f in result.findings}
    settled = normalize_config(
        {"model_type": "ltgbert"},
        code,
        auto_classes={"LtgBertForConditionalGeneration": "AutoModelForSeq2SeqLM"},
    )
    assert "HFC106" not in {f.id for f in settled.findings}
    assert (
        settled.config["auto_map"]["AutoModelForSeq2SeqLM"]
        == "modeling_gen.LtgBertForConditionalGeneration"
    )


def test_two_classes_for_one_auto_class() -> None:
    modeling = (
        "from transformers import PreTrainedModel\n"
        "from .configuration_ltgbert import LtgBertConfig\n"
        "class Base(PreTrainedModel):\n    config_class = LtgBertConfig\n"
        "class EncoderModel(Base):\n    pass\n"
        "class DecoderModel(Base):\n    pass\n"
    )
    code = package(**{"modeling_ltgbert.py": modeling})
    result = normalize_config({"model_type": "ltgbert"}, code)
    assert "HFC106" in {f.id for f in result.findings}
    assert "AutoModel" not in result.config["auto_map"]
    settled = normalize_config(
        {"model_type": "ltgbert"}, code, auto_classes={"EncoderModel": "AutoModel"}
    )
    assert settled.ok and settled.config["auto_map"]["AutoModel"] == "modeling_ltgbert.EncoderModel"


def test_no_config_class() -> None:
    code = analyze_package({"modeling_x.py": "x = 1\n"})
    result = normalize_config({"model_type": "x"}, code)
    assert {f.id for f in result.findings} == {"HFC112"}


def test_v5_base_default_read_reported() -> None:
    modeling = MODELING_SRC + (
        "\nclass Block:\n    def __init__(self, config):\n        self.c = config.use_cache\n"
    )
    code = package(**{"modeling_ltgbert.py": modeling})
    result = normalize_config({"model_type": "ltgbert"}, code)
    assert [(f.id, f.path) for f in result.findings] == [("HFC115", "modeling_ltgbert.py")]
    fine = normalize_config({"model_type": "ltgbert", "use_cache": True}, code)
    assert "HFC115" not in {f.id for f in fine.findings}


PARAMS = {
    "LtgBertModel": {"embed.weight", "encoder.0.w"},
    "LtgBertForMaskedLM": {"model.embed.weight", "model.encoder.0.w", "head.w"},
    "LtgBertForSequenceClassification": {
        "model.embed.weight",
        "model.encoder.0.w",
        "classifier.w",
    },
}


@pytest.mark.parametrize(
    ("weights", "expected"),
    [
        ({"model.embed.weight", "model.encoder.0.w", "head.w"}, "LtgBertForMaskedLM"),
        (
            {"module.model.embed.weight", "module.model.encoder.0.w", "module.head.w"},
            "LtgBertForMaskedLM",
        ),
        ({"embed.weight", "encoder.0.w"}, "LtgBertModel"),
        ({"embed.weight", "encoder.0.w", "classifier.w"}, "LtgBertForSequenceClassification"),
        ({"something.else"}, None),
        ({"head.w", "unrelated.a"}, None),  # fills too little of any class
    ],
)
def test_choose_architecture(weights: set[str], expected: str | None) -> None:
    assert choose_architecture(weights, PARAMS)[0] == expected


@pytest.mark.parametrize(
    ("weights", "params", "expected"),
    [
        # the base model holds the whole network, head included: the head class wins
        ({"a", "head"}, {"XModel": {"a", "head"}, "XForMaskedLM": {"a", "head"}}, "XForMaskedLM"),
        # two task heads fit equally: undecided
        ({"a"}, {"XForTokenClassification": {"a"}, "XForSequenceClassification": {"a"}}, None),
        # a language-model head beats another task head on a tie
        (
            {"a"},
            {"XForMaskedLM": {"a"}, "XForSequenceClassification": {"a"}, "XModel": {"a"}},
            "XForMaskedLM",
        ),
    ],
)
def test_choose_architecture_ties(
    weights: set[str], params: dict[str, set[str]], expected: str | None
) -> None:
    assert choose_architecture(weights, params)[0] == expected


def test_fit_score() -> None:
    assert fit_score({"a.b"}, {"x.a.b"}) == (1.0, 1.0)
    assert fit_score(set(), {"x"}) == (0.0, 0.0)


def test_architecture_from_weights() -> None:
    result = normalize_config(
        {"model_type": "ltgbert"},
        package(),
        weight_names=["embed.weight", "encoder.0.w", "head.w"],
        class_params=PARAMS,
    )
    assert result.config["architectures"] == ["LtgBertForMaskedLM"]


def test_conventional_name_wins_a_shared_auto_class() -> None:
    extra = (
        "from .modeling_ltgbert import LtgBertPreTrainedModel\n"
        "class LtgBertEncoderModel(LtgBertPreTrainedModel):\n    pass\n"
        "class OtherModel(LtgBertPreTrainedModel):\n    pass\n"
    )
    # LtgBertModel is named after LtgBertConfig: it takes AutoModel, nothing is ambiguous
    result = normalize_config({"model_type": "ltgbert"}, package(**{"modeling_enc.py": extra}))
    assert result.config["auto_map"]["AutoModel"] == "modeling_ltgbert.LtgBertModel"
    assert "HFC106" not in {f.id for f in result.findings}


def test_sub_models_of_another_config_not_registered() -> None:
    vision = (
        "from transformers import PretrainedConfig, PreTrainedModel\n"
        "class VisionConfig(PretrainedConfig):\n    model_type = 'ltgbert_vision'\n"
        "class VisionModel(PreTrainedModel):\n    config_class = VisionConfig\n"
    )
    code = package(**{"modeling_vision.py": vision})
    result = normalize_config(
        {
            "model_type": "ltgbert",
            "auto_map": {"AutoConfig": "configuration_ltgbert.LtgBertConfig"},
        },
        code,
    )
    assert "modeling_vision.VisionModel" not in result.config["auto_map"].values()
    assert result.config["auto_map"]["AutoModel"] == "modeling_ltgbert.LtgBertModel"
    assert result.ok


def _heads_code(*heads: str):
    from hf_custom.codeinfo import analyze_package

    modeling = (
        "from transformers import PreTrainedModel\n"
        "from .configuration_h import HConfig\n\n"
        "class HPreTrainedModel(PreTrainedModel):\n    config_class = HConfig\n"
        + "".join(f"\n\nclass {h}(HPreTrainedModel):\n    pass\n" for h in heads)
    )
    configuration = (
        "from transformers import PretrainedConfig\n\n"
        "class HConfig(PretrainedConfig):\n    model_type = 'h-test'\n"
    )
    return analyze_package({"configuration_h.py": configuration, "modeling_h.py": modeling})


def test_auto_map_completion_keeps_only_heads_the_config_supports():
    from hf_custom.staging.config import normalize_config

    code = _heads_code("HModel", "HLMHeadModel", "HForQuestionAnswering", "HForMaskedLM")
    cfg = {"model_type": "h-test", "is_decoder": False, "num_labels": 3}
    result = normalize_config(cfg, code)
    amap = result.config["auto_map"]
    assert amap["AutoModelForMaskedLM"] == "modeling_h.HForMaskedLM"
    assert "AutoModelForCausalLM" not in amap
    assert "AutoModelForQuestionAnswering" not in amap
    dropped = {f.message.split()[0] for f in result.findings if f.id == "HFC116"}
    assert dropped == {"HLMHeadModel", "HForQuestionAnswering"}
    assert all(f.severity.name == "WARNING" for f in result.findings if f.id == "HFC116")
    # the same heads with a config that supports them are registered
    ok = normalize_config({"model_type": "h-test", "num_labels": 2}, code).config["auto_map"]
    assert ok["AutoModelForCausalLM"] == "modeling_h.HLMHeadModel"
    assert ok["AutoModelForQuestionAnswering"] == "modeling_h.HForQuestionAnswering"


def test_auto_map_author_entries_kept_and_class_none_drops_one():
    from hf_custom.staging.config import normalize_config

    code = _heads_code("HModel", "HForQuestionAnswering", "HForMaskedLM")
    authored = {
        "model_type": "h-test",
        "num_labels": 3,
        "auto_map": {"AutoModelForQuestionAnswering": "modeling_h.HForQuestionAnswering"},
    }
    result = normalize_config(authored, code, auto_classes={"HForMaskedLM": "none"})
    amap = result.config["auto_map"]
    assert amap["AutoModelForQuestionAnswering"] == "modeling_h.HForQuestionAnswering"
    assert "AutoModelForMaskedLM" not in amap
    assert not [f for f in result.findings if f.id in {"HFC106", "HFC116"}]


def test_unusable_classes_not_registered_by_convention():
    from hf_custom.staging.config import normalize_config

    code = _heads_code("HModel", "HForTokenClassification")
    result = normalize_config(
        {"model_type": "h-test"}, code, unusable={"HForTokenClassification": "ValueError: x"}
    )
    assert "AutoModelForTokenClassification" not in result.config["auto_map"]
    assert [f.id for f in result.findings if "HForTokenClassification" in f.message] == ["HFC116"]


@pytest.mark.parametrize(
    ("extra", "auto"),
    [({}, "AutoModelForSeq2SeqLM"), ({"num_mel_bins": 80}, "AutoModelForSpeechSeq2Seq")],
)
def test_conditional_generation_of_an_encoder_decoder_maps_without_asking(extra, auto):
    from hf_custom.staging.config import normalize_config

    code = _heads_code("HForConditionalGeneration")
    cfg = {"model_type": "h-test", "is_encoder_decoder": True, **extra}
    result = normalize_config(cfg, code)
    assert result.config["auto_map"][auto] == "modeling_h.HForConditionalGeneration"
    assert not [f for f in result.findings if f.id == "HFC106"]


def test_saved_tie_alias_is_evidence_for_the_class_that_has_it():
    weights = {"emb.weight", "lm_head.weight"}  # lm_head tied to emb, saved beside it
    params = {"XForCausalLM": {"emb.weight"}, "XForMaskedLM": {"emb.weight"}}
    aliases = {"XForCausalLM": {"lm_head.weight"}, "XForMaskedLM": {"cls.weight"}}
    assert choose_architecture(weights, params)[0] is None  # by parameters alone: a tie
    assert choose_architecture(weights, params, aliases)[0] == "XForCausalLM"


def test_author_architectures_confirmed_by_the_weights_kept_without_hfc113():
    params = {
        "LtgBertForSequenceClassification": {"model.embed.weight", "model.encoder.0.w"},
        "LtgBertForTokenClassification": {"model.embed.weight", "model.encoder.0.w"},
    }
    code = package(
        **{
            "modeling_extra.py": "from .modeling_ltgbert import LtgBertPreTrainedModel\n\n"
            "class LtgBertForTokenClassification(LtgBertPreTrainedModel):\n    pass\n"
        }
    )
    weights = ["model.embed.weight", "model.encoder.0.w"]
    kept = normalize_config(
        {"model_type": "ltgbert", "architectures": ["LtgBertForTokenClassification"]},
        code,
        weight_names=weights,
        class_params=params,
    )
    assert kept.config["architectures"] == ["LtgBertForTokenClassification"]
    assert not [f for f in kept.findings if f.id == "HFC113"]
    undecided = normalize_config(
        {"model_type": "ltgbert"}, code, weight_names=weights, class_params=params
    )
    assert [f.id for f in undecided.findings if f.id == "HFC113"] == ["HFC113"]
