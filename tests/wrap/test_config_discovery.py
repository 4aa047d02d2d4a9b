"""Config discovery: the research module's own config code says what the fields and defaults
are; ``--arg`` only overrides. Fields colliding with PreTrainedConfig are mapped, not refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from wrap_sources import ruff_clean

from hf_custom.errors import InputError
from hf_custom.wrapping import wrap

# a dataclass config in the same file, the constructor parameter unannotated (as in most GPTs)
DATACLASS_UNANNOTATED = """
from dataclasses import dataclass

from torch import nn


@dataclass
class OtherSettings:
    lr: float = 0.1


@dataclass
class NetConfig:
    vocab_size: int = 19
    n_embd: int = 8
    n_layer: int = 1
    name_or_path: str = "tiny"  # a PreTrainedConfig attribute


class Net(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.tag = config.name_or_path
        self.emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.blocks = nn.ModuleList(nn.Linear(config.n_embd, config.n_embd) for _ in range(config.n_layer))

    def forward(self, idx):
        x = self.emb(idx)
        for b in self.blocks:
            x = x + b(x).cumsum(dim=1)
        return x
"""

# a CfgNode-like attribute bag from a static get_default_config(); the constructor fills the
# sizes from a preset named by `model_type` (a PreTrainedConfig attribute) and mutates the config
FACTORY_CFGNODE = """
from torch import nn


class Node:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    def merge_from_dict(self, d):
        self.__dict__.update(d)


class Net(nn.Module):
    @staticmethod
    def get_default_config():
        C = Node()
        C.model_type = "net-small"
        C.n_embd = None
        C.vocab_size = None
        C.dropout = 0.0
        return C

    def __init__(self, config):
        super().__init__()
        assert config.vocab_size is not None, "vocab_size must be set"
        if config.model_type is not None:
            config.merge_from_dict({"net-small": {"n_embd": 8}, "net-big": {"n_embd": 12}}[config.model_type])
        self.emb = nn.Embedding(config.vocab_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.proj = nn.Linear(config.n_embd, config.n_embd)

    def forward(self, idx):
        return self.proj(self.drop(self.emb(idx))).cumsum(dim=1)
"""

# a dict from a classmethod factory
FACTORY_DICT = """
from torch import nn


class Net(nn.Module):
    @classmethod
    def get_default_config(cls):
        return {"n_tokens": 17, "width": 6}

    def __init__(self, cfg):
        super().__init__()
        self.emb = nn.Embedding(cfg["n_tokens"], cfg["width"])

    def forward(self, idx):
        return self.emb(idx).cumsum(dim=1)
"""

# keyword style with type hints and no defaults for some: hints give the config annotations
HINTED = """
from torch import nn


class Net(nn.Module):
    def __init__(self, vocab: int, width: int = 8, scale: float = 1.0, act: str = "tanh"):
        super().__init__()
        self.emb = nn.Embedding(vocab, width)
        self.scale = scale

    def forward(self, x):
        return self.emb(x).cumsum(dim=1) * self.scale
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "src" / "net.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_unannotated_dataclass_config_is_found_and_collisions_mapped(tmp_path: Path) -> None:
    src = _write(tmp_path, DATACLASS_UNANNOTATED)
    out = tmp_path / "out"
    result = wrap(f"{src}:Net", out=out, args={"n_layer": 2}, tasks=["base"])
    assert result.verification is not None and result.verification.ok, [
        str(f) for f in result.verification.findings
    ]
    assert result.config_kind == "dataclass"
    assert result.renamed == {"name_or_path": "research_name_or_path"}
    assert any("'name_or_path' collides" in n for n in result.notes)
    config = json.loads((out / "config.json").read_text())
    assert config["n_layer"] == 2 and config["n_embd"] == 8  # --arg overrides, defaults stay
    assert config["research_name_or_path"] == "tiny" and "name_or_path" not in config
    modeling = (out / "modeling_net.py").read_text()
    assert "name_or_path=config.research_name_or_path" in modeling
    # the research dataclass has the generated config's name: imported under an alias
    assert "from .net import NetConfig as ResearchNetConfig" in modeling
    assert "options = ResearchNetConfig(" in modeling
    ruff_clean([out / "modeling_net.py", out / "configuration_net.py"])


def test_get_default_config_factory_with_colliding_model_type(tmp_path: Path) -> None:
    src = _write(tmp_path, FACTORY_CFGNODE)
    with pytest.raises(InputError, match="vocab_size must be set"):
        wrap(f"{src}:Net", out=tmp_path / "o1", verify=False)
    out = tmp_path / "out"
    result = wrap(
        f"{src}:Net", out=out, args={"vocab_size": 21, "model_type": "net-big"}, tasks=["base"]
    )
    assert result.verification is not None and result.verification.ok, [
        str(f) for f in result.verification.findings
    ]
    assert result.config_kind == "factory"
    assert result.renamed == {"model_type": "research_model_type"}
    assert result.forward.width == 12  # the preset the overridden model_type names
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "net" and config["research_model_type"] == "net-big"
    assert config["vocab_size"] == 21 and config["n_embd"] is None  # as the factory left it
    modeling = (out / "modeling_net.py").read_text()
    assert "options = Net.get_default_config()" in modeling
    assert "options.model_type = config.research_model_type" in modeling


def test_dict_factory_and_override(tmp_path: Path) -> None:
    src = _write(tmp_path, FACTORY_DICT)
    result = wrap(f"{src}:Net", out=tmp_path / "out", verify=False, args={"width": 4})
    assert result.config_kind == "factory" and result.forward.width == 4
    modeling = (tmp_path / "out" / "modeling_net.py").read_text()
    assert 'options["width"] = config.width' in modeling
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["n_tokens"] == 17 and config["width"] == 4


def test_constructor_type_hints_become_annotations(tmp_path: Path) -> None:
    src = _write(tmp_path, HINTED)
    with pytest.raises(InputError, match="needs `vocab`"):
        wrap(f"{src}:Net", out=tmp_path / "o1", verify=False)
    wrap(f"{src}:Net", out=tmp_path / "out", verify=False, args={"vocab": 9, "scale": 2})
    configuration = (tmp_path / "out" / "configuration_net.py").read_text()
    assert "vocab: int = 9" in configuration and 'act: str = "tanh"' in configuration
    # the hint says float: the integer --arg is kept as given but annotated as the module says
    assert "scale: float = 2" in configuration
