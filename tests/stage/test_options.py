"""The options of a run: built once, frozen, unknown names refused."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hf_custom.staging.options import PublishOptions, StageOptions, publish_options, stage_options
from hf_custom.staging.pipeline import STAGE_STEPS


def test_stage_options_are_frozen_and_normalised() -> None:
    opts = StageOptions(code_root="pkg", renames=[("a", "b")], auto_classes={"X": "AutoModel"})  # type: ignore[arg-type]
    assert opts.code_root == Path("pkg")
    assert opts.renames == (("a", "b"),)
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.dtype = "float16"  # type: ignore[misc]
    with pytest.raises(TypeError):
        opts.auto_classes["Y"] = "AutoModel"  # type: ignore[index]


def test_publish_options_route_staging_fields_to_the_stage() -> None:
    opts = publish_options(repo_id="me/m", dry_run=True, model_type="x", token="secret")
    assert opts.stage.repo_id == "me/m" and opts.repo_id == "me/m"
    assert opts.stage.model_type == "x" and opts.dry_run
    assert "secret" not in repr(opts)
    assert publish_options(PublishOptions(private=True), dtype="float16").private


def test_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="no_such"):
        stage_options(no_such=1)
    with pytest.raises(TypeError, match="no_such"):
        publish_options(no_such=1)


def test_keys_is_an_explicit_step_after_planning() -> None:
    names = [name for name, _ in STAGE_STEPS]
    assert names[0] == "read" and names[-1] == "checks"
    assert names.index("gate") < names.index("keys") < names.index("weights")
