"""Checks for model-side v5 breaks repaired by ``hf-custom fix`` (HFC263-HFC264): pure ast."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from hf_custom.checks import Skip, register
from hf_custom.checks.context import Context
from hf_custom.checks.v5 import Probe, _name_missing
from hf_custom.codeinfo import CodePackage
from hf_custom.findings import Finding, finding

# --- HFC263: _init_weights walking the module's descendants ---------------------------------

LOADED_HELPER = "loaded_from_checkpoint"
RESTORE_HELPER = "restore_non_persistent_buffers"
_WALKS = frozenset({"named_parameters", "parameters", "modules", "named_modules", "children"})


@dataclass(frozen=True)
class InitWalk:
    path: str
    cls: ast.ClassDef
    fn: ast.FunctionDef  # the _init_weights method
    param: str  # its module parameter
    line: int  # the first walk


def _registers_non_persistent(tree: ast.AST) -> bool:
    for n in ast.walk(tree):
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "register_buffer"
            and any(
                k.arg == "persistent" and isinstance(k.value, ast.Constant) and not k.value.value
                for k in n.keywords
            )
        ):
            return True
    return False


def _first_walk(fn: ast.FunctionDef, param: str) -> int | None:
    for n in ast.walk(fn):
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in _WALKS
            and isinstance(n.func.value, ast.Name)
            and n.func.value.id == param
        ):
            return n.lineno
    return None


def _guarded(fn: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Name) and n.id == LOADED_HELPER for n in ast.walk(fn))


def init_walks(pkg: CodePackage, trees: Mapping[str, ast.AST]) -> list[InitWalk]:
    """``_init_weights`` methods of package model classes that walk their module's descendants,
    when some module of the package has a non-persistent buffer (v5 then calls them on modules
    whose weights were all loaded)."""
    if not any(_registers_non_persistent(t) for t in trees.values()):
        return []
    models = {(c.module, c.name) for c in pkg.model_classes()}
    out = []
    for path, tree in sorted(trees.items()):
        stem = path[: -len(".py")] if path.endswith(".py") else path
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef) or (stem, node.name) not in models:
                continue
            for fn in node.body:
                if not (isinstance(fn, ast.FunctionDef) and fn.name == "_init_weights"):
                    continue
                if len(fn.args.args) < 2 or _guarded(fn):
                    continue
                param = fn.args.args[1].arg
                line = _first_walk(fn, param)
                if line is not None:
                    out.append(InitWalk(path, node, fn, param, line))
    return out


# --- HFC264: private GenerationMixin methods removed --------------------------------------

# Removed from GenerationMixin (4.42-4.45 for the first ones, v5 for the last ones).
GENERATION_REMOVED = frozenset(
    {
        "_extract_past_from_model_output",
        "_get_logits_warper",
        "_get_logits_processor_and_warper",
        "_convert_to_standard_cache",
        "_convert_to_rw_cache",
        "_standardize_cache_format",
        "_get_cache",
        "_get_initial_cache_position",
        "_cache_dependant_input_preparation",
        "_prepare_encoder_decoder_kwargs_for_generation",
        "_prefill_chunking",
    }
)
GENERATION_CLASS = "transformers.generation.utils.GenerationMixin"


def generation_method_missing(probe: Probe, name: str) -> bool:
    if name not in GENERATION_REMOVED:
        return False
    if not probe.installed:
        return True
    return _name_missing(GENERATION_CLASS, name)


def removed_generation_calls(pkg: CodePackage, probe: Probe) -> list[tuple[str, str, int]]:
    """(path, method, line) of ``self.<m>(...)`` calls of removed GenerationMixin methods the
    package does not define."""
    defined = {m for cls in pkg.classes() for m in cls.methods}
    out = []
    for path, mod in sorted(pkg.modules.items()):
        for dotted, line in mod.calls:
            owner, _, name = dotted.rpartition(".")
            if owner == "self" and name not in defined and generation_method_missing(probe, name):
                out.append((path, name, line))
    return out


def _trees(ctx: Context) -> dict[str, ast.AST]:
    if not ctx.top_py_files:
        raise Skip("no Python files at the top of the repository")
    out: dict[str, ast.AST] = {}
    for path, text in ctx.top_py_files.items():
        try:
            out[path] = ast.parse(text)
        except (SyntaxError, ValueError):
            continue
    return out


@register("code.v5-init-weights-walk", rules=("HFC263",))
def init_weights_walk(ctx: Context) -> Iterator[Finding]:
    """_init_weights loops over a module's descendants, which v5 calls on loaded modules."""
    for walk in init_walks(ctx.package, _trees(ctx)):
        yield finding(
            "HFC263",
            f"{walk.cls.name}._init_weights walks {walk.param}'s sub-parameters; transformers "
            "v5 calls it on modules with non-persistent buffers after loading, so loaded "
            "weights are overwritten",
            path=walk.path,
            line=walk.line,
        )


@register("code.v5-generation-methods", rules=("HFC264",))
def generation_methods(ctx: Context) -> Iterator[Finding]:
    """Calls of private GenerationMixin methods that transformers removed."""
    if not ctx.top_py_files:
        raise Skip("no Python files at the top of the repository")
    for path, name, line in removed_generation_calls(ctx.package, ctx.probe):
        yield finding(
            "HFC264",
            f"calls self.{name}(), which GenerationMixin no longer has ({ctx.probe.source})",
            path=path,
            line=line,
        )
