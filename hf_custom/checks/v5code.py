"""Checks for v5 breaks repaired by ``hf-custom fix`` (HFC257-HFC262, HFC700): pure ast, never run."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hf_custom.checks import Skip, register
from hf_custom.checks.context import Context
from hf_custom.codeinfo import ClassInfo, CodePackage
from hf_custom.findings import Finding, finding

# Names v4-era configs gave the layer count that generate() reads as num_hidden_layers.
LAYER_COUNT_ALIASES = ("n_layer", "n_layers", "num_layers", "nlayers", "num_blocks")
CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel")
GENERATIVE_AUTO = frozenset({"AutoModelForCausalLM", "AutoModelForSeq2SeqLM"})


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


@dataclass(frozen=True)
class RopeNoneTest:
    line: int
    owner: ast.expr  # the ``X.rope_scaling`` expression
    node: ast.Compare  # ``X.rope_scaling is None`` / ``is not None``
    negated: bool  # ``is not None``


def _reads_default_rope_type(node: ast.AST) -> bool:
    """``X.rope_scaling.get("rope_type") == "default"`` (our repair's second test)."""
    return (
        isinstance(node, ast.Compare)
        and isinstance(node.left, ast.Call)
        and isinstance(node.left.func, ast.Attribute)
        and node.left.func.attr == "get"
        and bool(node.left.args)
        and isinstance(node.left.args[0], ast.Constant)
        and node.left.args[0].value == "rope_type"
    )


def rope_none_tests(tree: ast.AST) -> list[RopeNoneTest]:
    """``X.rope_scaling is None`` / ``is not None`` tests of a config's attribute (not of a local
    or parameter named rope_scaling: that is the caller's value, which v5 does not touch), unless
    already joined with a ``.get("rope_type") == "default"`` test."""
    done: set[int] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.BoolOp) and any(_reads_default_rope_type(v) for v in n.values):
            done.update(id(v) for v in n.values)
    out = []
    for n in ast.walk(tree):
        if not (
            isinstance(n, ast.Compare)
            and id(n) not in done
            and len(n.ops) == 1
            and isinstance(n.ops[0], (ast.Is, ast.IsNot))
            and isinstance(n.comparators[0], ast.Constant)
            and n.comparators[0].value is None
            and isinstance(n.left, ast.Attribute)
            and _is_rope(n.left)
        ):
            continue
        out.append(RopeNoneTest(n.lineno, n.left, n, isinstance(n.ops[0], ast.IsNot)))
    return sorted(out, key=lambda r: (r.line, r.node.col_offset))


# v4 Cache API that v5 removed: method -> the hf_custom_compat helper standing for it.
# get_max_length is not here: v5's caches define it (code copied from v5, e.g. a fork of bloom,
# calls it), so a call of it is not a break.
CACHE_METHODS = {
    "get_usable_length": "cache_get_usable_length",
    "to_legacy_cache": "cache_to_legacy",
}
CACHE_CLASSES = frozenset({"Cache", "DynamicCache", "SinkCache", "StaticCache"})


@dataclass(frozen=True)
class CacheUse:
    line: int
    node: ast.expr  # the whole call (or attribute read for seen_tokens)
    owner: ast.expr  # the cache (or cache class) expression
    what: str  # "get_usable_length", "from_legacy_cache", "seen_tokens", ...
    args: tuple[ast.expr, ...]


def _imports_cache_api(tree: ast.AST) -> bool:
    for n in ast.walk(tree):
        module = n.module or "" if isinstance(n, ast.ImportFrom) else ""
        if module.startswith("transformers") and (
            "cache_utils" in module or any(a.name in CACHE_CLASSES for a in n.names)  # type: ignore[attr-defined]
        ):
            return True
    return False


def cache_api_uses(tree: ast.AST) -> list[CacheUse]:
    """Calls of the v4 Cache methods v5 removed (``past.get_usable_length(n, i)``,
    ``.to_legacy_cache()``, ``DynamicCache.from_legacy_cache(p)``) and
    ``.seen_tokens`` reads, in a file that imports transformers' cache classes."""
    if not _imports_cache_api(tree):
        return []
    out: list[CacheUse] = []
    calls: set[int] = set()
    for n in ast.walk(tree):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and not n.keywords):
            continue
        attr, owner = n.func.attr, n.func.value
        if attr in CACHE_METHODS or (
            attr == "from_legacy_cache"
            and isinstance(owner, ast.Name)
            and owner.id in CACHE_CLASSES
        ):
            if any(isinstance(a, ast.Starred) for a in n.args):
                continue
            out.append(CacheUse(n.lineno, n, owner, attr, tuple(n.args)))
            calls.add(id(n.func))
    for n in ast.walk(tree):
        if (
            isinstance(n, ast.Attribute)
            and n.attr == "seen_tokens"
            and isinstance(n.ctx, ast.Load)
            and id(n) not in calls
            and not (isinstance(n.value, ast.Name) and n.value.id == "self")
        ):
            out.append(CacheUse(n.lineno, n, n.value, "seen_tokens", ()))
    return sorted(out, key=lambda u: (u.line, u.node.col_offset))


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


@register("code.v5-rope-scaling-none", rules=("HFC700",))
def rope_scaling_none(ctx: Context) -> Iterator[Finding]:
    """``config.rope_scaling is None`` tests that v5's standardised rope_parameters flip."""
    for path, tree in _trees(ctx):
        for t in rope_none_tests(tree):
            op = "is not None" if t.negated else "is None"
            yield finding(
                "HFC700",
                f"tests rope_scaling {op}; transformers v5 fills "
                '{"rope_type": "default", ...} for a config without RoPE scaling',
                path=path,
                line=t.line,
            )


@register("code.v5-cache-api", rules=("HFC701",))
def cache_api(ctx: Context) -> Iterator[Finding]:
    """Calls of the v4 Cache API (get_usable_length, from_legacy_cache, ...) v5 removed."""
    for path, tree in _trees(ctx):
        for use in cache_api_uses(tree):
            yield finding(
                "HFC701",
                f"uses the cache's {use.what}, which transformers v5 removed "
                "(get_usable_length is gone since 4.56)",
                path=path,
                line=use.line,
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


# --- HFC259: the layer count under another name ---------------------------------------------


def class_node(tree: ast.AST, cls: ClassInfo) -> ast.ClassDef | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == cls.name and node.lineno == cls.line:
            return node
    return None


def _assigned(node: ast.ClassDef) -> set[str]:
    """``self.X = ...`` targets anywhere in the class."""
    return {
        n.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Attribute)
        and isinstance(n.ctx, ast.Store)
        and isinstance(n.value, ast.Name)
        and n.value.id == "self"
    }


def _generative(pkg: CodePackage, config: Mapping[str, Any]) -> bool:
    if any(c.name.endswith(CAUSAL_SUFFIXES) for c in pkg.model_classes()):
        return True
    auto_map = config.get("auto_map")
    return isinstance(auto_map, dict) and any(a in GENERATIVE_AUTO for a in auto_map)


@dataclass(frozen=True)
class LayerAlias:
    cls: ClassInfo  # the config class
    path: str  # its file
    alias: str  # the name it stores the layer count under


def layer_count_alias(
    pkg: CodePackage, config: Mapping[str, Any] | None, trees: Mapping[str, ast.AST]
) -> LayerAlias | None:
    """The generative package's config class keeping its layer count under another name."""
    from hf_custom.staging.config import _pick_config_class

    cfg = dict(config or {})
    cls = _pick_config_class(cfg, pkg, [])
    if cls is None or not _generative(pkg, cfg):
        return None
    names: set[str] = set(cfg)
    for c in pkg.ancestors(cls):
        names.update(c.init_params, c.attrs)
        amap = c.attrs.get("attribute_map")
        if isinstance(amap, dict):
            names.update(str(k) for k in amap)
        elif "attribute_map" in c.attrs:
            return None  # not a literal: cannot tell
        path = next((p for p, m in pkg.modules.items() if c in m.classes), "")
        node = class_node(trees[path], c) if path in trees else None
        if node is not None:
            names.update(_assigned(node))
    if "num_hidden_layers" in names:
        return None
    path = next((p for p, m in pkg.modules.items() if cls in m.classes), "")
    for alias in LAYER_COUNT_ALIASES:
        if alias in names:
            return LayerAlias(cls, path, alias)
    return None


# --- HFC260: a config __post_init__ v5's dataclass config calls -----------------------------


def _calls_super_post_init(fn: ast.FunctionDef) -> bool:
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == "__post_init__"
        and isinstance(n.func.value, ast.Call)
        and isinstance(n.func.value.func, ast.Name)
        and n.func.value.func.id == "super"
        for n in ast.walk(fn)
    )


def config_post_inits(
    pkg: CodePackage, trees: Mapping[str, ast.AST]
) -> list[tuple[str, ClassInfo, ast.ClassDef, ast.FunctionDef]]:
    """(path, class, class node, def) of config classes defining ``__post_init__`` without
    handing v5's base its kwargs (no ``super().__post_init__(...)`` call)."""
    out = []
    for path, mod in sorted(pkg.modules.items()):
        tree = trees.get(path)
        for cls in mod.classes:
            if "__post_init__" not in cls.methods or not pkg.is_config_class(cls) or tree is None:
                continue
            node = class_node(tree, cls)
            for fn in node.body if node else []:
                if (
                    isinstance(fn, ast.FunctionDef)
                    and fn.name == "__post_init__"
                    and not _calls_super_post_init(fn)
                    and node is not None
                ):
                    out.append((path, cls, node, fn))
    return out


def _parsed(ctx: Context) -> dict[str, ast.AST]:
    return dict(_trees(ctx))


@register("code.v5-layer-count-name", rules=("HFC259",))
def layer_count_name(ctx: Context) -> Iterator[Finding]:
    """Generative packages whose config stores num_hidden_layers under another name."""
    trees = _parsed(ctx)
    found = layer_count_alias(ctx.package, ctx.config, trees)
    if found is not None:
        yield finding(
            "HFC259",
            f"{found.cls.name} stores the layer count as {found.alias}, but generate() reads "
            "config.num_hidden_layers to build its cache",
            path=found.path,
            line=found.cls.line,
        )


@register("code.v5-config-post-init", rules=("HFC260",))
def config_post_init(ctx: Context) -> Iterator[Finding]:
    """Config classes defining a __post_init__ that v5's dataclass config calls with kwargs."""
    for path, cls, _, fn in config_post_inits(ctx.package, _parsed(ctx)):
        yield finding(
            "HFC260",
            f"{cls.name} defines __post_init__, which transformers v5's dataclass config calls "
            "with the load's extra kwargs instead of its own",
            path=path,
            line=fn.lineno,
        )


# --- HFC261: generation parameters v5 drops from config.json, read by the code ---------------


def undeclared_config_reads(
    pkg: CodePackage, cls: ClassInfo, config: Mapping[str, Any] | None, rule: str
) -> list[tuple[str, int, str]]:
    """(attr, line, path) of the code's ``config.X`` reads the config class ``cls`` does not
    declare: for HFC115 v4 base defaults config.json lacks; for HFC261 generation parameters,
    which v5 drops from config.json whatever it holds."""
    from hf_custom.staging.config import (
        GENERATION_PARAMS,
        V4_BASE_DEFAULTS,
        V5_BASE_ATTRS,
        _declared_attrs,
    )

    declared = _declared_attrs(pkg, cls)
    cfg = config or {}
    out: list[tuple[str, int, str]] = []
    seen: set[str] = set()
    for path, mod in sorted(pkg.modules.items()):
        for attr, line in mod.config_reads:
            if attr in seen or attr in declared or attr in V5_BASE_ATTRS:
                continue
            if rule == "HFC115" and (attr not in V4_BASE_DEFAULTS or attr in cfg):
                continue
            if rule == "HFC261" and attr not in GENERATION_PARAMS:
                continue
            seen.add(attr)
            out.append((attr, line, path))
    return out


@register("code.v5-dropped-generation-params", rules=("HFC261",))
def dropped_generation_params(ctx: Context) -> Iterator[Finding]:
    """config.max_length / config.use_cache / ... reads the config class does not declare."""
    from hf_custom.staging.config import _pick_config_class

    pkg = ctx.package if ctx.top_py_files else None
    cls = _pick_config_class(dict(ctx.config or {}), pkg, []) if pkg else None
    if pkg is None or cls is None:
        raise Skip("no config class in the code")
    for attr, line, path in undeclared_config_reads(pkg, cls, ctx.config, "HFC261"):
        yield finding(
            "HFC261",
            f"reads config.{attr}, a generation parameter transformers v5 drops from "
            f"config.json unless {cls.name}.__init__ takes it",
            path=path,
            line=line,
        )


# --- HFC252: the loaded classes whose __init__ never reaches post_init ----------------------


@dataclass(frozen=True)
class PostInitGap:
    cls: ClassInfo  # a class users load (or a concrete head) that never reaches post_init
    target: ClassInfo | None  # the class whose __init__ takes the call; None: not safely


def _instantiated(pkg: CodePackage, trees: Mapping[str, ast.AST]) -> set[str]:
    """Model classes called inside another class of the package (layers, wrapped bases)."""
    models = {c.name for c in pkg.model_classes()}
    out: set[str] = set()
    for tree in trees.values():
        for owner in ast.walk(tree):
            if not isinstance(owner, ast.ClassDef):
                continue
            for n in ast.walk(owner):
                if (
                    isinstance(n, ast.Call)
                    and isinstance(n.func, ast.Name)
                    and n.func.id in models
                    and n.func.id != owner.name
                ):
                    out.add(n.func.id)
    return out


def _loaded_names(config: Mapping[str, Any] | None) -> set[str]:
    cfg = config or {}
    names: set[str] = set()
    auto_map = cfg.get("auto_map")
    if isinstance(auto_map, dict):
        for ref in auto_map.values():
            refs = ref if isinstance(ref, list) else [ref]
            names.update(r.rsplit(".", 1)[-1] for r in refs if isinstance(r, str))
    arch = cfg.get("architectures")
    if isinstance(arch, list):
        names.update(a for a in arch if isinstance(a, str))
    return names


def post_init_gaps(
    pkg: CodePackage, config: Mapping[str, Any] | None, trees: Mapping[str, ast.AST]
) -> list[PostInitGap]:
    """Classes that are loaded (auto_map / architectures, or concrete heads: model classes no
    package class derives from or builds as a submodule) whose __init__ chain never calls
    ``self.post_init()``. A base whose subclasses build the modules is never the target."""
    models = pkg.model_classes()
    bases = {(a.module, a.name) for c in models for a in pkg.ancestors(c) if a is not c}
    from hf_custom.staging.automap import task_suffix
    from hf_custom.staging.config import _pick_config_class

    inside = _instantiated(pkg, trees)
    named = _loaded_names(config)
    # publish completes auto_map by naming convention (XConfig -> XModel, XForCausalLM, ...):
    # those classes are loaded too, even when another class builds them as its base model
    config_cls = _pick_config_class(dict(config or {}), pkg, [])
    stem = config_cls.name.removesuffix("Config") if config_cls is not None else None
    if stem:
        named |= {
            c.name
            for c in models
            if (suffix := task_suffix(c.name)) is not None and c.name == stem + suffix
        }
    out: list[PostInitGap] = []
    for cls in models:
        key = (cls.module, cls.name)
        if cls.name not in named and (key in bases or cls.name in inside):
            continue
        chain = list(pkg.ancestors(cls))
        if any(c.calls_post_init for c in chain):
            continue
        owner = next((c for c in chain if "__init__" in c.methods), None)
        if owner is None:
            continue  # transformers' own __init__: nothing built here
        target: ClassInfo | None = owner
        if owner is not cls:
            derived_inits = [
                c
                for c in models
                if c is not owner and "__init__" in c.methods and owner in pkg.ancestors(c)
            ]
            if derived_inits:
                target = None
        out.append(PostInitGap(cls, target))
    return out


# --- HFC262: non-persistent buffers computed in __init__ ------------------------------------

RESTORE_HELPER = "restore_non_persistent_buffers"
REMEMBER_HELPER = "remember_init_args"


def _registers_non_persistent(init: ast.FunctionDef) -> bool:
    for n in ast.walk(init):
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "register_buffer"
            and any(
                k.arg == "persistent"
                and isinstance(k.value, ast.Constant)
                and k.value.value is False
                for k in n.keywords
            )
        ):
            return True
    return False


def _mentions(tree: ast.AST, names: set[str]) -> set[str]:
    """Which of ``names`` an ``_init_weights`` method of ``tree`` refers to (or the helper)."""
    out: set[str] = set()
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef) and fn.name == "_init_weights":
            for n in ast.walk(fn):
                if isinstance(n, ast.Name) and (n.id in names or n.id == RESTORE_HELPER):
                    out.add(n.id)
                elif isinstance(n, ast.Attribute) and n.attr in names:
                    out.add(n.attr)
    return out


def buffer_classes(trees: Mapping[str, ast.AST]) -> list[tuple[str, ast.ClassDef]]:
    """(path, class) of classes whose ``__init__`` registers ``persistent=False`` buffers that
    nothing recomputes after a v5 load (no ``_init_weights`` of the package names the class)."""
    found = []
    for path, tree in sorted(trees.items()):
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            init = next(
                (m for m in node.body if isinstance(m, ast.FunctionDef) and m.name == "__init__"),
                None,
            )
            decorated = any(REMEMBER_HELPER in ast.unparse(d) for d in node.decorator_list)
            if init is not None and not decorated and _registers_non_persistent(init):
                found.append((path, node))
    names = {n.name for _, n in found}
    handled: set[str] = set()
    for tree in trees.values():
        handled |= _mentions(tree, names)
    if RESTORE_HELPER in handled:
        handled = set()  # the helper only restores decorated classes
    return [(p, n) for p, n in found if n.name not in handled]


@register("code.v5-non-persistent-buffers", rules=("HFC262",))
def non_persistent_buffers(ctx: Context) -> Iterator[Finding]:
    """Buffers registered with persistent=False in __init__ that v5 leaves uninitialised."""
    for path, node in buffer_classes(_parsed(ctx)):
        yield finding(
            "HFC262",
            f"{node.name}.__init__ computes non-persistent buffers; transformers v5 builds the "
            "model on the meta device and leaves them as uninitialised memory after loading",
            path=path,
            line=node.lineno,
        )
