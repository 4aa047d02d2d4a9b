"""HFC115 / HFC111 are errors only when the read fails for certain under transformers v5: an
unguarded ``config.X`` at the top level of ``__init__``/``forward``, X set by neither
config.json (or dropped from it: HFC111), nor the config class (attribute, annotation,
``__init__`` parameter or assignment, attribute_map, property), nor v5's base config. Anything
less certain stays a warning; a guarded read is never an error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hf_custom.codeinfo import analyze_package
from hf_custom.findings import Finding
from hf_custom.staging.config import normalize_config

CONFIG = """\
from transformers import PretrainedConfig


class SureConfig(PretrainedConfig):
    model_type = "sure-zz"

    def __init__(self, vocab_size=10, hidden_size=8, **kwargs):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        super().__init__(**kwargs)
"""

MODELING = """\
from torch import nn
from transformers import PreTrainedModel

from .configuration_sure import SureConfig


class SurePreTrainedModel(PreTrainedModel):
    config_class = SureConfig


class SureModel(SurePreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embed = nn.Embedding(config.vocab_size, config.hidden_size, {read})
        self.post_init()

    def forward(self, input_ids=None, use_cache=None):
        use_cache = use_cache if use_cache is not None else self.config.use_cache
        return self.embed(input_ids)
"""

CERTAIN = "config.pad_token_id"


def _plan(
    read: str = CERTAIN,
    *,
    config_src: str = CONFIG,
    cfg: dict[str, Any] | None = None,
    modeling: str = MODELING,
) -> list[Finding]:
    code = analyze_package(
        {
            "configuration_sure.py": config_src,
            "modeling_sure.py": modeling.replace("{read}", read),
        }
    )
    return list(normalize_config(cfg or {"model_type": "sure-zz"}, code).findings)


def _sev(findings: list[Finding], rule: str, attr: str = "pad_token_id") -> list[str]:
    return [f.severity.name for f in findings if f.id == rule and f"config.{attr}" in f.message]


def test_an_unguarded_read_in_init_is_an_error_naming_fix() -> None:
    (f,) = [f for f in _plan() if f.id == "HFC115" and "pad_token_id" in f.message]
    assert f.severity.name == "ERROR" and f.path == "modeling_sure.py" and f.line == 14
    assert "hf-custom fix" in (f.fix or "") and "AttributeError" in f.message


@pytest.mark.parametrize(
    "read",
    [
        'getattr(config, "pad_token_id", None)',
        'config.pad_token_id if hasattr(config, "pad_token_id") else None',
        "config.hidden_size and config.pad_token_id",
    ],
)
def test_guarded_or_conditional_reads_are_never_errors(read: str) -> None:
    assert "ERROR" not in _sev(_plan(read), "HFC115")


def test_a_read_in_try_is_not_an_error() -> None:
    modeling = MODELING.replace(
        "        self.post_init()\n",
        "        try:\n            self.pad = config.pad_token_id\n        except AttributeError:\n"
        "            self.pad = None\n        self.post_init()\n",
    )
    assert "ERROR" not in _sev(_plan("None", modeling=modeling), "HFC115")


def test_a_read_in_a_method_loading_need_not_run_is_a_warning() -> None:
    modeling = MODELING + "\n    def pad_id(self):\n        return self.config.pad_token_id\n"
    assert _sev(_plan("None", modeling=modeling), "HFC115") == ["WARNING"]


@pytest.mark.parametrize(
    "config_src",
    [
        CONFIG.replace(
            "        super().__init__", "        self.pad_token_id = 0\n        super().__init__"
        ),
        CONFIG.replace(
            '    model_type = "sure-zz"', '    model_type = "sure-zz"\n    pad_token_id = 0'
        ),
        CONFIG.replace(
            '    model_type = "sure-zz"',
            '    model_type = "sure-zz"\n    attribute_map = {"pad_token_id": "vocab_size"}',
        ),
        CONFIG + "\n    @property\n    def pad_token_id(self):\n        return 0\n",
        CONFIG.replace(
            "        super().__init__", "        setattr(self, name, 0)\n        super().__init__"
        ),
        CONFIG.replace(
            "from transformers import PretrainedConfig",
            "from transformers import LlamaConfig as PretrainedConfig",
        ),
    ],
    ids=[
        "init-assignment",
        "class-attribute",
        "attribute-map",
        "property",
        "dynamic-setattr",
        "built-in-base",
    ],
)
def test_what_the_config_class_may_set_is_never_an_error(config_src: str) -> None:
    assert "ERROR" not in _sev(_plan(config_src=config_src), "HFC115")


def test_config_json_setting_it_is_no_finding() -> None:
    assert not _sev(_plan(cfg={"model_type": "sure-zz", "pad_token_id": 0}), "HFC115")


def test_a_generation_parameter_v5_drops_and_forward_reads_is_an_hfc111_error() -> None:
    (f,) = [
        f
        for f in _plan("None", cfg={"model_type": "sure-zz", "use_cache": True})
        if f.id == "HFC111"
    ]
    assert f.severity.name == "ERROR" and "modeling_sure.py:18" in f.message
    assert "hf-custom fix" in (f.fix or "")


def test_a_dropped_parameter_the_code_only_probes_is_an_hfc111_warning() -> None:
    modeling = MODELING.replace("self.config.use_cache", 'getattr(self.config, "use_cache", False)')
    found = _plan("None", cfg={"model_type": "sure-zz", "use_cache": True}, modeling=modeling)
    assert [f.severity.name for f in found if f.id == "HFC111"] == ["WARNING"]


# -- publish: the error refuses, --fix repairs it and stages -------------------------------------
def _checkpoint(root: Path) -> Path:
    import torch

    root.mkdir(parents=True)
    (root / "configuration_sure.py").write_text(CONFIG)
    (root / "modeling_sure.py").write_text(MODELING.replace("{read}", CERTAIN))
    (root / "config.json").write_text(json.dumps({"model_type": "sure-zz", "vocab_size": 10}))
    gen = torch.Generator().manual_seed(0)
    torch.save({"embed.weight": torch.randn(10, 8, generator=gen)}, root / "pytorch_model.bin")
    return root


def test_doctor_fails_it(tmp_path: Path) -> None:
    from hf_custom.diagnosis import doctor

    report = doctor(_checkpoint(tmp_path / "ckpt"))
    assert not report.ok
    assert "ERROR" in _sev(list(report.findings), "HFC115")


@pytest.mark.slow
def test_stage_refuses_naming_fix_then_fix_stages_it(tmp_path: Path) -> None:
    from hf_custom.errors import Refusal
    from hf_custom.staging.pipeline import stage

    src = _checkpoint(tmp_path / "ckpt")
    with pytest.raises(Refusal) as exc:
        stage(src, out=tmp_path / "out")
    assert "HFC115" in {f.id for f in exc.value.findings} and "--fix" in (exc.value.hint or "")
    result = stage(src, out=tmp_path / "out", fix=True)
    assert "HFC115" in {r.rule for r in result.repairs}
    assert not [f for f in result.findings if f.severity.name == "ERROR"], result.findings
