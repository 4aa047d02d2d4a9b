"""Tensor names: wrapper prefixes, base_model_prefix, --rename rules (all pure)."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from hf_custom.errors import InputError


@dataclass(frozen=True)
class Rename:
    old: str
    new: str
    reason: str  # "ddp-prefix" | "compile-prefix" | "rename-rule" | "base-model-prefix" | ...

    def to_json(self) -> dict[str, str]:
        return {"old": self.old, "new": self.new, "reason": self.reason}


def strip_wrapper_prefixes(names: Sequence[str]) -> dict[str, tuple[str, str]]:
    """old -> (new, reason) for ``module.`` (DDP, when every name has it) and ``_orig_mod.``
    (torch.compile, anywhere in a name). Names that do not change are left out."""
    current = {n: n for n in names}
    reasons: dict[str, str] = {}
    changed = True
    while changed and current:
        changed = False
        values = list(current.values())
        if all(v.startswith("module.") for v in values):
            for k, v in current.items():
                current[k] = v[len("module.") :]
                reasons.setdefault(k, "ddp-prefix")
            changed = True
        for k, v in current.items():
            if v.startswith("_orig_mod.") or "._orig_mod." in v:
                new = v.removeprefix("_orig_mod.").replace("._orig_mod.", ".")
                current[k] = new
                reasons.setdefault(k, "compile-prefix")
                changed = True
    return {k: (v, reasons[k]) for k, v in current.items() if v != k}


def parse_rename(text: str) -> tuple[str, str]:
    """``REGEX=REPLACEMENT`` -> (regex, replacement); the regex is checked."""
    pattern, sep, repl = text.partition("=")
    if not sep or not pattern:
        raise InputError(
            f"--rename {text!r} is not REGEX=REPLACEMENT",
            hint=r"e.g. --rename '^encoder\.=model.encoder.'",
        )
    try:
        re.compile(pattern)
    except re.error as e:
        raise InputError(f"--rename {text!r}: bad regular expression: {e}") from None
    return pattern, repl


def apply_renames(name: str, renames: Sequence[tuple[str, str]]) -> str:
    for pattern, repl in renames:
        name = re.sub(pattern, repl, name)
    return name


def reconcile_names(
    source: Collection[str],
    expected: Collection[str],
    *,
    base_model_prefix: str | None,
) -> tuple[dict[str, str], list[str], list[str]]:
    """Match checkpoint names to the names the target class expects.

    Returns ``(mapping, unmatched_source, missing_expected)``: mapping holds source -> expected
    for every matched name (identity included); a name matches as is, with
    ``base_model_prefix + "."`` added (weights of the raw research module loaded into the
    wrapper), with it removed, or, when every unmatched name shares one first component that
    no expected name has (a training wrapper such as Lightning's ``self.net``), without it.
    """
    exp = set(expected)
    mapping: dict[str, str] = {}
    unmatched: list[str] = []
    bmp = f"{base_model_prefix}." if base_model_prefix else None
    for s in sorted(source):
        if s in exp:
            mapping[s] = s
        elif bmp and bmp + s in exp:
            mapping[s] = bmp + s
        elif bmp and s.startswith(bmp) and s[len(bmp) :] in exp:
            mapping[s] = s[len(bmp) :]
        else:
            unmatched.append(s)
    firsts = {u.split(".", 1)[0] for u in unmatched if "." in u}
    if unmatched and len(firsts) == 1 and all("." in u for u in unmatched):
        (first,) = firsts
        if not any(e.startswith(first + ".") for e in exp):
            sub, rest = reconcile_names(
                [u.split(".", 1)[1] for u in unmatched], exp, base_model_prefix=base_model_prefix
            )[:2]
            if not rest:
                for u in unmatched:
                    mapping[u] = sub[u.split(".", 1)[1]]
                unmatched = []
    targets = set(mapping.values())
    missing = sorted(exp - targets)
    return mapping, unmatched, missing


def duplicates(mapping: Mapping[str, str]) -> dict[str, list[str]]:
    """new name -> the source names that would all be written under it (only clashes)."""
    seen: dict[str, list[str]] = {}
    for old, new in mapping.items():
        seen.setdefault(new, []).append(old)
    return {k: sorted(v) for k, v in seen.items() if len(v) > 1}
