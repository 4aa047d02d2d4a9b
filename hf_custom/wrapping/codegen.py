"""Writing configuration_NAME.py and modeling_NAME.py as a person would (pure: text in, text out).

The output follows the layout transformers' own models use: a ``PreTrainedConfig`` subclass with
every field and ``**kwargs``; a ``PreTrainedModel`` base with ``config_class`` and
``base_model_prefix = "model"`` that keeps the research module as ``self.model``; one class per
task with the standard forward arguments, losses and ``ModelOutput`` return types. Lines stay
under 88 characters and calls that do not fit are exploded with a trailing comma, so the text is
already what ``ruff format`` would write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hf_custom.wrapping.codegen_cache import (
    cache_class_name,
    render_cache_class,
    render_cache_switch,
    render_run_cached,
)
from hf_custom.wrapping.signature import ConfigKind, Field
from hf_custom.wrapping.trace import ForwardSpec

WIDTH = 88


@dataclass(frozen=True)
class Task:
    key: str
    suffix: str
    auto_class: str
    output: str
    needs_hidden: bool  # needs hidden states (a head of its own) rather than logits


TASKS: Mapping[str, Task] = {
    t.key: t
    for t in (
        Task("base", "Model", "AutoModel", "BaseModelOutput", True),
        Task("masked-lm", "ForMaskedLM", "AutoModelForMaskedLM", "MaskedLMOutput", False),
        Task("causal-lm", "ForCausalLM", "AutoModelForCausalLM", "CausalLMOutputWithPast", False),
        Task(
            "sequence-classification",
            "ForSequenceClassification",
            "AutoModelForSequenceClassification",
            "SequenceClassifierOutput",
            True,
        ),
        Task(
            "token-classification",
            "ForTokenClassification",
            "AutoModelForTokenClassification",
            "TokenClassifierOutput",
            True,
        ),
        Task(
            "question-answering",
            "ForQuestionAnswering",
            "AutoModelForQuestionAnswering",
            "QuestionAnsweringModelOutput",
            True,
        ),
        Task(
            "multiple-choice",
            "ForMultipleChoice",
            "AutoModelForMultipleChoice",
            "MultipleChoiceModelOutput",
            True,
        ),
    )
}


@dataclass(frozen=True)
class Design:
    """Everything the generator needs; built by :mod:`hf_custom.wrapping.api` from introspection."""

    prefix: str  # class-name prefix, e.g. "LtgBert"
    snake: str  # file suffix, e.g. "ltg_bert"
    model_type: str
    research_class: str
    research_module: str  # flat module name of the vendored research file
    ctor_kind: ConfigKind
    fields: tuple[Field, ...]  # passed to the research module
    forward: ForwardSpec
    tasks: tuple[str, ...]
    config_type: str | None = None  # dataclass name (ctor_kind == "dataclass")
    config_type_module: str | None = None
    factory: str | None = None  # ctor_kind == "factory": the class's config factory
    factory_items: bool = False
    renamed: Mapping[str, str] = field(default_factory=dict)  # research field -> config attr
    extra_fields: tuple[Field, ...] = ()  # the wrapper's own fields (vocab_size, ...)
    attribute_map: Mapping[str, str] = field(default_factory=dict)
    tied: Mapping[str, str] = field(default_factory=dict)  # inside the research module
    lm_head_tie: str | None = None  # parameter the new lm_head is tied to
    computed_buffers: tuple[str, ...] = ()  # non-persistent buffers built by the constructor
    plain_tensors: tuple[str, ...] = ()  # tensors kept as plain attributes (dotted names)
    origin: str = ""  # "ltgbert.py" (for docstrings)

    @property
    def config_class(self) -> str:
        return f"{self.prefix}Config"

    def class_name(self, task: str) -> str:
        return f"{self.prefix}{TASKS[task].suffix}"

    def generated_names(self) -> set[str]:
        names = {self.config_class, f"{self.prefix}PreTrainedModel", "build_research_model"}
        if self.forward.cache is not None:
            names |= {cache_class_name(self), "_reorder", "_tensors"}
        return names | {self.class_name(t) for t in self.tasks}

    @property
    def research_ref(self) -> str:
        """The research class's name in modeling_NAME.py (aliased if a generated class has it)."""
        c = self.research_class
        return f"Research{c}" if c in self.generated_names() else c

    @property
    def config_type_ref(self) -> str | None:
        c = self.config_type
        return f"Research{c}" if c and c in self.generated_names() else c

    def attr(self, name: str) -> str:
        """The config attribute holding the research field ``name``."""
        return self.renamed.get(name, name)

    def config_fields(self) -> tuple[Field, ...]:
        """The fields as configuration attributes (colliding names mapped), then the extras."""
        return (*(replace(f, name=self.attr(f.name)) for f in self.fields), *self.extra_fields)

    def tie_word_embeddings(self) -> bool:
        return bool(self.tied) or self.lm_head_tie is not None


def _call(head: str, args: Sequence[str], indent: int, tail: str = "") -> list[str]:
    """``head(args)tail`` on one line if it fits, else exploded with a magic trailing comma."""
    pad = " " * indent
    one = f"{pad}{head}({', '.join(args)}){tail}"
    if len(one) <= WIDTH:
        return [one]
    return [f"{pad}{head}(", *[f"{pad}    {a}," for a in args], f"{pad}){tail}"]


def _doc(text: str, indent: int) -> list[str]:
    """A docstring: one line if it fits, else wrapped with the closing quotes on their own line."""
    import textwrap

    pad = " " * indent
    one = f'{pad}"""{text}"""'
    if len(one) <= WIDTH:
        return [one]
    body = textwrap.wrap(text, WIDTH - indent - 3, break_on_hyphens=False)
    return [f'{pad}"""{body[0]}', *[f"{pad}{b}" for b in body[1:]], f'{pad}"""']


def _class(name: str, bases: Sequence[str]) -> list[str]:
    one = f"class {name}({', '.join(bases)}):"
    if len(one) <= WIDTH:
        return [one]
    inner = f"    {', '.join(bases)}"
    if len(inner) <= WIDTH:
        return [f"class {name}(", inner, "):"]
    return [f"class {name}(", *[f"    {b}," for b in bases], "):"]


def _def(name: str, params: Sequence[str], indent: int, returns: str = "") -> list[str]:
    pad = " " * indent
    ret = f" -> {returns}" if returns else ""
    one = f"{pad}def {name}({', '.join(params)}){ret}:"
    if len(one) <= WIDTH:
        return [one]
    inner = f"{pad}    {', '.join(params)}"
    if not returns and len(inner) <= WIDTH:
        return [f"{pad}def {name}(", inner, f"{pad}):"]
    return [f"{pad}def {name}(", *[f"{pad}    {p}," for p in params], f"{pad}){ret}:"]


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


# ---------------------------------------------------------------- configuration_NAME.py


def render_config(d: Design) -> str:
    fields = list(d.config_fields())
    params = [_param(f) for f in fields]
    params.append(f"tie_word_embeddings: bool = {d.tie_word_embeddings()!r}")
    lines = [
        *_doc(
            f"Configuration of {d.prefix}: the constructor arguments of "
            f"`{d.research_class}` from {d.origin} (written by hf-custom wrap).",
            0,
        ),
        "",
        *(["from typing import ClassVar", ""] if d.attribute_map else []),
        "from transformers import PreTrainedConfig",
        "",
        "",
        *_class(d.config_class, ["PreTrainedConfig"]),
        f'    model_type = "{d.model_type}"',
    ]
    if d.attribute_map:
        items = [f'"{k}": "{v}"' for k, v in sorted(d.attribute_map.items())]
        lines += _dict_lines("attribute_map", items, 4)
    if d.renamed:
        lines.append("")
        lines += _comment(
            "fields of the research config whose names PreTrainedConfig uses itself: "
            + ", ".join(f"{k} is stored as {v}" for k, v in sorted(d.renamed.items())),
            4,
        )
    lines += ["", "    def __init__(", "        self,"]
    lines += [f"        {p}," for p in params]
    lines += ["        **kwargs,", "    ):"]
    for f in fields:
        if f.name == "use_cache" and not f.value:
            lines.append(
                "        # the network keeps no key/value cache: generate() reruns the whole text"
            )
        elif f.name == "use_cache":
            lines.append(
                f"        # generate() decodes with {d.research_class}'s own key/value cache"
            )
        assign = f"        self.{f.name} = {f.name}"
        if len(assign) > WIDTH:  # as ruff format splits it
            assign = f"        self.{f.name} = (\n            {f.name}\n        )"
        lines.append(assign)
    lines += ["        self.tie_word_embeddings = tie_word_embeddings"]
    lines += ["        super().__init__(**kwargs)", ""]
    return "\n".join(lines)


def _dict_lines(name: str, items: Sequence[str], indent: int) -> list[str]:
    """A class-level dict, annotated ClassVar (PreTrainedConfig subclasses are dataclasses)."""
    pad = " " * indent
    one = f"{pad}{name}: ClassVar[dict[str, str]] = {{{', '.join(items)}}}"
    if len(one) <= WIDTH:
        return [one]
    head = f"{pad}{name}: ClassVar[dict[str, str]] = {{"
    return [head, *[f"{pad}    {i}," for i in items], f"{pad}}}"]


def _param(f: Field) -> str:
    value = _literal(f.value)
    if f.value is None:
        return f"{f.name}=None"
    ann = f.annotation
    if ann in ("list", "tuple", "dict") or ann is None:
        return f"{f.name}={value}"
    return f"{f.name}: {ann} = {value}"


# ---------------------------------------------------------------- modeling_NAME.py


def render_modeling(d: Design) -> str:
    outputs = sorted({TASKS[t].output for t in d.tasks})
    uses_nn = any(TASKS[t].needs_hidden for t in d.tasks if t != "base") or (
        d.forward.output_kind == "hidden" and any(t in ("masked-lm", "causal-lm") for t in d.tasks)
    )
    has_loss = any(t != "base" for t in d.tasks)
    imports = ["import torch"]
    if d.tied or (d.lm_head_tie and any(t in ("masked-lm", "causal-lm") for t in d.tasks)):
        imports.insert(0, "from typing import ClassVar\n")
    if uses_nn or has_loss or d.forward.input_embedding or d.computed_buffers:
        imports.append("from torch import nn")
    tf = ["PreTrainedModel"]
    if "causal-lm" in d.tasks:
        tf.insert(0, "GenerationMixin")
    cached = d.forward.cache is not None and "causal-lm" in d.tasks
    if cached:
        tf.insert(0, "Cache")
    imports.append(f"from transformers import {', '.join(tf)}")
    imports += _call_import("transformers.modeling_outputs", outputs)
    if d.ctor_kind == "namespace":
        imports.insert(0, "from types import SimpleNamespace\n")
        if imports[1].startswith("from typing"):
            imports[0:2] = ["from types import SimpleNamespace", imports[1]]
    local = [f"from .configuration_{d.snake} import {d.config_class}"]
    research = [_as(d.research_class, d.research_ref)]
    if d.ctor_kind == "dataclass" and d.config_type:
        ref = _as(d.config_type, d.config_type_ref or d.config_type)
        if d.config_type_module in (None, d.research_module):
            research.append(ref)
        else:
            local.append(f"from .{d.config_type_module} import {ref}")
    plain = sorted(r for r in research if " as " not in r)
    if plain:
        local.append(f"from .{d.research_module} import {', '.join(plain)}")
    local += [f"from .{d.research_module} import {r}" for r in research if " as " in r]
    local = [line for imp in sorted(local) for line in _local_import(imp)]
    lines = [
        *_first_line(d),
        "",
        "The original network is kept unchanged as `self.model`; each class below adds what a",
        "task needs (a head, a loss, a standard output type). Written by hf-custom wrap.",
        '"""',
        "",
        *imports,
        "",
        *local,
        "",
        "",
        *_builder(d),
        "",
        "",
        *(
            [*render_cache_class(d, d.forward.cache), "", ""]
            if cached and d.forward.cache is not None
            else []
        ),
        *_base_class(d),
    ]
    for task in d.tasks:
        lines += ["", "", *_task_class(d, task)]
    lines += ["", "", *_all(d)]
    return "\n".join(lines) + "\n"


def _as(name: str, ref: str) -> str:
    return name if name == ref else f"{name} as {ref}"


def _first_line(d: Design) -> list[str]:
    line = f'"""Hugging Face model classes around `{d.research_class}` from {d.origin}.'
    if len(line) <= WIDTH:
        return [line]
    return [f'"""Hugging Face model classes around `{d.research_class}`', f"from {d.origin}."]


def _local_import(line: str) -> list[str]:
    module, _, names = line.removeprefix("from ").partition(" import ")
    return _call_import(module, names.split(", "))


def _call_import(module: str, names: Sequence[str]) -> list[str]:
    one = f"from {module} import {', '.join(names)}"
    if len(one) <= WIDTH:
        return [one]
    return [f"from {module} import (", *[f"    {n}," for n in names], ")"]


def _builder(d: Design) -> list[str]:
    access = {f.name: f"config.{d.attr(f.name)}" for f in d.fields}
    lines = [
        *_def("build_research_model", [f"config: {d.config_class}"], 0, d.research_ref),
        *_doc(f"Build the original `{d.research_class}` from the configuration.", 4),
    ]
    if d.ctor_kind == "kwargs":
        args = [f"{k}={v}" for k, v in access.items()]
        return lines + _call(f"return {d.research_ref}", args, 4)
    if d.ctor_kind == "dict":
        items = [f'"{k}": {v}' for k, v in access.items()]
        inner = _dict_lines("options", items, 4)
        return [*lines, *inner, f"    return {d.research_ref}(options)"]
    if d.ctor_kind == "factory":
        lines.append(f"    options = {d.research_ref}.{d.factory}()")
        for k, v in access.items():
            target = f'options["{k}"]' if d.factory_items else f"options.{k}"
            lines.append(f"    {target} = {v}")
        return [*lines, f"    return {d.research_ref}(options)"]
    holder = d.config_type_ref if d.ctor_kind == "dataclass" else "SimpleNamespace"
    args = [f"{k}={v}" for k, v in access.items()]
    return [
        *lines,
        *_call(f"options = {holder}", args, 4),
        f"    return {d.research_ref}(options)",
    ]


def _base_class(d: Design) -> list[str]:
    f = d.forward
    lines = [
        *_class(f"{d.prefix}PreTrainedModel", ["PreTrainedModel"]),
        f"    config_class = {d.config_class}",
        '    base_model_prefix = "model"',
        "    # the losses below are means over the batch: let Trainer scale them itself",
        "    accepts_loss_kwargs = False",
    ]
    if d.tied:
        lines += _dict_lines("_tied_weights_keys", [f'"{k}": "{v}"' for k, v in d.tied.items()], 4)
    if f.input_embedding:
        lines += [
            "",
            "    def get_input_embeddings(self) -> nn.Module:",
            f"        return self.model.{f.input_embedding}",
            "",
            "    def set_input_embeddings(self, value: nn.Module) -> None:",
            f"        self.model.{f.input_embedding} = value",
        ]
    if d.computed_buffers:
        names = ", ".join(f'"{b}"' for b in d.computed_buffers)
        if len(d.computed_buffers) == 1:
            names += ","
        lines += [
            "",
            "    def _init_weights(self, module: nn.Module) -> None:",
            "        super()._init_weights(module)",
            f"        if isinstance(module, {d.research_ref}):",
            *_comment(
                f"buffers {d.research_class} computes in __init__ are not saved with the "
                "weights: compute them again",
                12,
            ),
            "            fresh = build_research_model(self.config)",
            "            with torch.no_grad():",
            *_call_for(names),
            "                    module.get_buffer(name).copy_(fresh.get_buffer(name))",
        ]
    if d.plain_tensors:
        lines += ["", *_restore_plain(d)]
    what = "logits" if f.output_kind == "logits" else "hidden_states"
    shape = "sequence, vocab_size" if f.output_kind == "logits" else "sequence, hidden_size"
    if f.output_kind == "classes":
        what, shape = "class_scores", "num_labels"
    if f.targets_arg:
        lines += [
            "",
            "    def _run_model(",
            "        self,",
            "        input_ids: torch.Tensor,",
            "        attention_mask: torch.Tensor | None,",
            "        targets: torch.Tensor | None = None,",
            "    ) -> tuple[torch.Tensor, torch.Tensor | None]:",
            *_doc(
                f"Run `{d.research_class}`; return (batch, sequence, vocab_size) logits "
                "and its own loss on `targets` (None without targets).",
                8,
            ),
        ]
    else:
        lines += [
            "",
            "    def _run_model(",
            "        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None",
            "    ) -> torch.Tensor:",
            *_doc(
                f"Run `{d.research_class}`; return (batch, {shape}) {what.replace('_', ' ')}.",
                8,
            ),
        ]
    if d.plain_tensors:
        lines.append("        self._restore_plain_tensors()")
    ids = "input_ids.transpose(0, 1)" if f.input_seq_first else "input_ids"
    args: list[str] = []
    remarks = []
    if f.input_seq_first:
        remarks.append("takes (sequence, batch) ids")
    if f.mask_arg is not None and f.mask_style == "pad":
        remarks.append("marks padding with True")
    if f.output_seq_first:
        remarks.append("returns (sequence, batch, features)")
    if remarks:
        text = ", ".join(remarks[:-1]) + (" and " if len(remarks) > 1 else "") + remarks[-1]
        lines += _comment(f"{d.research_class} {text}", 8)
    if f.mask_arg is not None:
        if f.mask_required:
            lines += [
                "        if attention_mask is None:",
                "            attention_mask = torch.ones_like(input_ids)",
            ]
        mask = {
            "keep": "attention_mask",
            "keep-bool": "attention_mask.bool()",
            "pad": "attention_mask == 0",
        }[f.mask_style or "keep"]
        if mask != "attention_mask":
            name = "padding_mask" if f.mask_style == "pad" else "mask"
            if f.mask_required:
                lines.append(f"        {name} = {mask}")
            else:
                lines.append(f"        {name} = None if attention_mask is None else {mask}")
            mask = name
        args.append(f"{f.mask_arg}={mask}")
    args.insert(0, ids if f.ids_positional else f"{f.ids_arg}={ids}")
    args += [f"{k}={v!r}" for k, v in f.fixed_args]  # e.g. start_pos=0: no tokens before these
    if f.targets_arg and f.last_only:
        lines += _comment(
            f"{d.research_class} returns the last position's logits only unless it is given "
            "targets: without labels, the ids stand in for them (their loss is dropped)",
            8,
        )
        args.append(f"{f.targets_arg}=input_ids if targets is None else targets")
    elif f.targets_arg:
        args.append(f"{f.targets_arg}=targets")
    lines += _call("output = self.model", args, 8)
    value = f"output{_path(f.output_path)}"
    if f.output_seq_first:
        value = f"{value}.transpose(0, 1)"
    if not f.targets_arg:
        lines.append(f"        return {value}")
        return lines
    t_path = f.targets_output_path or f.output_path
    if f.last_only or t_path == f.output_path:
        value = f"output{_path(t_path)}"
    else:  # the logits are elsewhere in the output when targets are given
        lines += [
            "        if targets is None:",
            f"            return output{_path(f.output_path)}, None",
        ]
        if f.loss_path is None:
            return [*lines, f"        return output{_path(t_path)}, None"]
        return [*lines, f"        return output{_path(t_path)}, output{_path(f.loss_path)}"]
    if f.loss_path is None:
        return [*lines, f"        return {value}, None"]
    loss = f"output{_path(f.loss_path)}"
    return [*lines, f"        return {value}, None if targets is None else {loss}"]


def _restore_plain(d: Design) -> list[str]:
    """Plain tensor attributes are not weights: from_pretrained builds them on the meta device
    and loads nothing into them. Build them again, once, before the first forward."""
    items = [f'"{n}"' for n in d.plain_tensors]
    one = f"        names = ({', '.join(items)}{',' if len(items) == 1 else ''})"
    names = (
        [one]
        if len(one) <= WIDTH
        else ["        names = (", *[f"            {i}," for i in items], "        )"]
    )
    return [
        "    def _restore_plain_tensors(self) -> None:",
        *_doc(
            f"Build again the tensors {d.research_class} keeps as plain attributes (neither "
            "weights nor buffers): from_pretrained leaves them on the meta device.",
            8,
        ),
        *names,
        "        meta = []",
        "        for name in names:",
        '            path, _, attr = name.rpartition(".")',
        "            value = getattr(self.model.get_submodule(path), attr, None)",
        "            if isinstance(value, torch.Tensor) and value.is_meta:",
        "                meta.append((path, attr))",
        "        if not meta:",
        "            return",
        '        with torch.device("cpu"):',
        "            fresh = build_research_model(self.config)",
        "        for path, attr in meta:",
        "            value = getattr(fresh.get_submodule(path), attr)",
        "            setattr(self.model.get_submodule(path), attr, value.to(self.device))",
    ]


def _path(path: Sequence[str | int]) -> str:
    return "".join(f'["{p}"]' if isinstance(p, str) else f"[{p}]" for p in path)


def _module_loss_lines(d: Design, task: str) -> list[str] | None:
    """The loss lines when the research module's own loss is used (it agreed with a
    cross-entropy recomputation at wrap time), else None."""
    f = d.forward
    if f.loss_path is None or f.ignore_index is None or (task == "masked-lm" and f.loss_shift):
        return None
    ignore = f.ignore_index
    lines = ["        targets = None", "        if labels is not None:"]
    lines += _comment(
        f"{d.research_class} computes its own loss (checked against cross-entropy when "
        f"wrapped); it skips targets of {ignore}"
        + ("" if ignore == -100 else ", where Hugging Face labels use -100"),
        12,
    )
    src = "labels"
    if task == "causal-lm" and not f.loss_shift:
        lines += [
            "            # it compares position i with targets[i]: the next tokens",
            "            pad = labels.new_full((labels.size(0), 1), -100)",
            "            targets = torch.cat([labels[:, 1:], pad], dim=1)",
        ]
        src = "targets"
    if ignore != -100:
        lines.append(f"            targets = {src}.masked_fill({src} == -100, {ignore})")
    else:
        lines.append(f"            targets = {src}" if src != "targets" else "")
    lines = [line for line in lines if line]
    lines.append("        logits, loss = self._run_model(input_ids, attention_mask, targets)")
    return lines


def _comment(text: str, indent: int) -> list[str]:
    import textwrap

    pad = " " * indent
    return textwrap.wrap(text, WIDTH, initial_indent=f"{pad}# ", subsequent_indent=f"{pad}# ")


def _call_for(names: str) -> list[str]:
    one = f"                for name in ({names}):"
    if len(one) <= WIDTH:
        return [one]
    items = [n.strip() for n in names.split(",") if n.strip()]
    return [
        "                for name in (",
        *[f"                    {i}," for i in items],
        "                ):",
    ]


def _forward_head(returns: str, extra: Sequence[str] = ()) -> list[str]:
    return [
        "    def forward(",
        "        self,",
        "        input_ids: torch.Tensor | None = None,",
        "        attention_mask: torch.Tensor | None = None,",
        *[f"        {e}," for e in extra],
        "        return_dict: bool | None = None,",
        "        **kwargs,",
        f"    ) -> {returns}:",
    ]


def _return(output: str, fields: Sequence[str], tuple_items: str, has_loss: bool) -> list[str]:
    lines = [
        "        if not (return_dict if return_dict is not None else self.config.return_dict):",
    ]
    if has_loss:
        lines += [
            f"            output = ({tuple_items}{',' if ',' not in tuple_items else ''})",
            "            return output if loss is None else (loss, *output)",
        ]
    else:
        lines.append(f"            return ({tuple_items},)")
    lines += _call(f"return {output}", list(fields), 8)
    return lines


def _init(d: Design, extra: Sequence[str]) -> list[str]:
    return [
        *_def("__init__", ["self", f"config: {d.config_class}"], 4),
        "        super().__init__(config)",
        "        self.model = build_research_model(config)",
        *[f"        {e}" for e in extra],
        "        self.post_init()",
    ]


def _task_class(d: Design, task: str) -> list[str]:
    t = TASKS[task]
    name = d.class_name(task)
    bases = [f"{d.prefix}PreTrainedModel"]
    if task == "causal-lm":
        bases.append("GenerationMixin")
    doc = {
        "base": f"The bare `{d.research_class}`, returning its hidden states.",
        "masked-lm": f"`{d.research_class}` with a masked language modeling head.",
        "causal-lm": f"`{d.research_class}` as a causal language model (supports generate()).",
        "sequence-classification": f"`{d.research_class}` with a sequence classification head.",
        "token-classification": f"`{d.research_class}` with a token classification head.",
        "question-answering": f"`{d.research_class}` with a span (start/end) extraction head.",
        "multiple-choice": f"`{d.research_class}` with a multiple choice head.",
    }[task]
    lines = [*_class(name, bases), *_doc(doc, 4), ""]
    returns = f"{t.output} | tuple[torch.Tensor, ...]"
    if task == "base":
        lines += _init(d, [])
        lines += ["", *_forward_head(returns)]
        lines += ["        hidden_states = self._run_model(input_ids, attention_mask)"]
        lines += _return(t.output, ["last_hidden_state=hidden_states"], "hidden_states", False)
        return lines
    if task in ("masked-lm", "causal-lm"):
        f = d.forward
        own_head = d.forward.lm_head if d.forward.output_kind == "hidden" else None
        head = d.forward.output_kind == "hidden" and own_head is None
        if head and d.lm_head_tie:
            lines += _dict_lines(
                "_tied_weights_keys",
                [f'"{k}": "{v}"' for k, v in {**d.tied, "lm_head.weight": d.lm_head_tie}.items()],
                4,
            )
            lines.append("")
        extra = ["self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)"]
        lines += _init(d, extra if head else [])
        cache = f.cache if task == "causal-lm" else None
        if cache is not None:
            lines += ["", *render_run_cached(d, cache)]
        if head:
            lines += [
                "",
                "    def get_output_embeddings(self) -> nn.Module:",
                "        return self.lm_head",
                "",
                "    def set_output_embeddings(self, new_embeddings: nn.Module) -> None:",
                "        self.lm_head = new_embeddings",
            ]
        labels = ["labels: torch.Tensor | None = None"]
        if cache is not None:
            labels += ["cache: Cache | None = None", "use_cache: bool | None = None"]
        lines += ["", *_forward_head(returns, labels)]
        if cache is not None:
            lines += render_cache_switch(d)
        if head:
            lines += [
                "        hidden_states = self._run_model(input_ids, attention_mask)",
                "        logits = self.lm_head(hidden_states)",
            ]
        elif own_head:
            lines += [
                "        hidden_states = self._run_model(input_ids, attention_mask)",
                f"        logits = self.model.{own_head}(hidden_states)  # the original LM head",
            ]
        elif f.targets_arg:
            own = _module_loss_lines(d, task)
            if own is not None:
                lines += own
                lines += _return(t.output, ["loss=loss", "logits=logits"], "logits", True)
                return lines
            lines.append("        logits, _ = self._run_model(input_ids, attention_mask)")
        else:
            lines.append("        logits = self._run_model(input_ids, attention_mask)")
        lines += ["        loss = None", "        if labels is not None:"]
        if task == "causal-lm":
            lines += [
                "            # position i predicts token i + 1",
                "            shifted = logits[:, :-1].reshape(-1, logits.size(-1))",
                "            targets = labels[:, 1:].reshape(-1)",
                "            loss = nn.functional.cross_entropy(shifted, targets)",
            ]
        else:
            lines += [
                "            loss = nn.functional.cross_entropy(",
                "                logits.view(-1, logits.size(-1)), labels.view(-1)",
                "            )",
            ]
        lines += _return(t.output, ["loss=loss", "logits=logits"], "logits", True)
        return lines
    if task == "question-answering":
        return lines + _qa_class(d, returns)
    if task == "multiple-choice":
        return lines + _choice_class(d, returns)
    scores_itself = d.forward.output_kind == "classes"  # the research module's own classifier
    extra = [
        "self.num_labels = config.num_labels",
        "self.dropout = nn.Dropout(config.classifier_dropout)",
        "self.classifier = nn.Linear(config.hidden_size, config.num_labels)",
    ]
    lines += _init(d, extra[:1] if scores_itself else extra)
    lines += ["", *_forward_head(returns, ["labels: torch.Tensor | None = None"])]
    if scores_itself:
        lines.append(f"        # {d.research_class} scores the classes itself")
        lines.append("        logits = self._run_model(input_ids, attention_mask)")
    else:
        lines.append("        hidden_states = self._run_model(input_ids, attention_mask)")
    if task == "token-classification":
        lines += [
            "        logits = self.classifier(self.dropout(hidden_states))",
            "        loss = None",
            "        if labels is not None:",
            "            loss = nn.functional.cross_entropy(",
            "                logits.view(-1, self.num_labels), labels.view(-1)",
            "            )",
        ]
        lines += _return(t.output, ["loss=loss", "logits=logits"], "logits", True)
        return lines
    if not scores_itself:
        lines += _pool(d, "attention_mask")
        lines.append("        logits = self.classifier(self.dropout(pooled))")
    lines += [
        "        loss = None",
        "        if labels is not None:",
        "            if self.config.problem_type is None:",
        "                if self.num_labels == 1:",
        '                    self.config.problem_type = "regression"',
        "                elif labels.dtype in (torch.long, torch.int):",
        '                    self.config.problem_type = "single_label_classification"',
        "                else:",
        '                    self.config.problem_type = "multi_label_classification"',
        '            if self.config.problem_type == "regression":',
        "                if self.num_labels == 1:",
        "                    loss = nn.functional.mse_loss(logits.squeeze(), labels.squeeze())",
        "                else:",
        "                    loss = nn.functional.mse_loss(logits, labels)",
        '            elif self.config.problem_type == "single_label_classification":',
        "                loss = nn.functional.cross_entropy(",
        "                    logits.view(-1, self.num_labels), labels.view(-1)",
        "                )",
        "            else:",
        "                loss = nn.functional.binary_cross_entropy_with_logits(",
        "                    logits, labels.to(logits.dtype)",
        "                )",
    ]
    lines += _return(t.output, ["loss=loss", "logits=logits"], "logits", True)
    return lines


def _pool(d: Design, mask: str) -> list[str]:
    if not d.forward.causal:
        return ["        pooled = hidden_states[:, 0]  # the first token's state"]
    return [
        "        # a causal model has seen the whole text only at its last real token",
        f"        if {mask} is None:",
        "            pooled = hidden_states[:, -1]",
        "        else:",
        f"            last = {mask}.sum(dim=1) - 1",
        "            rows = torch.arange(hidden_states.size(0), device=hidden_states.device)",
        "            pooled = hidden_states[rows, last]",
    ]


def _qa_class(d: Design, returns: str) -> list[str]:
    lines = _init(d, ["self.qa_outputs = nn.Linear(config.hidden_size, 2)"])
    extra = [
        "start_positions: torch.Tensor | None = None",
        "end_positions: torch.Tensor | None = None",
    ]
    lines += ["", *_forward_head(returns, extra)]
    lines += [
        "        hidden_states = self._run_model(input_ids, attention_mask)",
        "        start_logits, end_logits = self.qa_outputs(hidden_states).unbind(dim=-1)",
        "        loss = None",
        "        if start_positions is not None and end_positions is not None:",
        "            # positions outside the text are ignored",
        "            outside = start_logits.size(1)",
        "            start = start_positions.view(-1).clamp(0, outside)",
        "            end = end_positions.view(-1).clamp(0, outside)",
        "            loss = (",
        "                nn.functional.cross_entropy(start_logits, start, ignore_index=outside)",
        "                + nn.functional.cross_entropy(end_logits, end, ignore_index=outside)",
        "            ) / 2",
    ]
    fields = ["loss=loss", "start_logits=start_logits", "end_logits=end_logits"]
    return lines + _return("QuestionAnsweringModelOutput", fields, "start_logits, end_logits", True)


def _choice_class(d: Design, returns: str) -> list[str]:
    extra = [
        "self.dropout = nn.Dropout(config.classifier_dropout)",
        "self.classifier = nn.Linear(config.hidden_size, 1)",
    ]
    lines = _init(d, extra)
    lines += ["", *_forward_head(returns, ["labels: torch.Tensor | None = None"])]
    lines += [
        "        # (batch, choices, sequence): every choice is a text of its own",
        "        num_choices = input_ids.size(1)",
        "        flat_ids = input_ids.reshape(-1, input_ids.size(-1))",
        "        flat_mask = None",
        "        if attention_mask is not None:",
        "            flat_mask = attention_mask.reshape(-1, attention_mask.size(-1))",
        "        hidden_states = self._run_model(flat_ids, flat_mask)",
        *_pool(d, "flat_mask"),
        "        scores = self.classifier(self.dropout(pooled))",
        "        logits = scores.view(-1, num_choices)",
        "        loss = None",
        "        if labels is not None:",
        "            loss = nn.functional.cross_entropy(logits, labels.view(-1))",
    ]
    return lines + _return(
        "MultipleChoiceModelOutput", ["loss=loss", "logits=logits"], "logits", True
    )


def _all(d: Design) -> list[str]:
    names = sorted([f"{d.prefix}PreTrainedModel", *(d.class_name(t) for t in d.tasks)])
    one = "__all__ = [" + ", ".join(f'"{n}"' for n in names) + "]"
    if len(one) <= WIDTH:
        return [one]
    return ["__all__ = [", *[f'    "{n}",' for n in names], "]"]
