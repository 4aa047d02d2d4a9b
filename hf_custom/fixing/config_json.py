"""config.json in ``fix``: the normalisation doctor reports (staging's ``normalize_config``),
written back with the file's own layout (indent, key order or sorting, trailing newline).

Only the changes doctor reports as v5 renames or as errors are made (``torch_dtype`` ->
``dtype`` in place, HFC108; a missing ``model_type``, HFC101; a missing ``AutoConfig`` entry,
HFC117), so ``fix`` on its output changes nothing and doctor no longer reports them. Completing
``auto_map`` or ``architectures`` (warnings) changes what users load: publish does it, fix not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from hf_custom.codeinfo import CodePackage
from hf_custom.fixing.model import Repair

CONFIG = "config.json"
_DTYPE_KEYS = frozenset({"dtype", "torch_dtype"})
#: The config.json findings fix repairs.
CONFIG_REPAIRS = frozenset({"HFC101", "HFC108", "HFC117"})


def _rule(change: Any, model_type: object) -> str | None:
    from hf_custom.checks.config import _change_finding

    if change.key in _DTYPE_KEYS:
        return "HFC108"
    f = _change_finding(change.key, change.old, change.new, change.reason, model_type=model_type)
    return f.id if f is not None else None


def _set(cfg: dict[str, Any], key: str, value: Any) -> None:
    head, _, rest = key.partition(".")
    if rest and isinstance(cfg.get(head), dict):
        cfg[head] = dict(cfg[head])
        _set(cfg[head], rest, value)
    elif rest and head not in cfg:
        cfg[head] = {}
        _set(cfg[head], rest, value)
    elif value is None:
        cfg.pop(key, None)
    else:
        cfg[key] = value


def _renamed_in_place(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` with the original key order; ``dtype`` takes ``torch_dtype``'s place."""
    out: dict[str, Any] = {}
    for key in old:
        if key in new:
            out[key] = new[key]
        elif key == "torch_dtype" and "dtype" in new and "dtype" not in old:
            out["dtype"] = new["dtype"]
    for key, value in new.items():
        out.setdefault(key, value)
    return out


def _indent(data: bytes) -> int | str | None:
    """The indent of a JSON object file (None: all on one line)."""
    m = re.search(r"\{\s*?\n([ \t]+)\"", data.decode("utf-8", "replace"))
    if m is None:
        return None
    ws = m.group(1)
    return ws if "\t" in ws else len(ws)


def _line_of(data: bytes, key: str) -> int:
    top = key.split(".")[0]
    for i, line in enumerate(data.splitlines(), 1):
        if line.lstrip().startswith(f'"{top}"'.encode()):
            return i
    return 1


def plan_config(
    data: bytes, package: CodePackage, *, rules: Collection[str]
) -> tuple[bytes | None, list[Repair]]:
    """The repaired config.json (None: nothing to change) and one repair per change made (the
    changes whose rule is in ``rules``)."""
    from hf_custom.staging.config import normalize_config

    try:
        loaded = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None, []  # doctor reports an unreadable config.json
    if not isinstance(loaded, dict) or not (package.config_classes() or package.model_classes()):
        return None, []
    result = normalize_config(loaded, package)
    cfg = dict(loaded)
    repairs: list[Repair] = []
    for change in result.changes:
        rule = _rule(change, loaded.get("model_type"))
        if rule is None or rule not in rules or rule not in CONFIG_REPAIRS:
            continue
        _set(cfg, change.key, change.new)
        if change.key == "dtype" and "torch_dtype" in loaded and change.old is None:
            continue  # one repair: the rename, at torch_dtype's line
        what = (
            f"torch_dtype {change.old!r} renamed dtype (transformers v5)"
            if change.key == "torch_dtype"
            else f"{change.key}: removed ({change.reason})"
            if change.new is None
            else f"{change.key}: {change.old!r} -> {change.new!r} ({change.reason})"
        )
        repairs.append(Repair(path=CONFIG, line=_line_of(data, change.key), rule=rule, change=what))
    if cfg == loaded:
        return None, []
    keys = list(loaded)
    is_sorted = keys == sorted(keys)
    indent = _indent(data)
    ordered = cfg if is_sorted else _renamed_in_place(loaded, cfg)
    ascii_only = all(b < 0x80 for b in data)
    text = json.dumps(ordered, indent=indent, sort_keys=is_sorted, ensure_ascii=ascii_only)
    if data.endswith(b"\n"):
        text += "\n"
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    out = text.encode("utf-8")
    if newline != b"\n":
        out = out.replace(b"\n", newline)
    return out, repairs
