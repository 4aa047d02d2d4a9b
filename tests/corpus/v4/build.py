"""Write a corpus package as a checkpoint folder: weights from the clean code, v4-era code."""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
from pathlib import Path

from tests.checks.repo import SPECIAL_TOKENS, TOKENIZER, TOKENIZER_CONFIG

from .packages import Package


def _state_dict(pkg: Package) -> tuple[dict[str, object], dict[str, object]]:
    """Build the model from the clean code in this process (seeded) -> (state dict, config)."""
    import torch

    with tempfile.TemporaryDirectory(prefix="hfc-v4-corpus-") as tmp:
        name = f"hfc_corpus_{pkg.name}"
        root = Path(tmp) / name
        root.mkdir()
        (root / "__init__.py").write_text("")
        for path, text in pkg.clean.items():
            (root / path).write_text(text)
        sys.path.insert(0, tmp)
        try:
            cmod, ccls = pkg.config_class.split(".")
            mmod, mcls = pkg.model_class.split(".")
            config = getattr(importlib.import_module(f"{name}.{cmod}"), ccls)()
            torch.manual_seed(0)
            model = getattr(importlib.import_module(f"{name}.{mmod}"), mcls)(config)
            state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            cfg = config.to_dict()
        finally:
            sys.path.remove(tmp)
            for mod in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
                del sys.modules[mod]
    return state, cfg


def write_package(pkg: Package, root: Path, *, variant: str = "v4") -> Path:
    """The checkpoint folder of ``pkg`` with its ``v4`` (default) or ``clean`` code."""
    import torch

    state, cfg = _state_dict(pkg)
    root.mkdir(parents=True, exist_ok=True)
    files = pkg.v4() if variant == "v4" else dict(pkg.clean)
    for path, text in files.items():
        (root / path).write_text(text)
    cfg.pop("dtype", None)
    cfg.update(
        auto_map=pkg.auto_map,
        architectures=[pkg.model_class.split(".")[1]],
        torch_dtype="float32",  # v4-era key (repair 11 is publish's normalisation)
        transformers_version="4.44.2",
        use_cache=False,  # no KV cache in these models: generate re-runs the whole prefix
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
    )
    (root / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True, default=str))
    torch.save(state, root / "pytorch_model.bin")
    (root / "tokenizer.json").write_text(json.dumps(TOKENIZER))
    (root / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG))
    (root / "special_tokens_map.json").write_text(json.dumps(SPECIAL_TOKENS))
    return root
