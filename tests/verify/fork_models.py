"""Forks of transformers' own models, the commonest custom code on the Hub, built in a tmp dir.

``make_fork(root, "llama", heads=...)`` takes the fork corpus's copy of the installed
transformers' ``modeling_llama.py`` and ``configuration_llama.py`` (tests/corpus/forks.py, the one
fork generator: every class renamed ``Llama`` -> ``MyLlama``, model type ``my_llama``), rewrites
the package-relative imports (``from ...modeling_utils import``) to ``transformers.`` ones, as a
staged fork has them, and writes config.json (tiny sizes, auto_map for several heads,
architectures) and model.safetensors (from the built-in class of the same architecture, so the
weights are those a user's checkpoint would hold).

This imports torch and transformers in the test process (to build the weights): call it from
session fixtures only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Family:
    module: str  # transformers.models.<module>
    prefix: str  # class-name prefix in that module
    model_type: str
    config: Mapping[str, Any]  # tiny sizes
    heads: Mapping[str, str] = field(default_factory=dict)  # AutoClass -> class suffix
    # what staging does to the modeling file before verification (shield optional imports)
    staged_edits: tuple[tuple[str, str], ...] = ()


_DECODER_HEADS = {
    "AutoModel": "Model",
    "AutoModelForCausalLM": "ForCausalLM",
    "AutoModelForSequenceClassification": "ForSequenceClassification",
    "AutoModelForTokenClassification": "ForTokenClassification",
    "AutoModelForQuestionAnswering": "ForQuestionAnswering",
}
_DECODER = {
    "vocab_size": 128,
    "hidden_size": 16,
    "intermediate_size": 32,
    "num_hidden_layers": 1,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "max_position_embeddings": 64,
    "pad_token_id": 0,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "num_labels": 3,
}

FAMILIES = {
    "llama": Family("llama", "Llama", "llama", _DECODER, _DECODER_HEADS),
    "qwen2": Family("qwen2", "Qwen2", "qwen2", _DECODER, _DECODER_HEADS),
    "t5": Family(
        "t5",
        "T5",
        "t5",
        {
            "vocab_size": 128,
            "d_model": 16,
            "d_kv": 8,
            "d_ff": 32,
            "num_layers": 1,
            "num_decoder_layers": 1,
            "num_heads": 2,
            "relative_attention_num_buckets": 8,
            "relative_attention_max_distance": 16,
            "pad_token_id": 0,
            "eos_token_id": 1,
            "decoder_start_token_id": 0,
            "num_labels": 2,
        },
        {
            "AutoModel": "Model",
            "AutoModelForSeq2SeqLM": "ForConditionalGeneration",
            "AutoModelForSequenceClassification": "ForSequenceClassification",
            "AutoModelForTokenClassification": "ForTokenClassification",
            "AutoModelForQuestionAnswering": "ForQuestionAnswering",
        },
    ),
    "vit": Family(
        "vit",
        "ViT",
        "vit",
        {
            "hidden_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 32,
            "image_size": 16,
            "patch_size": 8,
            "num_channels": 3,
            "num_labels": 3,
        },
        {"AutoModel": "Model", "AutoModelForImageClassification": "ForImageClassification"},
    ),
    "wav2vec2": Family(
        "wav2vec2",
        "Wav2Vec2",
        "wav2vec2",
        {
            "vocab_size": 32,
            "hidden_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "intermediate_size": 32,
            "conv_dim": [8, 8],
            "conv_stride": [5, 2],
            "conv_kernel": [10, 3],
            "num_conv_pos_embeddings": 8,
            "num_conv_pos_embedding_groups": 2,
            "num_labels": 3,
            "pad_token_id": 0,
        },
        {
            "AutoModel": "Model",
            "AutoModelForCTC": "ForCTC",
            "AutoModelForAudioClassification": "ForSequenceClassification",
        },
        (
            (
                "\n            import deepspeed\n",
                "\n            try:\n                import deepspeed\n"
                "            except ImportError:\n                raise\n",
            ),
        ),
    ),
}


def staged_source(text: str) -> str:
    """A fork's file as staging leaves it: the package-relative imports that reach above the
    package (``from ...modeling_utils``, ``from ..llama.x``) rewritten to ``transformers.``."""
    text = re.sub(r"from \.\.\.(\w)", r"from transformers.\1", text)
    text = re.sub(r"from \.\.\. import", "from transformers import", text)
    return re.sub(r"from \.\.(\w)", r"from transformers.models.\1", text)


def make_fork(
    root: Path,
    name: str,
    *,
    heads: Sequence[str] | None = None,
    architecture: str | None = None,
    edit: Mapping[str, Sequence[tuple[str, str]]] | None = None,
) -> Path:
    """Write a fork of transformers' ``name`` model family into ``root``; return ``root``.

    The files come from the fork corpus's generator (tests/corpus/forks.py: copied and renamed,
    ``Llama`` -> ``MyLlama``, model_type ``my_llama``), then staged (:func:`staged_source`).
    ``heads``: the AutoClasses in auto_map (default: every one of the family). ``architecture``:
    the AutoClass whose class goes into ``architectures`` and whose built-in twin provides the
    weights (default: the first head that is not AutoModel). ``edit`` maps a file name
    (``modeling`` or ``configuration``) to (old, new) text replacements applied after forking.
    """
    import transformers
    from safetensors.torch import save_file

    from tests.corpus.forks import FORKS, _rename_sources, _source_texts, fork_model_type, renamed

    family = FAMILIES[name]
    root.mkdir(parents=True, exist_ok=True)
    texts = _rename_sources(_source_texts(FORKS[family.module]))
    for kind in ("configuration", "modeling"):
        fname = f"{kind}_{family.module}.py"
        text = staged_source(texts[fname])
        fixups = family.staged_edits if kind == "modeling" else ()
        for old, new in [*fixups, *(edit or {}).get(kind, ())]:
            assert old in text, f"{old!r} not in the forked {kind} file"
            text = text.replace(old, new)
        (root / fname).write_text(text, encoding="utf-8")

    chosen = list(heads or family.heads)
    arch = architecture or next((h for h in chosen if h != "AutoModel"), chosen[0])
    config_cls = getattr(transformers, f"{family.prefix}Config")
    config = config_cls(**family.config)
    builtin = getattr(transformers, f"{family.prefix}{family.heads[arch]}")
    import torch

    torch.manual_seed(0)
    model = builtin(config).eval()
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    tied = dict(getattr(model, "all_tied_weights_keys", {}) or {})
    for target in tied:
        state.pop(target, None)
    save_file(state, str(root / "model.safetensors"), metadata={"format": "pt"})

    data = config.to_dict()
    data.pop("transformers_version", None)
    data["model_type"] = fork_model_type(family.model_type)
    data["architectures"] = [renamed(f"{family.prefix}{family.heads[arch]}")]
    module = family.module
    auto_map = {"AutoConfig": f"configuration_{module}.{renamed(family.prefix + 'Config')}"}
    for head in chosen:
        auto_map[head] = f"modeling_{module}.{renamed(family.prefix + family.heads[head])}"
    data["auto_map"] = auto_map
    (root / "config.json").write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    return root
