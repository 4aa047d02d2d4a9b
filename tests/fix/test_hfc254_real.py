"""HFC254 against what transformers really does: a remote causal LM that defines its own
prepare_inputs_for_generation() generate()s through AutoModelForCausalLM without inheriting
GenerationMixin (info only); one that defines neither has no generate() (error)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hf_custom.diagnosis import doctor
from hf_custom.findings import Severity
from tests.corpus.v4.packages import TINYRNN

NO_MIXIN = [
    ("(TinyRnnPreTrainedModel, GenerationMixin)", "(TinyRnnPreTrainedModel)"),
    (
        "from transformers import GenerationMixin, PreTrainedModel",
        "from transformers import PreTrainedModel",
    ),
]
PREPARE = (
    "    def get_input_embeddings(self):\n",
    "    def prepare_inputs_for_generation(self, input_ids, **kwargs):\n"
    '        return {"input_ids": input_ids}\n\n'
    "    def get_input_embeddings(self):\n",
)


def _package(*, own_prepare: bool):  # type: ignore[no-untyped-def]
    path = "modeling_tinyrnn.py"
    text = TINYRNN.clean[path]
    for old, new in NO_MIXIN + ([PREPARE] if own_prepare else []):
        assert old in text
        text = text.replace(old, new)
    return dataclasses.replace(TINYRNN, clean={**TINYRNN.clean, path: text})


@pytest.mark.slow
@pytest.mark.parametrize("own_prepare", [True, False], ids=["own-prepare", "neither"])
def test_hfc254_severity_matches_a_real_load(own_prepare: bool, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from tests.corpus.v4.build import write_package
    from tests.corpus.v4.loading import load_folder

    folder = write_package(_package(own_prepare=own_prepare), tmp_path / "pkg", variant="clean")
    loaded = load_folder(folder)["AutoModelForCausalLM"]
    found = [f for f in doctor(folder, select=["HFC254"]).findings if f.id == "HFC254"]
    assert len(found) == 1
    if own_prepare:
        assert loaded["ok"], loaded  # generate() worked: transformers added the mixin
        assert found[0].severity == Severity.INFO
    else:
        assert not loaded["ok"] and "generate" in str(loaded["error"]), loaded
        assert found[0].severity == Severity.ERROR
