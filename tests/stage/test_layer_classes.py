"""HFC106 "no naming convention" is for model classes users might load: a PreTrainedModel
subclass that another class of the package builds as a layer (nomic-bert's block inside its
encoder's ModuleList) is not loaded alone, so nothing is wrong with its name."""

from __future__ import annotations

from hf_custom.codeinfo import analyze_package
from hf_custom.staging.config import normalize_config

CONFIG = """\
from transformers import PretrainedConfig


class LayConfig(PretrainedConfig):
    model_type = "lay-zz"

    def __init__(self, n_layer=2, **kwargs):
        self.n_layer = n_layer
        super().__init__(**kwargs)
"""

MODELING = """\
from torch import nn
from transformers import PreTrainedModel

from .configuration_lay import LayConfig


class LayPreTrainedModel(PreTrainedModel):
    config_class = LayConfig


class LayBlock(LayPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.lin = nn.Linear(4, 4)


class LayStray(LayPreTrainedModel):
    pass


class LayModel(LayPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.layers = nn.ModuleList([LayBlock(config) for _ in range(config.n_layer)])
        self.post_init()
"""


def _hfc106(modeling: str) -> list[str]:
    code = analyze_package({"configuration_lay.py": CONFIG, "modeling_lay.py": modeling})
    result = normalize_config({"model_type": "lay-zz"}, code)
    return [f.message for f in result.findings if f.id == "HFC106"]


def test_a_model_class_built_as_a_layer_gets_no_naming_warning() -> None:
    messages = _hfc106(MODELING)
    assert not [m for m in messages if m.startswith("LayBlock")], messages


def test_a_model_class_nothing_builds_is_still_named() -> None:
    messages = _hfc106(MODELING)
    assert [m for m in messages if m.startswith("LayStray")], messages


def test_the_layer_is_named_once_nothing_builds_it() -> None:
    alone = MODELING.replace("LayBlock(config)", "nn.Linear(4, 4)")
    assert [m for m in _hfc106(alone) if m.startswith("LayBlock")]


def test_built_as_layers_lists_called_model_classes_only() -> None:
    code = analyze_package({"configuration_lay.py": CONFIG, "modeling_lay.py": MODELING})
    assert code.built_as_layers() == {"LayBlock"}
