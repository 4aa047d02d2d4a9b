"""Repairs of a package's config classes for transformers v5 (registered like ``repairs.py``).

- HFC115 / HFC261: base-config attributes v4 defaulted and v5 no longer sets, and generation
  parameters v5 drops from config.json, read by the code: the config class's ``__init__`` takes
  each as a parameter with v4's default and stores it after ``super().__init__`` (so v4 and v5
  hold config.json's value, or v4's default without one).
- HFC259: the layer count generate() reads (``num_hidden_layers``) kept under another name:
  mapped with ``attribute_map``.
- HFC260: a ``__post_init__`` that v5's dataclass config would call with the load's kwargs:
  renamed, with the calls the author wrote.
"""

from __future__ import annotations

import ast

from hf_custom.codeinfo import ClassInfo
from hf_custom.fixing.edits import Edit
from hf_custom.fixing.repairs import FileState, FixContext, _class_node, _file_of, repair

# transformers 4.57.6's PretrainedConfig() values of the attributes v5's base config no longer
# sets (tests/fix/test_compat_v4.py compares them with the real v4). Mutable values are left out:
# one class attribute would be shared by every instance.
V4_DEFAULTS: dict[str, object] = {
    "add_cross_attention": False,
    "bad_words_ids": None,
    "begin_suppress_tokens": None,
    "bos_token_id": None,
    "cross_attention_hidden_size": None,
    "decoder_start_token_id": None,
    "diversity_penalty": 0.0,
    "do_sample": False,
    "early_stopping": False,
    "encoder_no_repeat_ngram_size": 0,
    "eos_token_id": None,
    "exponential_decay_length_penalty": None,
    "finetuning_task": None,
    "forced_bos_token_id": None,
    "forced_eos_token_id": None,
    "is_decoder": False,
    "length_penalty": 1.0,
    "max_length": 20,
    "min_length": 0,
    "no_repeat_ngram_size": 0,
    "num_beam_groups": 1,
    "num_beams": 1,
    "num_return_sequences": 1,
    "output_scores": False,
    "pad_token_id": None,
    "prefix": None,
    "remove_invalid_values": False,
    "repetition_penalty": 1.0,
    "return_dict_in_generate": False,
    "sep_token_id": None,
    "suppress_tokens": None,
    "task_specific_params": None,
    "temperature": 1.0,
    "tf_legacy_loss": False,
    "tie_encoder_decoder": False,
    "tie_word_embeddings": True,
    "tokenizer_class": None,
    "top_k": 50,
    "top_p": 1.0,
    "torchscript": False,
    "typical_p": 1.0,
    "use_bfloat16": False,
}
# Generation parameters v5 drops from config.json that v4's base config did not define either:
# taken as parameters defaulting to None (v4 failed with AttributeError without the key).
NONE_DEFAULTS = frozenset({"use_cache"})
# Generation parameters v5's generate() refuses on a config unless declared as dataclass fields
# (PreTrainedConfig._get_generation_parameters, transformers 5.24; it lets use_cache through).
GENERATION_FIELDS = frozenset(V4_DEFAULTS) - {
    "add_cross_attention",
    "bos_token_id",
    "cross_attention_hidden_size",
    "decoder_start_token_id",
    "eos_token_id",
    "finetuning_task",
    "is_decoder",
    "pad_token_id",
    "prefix",
    "sep_token_id",
    "task_specific_params",
    "tf_legacy_loss",
    "tie_encoder_decoder",
    "tie_word_embeddings",
    "tokenizer_class",
    "torchscript",
    "use_bfloat16",
}
MARK = "(hf-custom fix)"


def _config_class(ctx: FixContext) -> ClassInfo | None:
    from hf_custom.staging.config import _pick_config_class

    return _pick_config_class(dict(ctx.config or {}), ctx.pkg, [])


def _body_insertion(fs: FileState, node: ast.ClassDef) -> tuple[int, bytes] | None:
    """Offset after the class's leading docstring and plain assignments, and the body indent."""
    body = node.body
    if body[0].lineno == node.lineno:
        return None  # class X(Base): pass
    last: ast.stmt | None = None
    for stmt in body:
        docstring = (
            stmt is body[0] and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        )
        if docstring or isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            last = stmt
            continue
        break
    first = body[0]
    indent = fs.src.indent(first.lineno)
    if last is None:
        decorators = getattr(first, "decorator_list", [])
        return fs.src.line_start(min([first.lineno, *(d.lineno for d in decorators)])), indent
    return fs.src.line_end(last.end_lineno or last.lineno), indent


def _super_init(init: ast.FunctionDef) -> ast.stmt | None:
    """The ``super().__init__(...)`` (or ``Base.__init__(self, ...)``) statement of ``init``."""
    found = []
    for stmt in init.body:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "__init__"
        ):
            found.append(stmt)
    return found[0] if len(found) == 1 else None


def _restore(ctx: FixContext, rule: str) -> None:
    """Take each attribute as an ``__init__`` parameter with v4's default, stored after
    ``super().__init__``: v4 and v5 then hold the same value, config.json's when it has one."""
    from hf_custom.checks.v5code import undeclared_config_reads

    cls = _config_class(ctx)
    reads = undeclared_config_reads(ctx.pkg, cls, ctx.config, rule) if cls is not None else []
    fs = _file_of(ctx, cls) if cls is not None and reads else None
    if cls is None or fs is None:
        return
    reads = [r for r in reads if f"restored:{r[0]}" not in fs.flags]
    node = _class_node(fs, cls)
    init = next(
        (
            m
            for m in (node.body if node else [])
            if isinstance(m, ast.FunctionDef) and m.name == "__init__"
        ),
        None,
    )
    sup = _super_init(init) if init is not None else None
    kwarg = init.args.kwarg if init is not None else None
    block = (
        fs.src.alone_on_lines(
            sup.lineno, sup.col_offset, sup.end_lineno or sup.lineno, sup.end_col_offset or 0
        )
        if sup is not None
        else False
    )
    passed = {
        k.arg for k in getattr(getattr(sup, "value", None), "keywords", []) if k.arg is not None
    }
    if init is None or kwarg is None or sup is None or not block:
        why = (
            f"{cls.name} has no __init__(..., **kwargs) with one super().__init__(...) statement "
            "alone on its lines"
        )
        for attr, line, path in reads:
            ctx.cannot(rule, path, line, f"config.{attr}: {why}; add it as a parameter by hand")
        return
    todo = []
    for attr, line, path in reads:
        if attr in passed:
            ctx.cannot(rule, path, line, f"config.{attr} is passed to super().__init__ explicitly")
            continue
        if attr not in V4_DEFAULTS and attr not in NONE_DEFAULTS:
            ctx.cannot(
                rule,
                path,
                line,
                f"config.{attr} has no scalar v4 default to restore: set it in config.json and "
                f"in {cls.name}.__init__",
            )
            continue
        fs.flags.add(f"restored:{attr}")
        todo.append((attr, V4_DEFAULTS.get(attr)))
    if not todo:
        return
    nl = fs.src.newline
    at_param = fs.src.offset(kwarg.lineno, kwarg.col_offset) - 2  # before the "**"
    if fs.src.data[at_param : at_param + 2] != b"**":
        for attr, line, path in reads:
            ctx.cannot(rule, path, line, f"config.{attr}: write `**{kwarg.arg}` without a space")
        return
    own_line = not fs.src.data[fs.src.line_start(kwarg.lineno) : at_param].strip()
    sep = b"," + nl + fs.src.indent(kwarg.lineno) if own_line else b", "
    params = b"".join(f"{a}={v!r}".encode() + sep for a, v in todo)
    indent = fs.src.indent(sup.lineno)
    after = fs.src.line_end(sup.end_lineno or sup.lineno)
    prefix = b"" if fs.src.data[:after].endswith((b"\n", b"\r")) else nl
    body = indent + f"# transformers v5 no longer sets these base-config attributes {MARK}".encode()
    body += nl + b"".join(indent + f"self.{a} = {a}".encode() + nl for a, _ in todo)
    names = ", ".join(f"{a}={v!r}" for a, v in todo)
    edits = [Edit(at_param, at_param, params), Edit(after, after, prefix + body)]
    fields = [(a, v) for a, v in todo if a in GENERATION_FIELDS]
    where = _body_insertion(fs, node) if node is not None and fields else None
    if where is not None:
        # v5's generate() refuses generation parameters stored on a config unless they are
        # fields of its dataclass: an annotated class attribute is one (a plain one under v4)
        at, ind = where
        pre = b"" if fs.src.data[:at].endswith((b"\n", b"\r")) else nl
        text = ind + f"# declared fields, so that v5's generate() accepts them {MARK}".encode()
        text += nl + b"".join(ind + f"{a}: object = {v!r}".encode() + nl for a, v in fields)
        edits.append(Edit(at, at, pre + text))
    ctx.repaired(
        rule,
        fs,
        init.lineno,
        f"{cls.name}.__init__ takes and stores {names} (v4's defaults)",
        *edits,
    )


@repair("HFC115")
def restore_base_defaults(ctx: FixContext) -> None:
    _restore(ctx, "HFC115")


@repair("HFC261")
def restore_generation_params(ctx: FixContext) -> None:
    _restore(ctx, "HFC261")


# --- HFC259: attribute_map for the layer count --------------------------------------------


@repair("HFC259")
def map_layer_count(ctx: FixContext) -> None:
    from hf_custom.checks.v5code import layer_count_alias

    found = layer_count_alias(ctx.pkg, ctx.config, {p: f.tree for p, f in ctx.files.items()})
    if found is None:
        return
    cls, entry = found.cls, f'"num_hidden_layers": "{found.alias}"'
    fs = _file_of(ctx, cls)
    node = _class_node(fs, cls) if fs else None
    if fs is None or node is None:
        return
    change = f"{cls.name}.attribute_map maps num_hidden_layers to {found.alias} (generate())"
    for stmt in node.body:
        value = getattr(stmt, "value", None)
        targets = getattr(stmt, "targets", [getattr(stmt, "target", None)])
        if not any(isinstance(t, ast.Name) and t.id == "attribute_map" for t in targets):
            continue
        if not isinstance(value, ast.Dict) or None in value.keys:
            ctx.cannot("HFC259", fs.path, stmt.lineno, "attribute_map is not a plain dict literal")
            return
        if value.values:
            last = value.values[-1]
            at = fs.src.offset(last.end_lineno or last.lineno, last.end_col_offset or 0)
            edit = Edit(at, at, b", " + entry.encode())
        else:
            at = fs.src.offset(value.lineno, value.col_offset) + 1
            edit = Edit(at, at, entry.encode())
        ctx.repaired("HFC259", fs, stmt.lineno, change, edit)
        return
    inherited = [c for c in ctx.pkg.ancestors(cls) if c is not cls and "attribute_map" in c.attrs]
    where = _body_insertion(fs, node)
    if inherited or where is None:
        why = (
            f"attribute_map is inherited from {inherited[0].name}"
            if inherited
            else "the class body is on its class line"
        )
        ctx.cannot("HFC259", fs.path, cls.line, why + ": add the entry by hand")
        return
    at, indent = where
    nl = fs.src.newline
    prefix = b"" if fs.src.data[:at].endswith((b"\n", b"\r")) else nl
    text = indent + f"attribute_map = {{{entry}}}  # generate() reads it {MARK}".encode() + nl
    ctx.repaired("HFC259", fs, cls.line, change, Edit(at, at, prefix + text))


# --- HFC260: a config __post_init__ v5 would call ------------------------------------------

NEW_POST_INIT = "_legacy_post_init"


def _post_init_refs(tree: ast.AST) -> list[ast.Attribute]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "__post_init__"]


@repair("HFC260")
def rename_post_init(ctx: FixContext) -> None:
    from hf_custom.checks.v5code import config_post_inits

    trees = {p: f.tree for p, f in ctx.files.items()}
    for path, cls, node, fn in config_post_inits(ctx.pkg, trees):
        fs = ctx.files[path]
        inside = {id(n) for n in _post_init_refs(node)}
        own = [
            n
            for n in _post_init_refs(node)
            if isinstance(n.value, ast.Name) and n.value.id == "self"
        ]
        elsewhere = [n for t in trees.values() for n in _post_init_refs(t) if id(n) not in inside]
        if NEW_POST_INIT in cls.methods or len(own) != len(inside) or elsewhere:
            ctx.cannot(
                "HFC260",
                path,
                fn.lineno,
                f"{cls.name}.__post_init__ is reached other than by self.__post_init__() in its "
                "class (or the new name is taken): rename it by hand",
            )
            continue
        line = fs.src.line_text(fn.lineno)
        col = line.find(b"__post_init__", line.find(b"def"))
        if col < 0:
            ctx.cannot("HFC260", path, fn.lineno, "the def line is not `def __post_init__(`")
            continue
        name = NEW_POST_INIT.encode()
        start = fs.src.offset(fn.lineno, col)
        edits = [Edit(start, start + len(b"__post_init__"), name)]
        for ref in own:
            end = fs.src.offset(ref.end_lineno or ref.lineno, ref.end_col_offset or 0)
            edits.append(Edit(end - len(b"__post_init__"), end, name))
        ctx.repaired(
            "HFC260",
            fs,
            fn.lineno,
            f"{cls.name}.__post_init__ renamed {NEW_POST_INIT} ({len(own)} call(s) too), so "
            "v5's dataclass config keeps its own",
            *edits,
        )


# engine.py imports this module, which registers its repairs
REGISTERED = ("HFC115", "HFC259", "HFC260", "HFC261")
