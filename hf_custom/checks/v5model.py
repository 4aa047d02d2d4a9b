"""Checks for model-side v5 breaks repaired by ``hf-custom fix`` (HFC263-HFC266): pure ast."""

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


# --- HFC265: tokenizer attributes set after super().__init__() -------------------------------

# What the base tokenizer's __init__ calls (transformers >= 4.34: _add_tokens -> get_vocab ...).
INIT_CALLED = frozenset(
    {
        "get_vocab",
        "vocab_size",
        "__len__",
        "_add_tokens",
        "_convert_token_to_id",
        "_convert_id_to_token",
        "_tokenize",
        "convert_tokens_to_ids",
        "get_added_vocab",
        "_update_trie",
    }
)
# Attributes the base tokenizers' __init__ sets (4.57 and 5.24): never moved before it.
TOKENIZER_BASE_ATTRS = frozenset(
    {
        "SPECIAL_TOKENS_ATTRIBUTES",
        "backend",
        "chat_template",
        "clean_up_tokenization_spaces",
        "deprecation_warnings",
        "extra_special_tokens",
        "files_loaded",
        "init_inputs",
        "init_kwargs",
        "model_input_names",
        "model_max_length",
        "name_or_path",
        "padding_side",
        "split_special_tokens",
        "tokens_trie",
        "total_vocab_size",
        "truncation_side",
        "verbose",
    }
)


@dataclass(frozen=True)
class LateAttrs:
    path: str
    cls: ast.ClassDef
    init: ast.FunctionDef
    call: ast.stmt  # the super().__init__(...) statement
    needed: tuple[str, ...]  # attributes set after it that the base __init__ reaches
    movable: tuple[ast.stmt, ...]  # the statements right after it that can go before it


def _self_attr(node: ast.AST) -> str | None:
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    ):
        return node.attr
    return None


def _is_super_init(stmt: ast.stmt) -> bool:
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return False
    f = stmt.value.func
    if not (isinstance(f, ast.Attribute) and f.attr == "__init__"):
        return False
    inner = f.value
    return (
        isinstance(inner, ast.Call)
        and isinstance(inner.func, ast.Name)
        and inner.func.id == "super"
    ) or (isinstance(inner, ast.Name) and inner.id.endswith("Tokenizer"))


def _reads(node: ast.AST) -> set[str]:
    return {a for n in ast.walk(node) if (a := _self_attr(n)) is not None}


def _reached(cls: ast.ClassDef) -> set[str]:
    """self attributes read by the methods the base __init__ calls (and what they call)."""
    methods = {
        m.name: m for m in cls.body if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
    }
    # the base __init__ calls _add_tokens; the base's own _add_tokens calls the others
    roots = {"_add_tokens"} if "_add_tokens" in methods else INIT_CALLED
    todo = [n for n in roots if n in methods]
    seen: set[str] = set()
    attrs: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for attr in _reads(methods[name]):
            if attr in methods:
                todo.append(attr)
            else:
                attrs.add(attr)
    return attrs


def _movable_run(
    body: list[ast.stmt], start: int, methods: set[str], call: ast.stmt
) -> tuple[ast.stmt, ...]:
    """The statements from ``body[start]`` on that read nothing super().__init__ sets."""
    known: set[str] = set()
    run: list[ast.stmt] = []
    for stmt in body[start:]:
        if not isinstance(stmt, ast.Assign):
            break
        targets = [_self_attr(t) for t in stmt.targets]
        if any(t is None or t in TOKENIZER_BASE_ATTRS or t in methods for t in targets):
            break
        reads = _reads(stmt.value)
        if not reads <= known or any(
            isinstance(n, ast.Call) and _self_attr(n.func) for n in ast.walk(stmt.value)
        ):
            break
        if any(isinstance(n, ast.Name) and n.id == "super" for n in ast.walk(stmt.value)):
            break
        if set(targets) & _reads(call):  # the call reads it: it must keep seeing the old value
            break
        known |= {t for t in targets if t}
        run.append(stmt)
    return tuple(run)


def late_tokenizer_attrs(pkg: CodePackage, trees: Mapping[str, ast.AST]) -> list[LateAttrs]:
    """Tokenizer classes whose __init__ sets, after super().__init__(), attributes that the
    methods the base __init__ calls read (they fail with AttributeError inside it). The base
    always calls ``_add_tokens``: a class overriding it (Qwen-v1's) is judged by its own."""
    wanted = {(c.module, c.name) for c in pkg.tokenizer_classes()}
    out = []
    for path, tree in sorted(trees.items()):
        stem = path[: -len(".py")] if path.endswith(".py") else path
        for cls in ast.walk(tree):
            if not isinstance(cls, ast.ClassDef) or (stem, cls.name) not in wanted:
                continue
            init = next(
                (m for m in cls.body if isinstance(m, ast.FunctionDef) and m.name == "__init__"),
                None,
            )
            if init is None:
                continue
            idx = next((i for i, s in enumerate(init.body) if _is_super_init(s)), None)
            if idx is None:
                continue
            after: set[str] = set()
            for stmt in init.body[idx + 1 :]:
                for n in ast.walk(stmt):
                    if isinstance(n, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                        tgts = n.targets if isinstance(n, ast.Assign) else [n.target]
                        after |= {a for t in tgts if (a := _self_attr(t))}
            before = {
                a
                for stmt in init.body[:idx]
                for n in ast.walk(stmt)
                if isinstance(n, ast.Assign)
                for t in n.targets
                if (a := _self_attr(t))
            }
            needed = sorted((after - before) & _reached(cls))
            if not needed:
                continue
            methods = {m.name for m in cls.body if isinstance(m, ast.FunctionDef)}
            run = _movable_run(init.body, idx + 1, methods, init.body[idx])
            out.append(LateAttrs(path, cls, init, init.body[idx], tuple(needed), run))
    return out


@register("code.tokenizer-late-attributes", rules=("HFC265",))
def late_attributes(ctx: Context) -> Iterator[Finding]:
    """Tokenizer attributes set after super().__init__(), which already needs them."""
    for late in late_tokenizer_attrs(ctx.package, _trees(ctx)):
        names = ", ".join(late.needed)
        yield finding(
            "HFC265",
            f"{late.cls.name}.__init__ sets {names} after super().__init__(), which calls "
            "get_vocab() (transformers >= 4.34) and fails with AttributeError",
            path=late.path,
            line=late.call.lineno,
        )


# --- HFC266: prepare_inputs_for_generation reading an attention_mask v5 drops --------------

MASK = "attention_mask"


@dataclass(frozen=True)
class MaskRead:
    path: str
    cls: ast.ClassDef
    fn: ast.FunctionDef
    line: int  # the first unguarded read
    kwargs: str | None  # the **kwargs name when the mask is read from it, else None
    input_ids: str  # the method's first parameter (the full sequence)


def _mask_checked(fn: ast.FunctionDef, kwargs: str | None) -> bool:
    """True when the method tests the mask for None / presence somewhere."""
    for n in ast.walk(fn):
        if isinstance(n, ast.Compare):
            parts = [n.left, *n.comparators]
            if any(isinstance(p, ast.Constant) and p.value == MASK for p in parts) and any(
                isinstance(op, (ast.In, ast.NotIn)) for op in n.ops
            ):
                return True
            if any(isinstance(op, (ast.Is, ast.IsNot)) for op in n.ops) and any(
                (isinstance(p, ast.Name) and p.id == MASK) or _is_mask_get(p, kwargs) for p in parts
            ):
                return True
        if isinstance(n, (ast.If, ast.IfExp, ast.While)) and (
            (isinstance(n.test, ast.Name) and n.test.id == MASK)
            or (
                isinstance(n.test, ast.UnaryOp)
                and isinstance(n.test.operand, ast.Name)
                and n.test.operand.id == MASK
            )
        ):
            return True
    return False


def _is_mask_get(node: ast.AST, kwargs: str | None) -> bool:
    return (
        kwargs is not None
        and isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == kwargs
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and node.args[0].value == MASK
    )


def _unguarded_read(fn: ast.FunctionDef, kwargs: str | None, named: bool) -> int | None:
    for n in ast.walk(fn):
        if (
            kwargs is not None
            and isinstance(n, ast.Subscript)
            and isinstance(n.ctx, ast.Load)
            and isinstance(n.value, ast.Name)
            and n.value.id == kwargs
            and isinstance(n.slice, ast.Constant)
            and n.slice.value == MASK
        ):
            return n.lineno
        if (
            named
            and isinstance(n, (ast.Attribute, ast.Subscript))
            and isinstance(n.ctx, ast.Load)
            and isinstance(n.value, ast.Name)
            and n.value.id == MASK
        ):
            return n.lineno
    return None


def dropped_mask_reads(pkg: CodePackage, trees: Mapping[str, ast.AST]) -> list[MaskRead]:
    """Package model classes whose own ``prepare_inputs_for_generation`` uses the attention
    mask without a None check: v5's generate() passes None when the mask is all ones."""
    models = {(c.module, c.name) for c in pkg.model_classes()}
    out = []
    for path, tree in sorted(trees.items()):
        stem = path[: -len(".py")] if path.endswith(".py") else path
        for cls in ast.walk(tree):
            if not isinstance(cls, ast.ClassDef) or (stem, cls.name) not in models:
                continue
            for fn in cls.body:
                if not (
                    isinstance(fn, ast.FunctionDef)
                    and fn.name == "prepare_inputs_for_generation"
                    and len(fn.args.args) >= 2
                ):
                    continue
                kwargs = fn.args.kwarg.arg if fn.args.kwarg else None
                named = any(a.arg == MASK for a in fn.args.args + fn.args.kwonlyargs)
                if _mask_checked(fn, None if named else kwargs):
                    continue
                line = _unguarded_read(fn, None if named else kwargs, named)
                if line is not None:
                    read = MaskRead(
                        path, cls, fn, line, None if named else kwargs, fn.args.args[1].arg
                    )
                    out.append(read)
    return out


@register("code.v5-generation-attention-mask", rules=("HFC266",))
def generation_attention_mask(ctx: Context) -> Iterator[Finding]:
    """prepare_inputs_for_generation reading an attention mask that v5's generate() drops."""
    for read in dropped_mask_reads(ctx.package, _trees(ctx)):
        yield finding(
            "HFC266",
            f"{read.cls.name}.prepare_inputs_for_generation uses attention_mask without a None "
            "check; transformers v5's generate() passes None when the mask is all ones",
            path=read.path,
            line=read.line,
        )
