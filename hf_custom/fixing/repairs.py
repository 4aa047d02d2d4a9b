"""The repairs: each finds its break with ast in the package's bytes and edits byte spans.

A repair reuses the id of the doctor finding it repairs. Every repair is idempotent: once
applied, its detection no longer matches (the import sits in a ``try``, the call is there, ...).
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hf_custom.checks.v5 import Probe
from hf_custom.codeinfo import ClassInfo, CodePackage, ImportInfo, ModuleInfo
from hf_custom.fixing.edits import Edit, Source
from hf_custom.fixing.model import Repair, Unrepaired

COMPAT_MODULE = "hf_custom_compat"
# Names hf_custom_compat.py provides (a test keeps this equal to its __all__).
COMPAT_NAMES = frozenset(
    {
        "AttentionMaskConverter",
        "AutoModelForVision2Seq",
        "_create_4d_causal_attention_mask",
        "_prepare_4d_attention_mask",
        "_prepare_4d_attention_mask_for_sdpa",
        "_prepare_4d_causal_attention_mask",
        "_prepare_4d_causal_attention_mask_for_sdpa",
        "bloom_expand_mask",
        "cache_from_legacy",
        "cache_get_max_length",
        "cache_get_usable_length",
        "cache_seen_tokens",
        "cache_to_legacy",
        "bloom_make_causal_mask",
        "find_pruneable_heads_and_indices",
        "generation_extract_past_from_model_output",
        "is_torch_fx_available",
        "is_torch_sdpa_available",
        "legacy_expand_mask",
        "legacy_make_causal_mask",
        "loaded_from_checkpoint",
        "model_get_extended_attention_mask",
        "model_get_head_mask",
        "model_invert_attention_mask",
        "remember_init_args",
        "restore_non_persistent_buffers",
    }
)
# v4 model modules whose private mask helpers (`_expand_mask`, `_make_causal_mask`) forks
# imported: bool masks (bloom's family) and additive float masks (the bart/llama/opt family).
BOOL_MASK_MODELS = frozenset({"bloom", "mpt"})
FLOAT_MASK_MODELS = frozenset(
    [
        "autoformer",
        "bart",
        "bigbird_pegasus",
        "biogpt",
        "blenderbot",
        "blenderbot_small",
        "clip",
        "clipseg",
        "groupvit",
        "idefics",
        "informer",
        "llama",
        "m2m_100",
        "marian",
        "mbart",
        "musicgen",
        "mvp",
        "nllb_moe",
        "opt",
        "owlvit",
        "pegasus",
        "pegasus_x",
        "plbart",
        "speech_to_text",
        "speech_to_text_2",
        "speecht5",
        "time_series_transformer",
        "trocr",
        "whisper",
        "x_clip",
        "xglm",
    ]
)
MASK_HELPERS = frozenset({"_expand_mask", "_make_causal_mask"})
CAUSAL_SUFFIXES = ("ForCausalLM", "LMHeadModel")
GENERATIVE_AUTO = frozenset({"AutoModelForCausalLM", "AutoModelForSeq2SeqLM"})
_NOT_WORD = ("pos", "type", "segment", "rotary", "rel")


@dataclass
class FileState:
    path: str
    src: Source
    tree: ast.Module
    mod: ModuleInfo
    edits: list[Edit] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)


@dataclass
class FixContext:
    files: dict[str, FileState]
    pkg: CodePackage
    config: Mapping[str, Any] | None
    probe: Probe
    repairs: list[Repair] = field(default_factory=list)
    unrepaired: list[Unrepaired] = field(default_factory=list)
    needs_compat: bool = False

    def repaired(self, rule: str, fs: FileState, line: int, change: str, *edits: Edit) -> None:
        fs.edits.extend(edits)
        self.repairs.append(Repair(path=fs.path, line=line, rule=rule, change=change))

    def cannot(self, rule: str, path: str, line: int, cause: str) -> None:
        self.unrepaired.append(Unrepaired(path=path, line=line, rule=rule, cause=cause))


RepairFn = Callable[[FixContext], None]
REPAIRS: dict[str, RepairFn] = {}


def repair(rule_id: str) -> Callable[[RepairFn], RepairFn]:
    def deco(fn: RepairFn) -> RepairFn:
        REPAIRS[rule_id] = fn
        return fn

    return deco


# --- helpers ----------------------------------------------------------------------------------


def _file_of(ctx: FixContext, cls: ClassInfo) -> FileState | None:
    for fs in ctx.files.values():
        if cls in fs.mod.classes:
            return fs
    return None


def _class_node(fs: FileState, cls: ClassInfo) -> ast.ClassDef | None:
    for node in ast.walk(fs.tree):
        if isinstance(node, ast.ClassDef) and node.name == cls.name and node.lineno == cls.line:
            return node
    for node in fs.tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls.name:
            return node
    return None


def _method(node: ast.ClassDef, name: str) -> ast.FunctionDef | None:
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == name:
            return stmt
    return None


def _stmt_block(fs: FileState, node: ast.stmt) -> tuple[int, int, bytes, bytes] | None:
    """(start, end, indent, text) of the whole lines of ``node``; None if it shares a line."""
    end_line = node.end_lineno or node.lineno
    end_col = node.end_col_offset or 0
    if not fs.src.alone_on_lines(node.lineno, node.col_offset, end_line, end_col):
        return None
    start, end = fs.src.line_start(node.lineno), fs.src.line_end(end_line)
    return start, end, fs.src.indent(node.lineno), fs.src.data[start:end]


def _indented(text: bytes, by: bytes = b"    ") -> bytes:
    return b"".join(by + line if line.strip() else line for line in text.splitlines(True))


def _ensure_newline(text: bytes, nl: bytes) -> bytes:
    return text if text.endswith((b"\n", b"\r")) else text + nl


def _is_tf(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and (node.module or "").startswith("transformers")


def _add_import(ctx: FixContext, fs: FileState, line_text: str) -> Edit | None:
    """An edit adding ``line_text`` after the module's last top-level import (once per file)."""
    if line_text in fs.flags:
        return None
    fs.flags.add(line_text)
    nl = fs.src.newline
    last = None
    for node in fs.tree.body:  # after the last transformers import, else the last import
        if isinstance(node, (ast.Import, ast.ImportFrom)) and (
            _is_tf(node) or last is None or not _is_tf(last)
        ):
            last = node
    if last is not None:
        end = fs.src.line_end(last.end_lineno or last.lineno)
        prefix = b"" if fs.src.data[:end].endswith((b"\n", b"\r")) else nl
        return Edit(end, end, prefix + line_text.encode() + nl)
    body = fs.tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        end = fs.src.line_end(body[0].end_lineno or body[0].lineno)
        return Edit(end, end, line_text.encode() + nl)
    return Edit(0, 0, line_text.encode() + nl)


# --- HFC252: self.post_init() -----------------------------------------------------------------


@repair("HFC252")
def add_post_init(ctx: FixContext) -> None:
    from hf_custom.checks.v5code import post_init_gaps

    done: set[int] = set()
    for gap in post_init_gaps(ctx.pkg, ctx.config, {p: f.tree for p, f in ctx.files.items()}):
        cls = gap.target
        if cls is None:
            where = _file_of(ctx, gap.cls)
            ctx.cannot(
                "HFC252",
                where.path if where else "",
                gap.cls.line,
                f"{gap.cls.name} inherits an __init__ that other classes extend: give it its "
                "own __init__ ending with self.post_init()",
            )
            continue
        if id(cls) in done:
            continue
        done.add(id(cls))
        fs = _file_of(ctx, cls)
        node = _class_node(fs, cls) if fs else None
        init = _method(node, "__init__") if node else None
        if fs is None or init is None:
            continue
        last = init.body[-1]
        if init.body[0].lineno == init.lineno:
            ctx.cannot("HFC252", fs.path, init.lineno, "__init__'s body is on the def line")
            continue
        if any(isinstance(n, ast.Return) for n in ast.walk(init)):
            ctx.cannot(
                "HFC252",
                fs.path,
                init.lineno,
                f"{cls.name}.__init__ returns early: add "
                "self.post_init() before every return by hand",
            )
            continue
        end_line = last.end_lineno or last.lineno
        at = fs.src.line_end(end_line)
        nl = fs.src.newline
        text = fs.src.indent(init.body[0].lineno) + b"self.post_init()" + nl
        prefix = b"" if fs.src.data[:at].endswith((b"\n", b"\r")) else nl
        ctx.repaired(
            "HFC252",
            fs,
            end_line,
            f"{cls.name}.__init__: added self.post_init() at the end",
            Edit(at, at, prefix + text),
        )


# --- HFC254: GenerationMixin ------------------------------------------------------------------


def _generative(ctx: FixContext) -> set[str]:
    names = {c.name for c in ctx.pkg.model_classes() if c.name.endswith(CAUSAL_SUFFIXES)}
    auto_map = (ctx.config or {}).get("auto_map")
    if isinstance(auto_map, dict):
        for auto, ref in auto_map.items():
            if auto in GENERATIVE_AUTO and isinstance(ref, str):
                names.add(ref.rsplit(".", 1)[-1])
    return names


@repair("HFC254")
def add_generation_mixin(ctx: FixContext) -> None:
    wanted = _generative(ctx)
    for cls in ctx.pkg.model_classes():
        if cls.name not in wanted or ctx.pkg.has_generation_mixin(cls):
            continue
        fs = _file_of(ctx, cls)
        node = _class_node(fs, cls) if fs else None
        if fs is None or node is None or not node.bases:
            continue
        base = node.bases[-1]
        at = fs.src.offset(base.end_lineno or base.lineno, base.end_col_offset or 0)
        edits = [Edit(at, at, b", GenerationMixin")]
        bound = fs.mod.bindings.get("GenerationMixin", "")
        if "GenerationMixin" in fs.mod.defined and not bound.startswith("transformers"):
            ctx.cannot("HFC254", fs.path, cls.line, "the module binds GenerationMixin itself")
            continue
        if not bound:
            imp = _add_import(ctx, fs, "from transformers import GenerationMixin")
            if imp is not None:
                edits.append(imp)
        ctx.repaired(
            "HFC254", fs, cls.line, f"{cls.name}: inherits GenerationMixin (generate())", *edits
        )


# --- HFC253: _tied_weights_keys as a dict ------------------------------------------------------


def _call_name(node: ast.expr) -> str:
    while isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _embeddings(ctx: FixContext, cls: ClassInfo, prefix: str, depth: int) -> list[str]:
    """Module paths (``model.embed_tokens``) of the nn.Embedding layers ``cls`` builds."""
    if depth > 4:
        return []
    out: list[str] = []
    for c in ctx.pkg.ancestors(cls):
        fs = _file_of(ctx, c)
        node = _class_node(fs, c) if fs else None
        init = _method(node, "__init__") if node else None
        if init is None:
            continue
        for stmt in ast.walk(init):
            if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1):
                continue
            t, v = stmt.targets[0], stmt.value
            if not (
                isinstance(t, ast.Attribute)
                and isinstance(t.value, ast.Name)
                and t.value.id == "self"
                and isinstance(v, ast.Call)
            ):
                continue
            name = _call_name(v.func)
            if name == "Embedding":
                out.append(prefix + t.attr)
            else:
                sub = ctx.pkg.find_class(name)
                if sub is not None and sub is not cls:
                    out.extend(_embeddings(ctx, sub, f"{prefix}{t.attr}.", depth + 1))
    return sorted(set(out))


def _word_embedding(paths: list[str]) -> str | None:
    words = [p for p in paths if not any(w in p.rsplit(".", 1)[-1].lower() for w in _NOT_WORD)]
    return words[0] if len(words) == 1 else None


def _tie_pairs(
    ctx: FixContext, cls: ClassInfo, keys: list[str]
) -> tuple[dict[str, str], list[str], list[str]]:
    """({target: source}, keys with no known source, bias keys dropped) for a listed
    ``_tied_weights_keys``: ties made by hand first, then v4's default (output embeddings tied to
    the one word embedding) for ``.weight`` keys. A ``.bias`` key that no code ties is dropped:
    v4 never tied a bias by itself, it only silenced the key's missing-weight warning."""
    from hf_custom.fixing.repairs_ties import hand_ties, resolve_listed

    def node_of(c: ClassInfo) -> ast.ClassDef | None:
        fs = _file_of(ctx, c)
        return _class_node(fs, c) if fs else None

    pairs, rest = resolve_listed(keys, hand_ties(ctx.pkg, cls, node_of))
    left: list[str] = []
    dropped: list[str] = []
    source = None
    if any(k.endswith(".weight") for k in rest):
        source = _word_embedding(_embeddings(ctx, cls, "", 0))
    for k in rest:
        if k.endswith(".weight") and source is not None:
            if k != f"{source}.weight":
                pairs[k] = f"{source}.weight"
        elif k.endswith(".bias") and pairs:
            dropped.append(k)
        else:
            left.append(k)
    return pairs, left, dropped


@repair("HFC253")
def tied_keys_dict(ctx: FixContext) -> None:
    for cls in ctx.pkg.classes():
        value = cls.attrs.get("_tied_weights_keys")
        if not isinstance(value, (list, tuple, set, frozenset)):
            continue
        fs = _file_of(ctx, cls)
        node = _class_node(fs, cls) if fs else None
        assign = None
        for stmt in node.body if node else []:
            if (
                isinstance(stmt, (ast.Assign, ast.AnnAssign))
                and stmt.value is not None
                and "_tied_weights_keys"
                in {
                    t.id
                    for t in getattr(stmt, "targets", [getattr(stmt, "target", None)])
                    if isinstance(t, ast.Name)
                }
            ):
                assign = stmt
        if fs is None or assign is None or assign.value is None:
            continue
        keys = [str(k) for k in value]
        pairs, left, dropped = _tie_pairs(ctx, cls, keys)
        if left:
            ctx.cannot(
                "HFC253",
                fs.path,
                assign.lineno,
                f"{cls.name}: cannot tell which parameter {left} are tied to (no tie by hand in "
                "__init__/tie_weights, and none or several nn.Embedding layers); write the dict "
                "{target: source} by hand",
            )
            continue
        text = "{" + ", ".join(f'"{k}": "{v}"' for k, v in pairs.items()) + "}"
        note = (
            f" ({', '.join(dropped)}: no code ties it, v4 only silenced its missing-key warning)"
            if dropped
            else ""
        )
        v = assign.value
        start = fs.src.offset(v.lineno, v.col_offset)
        end = fs.src.offset(v.end_lineno or v.lineno, v.end_col_offset or 0)
        ctx.repaired(
            "HFC253",
            fs,
            assign.lineno,
            f"{cls.name}._tied_weights_keys: list -> {text}{note}",
            Edit(start, end, text.encode()),
        )


# --- HFC250: removed transformers names, guarded with a compat module ---------------------------


def _import_node(fs: FileState, imp: ImportInfo) -> ast.stmt | None:
    for node in ast.walk(fs.tree):
        if (
            isinstance(node, (ast.Import, ast.ImportFrom))
            and node.lineno == imp.line
            and node.col_offset == imp.col
        ):
            return node
    return None


def _alias_text(name: str, asname: str | None) -> str:
    return f"{name} as {asname}" if asname else name


def compat_name(module: str, name: str) -> str | None:
    """The hf_custom_compat name standing for ``from module import name``, None without one."""
    if name in COMPAT_NAMES:
        return name
    parts = module.split(".")
    if (
        name in MASK_HELPERS
        and len(parts) == 4
        and parts[:2] == ["transformers", "models"]
        and parts[3] == f"modeling_{parts[2]}"
    ):
        if parts[2] in BOOL_MASK_MODELS:
            return "bloom" + name
        if parts[2] in FLOAT_MASK_MODELS:
            return "legacy" + name
    return None


def _compat_alias(module: str, name: str, asname: str | None) -> str:
    """``legacy_expand_mask as _expand_mask``: the compat helper under the name the code uses."""
    ours = compat_name(module, name) or name
    return f"{ours} as {asname or name}" if ours != name else _alias_text(name, asname)


@repair("HFC250")
def guard_removed_imports(ctx: FixContext) -> None:
    probe = ctx.probe
    for path, fs in sorted(ctx.files.items()):
        for imp in fs.mod.imports:
            if imp.level or imp.top != "transformers" or imp.in_try:
                continue
            if not imp.is_from:
                if probe.module_missing(imp.module):
                    ctx.cannot("HFC250", path, imp.line, f"`import {imp.module}`: no v5 equivalent")
                continue
            module_gone = probe.module_missing(imp.module)
            missing = [
                (n, a)
                for n, a in imp.aliases
                if n != "*" and (module_gone or probe.name_missing(imp.module, n))
            ]
            if not missing:
                continue
            unknown = [n for n, _ in missing if compat_name(imp.module, n) is None]
            node = _import_node(fs, imp)
            block = _stmt_block(fs, node) if node else None
            if unknown or block is None:
                why = (
                    f"no compatibility helper for {', '.join(unknown)}: port the code to its v5 "
                    "replacement by hand"
                    if unknown
                    else "the import shares its line with other code"
                )
                ctx.cannot("HFC250", path, imp.line, why)
                continue
            start, end, ind, text = block
            nl = fs.src.newline
            kept = [(n, a) for n, a in imp.aliases if (n, a) not in missing]
            fallback = (
                ind
                + b"    from ."
                + COMPAT_MODULE.encode()
                + b" import "
                + ", ".join(_compat_alias(imp.module, n, a) for n, a in missing).encode()
                + nl
            )
            if kept:
                fallback += (
                    ind
                    + f"    from {imp.module} import ".encode()
                    + ", ".join(_alias_text(n, a) for n, a in kept).encode()
                    + nl
                )
            new = (
                ind
                + b"try:"
                + nl
                + _indented(_ensure_newline(text, nl))
                + ind
                + b"except ImportError:  # transformers v5 removed it (hf-custom fix)"
                + nl
                + fallback
            )
            ctx.needs_compat = True
            names = ", ".join(n for n, _ in missing)
            ctx.repaired(
                "HFC250",
                fs,
                imp.line,
                f"import of {names} guarded; v5 gets {COMPAT_MODULE}.py",
                Edit(start, end, new),
            )


# --- HFC204: optional third-party imports inside functions ------------------------------------


def _installed(top: str) -> bool:
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def _rewrite_pkg_resources(ctx: FixContext, fs: FileState, imp: ImportInfo) -> None:
    """``pkg_resources`` (gone from setuptools >= 81, so check_imports refuses the load) ->
    importlib.metadata and packaging.version, which mean the same for the uses rewritten."""
    from hf_custom.fixing.repairs_imports import plan_pkg_resources

    key = f"pkg_resources:{imp.aliases}"
    node = _import_node(fs, imp)
    block = _stmt_block(fs, node) if node else None
    if key in fs.flags or node is None:
        return
    fs.flags.add(key)

    def text_of(n: ast.AST) -> str:
        s, e = _span(fs, n)
        return fs.src.data[s:e].decode()

    plan = plan_pkg_resources(fs.tree, imp, text_of)
    cause = plan.cause or ("" if block else "the import shares its line with other code")
    if cause or block is None:
        ctx.cannot("HFC204", fs.path, imp.line, f"`pkg_resources`: {cause}")
        return
    start, end, ind, _ = block
    nl = fs.src.newline
    lines = b"".join(ind + line.encode() + nl for line in plan.imports)
    edits = [Edit(start, end, lines)]
    for use, new in plan.uses:
        s, e = _span(fs, use)
        edits.append(Edit(s, e, new.encode()))
    ctx.repaired(
        "HFC204",
        fs,
        imp.line,
        f"pkg_resources (removed from setuptools) -> {', '.join(plan.imports)}; "
        f"{len(plan.uses)} use(s) rewritten",
        *edits,
    )


@repair("HFC204")
def guard_optional_imports(ctx: FixContext) -> None:
    from hf_custom.fixing.repairs_imports import optional_helper
    from hf_custom.staging.imports import counted_by_check_imports  # doctor's HFC204 test

    own = {p[: -len(".py")] for p in ctx.files}  # `from configuration_x import` is HFC203's
    modules = {p: f.mod for p, f in ctx.files.items()}
    trees = {p: f.tree for p, f in ctx.files.items()}
    for path, fs in sorted(ctx.files.items()):
        done: set[int] = set()
        helper: tuple[bool, str] | None = None  # is this file an optional helper module?
        for imp in fs.mod.imports:
            if imp.level or imp.in_try or not imp.top or imp.top in own or _installed(imp.top):
                continue
            if not counted_by_check_imports(imp, None):
                continue  # under `if is_x_available():`: transformers' get_imports skips it
            if imp.top in {"torch", "transformers"}:
                continue
            if imp.top == "pkg_resources":
                _rewrite_pkg_resources(ctx, fs, imp)
                continue
            comment = b"optional: only this code path needs it"
            change = f"function-local import of {imp.top} put in try/except ImportError"
            if not imp.in_function:
                if helper is None:
                    helper = optional_helper(path, modules, trees)
                ok, how = helper
                if not ok:
                    ctx.cannot(
                        "HFC204",
                        path,
                        imp.line,
                        f"`{imp.top}` is imported at module level, so every load needs it"
                        f"{how}: install it, or make it optional by hand",
                    )
                    continue
                comment = b"optional: every importer of this module guards it (hf-custom fix)"
                change = f"module-level import of {imp.top} put in try/except ImportError: {how}"
            node = _import_node(fs, imp)
            block = _stmt_block(fs, node) if node else None
            if node is None or id(node) in done:
                continue
            done.add(id(node))
            if block is None:
                ctx.cannot("HFC204", path, imp.line, "the import shares its line with other code")
                continue
            start, end, ind, text = block
            nl = fs.src.newline
            new = (
                ind
                + b"try:"
                + nl
                + _indented(_ensure_newline(text, nl))
                + ind
                + b"except ImportError:  # "
                + comment
                + nl
                + ind
                + b"    raise"
                + nl
            )
            ctx.repaired(
                "HFC204",
                fs,
                imp.line,
                f"{change}, so transformers' check_imports no longer requires it to load the model",
                Edit(start, end, new),
            )


# --- HFC257: rope_scaling["type"] -> also read v5's "rope_type" --------------------------------


def _span(fs: FileState, node: ast.AST) -> tuple[int, int]:
    start = fs.src.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
    end = fs.src.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)  # type: ignore[attr-defined]
    return start, end


def _simple_text(fs: FileState, node: ast.AST) -> str | None:
    """The source of ``node`` when it is one line with no call in it (safe to repeat in a
    rewrite), else None."""
    s, e = _span(fs, node)
    text = fs.src.data[s:e].decode()
    return None if "\n" in text or "(" in text else text


@repair("HFC257")
def rope_type_reads(ctx: FixContext) -> None:
    from hf_custom.checks.v5code import rope_type_reads as find

    for path, fs in sorted(ctx.files.items()):
        for read in find(fs.tree):
            owner = _simple_text(fs, read.owner)
            if owner is None:
                ctx.cannot("HFC257", path, read.line, "the rope_scaling expression is not simple")
                continue
            default = ""
            if read.default is not None:
                ds, de = _span(fs, read.default)
                default = ", " + fs.src.data[ds:de].decode()
            new = f'{owner}.get("type", {owner}.get("rope_type"{default}))'
            start, end = _span(fs, read.node)
            ctx.repaired(
                "HFC257",
                fs,
                read.line,
                f'{owner}["type"] also reads v5\'s "rope_type"',
                Edit(start, end, new.encode()),
            )


# --- HFC700: rope_scaling is None -> also v5's {"rope_type": "default"} ----------------------


@repair("HFC700")
def rope_scaling_none(ctx: FixContext) -> None:
    from hf_custom.checks.v5code import rope_none_tests

    for path, fs in sorted(ctx.files.items()):
        for test in rope_none_tests(fs.tree):
            owner = _simple_text(fs, test.owner)
            if owner is None:
                ctx.cannot("HFC700", path, test.line, "the rope_scaling expression is not simple")
                continue
            if test.negated:
                new = f'({owner} is not None and {owner}.get("rope_type") != "default")'
            else:
                new = f'({owner} is None or {owner}.get("rope_type") == "default")'
            start, end = _span(fs, test.node)
            ctx.repaired(
                "HFC700",
                fs,
                test.line,
                f"{owner} {'is not None' if test.negated else 'is None'} also treats v5's "
                '{"rope_type": "default"} as no scaling',
                Edit(start, end, new.encode()),
            )


# --- HFC258: tokenizer _pad(..., padding_side=None) ------------------------------------------


@repair("HFC258")
def pad_padding_side(ctx: FixContext) -> None:
    from hf_custom.checks.v5code import pad_overrides

    for path, fs in sorted(ctx.files.items()):
        for cls, fn in pad_overrides(fs.tree):
            a = fn.args
            if a.vararg is not None or a.kwonlyargs or not a.args:
                ctx.cannot(
                    "HFC258", path, fn.lineno, "the signature has *args or keyword-only parameters"
                )
                continue
            last: ast.AST = a.args[-1]
            if a.defaults:
                last = a.defaults[-1]
            _, at = _span(fs, last)
            ctx.repaired(
                "HFC258",
                fs,
                fn.lineno,
                f"{cls}._pad() accepts padding_side (ignored, as under v4)",
                Edit(at, at, b", padding_side=None"),
            )
