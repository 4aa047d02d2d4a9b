"""HFC240: code that needs a CUDA GPU to construct the model (pure ast, never run).

Construction means a class's ``__init__`` (what ``from_pretrained`` runs) and the module's own
top-level statements (what importing it runs). A use under a test that mentions CUDA or the
device (``if torch.cuda.is_available():``, ``x if torch.cuda.is_available() else y``,
``SUPPORT_CUDA and ...``) is guarded and never reported; ``device=x.device`` is not CUDA.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from hf_custom.checks import Skip, register
from hf_custom.checks.context import Context
from hf_custom.findings import Finding, finding

# torch.cuda functions that answer on a machine without a GPU (used to decide, not to require)
_PROBES = frozenset(
    {"is_available", "device_count", "is_bf16_supported", "is_initialized", "is_built"}
)


@dataclass(frozen=True)
class GpuUse:
    path: str
    line: int
    where: str  # "Class.__init__" or "module level"
    what: str  # the construct, as written


def _mentions_device(node: ast.AST) -> bool:
    text = ast.unparse(node).lower()
    return "cuda" in text or "device" in text or "gpu" in text


def _cuda_string(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value == "cuda" or node.value.startswith("cuda:"))
    )


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _use(node: ast.AST) -> str | None:
    """The GPU requirement ``node`` itself expresses, if any."""
    if isinstance(node, ast.Assert) and "torch.cuda" in ast.unparse(node.test):
        return f"assert {ast.unparse(node.test)}"
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "cuda"
        and not _dotted(func).startswith("torch.cuda")
    ):
        return f"{ast.unparse(func)}()"
    name = _dotted(func)
    if name.startswith("torch.cuda.") and name.split(".")[-1] not in _PROBES:
        return f"{name}()"
    if name in {"torch.device"} and node.args and _cuda_string(node.args[0]):
        return ast.unparse(node)
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "to"
        and node.args
        and _cuda_string(node.args[0])
    ):
        return ast.unparse(node)
    for kw in node.keywords:
        if kw.arg == "device" and _cuda_string(kw.value):
            return f"device={ast.unparse(kw.value)}"
    return None


def _scan(stmts: list[ast.stmt], path: str, where: str, out: list[GpuUse]) -> None:
    """Unguarded GPU uses in ``stmts`` (nested functions and classes are not run here)."""

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            return
        if isinstance(node, (ast.If, ast.IfExp, ast.While)) and _mentions_device(node.test):
            return  # decided at run time: the CPU path exists
        if isinstance(node, ast.BoolOp) and _mentions_device(node.values[0]):
            return
        if isinstance(node, ast.Try):
            return  # the author handles the failure
        what = _use(node)
        if what is not None:
            out.append(GpuUse(path, getattr(node, "lineno", 0), where, what))
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    for stmt in stmts:
        visit(stmt)


def gpu_only_uses(trees: Mapping[str, ast.AST]) -> list[GpuUse]:
    out: list[GpuUse] = []
    for path, tree in sorted(trees.items()):
        if not isinstance(tree, ast.Module):
            continue
        _scan(tree.body, path, "module level", out)
        for cls in ast.walk(tree):
            if not isinstance(cls, ast.ClassDef):
                continue
            for fn in cls.body:
                if isinstance(fn, ast.FunctionDef) and fn.name == "__init__":
                    _scan(fn.body, path, f"{cls.name}.__init__", out)
    return sorted(out, key=lambda u: (u.path, u.line))


@register("code.gpu-only-construction", rules=("HFC240",))
def gpu_only(ctx: Context) -> Iterator[Finding]:
    """Model construction that needs a CUDA GPU."""
    if not ctx.top_py_files:
        raise Skip("no Python files at the top of the repository")
    trees: dict[str, ast.AST] = {}
    for path, text in ctx.top_py_files.items():
        try:
            trees[path] = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
    for use in gpu_only_uses(trees):
        yield finding(
            "HFC240",
            f"{use.where} requires a CUDA GPU (`{use.what}`): the model cannot be built on a "
            "CPU, so neither verification nor CPU users can load it",
            path=use.path,
            line=use.line,
        )
