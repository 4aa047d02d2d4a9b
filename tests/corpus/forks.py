"""A corpus of forks of transformers' own models, packaged the way researchers package them.

:func:`make_fork` copies ``configuration_X.py`` and ``modeling_X.py`` of a model of the
installed transformers into a checkpoint folder, renames every class the two files define
(``BertModel`` -> ``MyBertModel``) and every ``model_type`` (``bert`` -> ``my_bert``), and leaves
the imports exactly as copied (``from ...modeling_utils import PreTrainedModel``,
``from .configuration_bert import BertConfig`` with the configuration file renamed along). The
weights are a tiny random model saved with ``torch.save(model.state_dict())``; some forks save
them under a DDP ``module.`` prefix or inside a training dict ``{"state_dict": ..., "epoch": ...}``,
some have no ``auto_map`` in config.json. Used by the fork corpus test and by other tests
(``from tests.corpus.forks import FORK_ARCHS, make_fork``).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hf_custom.staging.imports import transformers_source_dir

PREFIX = "My"


@dataclass(frozen=True)
class ForkSpec:
    """One architecture of the corpus: which transformers model, which head, how it is saved."""

    name: str  # transformers' model folder (models/<name>/)
    config_class: str  # transformers' class name of the configuration
    head: str  # transformers' class name of the saved model
    auto_class: str  # the AutoClass the head belongs to
    kind: str  # encoder, decoder, encoder-decoder, vision, audio, multimodal
    config: Mapping[str, Any] = field(default_factory=dict)  # tiny configuration
    weights: str = "bin"  # bin | module (DDP prefix) | train (.pt training dict)
    auto_map: bool = True  # config.json carries auto_map (else the researcher left it out)


_ENC = {
    "vocab_size": 99,
    "hidden_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "max_position_embeddings": 64,
}
_DEC = {
    "vocab_size": 99,
    "hidden_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "num_key_value_heads": 2,
    "intermediate_size": 32,
    "max_position_embeddings": 64,
}
_SEQ2SEQ = {
    "vocab_size": 99,
    "d_model": 16,
    "encoder_layers": 1,
    "decoder_layers": 1,
    "encoder_attention_heads": 2,
    "decoder_attention_heads": 2,
    "encoder_ffn_dim": 32,
    "decoder_ffn_dim": 32,
    "max_position_embeddings": 64,
}
_VIT = {
    "image_size": 32,
    "patch_size": 8,
    "num_channels": 3,
    "hidden_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "num_labels": 3,
}
_W2V = {
    "vocab_size": 32,
    "hidden_size": 16,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "conv_dim": (16, 16),
    "conv_stride": (5, 4),
    "conv_kernel": (10, 8),
    "num_conv_pos_embeddings": 16,
    "num_conv_pos_embedding_groups": 2,
}

SPECS: tuple[ForkSpec, ...] = (
    # encoders
    ForkSpec("bert", "BertConfig", "BertForMaskedLM", "AutoModelForMaskedLM", "encoder", _ENC),
    ForkSpec(
        "roberta",
        "RobertaConfig",
        "RobertaForSequenceClassification",
        "AutoModelForSequenceClassification",
        "encoder",
        {**_ENC, "num_labels": 3, "pad_token_id": 1},
        weights="module",
    ),
    ForkSpec(
        "distilbert",
        "DistilBertConfig",
        "DistilBertForMaskedLM",
        "AutoModelForMaskedLM",
        "encoder",
        {"vocab_size": 99, "dim": 16, "n_layers": 1, "n_heads": 2, "hidden_dim": 32},
        auto_map=False,
    ),
    ForkSpec(
        "electra",
        "ElectraConfig",
        "ElectraForTokenClassification",
        "AutoModelForTokenClassification",
        "encoder",
        {**_ENC, "embedding_size": 16, "num_labels": 4},
        weights="train",
    ),
    ForkSpec(
        "albert",
        "AlbertConfig",
        "AlbertForMaskedLM",
        "AutoModelForMaskedLM",
        "encoder",
        {**_ENC, "embedding_size": 8},
    ),
    ForkSpec(
        "deberta_v2",
        "DebertaV2Config",
        "DebertaV2ForMaskedLM",
        "AutoModelForMaskedLM",
        "encoder",
        {**_ENC, "position_buckets": 16, "max_relative_positions": 32},
    ),
    ForkSpec(
        "xlm_roberta",
        "XLMRobertaConfig",
        "XLMRobertaForMaskedLM",
        "AutoModelForMaskedLM",
        "encoder",
        {**_ENC, "pad_token_id": 1},
    ),
    # decoders
    ForkSpec(
        "gpt2",
        "GPT2Config",
        "GPT2LMHeadModel",
        "AutoModelForCausalLM",
        "decoder",
        {
            "vocab_size": 99,
            "n_embd": 16,
            "n_layer": 1,
            "n_head": 2,
            "n_positions": 64,
            "bos_token_id": 0,
            "eos_token_id": 0,
        },
        weights="module",
    ),
    ForkSpec("llama", "LlamaConfig", "LlamaForCausalLM", "AutoModelForCausalLM", "decoder", _DEC),
    ForkSpec(
        "mistral",
        "MistralConfig",
        "MistralForCausalLM",
        "AutoModelForCausalLM",
        "decoder",
        _DEC,
        weights="train",
    ),
    ForkSpec(
        "qwen2",
        "Qwen2Config",
        "Qwen2ForCausalLM",
        "AutoModelForCausalLM",
        "decoder",
        _DEC,
        auto_map=False,
    ),
    ForkSpec(
        "gpt_neox",
        "GPTNeoXConfig",
        "GPTNeoXForCausalLM",
        "AutoModelForCausalLM",
        "decoder",
        {k: v for k, v in _DEC.items() if k != "num_key_value_heads"},
    ),
    ForkSpec(
        "opt",
        "OPTConfig",
        "OPTForCausalLM",
        "AutoModelForCausalLM",
        "decoder",
        {
            "vocab_size": 99,
            "hidden_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "ffn_dim": 32,
            "word_embed_proj_dim": 16,
            "max_position_embeddings": 64,
        },
    ),
    ForkSpec(
        "phi",
        "PhiConfig",
        "PhiForCausalLM",
        "AutoModelForCausalLM",
        "decoder",
        _DEC,
        weights="module",
    ),
    ForkSpec(
        "gemma",
        "GemmaConfig",
        "GemmaForCausalLM",
        "AutoModelForCausalLM",
        "decoder",
        {**_DEC, "head_dim": 8},
    ),
    ForkSpec(
        "bloom",
        "BloomConfig",
        "BloomForCausalLM",
        "AutoModelForCausalLM",
        "decoder",
        {"vocab_size": 99, "hidden_size": 16, "n_layer": 1, "n_head": 2},
    ),
    # encoder-decoders
    ForkSpec(
        "t5",
        "T5Config",
        "T5ForConditionalGeneration",
        "AutoModelForSeq2SeqLM",
        "encoder-decoder",
        {
            "vocab_size": 99,
            "d_model": 16,
            "d_kv": 8,
            "d_ff": 32,
            "num_layers": 1,
            "num_decoder_layers": 1,
            "num_heads": 2,
            "relative_attention_num_buckets": 8,
            "decoder_start_token_id": 0,
        },
    ),
    ForkSpec(
        "bart",
        "BartConfig",
        "BartForConditionalGeneration",
        "AutoModelForSeq2SeqLM",
        "encoder-decoder",
        _SEQ2SEQ,
        weights="module",
    ),
    ForkSpec(
        "pegasus",
        "PegasusConfig",
        "PegasusForConditionalGeneration",
        "AutoModelForSeq2SeqLM",
        "encoder-decoder",
        _SEQ2SEQ,
        auto_map=False,
    ),
    # vision
    ForkSpec(
        "vit",
        "ViTConfig",
        "ViTForImageClassification",
        "AutoModelForImageClassification",
        "vision",
        _VIT,
    ),
    ForkSpec(
        "deit",
        "DeiTConfig",
        "DeiTForImageClassification",
        "AutoModelForImageClassification",
        "vision",
        _VIT,
        weights="train",
    ),
    ForkSpec(
        "convnext",
        "ConvNextConfig",
        "ConvNextForImageClassification",
        "AutoModelForImageClassification",
        "vision",
        {
            "num_channels": 3,
            "num_stages": 2,
            "hidden_sizes": [8, 16],
            "depths": [1, 1],
            "num_labels": 3,
        },
    ),
    ForkSpec(
        "resnet",
        "ResNetConfig",
        "ResNetForImageClassification",
        "AutoModelForImageClassification",
        "vision",
        {
            "num_channels": 3,
            "embedding_size": 8,
            "hidden_sizes": [8, 16],
            "depths": [1, 1],
            "num_labels": 3,
        },
    ),
    # audio
    ForkSpec("wav2vec2", "Wav2Vec2Config", "Wav2Vec2ForCTC", "AutoModelForCTC", "audio", _W2V),
    ForkSpec(
        "hubert",
        "HubertConfig",
        "HubertForSequenceClassification",
        "AutoModelForAudioClassification",
        "audio",
        {**_W2V, "num_labels": 3},
        weights="module",
    ),
    ForkSpec(
        "whisper",
        "WhisperConfig",
        "WhisperForConditionalGeneration",
        "AutoModelForSpeechSeq2Seq",
        "audio",
        {
            "vocab_size": 99,
            "num_mel_bins": 8,
            "d_model": 16,
            "encoder_layers": 1,
            "decoder_layers": 1,
            "encoder_attention_heads": 2,
            "decoder_attention_heads": 2,
            "encoder_ffn_dim": 32,
            "decoder_ffn_dim": 32,
            "max_source_positions": 16,
            "max_target_positions": 32,
            "decoder_start_token_id": 1,
            "pad_token_id": 0,
            "bos_token_id": 1,
            "eos_token_id": 2,
            "suppress_tokens": None,
            "begin_suppress_tokens": None,
        },
    ),
    # multimodal
    ForkSpec(
        "clip",
        "CLIPConfig",
        "CLIPModel",
        "AutoModel",
        "multimodal",
        {
            "projection_dim": 8,
            "text_config": {**_ENC, "bos_token_id": 0, "eos_token_id": 2, "pad_token_id": 1},
            "vision_config": {**_VIT, "num_labels": 2},
        },
    ),
    ForkSpec(
        "siglip",
        "SiglipConfig",
        "SiglipModel",
        "AutoModel",
        "multimodal",
        {
            "text_config": {**_ENC, "vocab_size": 99},
            "vision_config": {**_VIT, "num_labels": 2},
        },
        weights="train",
    ),
)

FORKS: dict[str, ForkSpec] = {s.name: s for s in SPECS}
FORK_ARCHS: tuple[str, ...] = tuple(FORKS)


def _defined_classes(text: str) -> set[str]:
    return {n.name for n in ast.parse(text).body if isinstance(n, ast.ClassDef)}


def renamed(name: str) -> str:
    """The fork's name of a transformers class (``BertModel`` -> ``MyBertModel``)."""
    return f"{PREFIX}{name}"


def fork_model_type(model_type: str) -> str:
    return f"my_{model_type}"


def _rename_config_dict(d: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in d.items():
        if key == "model_type" and isinstance(value, str):
            value = fork_model_type(value)
        elif isinstance(value, dict) and "model_type" in value:
            value = _rename_config_dict(value)
        out[key] = value
    return out


def _source_texts(spec: ForkSpec) -> dict[str, str]:
    root = transformers_source_dir()
    assert root is not None, "transformers is not installed"
    d = root / "models" / spec.name
    return {
        f"{kind}_{spec.name}.py": (d / f"{kind}_{spec.name}.py").read_text(encoding="utf-8")
        for kind in ("configuration", "modeling")
    }


def _rename_sources(texts: Mapping[str, str]) -> dict[str, str]:
    classes: set[str] = set()
    for text in texts.values():
        classes |= _defined_classes(text)
    pattern = re.compile(r"\b(" + "|".join(sorted(classes, key=len, reverse=True)) + r")\b")
    out = {}
    for fname, text in texts.items():
        text = pattern.sub(lambda m: renamed(m.group(1)), text)
        text = re.sub(
            r'^(\s+model_type\s*=\s*)"([\w-]+)"',
            lambda m: f'{m.group(1)}"{fork_model_type(m.group(2))}"',
            text,
            flags=re.MULTILINE,
        )
        out[fname] = text
    return out


def tiny_model(spec: ForkSpec) -> Any:
    """The transformers model the fork is a copy of, tiny and random (seeded)."""
    import torch
    import transformers

    config_cls = getattr(transformers, spec.config_class)
    head_cls = getattr(transformers, spec.head)
    torch.manual_seed(0)
    config = config_cls(**spec.config)
    model = head_cls(config)
    model.eval()
    return model


def make_fork(arch_name: str, dest: Path | str) -> Path:
    """Write the fork checkpoint folder of ``arch_name`` (one of FORK_ARCHS) at ``dest``."""
    import torch

    spec = FORKS[arch_name]
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for fname, text in _rename_sources(_source_texts(spec)).items():
        (dest / fname).write_text(text, encoding="utf-8")
    model = tiny_model(spec)
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    config = _rename_config_dict(model.config.to_dict())
    config["architectures"] = [renamed(spec.head)]
    config.pop("transformers_version", None)
    if spec.auto_map:
        config["auto_map"] = {
            "AutoConfig": f"configuration_{spec.name}.{renamed(spec.config_class)}",
            spec.auto_class: f"modeling_{spec.name}.{renamed(spec.head)}",
        }
    else:
        config.pop("auto_map", None)
    (dest / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    if spec.weights == "module":
        torch.save({f"module.{k}": v for k, v in state.items()}, dest / "pytorch_model.bin")
    elif spec.weights == "train":
        torch.save({"state_dict": state, "epoch": 3, "step": 120}, dest / "checkpoint.pt")
    else:
        torch.save(state, dest / "pytorch_model.bin")
    return dest


def source_state_dict(arch_name: str) -> dict[str, Any]:
    """The tensors the fork of ``arch_name`` was saved with (names as the model has them)."""
    return {k: v.detach().clone() for k, v in tiny_model(FORKS[arch_name]).state_dict().items()}


def fork_spec(arch_name: str) -> ForkSpec:
    return FORKS[arch_name]


__all__ = [
    "FORKS",
    "FORK_ARCHS",
    "ForkSpec",
    "fork_model_type",
    "fork_spec",
    "make_fork",
    "renamed",
    "source_state_dict",
]
