"""Static errors are reported before any later step can fail on them, and all at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tiny_checkpoint import make_checkpoint

from hf_custom import stage
from hf_custom.errors import Refusal
from hf_custom.events import Event, Progress
from hf_custom.staging.code import plan_code

LIST_TIED = '    _tied_weights_keys = ["lm_head.weight"]\n'


def _tie_lm_head(ckpt: Path) -> None:
    """A list-form _tied_weights_keys and a head tied to the embeddings (its weight not saved):
    the weights then fit no parameter list, which used to hide the cause (exit 2)."""
    import torch

    modeling = ckpt / "modeling_tinyenc.py"
    text = modeling.read_text()
    head = "class TinyEncForMaskedLM(TinyEncPreTrainedModel):\n"
    text = text.replace(head, head + LIST_TIED)
    lm = "self.lm_head = nn.Linear(config.hidden_size, config.vocab_size)\n"
    text = text.replace(lm, lm + "        self.lm_head.weight = self.model.embed.weight\n")
    modeling.write_text(text)
    state = torch.load(ckpt / "pytorch_model.bin", weights_only=True)
    del state["module.lm_head.weight"]
    torch.save(state, ckpt / "pytorch_model.bin")


def test_list_form_tied_weights_keys_is_named_as_the_cause(tmp_path: Path) -> None:
    ckpt = make_checkpoint(tmp_path / "ck")
    (ckpt / "notes.txt").unlink()
    _tie_lm_head(ckpt)
    with pytest.raises(Refusal) as info:
        stage(ckpt, out=tmp_path / "out")
    assert info.value.exit_code == 1
    errors = [f for f in info.value.findings if f.severity.name == "ERROR"]
    assert [(f.id, f.path) for f in errors] == [("HFC253", "modeling_tinyenc.py")]
    assert not (tmp_path / "out").exists()


def test_every_static_error_is_reported_at_once(tmp_path: Path) -> None:
    """A config error, an import refusal and a code-check error: one refusal names all three."""
    ckpt = make_checkpoint(tmp_path / "ck")
    (ckpt / "notes.txt").unlink()
    (ckpt / "config.json").write_text(json.dumps({"model_type": "bert"}))
    modeling = ckpt / "modeling_tinyenc.py"
    text = modeling.read_text().replace(
        "from torch import nn\n",
        "from torch import nn\nfrom ...modeling_attn_mask_utils import _prepare_4d_attention_mask\n",
    )
    head = "class TinyEncForMaskedLM(TinyEncPreTrainedModel):\n"
    modeling.write_text(text.replace(head, head + LIST_TIED))
    with pytest.raises(Refusal) as info:
        stage(ckpt, out=tmp_path / "out")
    ids = {f.id for f in info.value.findings if f.severity.name == "ERROR"}
    assert {"HFC102", "HFC209", "HFC253"} <= ids, ids


def test_plan_code_without_refusing_returns_the_refusals_as_errors(tmp_path: Path) -> None:
    src = tmp_path / "ck"
    src.mkdir()
    (src / "modeling_x.py").write_text(
        "from ...modeling_utils import PreTrainedModel\nfrom ...no_such_module_zz import f\n"
    )
    plan = plan_code(src, refuse=False)
    assert [(f.id, f.line, f.severity.name) for f in plan.findings if f.id == "HFC209"] == [
        ("HFC209", 2, "ERROR")
    ]
    assert "from transformers.modeling_utils import PreTrainedModel" in plan.files["modeling_x.py"]


def test_code_root_reads_only_the_import_closure_with_progress(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    pkg = root / "mypkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "layers.py").write_text(
        "from .blocks import Block\n\n\ndef layer():\n    return Block\n"
    )
    (pkg / "blocks.py").write_text("class Block:\n    pass\n")
    for i in range(200):  # a large tree around the package: never read
        (pkg / f"unrelated_{i}.py").write_text("raise SystemExit('read')\n")
    src = tmp_path / "ck"
    src.mkdir()
    (src / "modeling_x.py").write_text("from mypkg.layers import layer\n")
    events: list[Event] = []
    plan = plan_code(src, code_root=pkg, on_event=events.append)
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress and all(e.unit == "files" for e in progress)
    assert [e.done for e in progress] == list(range(1, len(progress) + 1))
    assert progress[-1].done == progress[-1].total == len(plan.origins)
    assert not any("unrelated" in o for o in plan.origins.values())
    assert len(plan.origins) <= 5, plan.origins
