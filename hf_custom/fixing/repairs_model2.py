"""Model-side repairs of v4-era code (registered like ``repairs.py``).

- HFC263: an ``_init_weights`` that loops over its module's sub-parameters, which v5 calls on
  modules whose weights were all loaded: it returns early on such modules, as v4 never called it.
- HFC264: private GenerationMixin methods that transformers removed, restored as methods of the
  package's root model classes when ``hf_custom_compat`` has v4's behaviour for them.
- HFC265: tokenizer attributes that the base ``__init__`` needs, set after ``super().__init__()``:
  the assignments right after the call are moved before it.
- HFC240: code that needs a CUDA GPU to build the model is never rewritten: named, with why.
- HFC266: a ``prepare_inputs_for_generation`` that uses the attention mask unchecked gets v4's
  all-ones mask back when v5's generate() dropped it to None.
"""

from __future__ import annotations

import ast

from hf_custom.fixing.edits import Edit
from hf_custom.fixing.repairs import (
    COMPAT_MODULE,
    FixContext,
    _add_import,
    _ensure_newline,
    repair,
)
from hf_custom.fixing.repairs_model import MARK, _base_roots, add_compat_method

LOADED = "loaded_from_checkpoint"
RESTORE = "restore_non_persistent_buffers"


def _statements(fn: ast.FunctionDef) -> list[ast.stmt] | None:
    """``fn``'s statements after its docstring (edits go before the first of them), or None
    when the body starts on the def line (no line to insert before)."""
    body = list(fn.body)
    if body[0].lineno == fn.lineno:
        return None
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body


def _is_restore(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Name)
        and stmt.value.func.id == RESTORE
    )


@repair("HFC263")
def skip_loaded_modules(ctx: FixContext) -> None:
    from hf_custom.checks.v5model import init_walks

    for walk in init_walks(ctx.pkg, {p: f.tree for p, f in ctx.files.items()}):
        fs = ctx.files[walk.path]
        body = _statements(walk.fn)
        if body is None:
            ctx.cannot("HFC263", fs.path, walk.fn.lineno, "_init_weights' body is on its def line")
            continue
        while body and _is_restore(body[0]):  # buffers are recomputed first (HFC262)
            body = body[1:]
        if not body:
            continue
        at = fs.src.line_start(body[0].lineno)
        ind, nl = fs.src.indent(body[0].lineno), fs.src.newline
        text = (
            ind
            + f"if {LOADED}({walk.param}):  # v5 calls this on loaded modules {MARK}".encode()
            + nl
            + ind
            + b"    return"
            + nl
        )
        edits = [Edit(at, at, text)]
        imp = _add_import(ctx, fs, f"from .{COMPAT_MODULE} import {LOADED}")
        if imp is not None:
            edits.append(imp)
        ctx.needs_compat = True
        ctx.repaired(
            "HFC263",
            fs,
            walk.fn.lineno,
            f"{walk.cls.name}._init_weights returns early on modules whose weights were all "
            "loaded (v4's behaviour)",
            *edits,
        )


# the comments of the method HFC264 adds
GENERATED_COMMENTS = {
    "removed": "removed from GenerationMixin",
    "own": "a transformers that still has it",
}
# removed GenerationMixin method -> the compat function standing in for it
GENERATION_HELPERS = {
    "_extract_past_from_model_output": "generation_extract_past_from_model_output",
}
# what to port the others to (named in the cause)
GENERATION_PORTS = {
    "_get_logits_warper": "transformers now builds the warpers (temperature, top-k, top-p) in "
    "self._get_logits_processor(generation_config, ...)",
    "_get_logits_processor_and_warper": "use self._get_logits_processor(generation_config, ...)",
}


def _unpacked_calls(ctx: FixContext, name: str) -> list[tuple[str, int]]:
    """Calls of ``self.<name>`` unpacked into two names (4.42-4.43's (cache_name, cache))."""
    out = []
    for path, fs in sorted(ctx.files.items()):
        for node in ast.walk(fs.tree):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.targets[0], ast.Tuple)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and node.value.func.attr == name
            ):
                out.append((path, node.lineno))
    return out


@repair("HFC264")
def removed_generation_methods(ctx: FixContext) -> None:
    from hf_custom.checks.v5model import removed_generation_calls

    called: dict[str, tuple[str, int]] = {}
    for path, name, line in removed_generation_calls(ctx.pkg, ctx.probe):
        called.setdefault(name, (path, line))
    roots = _base_roots(ctx)
    for name, (path, line) in sorted(called.items()):
        helper = GENERATION_HELPERS.get(name)
        unpacked = _unpacked_calls(ctx, name)
        if helper is None or not roots or unpacked:
            why = (
                "no equivalent in v5's generation loop: port the code to it by hand"
                + (f" ({GENERATION_PORTS[name]})" if name in GENERATION_PORTS else "")
                if helper is None
                else (
                    "its result is unpacked as transformers 4.42-4.43 returned it: read "
                    "outputs.past_key_values by hand"
                    if unpacked
                    else "no PreTrainedModel class of the package to add it to"
                )
            )
            ctx.cannot("HFC264", path, line, f"self.{name}(): {why}")
            continue
        for cls in roots:
            add_compat_method(
                ctx,
                "HFC264",
                cls,
                name,
                helper,
                at=(path, line),
                behaviour="transformers 4.41's behaviour",
                comments=GENERATED_COMMENTS,
            )


# --- HFC265: tokenizer attributes set after super().__init__() -------------------------------


@repair("HFC265")
def attributes_before_super_init(ctx: FixContext) -> None:
    from hf_custom.checks.v5model import late_tokenizer_attrs

    for late in late_tokenizer_attrs(ctx.pkg, {p: f.tree for p, f in ctx.files.items()}):
        fs = ctx.files[late.path]
        moved = {
            t.attr
            for stmt in late.movable
            for t in getattr(stmt, "targets", [])
            if isinstance(t, ast.Attribute)
        }
        left = [a for a in late.needed if a not in moved]
        call = late.call
        first, last = (late.movable[0], late.movable[-1]) if late.movable else (None, None)
        spans_ok = (
            first is not None
            and last is not None
            and fs.src.alone_on_lines(
                call.lineno,
                call.col_offset,
                call.end_lineno or call.lineno,
                call.end_col_offset or 0,
            )
            and fs.src.alone_on_lines(
                first.lineno,
                first.col_offset,
                last.end_lineno or last.lineno,
                last.end_col_offset or 0,
            )
            and first.lineno > (call.end_lineno or call.lineno)
        )
        if left or not spans_ok or first is None or last is None:
            why = (
                f"{', '.join(left)} cannot be set before super().__init__() (it reads what the "
                "call sets, or is not set right after it): move it by hand"
                if left
                else "the statements share lines with other code"
            )
            ctx.cannot("HFC265", fs.path, call.lineno, f"{late.cls.name}.__init__: {why}")
            continue
        start = fs.src.line_start(first.lineno)
        end = fs.src.line_end(last.end_lineno or last.lineno)
        block = _ensure_newline(fs.src.data[start:end], fs.src.newline)
        at = fs.src.line_start(call.lineno)
        names = ", ".join(sorted(moved))
        ctx.repaired(
            "HFC265",
            fs,
            call.lineno,
            f"{late.cls.name}.__init__: {names} set before super().__init__(), which calls "
            "get_vocab()",
            Edit(at, at, block),
            Edit(start, end, b""),
        )


# --- HFC266: the all-ones attention mask v5's generate() drops -----------------------------


@repair("HFC266")
def restore_dropped_mask(ctx: FixContext) -> None:
    from hf_custom.checks.v5model import dropped_mask_reads

    for read in dropped_mask_reads(ctx.pkg, {p: f.tree for p, f in ctx.files.items()}):
        fs = ctx.files[read.path]
        body = _statements(read.fn)
        if body is None:
            ctx.cannot("HFC266", fs.path, read.line, "the method's body is on its def line")
            continue
        body = body or list(read.fn.body)  # a docstring alone: insert before it
        ids = read.input_ids
        target = f'{read.kwargs}["attention_mask"]' if read.kwargs else "attention_mask"
        current = f'{read.kwargs}.get("attention_mask")' if read.kwargs else "attention_mask"
        ind, nl = fs.src.indent(body[0].lineno), fs.src.newline
        text = (
            ind
            + f"if {current} is None and {ids} is not None:  # v5 drops an all-ones mask {MARK}".encode()
            + nl
            + ind
            + f"    {target} = {ids}.new_ones({ids}.shape[:2])  # v4 passed it".encode()
            + nl
        )
        at = fs.src.line_start(body[0].lineno)
        ctx.repaired(
            "HFC266",
            fs,
            read.fn.lineno,
            f"{read.cls.name}.prepare_inputs_for_generation rebuilds the all-ones attention mask "
            "v5's generate() drops (v4 passed it)",
            Edit(at, at, text),
        )


# --- HFC240: GPU-only construction: never repaired, always named ---------------------------


@repair("HFC240")
def gpu_only_construction(ctx: FixContext) -> None:
    from hf_custom.checks.gpuonly import gpu_only_uses

    for use in gpu_only_uses({p: f.tree for p, f in ctx.files.items()}):
        ctx.cannot(
            "HFC240",
            use.path,
            use.line,
            f"{use.where} requires a CUDA GPU (`{use.what}`): which device to use instead is "
            "the author's choice (take it from the inputs, or guard with "
            "torch.cuda.is_available())",
        )


# engine.py imports this module, which registers its repairs
REGISTERED = ("HFC240", "HFC263", "HFC264", "HFC265", "HFC266")
