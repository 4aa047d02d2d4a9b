"""Forward conventions of research LMs: ``(logits, loss)`` tuples, dicts, last-position-only
logits, ``targets``/``labels`` arguments whose loss is used when it is the cross-entropy."""

from __future__ import annotations

from pathlib import Path

from wrap_sources import ruff_clean

from hf_custom.wrapping import wrap

# HF-style: `labels` shifted inside the module, a dict with the loss first, ignore index -100
DICT_SHIFTED = """
import torch
from torch import nn
from torch.nn import functional as F


class Lm(nn.Module):
    def __init__(self, vocab_size=23, width=12):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, width)
        self.rnn = nn.GRU(width, width, batch_first=True)
        self.head = nn.Linear(width, vocab_size)

    def forward(self, input_ids, labels=None):
        logits = self.head(self.rnn(self.emb(input_ids))[0])
        out = {"logits": logits}
        if labels is not None:
            out = {"loss": F.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten()), **out}
        return out
"""

# a masked LM returning (loss, logits) with targets; ignore index -1
MASKED_TUPLE = """
from torch import nn
from torch.nn import functional as F


class Mlm(nn.Module):
    def __init__(self, vocab_size=21, width=10):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, width)
        self.rnn = nn.GRU(width, width, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * width, vocab_size)

    def forward(self, tokens, target=None):
        logits = self.head(self.rnn(self.emb(tokens))[0])
        if target is None:
            return (logits,)
        return F.cross_entropy(logits.flatten(0, 1), target.flatten(), ignore_index=-1), logits
"""

# a loss with an auxiliary term: not the cross-entropy, so wrap computes the loss itself
AUX_LOSS = """
import torch
from torch import nn
from torch.nn import functional as F


class Lm(nn.Module):
    def __init__(self, vocab_size=19, width=8):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, width)
        self.rnn = nn.GRU(width, width, batch_first=True)
        self.head = nn.Linear(width, vocab_size)

    def forward(self, idx, targets=None):
        logits = self.head(self.rnn(self.emb(idx))[0])
        if targets is None:
            return logits[:, -1:], None
        ce = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        return logits, ce + 0.1 * logits.pow(2).mean()
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "src" / "lm.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_gpt_style_tuple_last_position_only(tmp_path: Path) -> None:
    """The example's GPT: `(logits, loss)`, last position only without targets, ignore -1."""
    gpt = Path(__file__).resolve().parents[2] / "examples" / "gpt_wrap" / "gpt.py"
    out = tmp_path / "out"
    result = wrap(f"{gpt}:GPT", out=out)
    assert result.verification is not None and result.verification.ok, [
        str(f) for f in result.verification.findings
    ]
    f = result.forward
    assert (f.targets_arg, f.last_only, f.loss_path, f.loss_shift, f.ignore_index) == (
        "targets",
        True,
        (1,),
        False,
        -1,
    )
    assert result.tasks == ("causal-lm",) and result.config_kind == "dataclass"
    modeling = (out / "modeling_gpt.py").read_text()
    assert "targets=input_ids if targets is None else targets" in modeling
    assert "targets = targets.masked_fill(targets == -100, -1)" in modeling
    ruff_clean([out / "modeling_gpt.py", out / "configuration_gpt.py"])


def test_dict_with_labels_shifted_inside(tmp_path: Path) -> None:
    src = _write(tmp_path, DICT_SHIFTED)
    result = wrap(f"{src}:Lm", out=tmp_path / "out", verify=False)
    f = result.forward
    assert (f.targets_arg, f.last_only, f.loss_path, f.loss_shift, f.ignore_index) == (
        "labels",
        False,
        ("loss",),
        True,
        -100,
    )
    modeling = (tmp_path / "out" / "modeling_lm.py").read_text()
    assert "            targets = labels\n" in modeling  # passed as they are
    assert 'return output["logits"], None if targets is None else output["loss"]' in modeling


def test_masked_lm_loss_first_in_tuple(tmp_path: Path) -> None:
    src = _write(tmp_path, MASKED_TUPLE)
    result = wrap(f"{src}:Mlm", out=tmp_path / "out", verify=False)
    f = result.forward
    assert result.tasks == ("masked-lm",) and not f.causal
    assert (f.output_path, f.targets_output_path) == ((0,), (1,))  # moves when given targets
    assert (f.loss_path, f.loss_shift, f.ignore_index) == ((0,), False, -1)
    modeling = (tmp_path / "out" / "modeling_mlm.py").read_text()
    assert "return output[1], output[0]" in modeling
    assert "targets = labels.masked_fill(labels == -100, -1)" in modeling
    assert "torch.cat" not in modeling  # a masked LM's labels are not shifted


def test_loss_that_is_not_cross_entropy_is_not_used(tmp_path: Path) -> None:
    src = _write(tmp_path, AUX_LOSS)
    result = wrap(f"{src}:Lm", out=tmp_path / "out", verify=False)
    f = result.forward
    assert f.last_only and f.loss_path is None and f.loss_note is not None
    assert any("is not the cross-entropy of its logits" in n for n in result.notes)
    modeling = (tmp_path / "out" / "modeling_lm.py").read_text()
    assert "logits, _ = self._run_model(input_ids, attention_mask)" in modeling
    assert "loss = nn.functional.cross_entropy(shifted, targets)" in modeling
