"""Packages in the styles of popular public custom-code models (our own tiny ones, see
style_packages.py): conventions the verifier used to misjudge."""

from __future__ import annotations

from pathlib import Path

import pytest
from style_packages import make_style_package

from hf_custom.verification import VerifyReport, verify

pytestmark = pytest.mark.slow


def test_config_changed_by_post_init_is_not_a_refusal(tmp_path: Path) -> None:
    # post_init deletes the truthy gradient_checkpointing from the config object the model was
    # built from; the round trip rebuilt the model from that same object (a false HFC504
    # "v5 no longer sets it" and a refusal). A user builds a second model from a fresh config.
    report = verify(make_style_package(tmp_path / "p", "config_tuple"), timeout=600)
    assert report.ok, [(f.id, f.message) for f in report.findings]
    rows = {r.auto_class: r for r in report.rows}
    assert rows["AutoModelForCausalLM"].forward == "passed"
    assert rows["AutoModelForCausalLM"].generate == "passed"


def test_buffer_left_uninitialised_is_an_error(tmp_path: Path, sound_report: VerifyReport) -> None:
    # every output agrees (the buffer is not used by this forward): only comparing the
    # buffers themselves shows that from_pretrained left it as uninitialised memory
    report = verify(make_style_package(tmp_path / "p", "unused_buffer"), timeout=600)
    stale = [f for f in report.findings if f.id == "HFC536"]
    assert {f.message.split(":")[0] for f in stale} == {"StyleModel", "StyleForCausalLM"}
    assert all("masked_bias" in f.message and f.path == "modeling_style.py" for f in stale)
    assert all(f.severity.value == "error" and f.fix and "_init_weights" in f.fix for f in stale)
    assert "HFC514" not in {f.id for f in report.findings}  # the outputs do agree
    assert not report.ok
    assert "HFC536" not in {f.id for f in sound_report.findings}


def test_mask_that_drops_the_causal_mixing_is_named_not_the_cache(
    tmp_path: Path, sound_report: VerifyReport
) -> None:
    """Qwen v1's forward loses its causal mask when given an attention_mask (a masked_fill whose
    result is dropped): generate is right (it reads the last position only), a full forward with
    an all-ones mask is not. That is HFC538 naming the mask, not HFC517 blaming the cache."""
    from verify_factory import make_model_dir

    folder = make_model_dir(tmp_path / "m", defects={"mask_drops_causal"}, tokenizer=False)
    report = verify(folder, timeout=600)
    ids = {f.id for f in report.findings}
    assert "HFC517" not in ids, [f.message for f in report.findings if f.id == "HFC517"]
    (f,) = [f for f in report.findings if f.id == "HFC538"]
    assert f.message.startswith("TinyForCausalLM: a forward with an all-ones attention_mask")
    assert "the first position that differs is 0" in f.message and f.path == "modeling_tiny.py"
    rows = {r.auto_class: r for r in report.rows}
    assert rows["AutoModelForCausalLM"].generate == "failed" and not report.ok
    assert "HFC538" not in {f.id for f in sound_report.findings}
