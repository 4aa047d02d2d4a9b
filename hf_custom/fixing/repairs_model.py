"""Repairs of model code for transformers v5 (registered like ``repairs.py``).

- HFC262: non-persistent buffers computed in ``__init__`` (rotary ``inv_freq``, cached cos/sin,
  masks), which v5's meta-device construction leaves as uninitialised memory: the class is
  decorated with ``hf_custom_compat.remember_init_args`` and the package's PreTrainedModel
  ``_init_weights`` calls ``restore_non_persistent_buffers(module)`` first.
"""

from __future__ import annotations

import ast

from hf_custom.codeinfo import ClassInfo
from hf_custom.fixing.edits import Edit
from hf_custom.fixing.repairs import (
    COMPAT_MODULE,
    FileState,
    FixContext,
    _add_import,
    _class_node,
    _file_of,
    repair,
)

MARK = "(hf-custom fix)"
REMEMBER = f"from .{COMPAT_MODULE} import remember_init_args"
RESTORE = f"from .{COMPAT_MODULE} import restore_non_persistent_buffers"


def _roots(ctx: FixContext) -> list[ClassInfo]:
    """Package model classes with no package model base, and those overriding _init_weights."""
    models = ctx.pkg.model_classes()
    out = []
    for cls in models:
        package_bases = [c for c in ctx.pkg.ancestors(cls) if c is not cls and c in models]
        if not package_bases or "_init_weights" in cls.methods:
            out.append(cls)
    return out


def _restore_call(ctx: FixContext, fs: FileState, node: ast.ClassDef) -> Edit | None:
    nl = fs.src.newline
    fn = next(
        (m for m in node.body if isinstance(m, ast.FunctionDef) and m.name == "_init_weights"),
        None,
    )
    if fn is not None:
        params = [a.arg for a in fn.args.args]
        if len(params) < 2 or fn.body[0].lineno == fn.lineno:
            return None
        first = fn.body[0]
        docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
        indent = fs.src.indent(first.lineno)
        if docstring and len(fn.body) > 1:
            at = fs.src.line_end(first.end_lineno or first.lineno)
        else:
            at = fs.src.line_start(first.lineno)
        text = indent + f"restore_non_persistent_buffers({params[1]})  # v5 {MARK}".encode()
        return Edit(at, at, text + nl)
    last = node.body[-1]
    if node.body[0].lineno == node.lineno:
        return None
    indent = fs.src.indent(node.body[0].lineno)
    at = fs.src.line_end(last.end_lineno or last.lineno)
    prefix = b"" if fs.src.data[:at].endswith((b"\n", b"\r")) else nl
    body = [
        b"",
        b"def _init_weights(self, module):",
        f"    restore_non_persistent_buffers(module)  # v5 meta-device loading {MARK}".encode(),
        b"    super()._init_weights(module)",
    ]
    return Edit(at, at, prefix + b"".join((indent + line if line else b"") + nl for line in body))


@repair("HFC262")
def restore_buffers(ctx: FixContext) -> None:
    from hf_custom.checks.v5code import buffer_classes

    found = buffer_classes({p: f.tree for p, f in ctx.files.items()})
    if not found:
        return
    roots = []
    for cls in _roots(ctx):
        fs = _file_of(ctx, cls)
        node = _class_node(fs, cls) if fs else None
        edit = _restore_call(ctx, fs, node) if fs and node else None
        if fs is None or edit is None:
            continue
        roots.append((cls, fs, edit))
    if not roots:
        for path, node in found:
            ctx.cannot(
                "HFC262",
                path,
                node.lineno,
                f"no PreTrainedModel class of the package can recompute {node.name}'s buffers "
                "in _init_weights",
            )
        return
    ctx.needs_compat = True
    for path, node in found:
        fs = ctx.files[path]
        first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        at = fs.src.line_start(first)
        edits = [Edit(at, at, fs.src.indent(node.lineno) + b"@remember_init_args" + fs.src.newline)]
        imp = _add_import(ctx, fs, REMEMBER)
        if imp is not None:
            edits.append(imp)
        ctx.repaired(
            "HFC262",
            fs,
            node.lineno,
            f"{node.name}: keeps its constructor arguments, so that _init_weights recomputes its "
            "non-persistent buffers after a v5 load",
            *edits,
        )
    for cls, fs, edit in roots:
        edits = [edit]
        imp = _add_import(ctx, fs, RESTORE)
        if imp is not None:
            edits.append(imp)
        ctx.repaired(
            "HFC262",
            fs,
            cls.line,
            f"{cls.name}._init_weights restores non-persistent buffers first",
            *edits,
        )


# --- HFC251: PreTrainedModel methods v5 removed, called on self ---------------------------

# removed method -> the compat function standing in for it (v4's behaviour)
METHOD_HELPERS = {
    "get_extended_attention_mask": "model_get_extended_attention_mask",
    "get_head_mask": "model_get_head_mask",
    "invert_attention_mask": "model_invert_attention_mask",
}


def _base_roots(ctx: FixContext) -> list[ClassInfo]:
    """The root model classes no other package model class derives them from (where a method
    every model class of the package inherits is added)."""
    return [
        c
        for c in _roots(ctx)
        if not any(a in ctx.pkg.model_classes() and a is not c for a in ctx.pkg.ancestors(c))
    ]


def add_compat_method(
    ctx: FixContext,
    rule: str,
    cls: ClassInfo,
    name: str,
    helper: str,
    *,
    at: tuple[str, int],
    behaviour: str,
    comments: dict[str, str] | None = None,
) -> None:
    """Append ``name`` to ``cls``'s body: v4 keeps its own method, v5 calls ``helper`` of the
    compat module (imported). ``at`` is the call's (path, line) a refusal is reported at;
    ``comments`` override the generated method's comments (see :func:`_method_text`)."""
    fs = _file_of(ctx, cls)
    node = _class_node(fs, cls) if fs else None
    if fs is None or node is None or node.body[0].lineno == node.lineno:
        ctx.cannot(rule, at[0], at[1], f"{cls.name}'s body is on its class line")
        return
    last = node.body[-1]
    end = fs.src.line_end(last.end_lineno or last.lineno)
    nl = fs.src.newline
    prefix = b"" if fs.src.data[:end].endswith((b"\n", b"\r")) else nl
    text = _method_text(name, helper, fs.src.indent(node.body[0].lineno), nl, **(comments or {}))
    edits = [Edit(end, end, prefix + text)]
    imp = _add_import(ctx, fs, f"from .{COMPAT_MODULE} import {helper}")
    if imp is not None:
        edits.append(imp)
    ctx.needs_compat = True
    ctx.repaired(
        rule,
        fs,
        cls.line,
        f"{cls.name}.{name}() restored ({behaviour} from {COMPAT_MODULE}.py)",
        *edits,
    )


def _method_text(
    name: str,
    helper: str,
    indent: bytes,
    nl: bytes,
    *,
    removed: str = "removed in transformers v5",
    own: str = "v4 keeps its own",
) -> bytes:
    lines = [
        "",
        f"def {name}(self, *args, **kwargs):  # {removed} {MARK}",
        f'    own = getattr(super(), "{name}", None)  # {own}',
        f"    return own(*args, **kwargs) if own else {helper}(self, *args, **kwargs)",
    ]
    return b"".join((indent + line.encode() if line else b"") + nl for line in lines)


@repair("HFC251")
def removed_methods(ctx: FixContext) -> None:
    defined = {m for cls in ctx.pkg.classes() for m in cls.methods}
    called: dict[str, tuple[str, int]] = {}
    for path, state in sorted(ctx.files.items()):
        for dotted, line in state.mod.calls:
            owner, _, name = dotted.rpartition(".")
            if owner == "self" and name not in defined and ctx.probe.method_missing(name):
                called.setdefault(name, (path, line))
    if not called:
        return
    roots = _base_roots(ctx)
    for name, (path, line) in sorted(called.items()):
        helper = METHOD_HELPERS.get(name)
        if helper is None or not roots:
            why = (
                "no compatibility helper: port it to v5 by hand"
                if helper is None
                else ("no PreTrainedModel class of the package to add it to")
            )
            ctx.cannot("HFC251", path, line, f"self.{name}(): {why}")
            continue
        for cls in roots:
            add_compat_method(
                ctx, "HFC251", cls, name, helper, at=(path, line), behaviour="v4's behaviour"
            )


# engine.py imports this module, which registers its repairs
REGISTERED = ("HFC251", "HFC262")
