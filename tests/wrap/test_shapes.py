"""Research modules in the shapes people copy: nanoGPT and minGPT (with their training clutter)
are wrapped; image and float-feature models and Lightning training code are refused with a
message that says what to wrap instead."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import shape_sources as sources
from safetensors.torch import load_file
from wrap_sources import ruff_clean

from hf_custom.errors import InputError
from hf_custom.wrapping import wrap


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "research"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def _verified(result) -> None:
    assert result.verification is not None
    assert result.verification.ok, [str(f) for f in result.verification.findings]


@pytest.mark.slow
def test_nanogpt_with_its_clutter(tmp_path: Path) -> None:
    """GPTConfig dataclass, ModuleDict layers, wte tied to lm_head, a from_pretrained classmethod
    importing transformers, configure_optimizers, estimate_mfu: wrapped with no --arg."""
    folder = _folder(tmp_path, {"model.py": sources.NANOGPT})
    out = tmp_path / "out"
    result = wrap(f"{folder / 'model.py'}:GPT", out=out, name="nano-gpt")
    _verified(result)
    f = result.forward
    assert result.tasks == ("causal-lm",) and result.config_kind == "dataclass"
    assert (f.targets_arg, f.last_only, f.ignore_index) == ("targets", True, -1)
    assert f.cache is None  # no cache of its own: generate() reruns the text
    config = json.loads((out / "config.json").read_text())
    assert config["tie_word_embeddings"] is True and config["use_cache"] is False
    ruff_clean([out / "modeling_nano_gpt.py", out / "configuration_nano_gpt.py"])


@pytest.mark.slow
def test_mingpt_cfgnode_with_model_type_presets(tmp_path: Path) -> None:
    """get_default_config() -> CfgNode from a utils file, a `model_type` preset (a name
    PreTrainedConfig uses itself), configure_optimizers(train_config)."""
    folder = _folder(tmp_path, {"model.py": sources.MINGPT, "utils.py": sources.MINGPT_UTILS})
    out = tmp_path / "out"
    args = {"model_type": "gpt-nano", "vocab_size": 50, "block_size": 16}
    result = wrap(f"{folder / 'model.py'}:GPT", out=out, args=args, name="min-gpt")
    _verified(result)
    assert result.config_kind == "factory" and result.tasks == ("causal-lm",)
    assert result.renamed == {"model_type": "research_model_type"}
    config = json.loads((out / "config.json").read_text())
    assert (config["model_type"], config["research_model_type"]) == ("min-gpt", "gpt-nano")
    assert set(result.vendored) == {"model.py", "utils.py"}


@pytest.mark.parametrize(
    ("files", "target", "words"),
    [
        (
            {"net.py": sources.TIMM_LIKE},
            "net.py:TinyConvNet",
            ("an image model", "forward_features"),
        ),
        ({"reg.py": sources.FEATURES}, "reg.py:Regressor", ("float features", "12 inputs")),
    ],
)
def test_images_and_float_features_refused(
    tmp_path: Path, files: dict[str, str], target: str, words: tuple[str, ...]
) -> None:
    folder = _folder(tmp_path, files)
    with pytest.raises(InputError) as err:
        wrap(f"{folder / target}", out=tmp_path / "out", verify=False)
    message = str(err.value)
    assert "has no nn.Embedding: wrap makes text models" in message
    assert all(w in message for w in words), message
    assert "not supported by wrap yet" in (err.value.hint or "")
    assert not (tmp_path / "out").exists()


def test_lightning_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "lightning", None)  # as on a machine without it
    folder = _folder(tmp_path, {"lit.py": sources.LIGHTNING, "net.py": sources.LIGHTNING_NET})
    with pytest.raises(InputError) as err:
        wrap(f"{folder / 'lit.py'}:LitCharLM", out=tmp_path / "out", verify=False)
    assert "lightning" in str(err.value)
    assert "wrap the plain nn.Module it trains instead" in (err.value.hint or "")


@pytest.fixture
def lightning_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A minimal stand-in for the `lightning` package (not installed here): the real base class's
    name and module, nothing else of its behaviour is needed by wrap."""
    site = tmp_path / "site"
    (site / "lightning").mkdir(parents=True)
    (site / "lightning" / "__init__.py").write_text(
        "import torch\n\n\nclass LightningModule(torch.nn.Module):\n"
        "    def save_hyperparameters(self, *args, **kwargs):\n        pass\n"
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "lightning", raising=False)
    yield
    sys.modules.pop("lightning", None)


def test_lightning_module_refused_and_its_network_wrapped(
    tmp_path: Path, lightning_package: None
) -> None:
    import torch

    folder = _folder(tmp_path, {"lit.py": sources.LIGHTNING, "net.py": sources.LIGHTNING_NET})
    with pytest.raises(InputError) as err:
        wrap(f"{folder / 'lit.py'}:LitCharLM", out=tmp_path / "refused", verify=False)
    assert "LitCharLM is a LightningModule" in str(err.value)
    hint = err.value.hint or ""
    assert f"hf-custom wrap {folder / 'net.py'}:CharLM" in hint and "`self.model`" in hint

    # the checkpoint Lightning saves: the LightningModule's state dict (the network under its
    # attribute name, `model.`) beside the loop's own state
    spec = importlib.util.spec_from_file_location("charlm_net", folder / "net.py")
    assert spec is not None and spec.loader is not None
    net_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(net_module)
    net = net_module.CharLM()
    state = {f"model.{k}": v for k, v in net.state_dict().items()}
    ckpt = tmp_path / "last.ckpt"
    torch.save({"epoch": 3, "global_step": 120, "state_dict": state}, ckpt)
    out = tmp_path / "out"
    result = wrap(f"{folder / 'net.py'}:CharLM", out=out, weights=ckpt, verify=False)
    assert any("`model.` entries" in n for n in result.notes)
    saved = load_file(str(out / "model.safetensors"))
    for key, value in net.state_dict().items():
        assert torch.equal(saved[f"model.{key}"], value)


@pytest.mark.slow
def test_text_classifier_keeps_its_own_head(tmp_path: Path) -> None:
    """forward returns one vector of class scores per text: sequence classification with the
    module's own classifier (no fresh head, no base model), num_labels from its output."""
    folder = _folder(tmp_path, {"cnn.py": sources.TEXT_CLASSIFIER})
    out = tmp_path / "out"
    result = wrap(f"{folder / 'cnn.py'}:TextCNN", out=out, name="text-cnn")
    _verified(result)
    f = result.forward
    assert (f.output_kind, f.width, f.causal, result.tasks) == (
        "classes",
        5,
        False,
        ("sequence-classification",),
    )
    config = json.loads((out / "config.json").read_text())
    assert len(config["id2label"]) == 5 and "classifier_dropout" not in config
    assert config["architectures"] == ["TextCnnForSequenceClassification"]
    modeling = (out / "modeling_text_cnn.py").read_text()
    assert "self.classifier" not in modeling and "TextCNN scores the classes itself" in modeling
    ruff_clean([out / "modeling_text_cnn.py", out / "configuration_text_cnn.py"])


def test_text_classifier_other_tasks_refused(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"cnn.py": sources.TEXT_CLASSIFIER})
    with pytest.raises(InputError) as err:
        wrap(f"{folder / 'cnn.py'}:TextCNN", out=tmp_path / "o", tasks=["masked-lm"], verify=False)
    assert "one vector per text (5 class scores)" in str(err.value)


@pytest.mark.slow
def test_plain_tensor_attributes(tmp_path: Path) -> None:
    """A tensor the constructor keeps as a plain attribute is rebuilt after from_pretrained (which
    leaves it on the meta device); one that forward sets later (an attention map kept for
    plotting) is not the constructor's and is left alone."""
    folder = _folder(tmp_path, {"viz.py": sources.KEEPS_ATTENTION})
    out = tmp_path / "out"
    result = wrap(f"{folder / 'viz.py'}:Viz", out=out, name="viz-lm")
    _verified(result)
    modeling = (out / "modeling_viz_lm.py").read_text()
    assert 'names = ("scale",)' in modeling and "last_attention" not in modeling
