"""HFC204 for optional helper modules: who imports a package file, and whether every import of
it is optional.

transformers' ``check_imports`` reads every file of a remote-code package that is imported
relatively (on the Hub path, even a file imported inside ``try``) and requires each third-party
module imported outside a ``try`` in it. A helper file (``flash_attn_triton.py`` importing
``triton`` at module level) that the rest of the package only imports optionally (``try: from
.flash_attn_triton import ...`` / inside ``if is_x_available():`` / inside a function) therefore
blocks a load that would work without it. Putting the helper's import in ``try: ... except
ImportError: raise`` changes nothing at run time (the same ImportError, raised at the same
place, reaches the same guard) and takes it out of ``check_imports``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from hf_custom.codeinfo import ImportInfo, ModuleInfo

_CATCHES_IMPORT_ERROR = frozenset(
    {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
)


@dataclass(frozen=True)
class Importer:
    """One import of a package file by another: where, and whether it is optional."""

    path: str
    line: int
    optional: bool
    why: str  # "in try/except ImportError", "inside a function", ... or why it is required


def _handler_catches(handler: ast.ExceptHandler) -> bool:
    kind = handler.type
    if kind is None:
        return True  # bare except
    kinds = kind.elts if isinstance(kind, ast.Tuple) else [kind]
    for k in kinds:
        name = k.attr if isinstance(k, ast.Attribute) else getattr(k, "id", "")
        if name in _CATCHES_IMPORT_ERROR:
            return True
    return False


def _try_catches(tree: ast.Module, imp: ImportInfo) -> bool:
    """Whether a ``try`` whose body holds the import at ``imp``'s position catches ImportError."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        for stmt in node.body:
            for sub in ast.walk(stmt):
                if (
                    isinstance(sub, (ast.Import, ast.ImportFrom))
                    and sub.lineno == imp.line
                    and sub.col_offset == imp.col
                ):
                    return any(_handler_catches(h) for h in node.handlers)
    return False


def _targets(imp: ImportInfo, stem: str, own: frozenset[str]) -> bool:
    """Whether ``imp`` imports the package file ``stem`` (``from .stem import``, ``from . import
    stem``, or the absolute ``from stem import`` of a vendored file)."""
    if imp.level == 1:
        if imp.module == stem:
            return True
        return imp.module == "" and stem in {n for n, _ in imp.aliases}
    return imp.level == 0 and imp.module == stem and stem in own


def importers(
    stem: str, modules: Mapping[str, ModuleInfo], trees: Mapping[str, ast.Module]
) -> Iterator[Importer]:
    """Every import of the package file ``stem`` (``flash_attn_triton``) by the other files."""
    own = frozenset(p[: -len(".py")] for p in modules)
    for path, mod in sorted(modules.items()):
        if path[: -len(".py")] == stem:
            continue
        for imp in mod.imports:
            if not _targets(imp, stem, own):
                continue
            if imp.in_try:
                ok = _try_catches(trees[path], imp)
                why = "in try/except ImportError" if ok else "in a try that lets ImportError out"
            elif any(n.startswith("is_") and n.endswith("_available") for n in imp.if_calls):
                ok, why = True, "under if is_..._available()"
            elif imp.in_function:
                ok, why = True, "inside a function (only that code path needs it)"
            else:
                ok, why = False, "at module level, outside try"
            yield Importer(path=path, line=imp.line, optional=ok, why=why)


def optional_helper(
    path: str, modules: Mapping[str, ModuleInfo], trees: Mapping[str, ast.Module]
) -> tuple[bool, str]:
    """(True, how) when ``path`` is imported by the package and every import of it is optional;
    else (False, " (the importer that requires it)", or "" when nothing imports it)."""
    found = list(importers(path[: -len(".py")], modules, trees))
    if not found:
        return False, ""  # the package's entry files (modeling_x.py): a plain requirement
    required = [i for i in found if not i.optional]
    if required:
        first = required[0]
        return False, f" ({first.path}:{first.line} imports {path} {first.why})"
    where = ", ".join(f"{i.path}:{i.line}" for i in found)
    return True, f"every import of {path} is optional ({where})"


# --- pkg_resources (removed from setuptools) -> importlib.metadata / packaging ----------------

_PKG_ATTRS = {  # pkg_resources.X -> (replacement, the import it needs)
    "parse_version": ("packaging.version.parse", "import packaging.version"),
    "DistributionNotFound": (
        "importlib.metadata.PackageNotFoundError",
        "import importlib.metadata",
    ),
    "packaging": ("packaging", "import packaging.version"),
}
_FROM_NAMES = {  # from pkg_resources import X -> the import binding X the same way
    "parse_version": "from packaging.version import parse as {as_}",
    "DistributionNotFound": "from importlib.metadata import PackageNotFoundError as {as_}",
    "packaging": "import packaging.version",
}


@dataclass(frozen=True)
class PkgResourcesPlan:
    """How to rewrite one ``pkg_resources`` import and its uses: byte-free (ast positions), the
    caller turns them into edits. ``uses``: (node, replacement text); ``imports``: the lines
    replacing the import statement; ``cause``: why it cannot be rewritten (then nothing else)."""

    uses: tuple[tuple[ast.expr, str], ...] = ()
    imports: tuple[str, ...] = ()
    cause: str = ""


def _version_call(node: ast.AST, bound: str) -> ast.Call | None:
    """``bound.get_distribution(x).version`` -> the get_distribution call."""
    if (
        isinstance(node, ast.Attribute)
        and node.attr == "version"
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr == "get_distribution"
        and isinstance(node.value.func.value, ast.Name)
        and node.value.func.value.id == bound
    ):
        return node.value
    return None


def plan_pkg_resources(
    tree: ast.Module, imp: ImportInfo, text_of: Callable[[ast.AST], str]
) -> PkgResourcesPlan:
    if imp.is_from:
        lines: list[str] = []
        for name, asname in imp.aliases:
            if name not in _FROM_NAMES or (name == "packaging" and asname not in (None, name)):
                return PkgResourcesPlan(
                    cause=f"`from pkg_resources import {name}` has no rewrite here: port it to "
                    "importlib.metadata by hand"
                )
            lines.append(_FROM_NAMES[name].format(as_=asname or name))
        return PkgResourcesPlan(imports=tuple(dict.fromkeys(lines)))
    bound = (imp.aliases[0][1] or "pkg_resources") if imp.aliases else "pkg_resources"
    uses: list[tuple[ast.expr, str]] = []
    needs: list[str] = []
    inner: set[int] = set()
    for node in ast.walk(tree):
        call = _version_call(node, bound)
        if call is not None and isinstance(node, ast.expr):
            args = ", ".join(text_of(a) for a in call.args)
            uses.append((node, f"importlib.metadata.version({args})"))
            needs.append("import importlib.metadata")
            inner.add(id(call.func))
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        if node.value.id != bound or id(node) in inner:
            continue
        if node.attr not in _PKG_ATTRS:
            return PkgResourcesPlan(
                cause=f"uses pkg_resources.{node.attr} (line {node.lineno}): port it to "
                "importlib.metadata / importlib.resources by hand"
            )
        new, need = _PKG_ATTRS[node.attr]
        uses.append((node, new))
        needs.append(need)
    owners = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):  # the bare name used otherwise (passed around, aliased)
        if isinstance(node, ast.Name) and node.id == bound and id(node) not in owners:
            return PkgResourcesPlan(cause=f"`{bound}` is used as a value (line {node.lineno})")
    return PkgResourcesPlan(uses=tuple(uses), imports=tuple(dict.fromkeys(needs)))
