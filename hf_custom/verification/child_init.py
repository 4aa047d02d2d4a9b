"""Verification child, part 6: is ``_init_weights`` why loaded tensors differ from the file?

transformers v5 loads the weights, then runs the model's ``_init_weights`` on every module it
does not consider initialised: one that holds a tensor the file lacks (a non-persistent buffer,
a missing parameter). The v5 initialisers (``transformers.initialization``) skip tensors that
were loaded; code that writes ``param.data`` itself, or reaches into a submodule's parameters
by name (``for name, p in module.named_parameters(): if name == "c_proj.weight": ...``, as
Qwen v1 does), overwrites loaded values.

:func:`init_weights_cause` replays that: for each differing tensor it calls the model's
``_init_weights`` on the module that owns it and on its ancestors (up to a few levels, never the
whole model), each time with the file's values in place, and reports which call changes it.
The module's tensors are restored after each call. Only modules transformers would call it on
count: those holding a tensor the file lacks.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

MAX_LEVELS = 3  # ancestors of the owning module tried (the model itself is never called)


def _where(func: Any) -> str:
    try:
        path = os.path.basename(inspect.getsourcefile(func) or "")  # noqa: PTH119
        return f"{path}:{inspect.getsourcelines(func)[1]}"
    except (OSError, TypeError):
        return ""


def _defining_class(model: Any) -> Any:
    for klass in type(model).__mro__:
        if "_init_weights" in vars(klass):
            return klass
    return None


def _is_package_code(klass: Any) -> bool:
    return str(getattr(klass, "__module__", "")).startswith("transformers_modules")


def _reset_flags(module: Any) -> None:
    """Clear transformers' "already initialised" marks, as on a module it is about to init."""
    for m in module.modules():
        if getattr(m, "_is_hf_initialized", False):
            m._is_hf_initialized = False
        for t in list(m.parameters(recurse=False)) + list(m.buffers(recurse=False)):
            if getattr(t, "_is_hf_initialized", False):
                t._is_hf_initialized = False


def _rewrites(init: Callable[[Any], Any], module: Any, rel: str, ref: Any) -> bool:
    """Whether ``init(module)`` changes ``module``'s tensor ``rel`` when it holds ``ref`` (the
    file's value). The module's tensors and marks are restored after; a failing call: False."""
    import torch

    if rel not in dict(module.named_parameters()):
        return False
    target = module.get_parameter(rel)
    tensors = list(module.parameters()) + list(module.buffers())
    saved = [t.detach().clone() for t in tensors]
    flags = [getattr(t, "_is_hf_initialized", None) for t in tensors]
    try:
        with torch.no_grad():
            target.copy_(ref.to(target.dtype))
            _reset_flags(module)
            init(module)
            return not torch.equal(target.detach(), ref.to(target.dtype))
    except Exception:
        return False
    finally:
        with torch.no_grad():
            for i, t in enumerate(tensors):
                t.data.copy_(saved[i])
                if flags[i] is not None:
                    t._is_hf_initialized = flags[i]


def _lacks(module: Any, path: str, present: Callable[[str], bool]) -> bool:
    """Whether ``module`` holds a tensor of its own that the file does not (a missing parameter,
    a non-persistent buffer): transformers then runs ``_init_weights`` on it after loading."""
    pre = f"{path}." if path else ""
    own = [n for n, _ in module.named_parameters(recurse=False)]
    own += [n for n, b in module.named_buffers(recurse=False) if b is not None]
    return any(not present(pre + n) for n in own)


def init_weights_cause(
    model: Any, differ: list[str], present: Callable[[str], bool], lookup: Callable[[str], Any]
) -> str:
    """The sentence naming ``_init_weights`` as the cause of ``differ`` ("" when it does not
    explain them, or is transformers' own). ``lookup(key)``: the file's tensor for a model key;
    ``present(key)``: whether the file gives that key a value (ties included)."""
    klass = _defining_class(model)
    if klass is None or not _is_package_code(klass):
        return ""
    init = model._init_weights
    found: dict[str, str] = {}
    for key in differ:
        ref = lookup(key)
        parts = key.split(".")
        if ref is None:
            continue
        # the owning module, then its ancestors (never the model itself): the modules
        # transformers calls _init_weights on are those holding a tensor the file lacks
        for level in range(1, min(MAX_LEVELS + 1, len(parts))):
            path, rel = ".".join(parts[:-level]), ".".join(parts[-level:])
            try:
                module = model.get_submodule(path)
            except AttributeError:
                break
            if _lacks(module, path, present) and _rewrites(init, module, rel, ref):
                found[key] = path
                break
    if not found:
        return ""
    names = sorted(found)
    shown = ", ".join(
        f"{k} (when called on `{found[k]}`, {type(model.get_submodule(found[k])).__name__})"
        for k in names[:3]
    )
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    reach = any(found[k] != k.rpartition(".")[0] for k in names)
    how = (
        "it writes a submodule's parameters by name, which transformers does not protect"
        if reach
        else "it writes the tensor in place (`.data`, `torch.nn.init`) instead of through "
        "transformers.initialization, which skips loaded tensors"
    )
    return (
        f"{klass.__name__}._init_weights ({_where(vars(klass)['_init_weights'])}) overwrites "
        f"{shown}{more}: from_pretrained runs it, after loading, on each module holding a tensor "
        f"the weights file lacks (a missing parameter or a non-persistent buffer); {how}"
    )


__all__ = ["init_weights_cause"]
