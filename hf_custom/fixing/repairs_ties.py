"""HFC253 with weights tied by hand: ``self.decoder.weight = self.embeddings.word_embeddings.weight``
in ``__init__`` or ``tie_weights()`` (BERT-style heads; ``self.decoder.bias = self.bias`` in a
head's own ``__init__``), found through the classes the model builds, with their paths.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from hf_custom.codeinfo import ClassInfo, CodePackage

TIE_METHODS = ("__init__", "tie_weights", "_tie_weights")
_TIED_ATTRS = ("weight", "bias")


def _self_path(node: ast.expr) -> str | None:
    """``self.a.b.weight`` -> "a.b.weight"; None for anything else (calls, subscripts)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id == "self" and parts:
        return ".".join(reversed(parts))
    return None


def _call_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


ClassNode = Callable[[ClassInfo], ast.ClassDef | None]


def hand_ties(
    pkg: CodePackage, cls: ClassInfo, class_node: ClassNode, prefix: str = "", depth: int = 0
) -> dict[str, str]:
    """{tied parameter path: source path} of the assignments ``self.X.weight = self.Y...`` in
    ``cls``'s (and its package ancestors') tie methods and in the classes it builds."""
    if depth > 5:
        return {}
    ties: dict[str, str] = {}
    for c in pkg.ancestors(cls):
        node = class_node(c)
        if node is None:
            continue
        for stmt in node.body:
            if not (isinstance(stmt, ast.FunctionDef) and stmt.name in TIE_METHODS):
                continue
            for sub in ast.walk(stmt):
                if not (isinstance(sub, ast.Assign) and len(sub.targets) == 1):
                    continue
                target, value = _self_path(sub.targets[0]), sub.value
                source = _self_path(value)
                if target and source and target.rsplit(".", 1)[-1] in _TIED_ATTRS:
                    ties[prefix + target] = prefix + source
                elif (
                    stmt.name == "__init__"
                    and isinstance(sub.targets[0], ast.Attribute)
                    and _self_path(sub.targets[0]) is not None
                    and "." not in (_self_path(sub.targets[0]) or ".")
                    and isinstance(value, ast.Call)
                ):
                    built = pkg.find_class(_call_name(value.func))
                    if built is not None and built is not cls:
                        sub_prefix = f"{prefix}{sub.targets[0].attr}."
                        ties.update(hand_ties(pkg, built, class_node, sub_prefix, depth + 1))
    return ties


def resolve_listed(keys: list[str], ties: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Each listed key (v4 matched them as patterns, e.g. "predictions.decoder.bias" for
    "cls.predictions.decoder.bias") -> ({target: source} of the hand ties it names, the keys
    that name no hand tie)."""
    pairs: dict[str, str] = {}
    left: list[str] = []
    for key in keys:
        found = {t: s for t, s in ties.items() if t == key or t.endswith("." + key)}
        if found:
            pairs.update(found)
        else:
            left.append(key)
    return pairs, left
