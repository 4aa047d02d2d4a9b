from __future__ import annotations

from collections import Counter

import pytest

from hf_custom.staging import automap
from hf_custom.staging.automap import (
    SUFFIX_AUTO_CLASSES,
    auto_class_candidates,
    auto_class_for,
    auto_tables_from_source,
    installed_auto_model_classes,
    installed_model_types,
    model_types_from_source,
    task_suffix,
)
from hf_custom.staging.builtin_model_types import SNAPSHOT_MODEL_TYPES


@pytest.mark.parametrize(
    ("name", "auto"),
    [
        ("LtgBertModel", "AutoModel"),
        ("LtgBertForMaskedLM", "AutoModelForMaskedLM"),
        ("LtgBertForSequenceClassification", "AutoModelForSequenceClassification"),
        ("LtgBertForTokenClassification", "AutoModelForTokenClassification"),
        ("LtgBertForQuestionAnswering", "AutoModelForQuestionAnswering"),
        ("LtgBertForMultipleChoice", "AutoModelForMultipleChoice"),
        ("TinyForCausalLM", "AutoModelForCausalLM"),
        ("GPT2LMHeadModel", "AutoModelForCausalLM"),
        ("FormerForCausalLM", "AutoModelForCausalLM"),  # "For" inside a word is not the task
        ("MyViTForImageClassification", "AutoModelForImageClassification"),
        ("XForPreTraining", "AutoModelForPreTraining"),
        ("XForConditionalGeneration", None),  # ambiguous
        ("Encoder", None),
        ("XForFlying", None),
    ],
)
def test_auto_class_for(name: str, auto: str | None) -> None:
    assert auto_class_for(name) == auto


def test_ambiguous_lists_candidates() -> None:
    cands = auto_class_candidates("T5LikeForConditionalGeneration")
    assert "AutoModelForSeq2SeqLM" in cands and "AutoModelForImageTextToText" in cands


def test_task_suffix() -> None:
    assert task_suffix("AForBForCausalLM") == "ForCausalLM"
    assert task_suffix("Plain") is None


def _observed() -> dict[str, Counter[str]]:
    tables = installed_auto_model_classes()
    assert tables, "transformers is installed in the dev environment"
    observed: dict[str, Counter[str]] = {}
    for auto, classes in tables.items():
        for cls in classes:
            suffix = task_suffix(cls)
            if suffix:
                observed.setdefault(suffix, Counter())[auto] += 1
    return observed


def test_suffix_table_matches_installed_transformers() -> None:
    observed = _observed()
    tables = installed_auto_model_classes()
    assert tables is not None
    for suffix, candidates in SUFFIX_AUTO_CLASSES.items():
        for auto in candidates:
            assert auto in tables, f"{auto} is not an AutoClass of the installed transformers"
        seen = observed.get(suffix)
        assert seen, f"{suffix} is used by no class of the installed transformers"
        for auto in candidates:
            assert auto in seen, f"transformers never registers *{suffix} under {auto}"
        if len(candidates) == 1:
            # the chosen class is the one named after the task or the most frequent one
            (auto,) = candidates
            assert auto == f"AutoModel{suffix}" or seen[auto] == max(seen.values()), (
                suffix,
                seen,
            )
    # every convention transformers uses for two classes or more is in the table
    classes: dict[str, set[str]] = {}
    for names in tables.values():
        for cls in names:
            suffix = task_suffix(cls)
            if suffix:
                classes.setdefault(suffix, set()).add(cls)
    missing = {
        s: dict(observed[s])
        for s, names in classes.items()
        if len(names) >= 2 and s not in SUFFIX_AUTO_CLASSES
    }
    assert not missing


def test_auto_tables_from_source_handles_star_items() -> None:
    source = """
from collections import OrderedDict
A_NAMES = OrderedDict([("x", "XForCausalLM")])
B_NAMES = OrderedDict([*list(A_NAMES.items()), ("y", ("YModel", "YOther"))])
A = _LazyAutoMapping(CONFIG_MAPPING_NAMES, A_NAMES)
B = _LazyAutoMapping(CONFIG_MAPPING_NAMES, B_NAMES)
class AutoA(_BaseAutoModelClass):
    _model_mapping = A
class AutoB(_BaseAutoModelClass):
    _model_mapping = B
"""
    assert auto_tables_from_source(source) == {
        "AutoA": frozenset({"XForCausalLM"}),
        "AutoB": frozenset({"XForCausalLM", "YModel", "YOther"}),
    }


def test_model_types_from_source() -> None:
    src = {
        "a.py": 'CONFIG_MAPPING_NAMES = OrderedDict([("bert", "BertConfig")])',
        "b.py": 'CONFIG_MAPPING_NAMES.update({"mimi_decoder": "X"})\n'
        'CONFIG_MAPPING_NAMES = OrderedDict(**{"gpt-sw3": "G"}, **CONFIG_MAPPING_NAMES)',
    }
    assert model_types_from_source(src) == {"bert", "mimi_decoder", "gpt-sw3"}


def test_snapshot_covers_installed_transformers() -> None:
    installed = installed_model_types()
    assert installed and {"bert", "llama", "gpt2"} <= installed
    assert installed <= SNAPSHOT_MODEL_TYPES, sorted(installed - SNAPSHOT_MODEL_TYPES)


def test_builtin_model_types() -> None:
    assert automap.is_builtin_model_type("bert")
    assert automap.is_builtin_model_type("llama")
    assert not automap.is_builtin_model_type("ltgbert")
