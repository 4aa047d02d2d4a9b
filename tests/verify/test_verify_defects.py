"""Each defect produces its named finding, attributed to the right class, file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from verify_cases import LOAD_RULE_CASES, ZOO_HEADS, ZOO_LOADING
from verify_factory import line_of

from hf_custom.findings import Finding, Severity, get_rule
from hf_custom.verification import AutoClassRow, VerifyReport

pytestmark = pytest.mark.slow


def _one(report: VerifyReport, rule: str, needle: str) -> Finding:
    hits = [f for f in report.findings if f.id == rule and needle in f.message]
    assert hits, (rule, needle, [(f.id, f.message) for f in report.findings])
    return hits[0]


def _row(report: VerifyReport, auto_class: str) -> AutoClassRow:
    return next(r for r in report.rows if r.auto_class == auto_class)


def _source(folder: Path, name: str = "modeling_tiny.py") -> str:
    return (folder / name).read_text()


@pytest.mark.parametrize(
    "rule", sorted(r for r, (d, _) in LOAD_RULE_CASES.items() if d in ZOO_HEADS | ZOO_LOADING)
)
def test_defect_produces_its_finding(
    rule: str, heads_report: VerifyReport, loading_report: VerifyReport, sound_report: VerifyReport
) -> None:
    defect, needle = LOAD_RULE_CASES[rule]
    report = heads_report if defect in ZOO_HEADS else loading_report
    found = _one(report, rule, needle)
    assert found.name == get_rule(rule).name
    assert found.fix  # every finding says what to do
    assert not report.ok
    # the passing case: the sound package has no such finding
    assert rule not in {f.id for f in sound_report.findings}


def test_post_init_missing(heads_report: VerifyReport, heads_dir: Path) -> None:
    f = _one(heads_report, "HFC501", "TinyForMaskedLM")
    assert (f.path, f.line) == (
        "modeling_tiny.py",
        line_of(_source(heads_dir), "class TinyForMaskedLM"),
    )
    assert "post_init()" in f.fix
    row = _row(heads_report, "AutoModelForMaskedLM")
    # a step that cannot run is skipped, never passed
    assert (row.loaded, row.weights_equal, row.forward) == ("failed", "skipped", "skipped")


def test_tied_weights_keys_list(heads_report: VerifyReport, heads_dir: Path) -> None:
    f = _one(heads_report, "HFC502", "TinyForPreTraining")
    assert "list" in f.message and "dict" in f.message
    assert f.line == line_of(_source(heads_dir), "class TinyForPreTraining")


def test_config_attribute_not_set_names_attribute_and_line(
    heads_report: VerifyReport, heads_dir: Path
) -> None:
    f = _one(heads_report, "HFC504", "'use_cache'")
    assert "TinyConfig" in f.message
    assert (f.path, f.line) == (
        "modeling_tiny.py",
        line_of(_source(heads_dir), "if self.config.use_cache"),
    )
    assert "TinyConfig.__init__" in f.fix and "self.use_cache = use_cache" in f.fix
    assert _row(heads_report, "AutoModel").forward == "failed"


def test_forward_exception_points_at_the_line(heads_report: VerifyReport, heads_dir: Path) -> None:
    f = _one(heads_report, "HFC505", "TinyForSequenceClassification")
    assert (f.path, f.line) == (
        "modeling_tiny.py",
        line_of(_source(heads_dir), "self.score(h.transpose(1, 2))"),
    )
    assert "RuntimeError" in f.message and "Traceback" not in f.message


def test_wrong_output_type_and_shape(heads_report: VerifyReport) -> None:
    assert "tuple" in _one(heads_report, "HFC511", "TinyForQuestionAnswering").message
    shape = _one(heads_report, "HFC512", "TinyForTokenClassification")
    assert "[2, 3]" in shape.message and "[2, 8, 3]" in shape.message
    assert _row(heads_report, "AutoModelForTokenClassification").forward == "failed"


def test_causal_lm_without_generation_mixin(heads_report: VerifyReport) -> None:
    f = _one(heads_report, "HFC515", "TinyForCausalLM")
    assert "GenerationMixin" in f.fix and "class TinyForCausalLM(" in f.fix
    assert _row(heads_report, "AutoModelForCausalLM").generate == "failed"


def test_uninitialised_buffer_caught_by_round_trip(heads_report: VerifyReport) -> None:
    ids = {f.id for f in heads_report.findings if "TinyForCausalLM" in f.message}
    assert "HFC514" in ids
    assert _row(heads_report, "AutoModelForCausalLM").forward == "failed"


def test_tokenizer_special_token_mismatch(heads_report: VerifyReport) -> None:
    f = _one(heads_report, "HFC519", "pad_token_id=5")
    assert f.path == "config.json" and f.severity is Severity.ERROR
    assert "id 0" in f.message
    assert _row(heads_report, "AutoTokenizer").forward == "failed"


def test_missing_import_names_package_file_and_line(
    loading_report: VerifyReport, loading_dir: Path
) -> None:
    f = _one(loading_report, "HFC503", "hfc_test_package_that_is_not_installed")
    assert (f.path, f.line) == ("modeling_extra.py", 1)
    assert "try/except" in f.fix
    row = _row(loading_report, "AutoModelForSequenceClassification")
    assert (row.loaded, row.forward) == ("failed", "skipped")


def test_lm_head_left_random_is_caught(loading_report: VerifyReport) -> None:
    f = _one(loading_report, "HFC509", "lm_head.weight")
    assert "tie_word_embeddings" in f.message and "tie_word_embeddings=True" in f.fix
    assert _row(loading_report, "AutoModelForCausalLM").weights_equal == "failed"


def test_silent_reinitialisation_is_caught(loading_report: VerifyReport) -> None:
    # transformers reports nothing missing for model.norm.weight: only the comparison sees it
    _one(loading_report, "HFC508", "model.norm.weight")
    _one(loading_report, "HFC520", "model.norm.bias")
    assert _row(loading_report, "AutoModelForCausalLM").save == "failed"


def test_other_loading_diagnoses(loading_report: VerifyReport) -> None:
    assert _one(loading_report, "HFC531", "modeling_attn_mask_utils").path == "modeling_old.py"
    assert _one(loading_report, "HFC500", "not implemented").path == "modeling_tiny.py"
    mismatch = _one(loading_report, "HFC506", "model.pos.weight")
    assert "[33, 16]" in mismatch.message and "[32, 16]" in mismatch.message
    _one(loading_report, "HFC507", "model.unused_adapter.weight")
    _one(loading_report, "HFC523", "AutoModelForVision2Seq")
    _one(loading_report, "HFC517", "TinyForCausalLM")
    assert _one(loading_report, "HFC518", "decode").severity is Severity.WARNING
    _one(loading_report, "HFC521", "300 rows")
    vision = _row(loading_report, "AutoModelForImageClassification")
    assert (vision.loaded, vision.forward) == ("passed", "skipped")
