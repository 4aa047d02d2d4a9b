"""auto_map values in the Hub's cross-repository form (``org/repo--module.Class``), as
nomic-bert-style packages ship them, and config/model classes built on a transformers model's
own classes (``class NomicBertConfig(GPT2Config)``)."""

from __future__ import annotations

from pathlib import Path

from hf_custom.codeinfo import analyze_package
from hf_custom.staging.config import normalize_config

CONFIGURATION = """\
from transformers import GPT2Config


class NomicBertConfig(GPT2Config):
    model_type = "nomic_bert_x"
"""

MODELING = """\
from transformers import GPT2Model
from transformers.models.gpt2.modeling_gpt2 import GPT2PreTrainedModel

from .configuration_hf_nomic_bert import NomicBertConfig


class NomicBertPreTrainedModel(GPT2PreTrainedModel):
    config_class = NomicBertConfig


class NomicBertModel(NomicBertPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.inner = GPT2Model(config)
        self.post_init()
"""

REPO = "nomic-ai/nomic-bert-2048"


def _package() -> object:
    return analyze_package(
        {"configuration_hf_nomic_bert.py": CONFIGURATION, "modeling_hf_nomic_bert.py": MODELING}
    )


def test_classes_built_on_a_transformers_model_are_config_and_model_classes() -> None:
    pkg = _package()
    assert [c.name for c in pkg.config_classes()] == ["NomicBertConfig"]  # type: ignore[attr-defined]
    assert {c.name for c in pkg.model_classes()} == {  # type: ignore[attr-defined]
        "NomicBertPreTrainedModel",
        "NomicBertModel",
    }


def test_cross_repo_values_with_the_code_here_point_at_the_local_module() -> None:
    cfg = {
        "model_type": "nomic_bert_x",
        "auto_map": {
            "AutoConfig": f"{REPO}--configuration_hf_nomic_bert.NomicBertConfig",
            "AutoModel": f"{REPO}--modeling_hf_nomic_bert.NomicBertModel",
        },
    }
    result = normalize_config(cfg, _package())  # type: ignore[arg-type]
    assert not [f for f in result.findings if f.id in ("HFC112", "HFC119")], result.findings
    assert result.config["auto_map"]["AutoConfig"] == "configuration_hf_nomic_bert.NomicBertConfig"
    assert result.config["auto_map"]["AutoModel"] == "modeling_hf_nomic_bert.NomicBertModel"
    changed = {c.key: (c.old, c.new) for c in result.changes}
    assert changed["auto_map.AutoConfig"][0].startswith(REPO + "--")
    assert result.config_class == "configuration_hf_nomic_bert.NomicBertConfig"


def test_cross_repo_values_without_the_code_are_kept_and_named() -> None:
    cfg = {
        "model_type": "nomic_bert_x",
        "auto_map": {
            "AutoConfig": "configuration_hf_nomic_bert.NomicBertConfig",
            "AutoModelForMaskedLM": f"{REPO}--modeling_elsewhere.NomicBertForPreTraining",
        },
    }
    result = normalize_config(cfg, _package())  # type: ignore[arg-type]
    ref = f"{REPO}--modeling_elsewhere.NomicBertForPreTraining"
    assert result.config["auto_map"]["AutoModelForMaskedLM"] == ref
    (f,) = [f for f in result.findings if f.id == "HFC119"]
    assert REPO in f.message and f.severity.value == "info"


def test_a_fine_tune_whose_code_lives_in_another_repository_is_staged(tmp_path: Path) -> None:
    """config.json + weights, no .py files, auto_map pointing at the code's repository (a
    common fine-tune shape that plain transformers loads): staged with the references kept,
    no HFC112/HFC107 refusal."""
    import json

    import torch

    from hf_custom import stage

    src = tmp_path / "ft"
    src.mkdir()
    auto_map = {
        "AutoConfig": "user/probe-code--configuration_probe.ProbeConfig",
        "AutoModel": "user/probe-code--modeling_probe.ProbeModel",
    }
    cfg = {"model_type": "probe", "architectures": ["ProbeModel"], "auto_map": auto_map}
    (src / "config.json").write_text(json.dumps(cfg))
    torch.save({"lin.weight": torch.zeros(4, 4)}, src / "pytorch_model.bin")
    result = stage(src, out=tmp_path / "out")
    ids = {f.id for f in result.findings}
    assert not ids & {"HFC112", "HFC107"}, result.findings
    assert "HFC119" in ids
    staged = json.loads((tmp_path / "out" / "config.json").read_text())
    assert staged["auto_map"] == auto_map and staged["architectures"] == ["ProbeModel"]
