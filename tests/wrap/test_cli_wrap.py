"""The `hf-custom wrap` command: exit codes, JSON document, hints naming the option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from wrap_sources import ruff_clean

from hf_custom.cli.main import main

NET = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, vocab_size, hidden=8):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, hidden)
        self.rnn = nn.GRU(hidden, hidden, batch_first=True)

    def forward(self, input_ids, attention_mask=None):
        h = self.emb(input_ids)
        if attention_mask is not None:
            h = h * attention_mask[..., None]
        return self.rnn(h)[0]
"""


def test_wrap_json_without_verification(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "net.py"
    src.write_text(NET)
    out = tmp_path / "out"
    argv = ["wrap", f"{src}:Net", "--out", str(out), "--arg", "vocab_size=17", "--no-verify"]
    argv += ["--name", "gru-net", "--tasks", "base,causal-lm", "--format", "json"]
    code = main(argv)
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 1 and doc["command"] == "wrap"
    assert doc["verification"] is None and doc["ok"] is True
    assert doc["auto_map"] == {
        "AutoConfig": "configuration_gru_net.GruNetConfig",
        "AutoModel": "modeling_gru_net.GruNetModel",
        "AutoModelForCausalLM": "modeling_gru_net.GruNetForCausalLM",
    }
    assert doc["module"]["causal"] is True and doc["module"]["mask_convention"] == "keep"
    assert doc["next_command"] == f"hf-custom publish {out} --repo-id YOUR_NAME/gru-net"
    config = json.loads((out / "config.json").read_text())
    assert config["vocab_size"] == 17 and config["model_type"] == "gru-net"
    assert sorted(p.name for p in out.iterdir()) == sorted(doc["files"])


def test_wrap_usage_error_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "net.py"
    src.write_text(NET)
    code = main(["wrap", f"{src}:Net", "--out", str(tmp_path / "out"), "--no-verify"])
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--arg vocab_size=VALUE" in captured.err
    assert not (tmp_path / "out").exists()


def test_wrap_rejects_a_target_without_class(tmp_path: Path, capsys) -> None:
    assert main(["wrap", "net.py", "--out", str(tmp_path / "o")]) == 2
    assert "MODULE:CLASS" in capsys.readouterr().err


def test_generated_files_are_ruff_clean_with_long_names(tmp_path: Path) -> None:
    src = tmp_path / "net.py"
    long_net = NET.replace("class Net(", "class RelativePositionEncoderNet(")
    src.write_text(long_net.replace("hidden=8", "hidden=8, number_of_relative_position_buckets=3"))
    out = tmp_path / "out"
    argv = ["wrap", f"{src}:RelativePositionEncoderNet", "--out", str(out), "--no-verify"]
    argv += ["--arg", "vocab_size=17", "--tasks", "base,causal-lm,sequence-classification"]
    assert main(argv) == 0
    ruff_clean(sorted(out.glob("configuration_*.py")) + sorted(out.glob("modeling_*.py")))


COLLIDING = """
from dataclasses import dataclass

from torch import nn


@dataclass
class Settings:
    vocab_size: int = 15
    hidden: int = 6
    model_type: str = "small"


class Net(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.kind = cfg.model_type
        self.emb = nn.Embedding(cfg.vocab_size, cfg.hidden)

    def forward(self, idx):
        return self.emb(idx).cumsum(dim=1)
"""


def test_wrap_lists_renamed_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "net.py"
    src.write_text(COLLIDING)
    argv = ["wrap", f"{src}:Net", "--out", str(tmp_path / "o1"), "--no-verify", "--tasks", "base"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "config: dataclass" in captured.out
    assert "renamed: model_type -> research_model_type (collides with PreTrainedConfig)" in (
        captured.out
    )
    argv = ["wrap", f"{src}:Net", "--out", str(tmp_path / "o2"), "--no-verify", "--format", "json"]
    assert main([*argv, "--tasks", "base"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["config"] == {"kind": "dataclass", "renamed": {"model_type": "research_model_type"}}
