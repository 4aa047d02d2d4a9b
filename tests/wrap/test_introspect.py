"""Introspection and errors, on small modules built in the test (no verification child)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_custom.errors import InputError
from hf_custom.wrapping import names_for, wrap
from hf_custom.wrapping.signature import parse_args

NO_EMBEDDING = """
import torch
from torch import nn


class OneHot(nn.Module):
    def __init__(self, hidden=8):
        super().__init__()
        self.proj = nn.Linear(5, hidden)

    def forward(self, input_ids):
        return self.proj(nn.functional.one_hot(input_ids, 5).float())
"""

NEEDS_ARG = """
from torch import nn


class Net(nn.Module):
    def __init__(self, vocab_size, hidden=8):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, hidden)

    def forward(self, x):
        return self.emb(x)
"""

NAMESPACE = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.emb = nn.Embedding(cfg.n_tokens, cfg.width)
        self.out = nn.Linear(cfg.width, cfg.width)
        self.scale = getattr(cfg, "scale", 2.0)

    def forward(self, x, pad_mask=None):
        h = self.emb(x)
        if pad_mask is not None:
            h = h.masked_fill(pad_mask[..., None], 0.0)
        return self.out(h.cumsum(dim=1)) * self.scale
"""


def _write(tmp_path: Path, text: str, name: str = "net.py") -> Path:
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_names_for() -> None:
    assert names_for("ltg-bert") == ("LtgBert", "ltg_bert", "ltg-bert")
    assert names_for("TinyEncoder") == ("TinyEncoder", "tiny_encoder", "tiny_encoder")
    assert names_for("LTGBertEncoder")[1] == "ltg_bert_encoder"
    with pytest.raises(InputError):
        names_for("--")


def test_parse_args() -> None:
    got = parse_args(["a=1", "b=0.5", "c=true", "d=[1, 2]", "e=gelu", "f=None"])
    assert got == {"a": 1, "b": 0.5, "c": True, "d": [1, 2], "e": "gelu", "f": None}
    with pytest.raises(InputError, match="key=value"):
        parse_args(["novalue"])


def test_missing_vocabulary_names_the_option(tmp_path: Path) -> None:
    src = _write(tmp_path, NO_EMBEDDING)
    with pytest.raises(InputError) as err:
        wrap(f"{src}:OneHot", out=tmp_path / "out", verify=False)
    assert err.value.hint == "pass --arg vocab_size=N"
    assert not (tmp_path / "out").exists()


def test_required_constructor_argument_names_the_option(tmp_path: Path) -> None:
    src = _write(tmp_path, NEEDS_ARG)
    with pytest.raises(InputError) as err:
        wrap(f"{src}:Net", out=tmp_path / "out", verify=False)
    assert err.value.hint == "pass --arg vocab_size=VALUE"
    result = wrap(f"{src}:Net", out=tmp_path / "out", verify=False, args={"vocab_size": 11})
    assert result.forward.vocab_size == 11 and result.verification is None


def test_namespace_config_is_probed_and_reads_become_fields(tmp_path: Path) -> None:
    src = _write(tmp_path, NAMESPACE)
    with pytest.raises(InputError) as err:
        wrap(f"{src}:Net", out=tmp_path / "out", verify=False)
    assert err.value.hint is not None and "--arg n_tokens=VALUE" in err.value.hint
    result = wrap(
        f"{src}:Net",
        out=tmp_path / "out",
        verify=False,
        args={"n_tokens": 13, "width": 6},
        tasks=["causal-lm", "sequence-classification"],
    )
    f = result.forward
    assert f.causal and f.mask_arg == "pad_mask" and f.mask_style == "pad"
    modeling = (tmp_path / "out" / "modeling_net.py").read_text()
    assert "from types import SimpleNamespace" in modeling
    assert "options = SimpleNamespace(n_tokens=config.n_tokens, width=config.width)" in modeling
    assert "last = attention_mask.sum(dim=1) - 1" in modeling  # causal pooling
    # getattr(cfg, "scale", 2.0) keeps its default: only the keys without one become fields
    configuration = (tmp_path / "out" / "configuration_net.py").read_text()
    assert "scale" not in configuration and "n_tokens: int = 13" in configuration


LOGITS = """
from torch import nn


class Lm(nn.Module):
    def __init__(self, vocab_size=12, hidden=8):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, hidden)
        self.mix = nn.GRU(hidden, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, vocab_size)

    def forward(self, ids):
        return self.out(self.mix(self.emb(ids))[0])
"""


def test_task_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    src = _write(tmp_path, LOGITS)
    with pytest.raises(InputError, match="needs hidden states"):
        wrap(f"{src}:Lm", out=tmp_path / "o1", verify=False, tasks=["sequence-classification"])
    with pytest.raises(InputError, match="needs a causal module"):
        wrap(f"{src}:Lm", out=tmp_path / "o2", verify=False, tasks=["causal-lm"])
    with pytest.raises(InputError, match="unknown task"):
        wrap(f"{src}:Lm", out=tmp_path / "o3", verify=False, tasks=["x"])
    result = wrap(f"{src}:Lm", out=tmp_path / "o4", verify=False)
    assert result.tasks == ("masked-lm",) and result.forward.output_kind == "logits"


def test_builtin_model_type_and_existing_output_are_refused(tmp_path: Path) -> None:
    src = _write(tmp_path, NEEDS_ARG)
    with pytest.raises(InputError, match="built into transformers"):
        wrap(f"{src}:Net", out=tmp_path / "o", verify=False, args={"vocab_size": 9}, name="bert")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        wrap(f"{src}:Net", out=tmp_path / "full", verify=False, args={"vocab_size": 9})
    assert (tmp_path / "full" / "keep.txt").read_text() == "x"


def test_unknown_class_lists_the_classes(tmp_path: Path) -> None:
    src = _write(tmp_path, NEEDS_ARG)
    with pytest.raises(InputError) as err:
        wrap(f"{src}:Missing", out=tmp_path / "o", verify=False)
    assert err.value.hint == "classes defined there: Net"
