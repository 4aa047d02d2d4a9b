"""Research-module shapes wrap refuses, told apart so that the message says what to do instead.

wrap makes text models: a forward taking token ids. Training code around a network (a
``LightningModule``) and networks on images or float features get a message naming the way
forward, rather than a guess about a vocabulary size. Weights saved from training code keep the
network's attribute name as a prefix (Lightning's ``model.``): :func:`inner_state` finds it.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hf_custom.errors import InputError

TRAINING_WRAPPERS = {
    ("lightning", "LightningModule"),
    ("pytorch_lightning", "LightningModule"),
}


def refuse_training_wrapper(cls: type, module: Any, *, source: Path) -> None:
    """Refuse a ``LightningModule`` (training code around a network), naming the network."""
    wrapper = next(
        (c for c in cls.__mro__ if (c.__module__.split(".")[0], c.__name__) in TRAINING_WRAPPERS),
        None,
    )
    if wrapper is None:
        return
    inner = [
        (attr, type(child))
        for attr, child in module.named_children()
        if not type(child).__module__.startswith(("torch.", "lightning", "pytorch_lightning"))
    ]
    hint = "wrap the plain nn.Module it trains instead (MODULE:CLASS of the network)"
    if inner:
        attr, net = max(inner, key=lambda item: _size(getattr(module, item[0])))
        where = _file_of(net) or source
        hint = (
            f"wrap the network it trains instead: hf-custom wrap {where}:{net.__name__} (its "
            f"`self.{attr}`); with --weights, a Lightning checkpoint's `{attr}.` prefix is "
            "removed"
        )
    raise InputError(
        f"{cls.__name__} is a {wrapper.__name__}: training code around a network, not the "
        "network a Hugging Face model keeps",
        path=str(source),
        hint=hint,
    )


def no_embedding(module: Any) -> InputError:
    """The refusal for a module without an ``nn.Embedding``: images or float features."""
    import torch

    name = type(module).__name__
    first = next((m for _, m in module.named_modules() if not list(m.children())), None)
    if hasattr(module, "forward_features") or isinstance(first, torch.nn.modules.conv._ConvNd):
        looks = "an image model (a convolution first" + (
            ", forward_features + a head)" if hasattr(module, "forward_features") else ")"
        )
    elif isinstance(first, torch.nn.Linear):
        looks = f"a model on float features (an nn.Linear of {first.in_features} inputs first)"
    else:
        looks = "a model on something other than token ids"
    return InputError(
        f"{name} has no nn.Embedding: wrap makes text models, whose forward takes token ids, "
        f"and {name} looks like {looks}",
        hint="models on images or float features (regression, tabular classification) are not "
        "supported by wrap yet: write the PreTrainedModel by hand (README: From a plain "
        "nn.Module); if the module does take token ids, pass --arg vocab_size=N",
    )


def inner_state(state: Mapping[str, Any], expected: set[str]) -> tuple[dict[str, Any], str | None]:
    """``state`` as it is when it fits; else the entries under the one prefix (``model.``) whose
    names are exactly the module's own (a checkpoint of training code around the network)."""
    if set(state) & expected or not expected:
        return dict(state), None
    heads = sorted({k.split(".", 1)[0] for k in state if "." in k})
    fits = []
    for head in heads:
        sub = {k[len(head) + 1 :]: v for k, v in state.items() if k.startswith(head + ".")}
        if set(sub) == expected:
            fits.append((head, sub))
    if len(fits) != 1:
        return dict(state), None
    return fits[0][1], fits[0][0]


def _size(m: Any) -> int:
    return sum(p.numel() for p in m.parameters()) if hasattr(m, "parameters") else 0


def _file_of(cls: type) -> str | None:
    try:
        return str(Path(inspect.getfile(cls)))
    except (TypeError, OSError):
        return None
