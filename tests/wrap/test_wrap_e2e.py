"""End to end: wrap three differently shaped research modules, verify, load, train, lint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from safetensors import safe_open
from wrap_sources import ruff_clean

from hf_custom.wrapping import wrap

HERE = Path(__file__).parent


def _train_in_fresh_process(folder: Path, tmp: Path) -> dict:
    env = dict(os.environ)
    env["HF_HOME"] = str(tmp / "child_home")
    env["HF_MODULES_CACHE"] = str(tmp / "child_home" / "modules")
    env["HF_HUB_OFFLINE"] = "1"
    proc = subprocess.run(
        [sys.executable, str(HERE / "train_child.py"), str(folder), str(tmp / "train")],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _check_trained(report: dict, auto_map: dict) -> None:
    for auto_name, ref in auto_map.items():
        if auto_name == "AutoConfig":
            assert report["config"] == ref.split(".")[1]
            continue
        entry = report[auto_name]
        assert entry["class"] == ref.split(".")[1]
        if auto_name == "AutoModel":
            continue
        losses = entry["losses"]
        assert len(losses) == 12
        first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
        assert last < first, (auto_name, losses)


def _wrap_and_check(kind_dir: Path, target: str, tmp: Path, **kwargs) -> tuple:
    out = tmp / "out"
    result = wrap(target, out=out, **kwargs)
    assert result.verification is not None
    assert result.verification.ok, [str(f) for f in result.verification.findings]
    config = json.loads((out / "config.json").read_text())
    generated = sorted(out.glob("configuration_*.py")) + sorted(out.glob("modeling_*.py"))
    assert len(generated) == 2
    ruff_clean(generated)
    report = _train_in_fresh_process(out, tmp)
    _check_trained(report, config["auto_map"])
    return result, config, report


@pytest.mark.slow
def test_encoder_sequence_first(research: Callable[..., Path], tmp_path: Path) -> None:
    """(a) batch-first ids, sequence-first hidden states, True-means-padding mask, a second
    file imported relatively; trained weights passed with --weights."""
    import torch

    folder = research("encoder")
    weights = tmp_path / "encoder.pt"
    state = {"module." + k: v for k, v in _build_encoder(folder).state_dict().items()}
    torch.save(state, weights)  # DDP-style prefix, as trained checkpoints often have

    result, config, _ = _wrap_and_check(
        folder, f"{folder / 'encoder.py'}:TinyEncoder", tmp_path, weights=weights, name="tiny-enc"
    )
    f = result.forward
    assert (f.input_seq_first, f.output_seq_first, f.mask_style, f.causal) == (
        False,
        True,
        "pad",
        False,
    )
    assert config["model_type"] == "tiny-enc"
    assert set(config["auto_map"]) == {
        "AutoConfig",
        "AutoModel",
        "AutoModelForMaskedLM",
        "AutoModelForSequenceClassification",
        "AutoModelForTokenClassification",
    }
    assert {"encoder.py", "layers.py"} <= set(result.files)
    assert result.weights == str(weights)
    with safe_open(str(result.out / "model.safetensors"), "pt") as fh:
        keys = set(fh.keys())
        assert all(k.startswith("model.") for k in keys)
        torch.testing.assert_close(
            fh.get_tensor("model.word_embedding.weight"), state["module.word_embedding.weight"]
        )
    modeling = (result.out / "modeling_tiny_enc.py").read_text()
    assert "output.transpose(0, 1)" in modeling
    assert "attention_mask == 0" in modeling
    assert '"lm_head.weight": "model.word_embedding.weight"' in modeling


def _build_encoder(folder: Path):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "enc_pkg", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None
    (folder / "__init__.py").write_text("")
    pkg = importlib.util.module_from_spec(spec)
    sys.modules["enc_pkg"] = pkg
    try:
        import torch
        from enc_pkg.encoder import TinyEncoder  # type: ignore[import-not-found]

        torch.manual_seed(1)
        return TinyEncoder()
    finally:
        for name in [n for n in sys.modules if n.startswith("enc_pkg")]:
            del sys.modules[name]
        (folder / "__init__.py").unlink()


@pytest.mark.slow
def test_decoder_logits_causal_lm(research: Callable[..., Path], tmp_path: Path) -> None:
    """(b) a decoder returning a dict of logits, with its head tied to its embedding."""
    folder = research("decoder")
    result, config, report = _wrap_and_check(
        folder, f"{folder / 'decoder.py'}:TinyDecoder", tmp_path
    )
    assert result.tasks == ("causal-lm",)
    assert result.forward.causal and result.forward.output_kind == "logits"
    assert config["tie_word_embeddings"] is True
    assert config["use_cache"] is False
    assert "fresh initialisation" in result.weights
    assert report["AutoModelForCausalLM"]["generated_shape"] == [1, 7]
    with safe_open(str(result.out / "model.safetensors"), "pt") as fh:
        assert "model.head.weight" not in set(fh.keys())  # the tie target is not stored
        assert "model.tok.weight" in set(fh.keys())
    modeling = (result.out / "modeling_tiny_decoder.py").read_text()
    assert "class TinyDecoderForCausalLM(TinyDecoderPreTrainedModel, GenerationMixin):" in modeling
    assert '"model.head.weight": "model.tok.weight"' in modeling


@pytest.mark.slow
def test_module_built_from_dataclass_config(research: Callable[..., Path], tmp_path: Path) -> None:
    """(c) `Mixer(args)` with a dataclass from another file, a tuple output, no mask; a
    dotted MODULE imported from --code-root, and an --arg override."""
    folder = research("configured")
    (folder / "__init__.py").write_text("")
    result, config, _ = _wrap_and_check(
        folder,
        f"{folder.name}.mixer:Mixer",
        tmp_path,
        code_root=folder.parent,
        args={"depth": 1},
        tasks=["base", "sequence-classification", "token-classification", "masked-lm"],
    )
    assert config["depth"] == 1 and config["dim"] == 20
    assert result.forward.output_path == (0,)
    assert result.forward.mask_arg is None
    modeling = (result.out / "modeling_mixer.py").read_text()
    assert "from .args import MixerArgs" in modeling
    assert "options = MixerArgs(" in modeling
    configuration = (result.out / "configuration_mixer.py").read_text()
    assert 'attribute_map: ClassVar[dict[str, str]] = {"hidden_size": "dim"}' in configuration


COMPUTED_BUFFERS = """
import torch
from torch import nn


class Buf(nn.Module):
    def __init__(self, vocab_size=20, hidden=8, max_len=32):
        super().__init__()
        self.emb = nn.Embedding(vocab_size, hidden)
        causal = torch.tril(torch.ones(max_len, max_len)).bool()
        self.register_buffer("causal", causal, persistent=False)
        self.q = nn.Linear(hidden, hidden)

    def forward(self, input_ids):
        h = self.emb(input_ids)
        s = input_ids.size(1)
        scores = (self.q(h) @ h.transpose(1, 2)).masked_fill(~self.causal[:s, :s], float("-inf"))
        return scores.softmax(-1) @ h
"""


@pytest.mark.slow
def test_buffers_computed_in_init_survive_loading(tmp_path: Path) -> None:
    """from_pretrained builds the model on the meta device: a non-persistent buffer would be
    garbage (NaN outputs) unless _init_weights computes it again."""
    src = tmp_path / "buf.py"
    src.write_text(COMPUTED_BUFFERS)
    result = wrap(f"{src}:Buf", out=tmp_path / "out", tasks=["base", "causal-lm"])
    assert result.verification is not None and result.verification.ok, [
        str(f) for f in result.verification.findings
    ]
    modeling = (tmp_path / "out" / "modeling_buf.py").read_text()
    assert "module.get_buffer(name).copy_(fresh.get_buffer(name))" in modeling
    ruff_clean([tmp_path / "out" / "modeling_buf.py"])


@pytest.mark.slow
def test_question_answering_and_multiple_choice_heads(
    research: Callable[..., Path], tmp_path: Path
) -> None:
    """QA (start/end logits) and multiple-choice ((batch, choices, seq) ids flattened, the
    padding mask converted) heads on the sequence-first encoder; both fine-tune with Trainer."""
    folder = research("encoder")
    result, config, report = _wrap_and_check(
        folder,
        f"{folder / 'encoder.py'}:TinyEncoder",
        tmp_path,
        name="tiny-enc",
        tasks=["question-answering", "multiple-choice"],
    )
    assert result.tasks == ("base", "question-answering", "multiple-choice")
    assert config["architectures"] == ["TinyEncModel"]  # every weight of it is in the file
    assert set(config["auto_map"]) == {
        "AutoConfig",
        "AutoModel",
        "AutoModelForQuestionAnswering",
        "AutoModelForMultipleChoice",
    }
    assert report["AutoModelForQuestionAnswering"]["output"] == "QuestionAnsweringModelOutput"
    assert report["AutoModelForMultipleChoice"]["output"] == "MultipleChoiceModelOutput"
    modeling = (result.out / "modeling_tiny_enc.py").read_text()
    assert "hidden_states = self._run_model(flat_ids, flat_mask)" in modeling
