"""Checks for v5 breaks repaired by ``hf-custom fix`` (HFC257, HFC258): pure ast, never run."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from hf_custom.checks import Skip, register
from hf_custom.checks.context import Context
from hf_custom.findings import Finding, finding


@dataclass(frozen=True)
class RopeRead:
    line: int
    owner: ast.expr  # the rope_scaling expression
    node: ast.expr  # the whole read (Subscript or Call)
    default: ast.expr | None  # .get("type", default)


def _is_rope(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "rope_scaling"
    if isinstance(node, ast.Attribute) and node.attr == "rope_scaling":
        inner = node.value
        while isinstance(inner, ast.Attribute):
            inner = inner.value
        return isinstance(inner, ast.Name)
    return False


def _is_type_key(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == "type"


def _reads_rope_type(node: ast.expr) -> bool:
    """The default already falls back to v5's key: ``.get("type", rs.get("rope_type"))``."""
    return any(isinstance(n, ast.Constant) and n.value == "rope_type" for n in ast.walk(node))


def rope_type_reads(tree: ast.AST) -> list[RopeRead]:
    """``rope_scaling["type"]`` (loads) and ``rope_scaling.get("type"[, d])`` in ``tree``."""
    out = []
    for n in ast.walk(tree):
        if (
            isinstance(n, ast.Subscript)
            and isinstance(n.ctx, ast.Load)
            and _is_rope(n.value)
            and _is_type_key(n.slice)
        ):
            out.append(RopeRead(n.lineno, n.value, n, None))
        elif (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "get"
            and _is_rope(n.func.value)
            and 1 <= len(n.args) <= 2
            and not n.keywords
            and _is_type_key(n.args[0])
            and not (len(n.args) == 2 and _reads_rope_type(n.args[1]))
        ):
            out.append(RopeRead(n.lineno, n.func.value, n, n.args[1] if len(n.args) == 2 else None))
    return sorted(out, key=lambda r: (r.line, r.node.col_offset))


def pad_overrides(tree: ast.AST) -> list[tuple[str, ast.FunctionDef]]:
    """(class name, def) of ``_pad`` methods accepting neither padding_side nor **kwargs."""
    out = []
    for cls in ast.walk(tree):
        if not isinstance(cls, ast.ClassDef) or not any(
            "Tokenizer" in ast.unparse(b) for b in cls.bases
        ):
            continue
        for fn in cls.body:
            if not isinstance(fn, ast.FunctionDef) or fn.name != "_pad":
                continue
            a = fn.args
            names = {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
            if "padding_side" not in names and a.kwarg is None:
                out.append((cls.name, fn))
    return out


def _trees(ctx: Context) -> Iterator[tuple[str, ast.AST]]:
    if not ctx.top_py_files:
        raise Skip("no Python files at the top of the repository")
    for path, source in sorted(ctx.top_py_files.items()):
        try:
            yield path, ast.parse(source)
        except (SyntaxError, ValueError):
            continue  # HFC206


@register("code.v5-rope-type", rules=("HFC257",))
def rope_type(ctx: Context) -> Iterator[Finding]:
    """rope_scaling["type"] reads that v5's standardised rope_parameters break."""
    for path, tree in _trees(ctx):
        for r in rope_type_reads(tree):
            yield finding(
                "HFC257",
                'reads rope_scaling["type"]; transformers v5 names the key "rope_type"',
                path=path,
                line=r.line,
            )


@register("code.v5-tokenizer-pad", rules=("HFC258",))
def tokenizer_pad(ctx: Context) -> Iterator[Finding]:
    """Tokenizer _pad() overrides without the padding_side argument."""
    for path, tree in _trees(ctx):
        for cls, fn in pad_overrides(tree):
            yield finding(
                "HFC258",
                f"{cls}._pad() does not accept padding_side, which transformers passes since 4.45",
                path=path,
                line=fn.lineno,
            )
