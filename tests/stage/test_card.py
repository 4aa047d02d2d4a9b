from __future__ import annotations

import ast

import pytest

from hf_custom.staging.card import parse_front_matter, pipeline_tag_for, plan_card, usage_snippet

AUTO_MAP = {
    "AutoConfig": "configuration_x.XConfig",
    "AutoModel": "modeling_x.XModel",
    "AutoModelForMaskedLM": "modeling_x.XForMaskedLM",
}


def test_new_card() -> None:
    plan = plan_card(
        None,
        auto_map=AUTO_MAP,
        name="x-tiny",
        repo_id="me/x-tiny",
        requirements=("einops",),
        tokenizer=True,
        architecture="XForMaskedLM",
    )
    assert plan.created and plan.text is not None
    meta = parse_front_matter(plan.text)
    assert meta["library_name"] == "transformers"
    assert "custom_code" in meta["tags"]
    assert meta["pipeline_tag"] == "fill-mask"
    assert 'AutoModelForMaskedLM.from_pretrained("me/x-tiny", trust_remote_code=True)' in plan.text
    assert "`einops`" in plan.text
    # the usage snippet is valid Python
    code = plan.text.split("```python\n")[1].split("```")[0]
    ast.parse(code)


def test_existing_card_kept_and_merged() -> None:
    existing = "---\nlicense: mit\ntags:\n- biology\n---\n\n# My model\n\nHand-written text.\n"
    plan = plan_card(existing, auto_map=AUTO_MAP, name="x")
    assert plan.text is not None and not plan.created
    assert plan.text.endswith("# My model\n\nHand-written text.\n")
    meta = parse_front_matter(plan.text)
    assert meta["license"] == "mit"
    assert meta["tags"] == ["biology", "custom_code"]
    assert meta["library_name"] == "transformers"
    assert {c.key for c in plan.changes} == {"library_name", "tags", "pipeline_tag"}


def test_existing_card_without_metadata() -> None:
    plan = plan_card("# Just text\n", auto_map={}, name="x")
    assert plan.text is not None
    meta = parse_front_matter(plan.text)
    assert meta == {"library_name": "transformers", "tags": ["custom_code"]}
    assert "# Just text" in plan.text


def test_complete_card_unchanged() -> None:
    existing = (
        "---\nlibrary_name: transformers\ntags:\n- custom_code\npipeline_tag: fill-mask\n---\n# M\n"
    )
    plan = plan_card(existing, auto_map=AUTO_MAP, name="x")
    assert plan.changes == ()


def test_broken_metadata_is_reported() -> None:
    plan = plan_card("---\ntags: [custom_code\n---\n# M\n", auto_map=AUTO_MAP, name="x")
    assert plan.text is None
    assert [f.id for f in plan.findings] == ["HFC605"]


@pytest.mark.parametrize(
    ("autos", "tag"),
    [
        (["AutoModel", "AutoModelForCausalLM"], "text-generation"),
        (["AutoModel"], "feature-extraction"),
        (["AutoModelForSequenceClassification", "AutoModelForMaskedLM"], "fill-mask"),
        (["AutoConfig"], None),
    ],
)
def test_pipeline_tag(autos: list[str], tag: str | None) -> None:
    assert pipeline_tag_for(autos) == tag


def test_usage_snippet_without_model_classes() -> None:
    text = usage_snippet("me/x", {"AutoConfig": "c.C"}, tokenizer=False)
    ast.parse(text)
    assert "AutoConfig.from_pretrained" in text


def test_pipeline_tag_follows_the_architectures_class():
    auto_map = {
        "AutoConfig": "configuration_x.XConfig",
        "AutoModel": "modeling_x.XModel",
        "AutoModelForCausalLM": "modeling_x.XLMHeadModel",
        "AutoModelForMaskedLM": "modeling_x.XForMaskedLM",
    }
    assert pipeline_tag_for(auto_map, architecture="XForMaskedLM") == "fill-mask"
    assert pipeline_tag_for(auto_map, architecture="XLMHeadModel") == "text-generation"
    assert pipeline_tag_for(auto_map) == "text-generation"  # no architectures: most specific
    plan = plan_card(None, auto_map=auto_map, name="x", architecture="XForMaskedLM")
    assert "pipeline_tag: fill-mask" in plan.text
