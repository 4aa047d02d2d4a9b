"""``wrap``: from a plain ``nn.Module`` to a checkpoint folder that ``publish`` uploads unchanged.

Steps: import the class; read its constructor (:mod:`~hf_custom.wrapping.signature`); build it and
trace its forward (:mod:`~hf_custom.wrapping.trace`); vendor its source with publish's packaging
(:func:`hf_custom.staging.code.plan_code`); generate the configuration and modeling files
(:mod:`~hf_custom.wrapping.codegen`); write config.json and the weights under the ``model.``
prefix; verify the folder in a clean child process (:func:`hf_custom.verification.verify`).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hf_custom.errors import InputError, require
from hf_custom.events import EventSink, Log, emit
from hf_custom.wrapping.codegen import TASKS, Design, render_config, render_modeling
from hf_custom.wrapping.shapes import inner_state, refuse_training_wrapper
from hf_custom.wrapping.signature import Constructor, Field, instantiate, read_constructor
from hf_custom.wrapping.trace import ForwardSpec, read_forward

if TYPE_CHECKING:
    from hf_custom.verification import VerifyReport

VOCAB_NAMES = ("vocab_size", "vocab", "n_vocab", "num_tokens", "ntoken", "ntokens", "n_tokens")
HIDDEN_NAMES = (
    "hidden_size",
    "hidden",
    "d_model",
    "dim",
    "n_embd",
    "embed_dim",
    "hidden_dim",
    "emb_dim",
    "width",
    "model_dim",
)
STRIP_PREFIXES = ("module.", "_orig_mod.")
FRESH_HEADS = frozenset(
    {"sequence-classification", "token-classification", "question-answering", "multiple-choice"}
)


@dataclass(frozen=True)
class WrapResult:
    out: Path
    files: tuple[str, ...]
    model_type: str
    auto_map: Mapping[str, str]
    tasks: tuple[str, ...]
    weights: str  # the --weights file, or "fresh initialisation"
    tensors: int
    forward: ForwardSpec
    notes: tuple[str, ...] = ()
    verification: VerifyReport | None = None
    next_command: str = ""
    vendored: Mapping[str, str] = field(default_factory=dict)  # dest file -> source path
    config_kind: str = "kwargs"  # how the research module takes its configuration
    renamed: Mapping[str, str] = field(default_factory=dict)  # research field -> config attr

    @property
    def ok(self) -> bool:
        return self.verification is None or self.verification.ok

    def to_json(self) -> dict[str, object]:
        f = self.forward
        return {
            "out": str(self.out),
            "files": list(self.files),
            "model_type": self.model_type,
            "auto_map": dict(self.auto_map),
            "tasks": list(self.tasks),
            "weights": self.weights,
            "tensors": self.tensors,
            "module": {
                "ids_argument": f.ids_arg,
                "mask_argument": f.mask_arg,
                "mask_convention": f.mask_style,
                "input_sequence_first": f.input_seq_first,
                "output_sequence_first": f.output_seq_first,
                "output": f.output_kind,
                "causal": f.causal,
                "vocab_size": f.vocab_size,
                "width": f.width,
                "lm_head": f.lm_head,
                "targets_argument": f.targets_arg,
                "last_position_only": f.last_only,
                "own_loss": f.loss_path is not None and f.ignore_index is not None,
                "loss_shifts_targets": f.loss_shift,
                "ignore_index": f.ignore_index,
                "kv_cache": _cache_json(f),
            },
            "config": {"kind": self.config_kind, "renamed": dict(self.renamed)},
            "vendored": dict(self.vendored),
            "notes": list(self.notes),
            "verification": self.verification.to_json() if self.verification else None,
            "next_command": self.next_command,
            "ok": self.ok,
        }


def _cache_json(f: ForwardSpec) -> dict[str, object] | None:
    c = f.cache
    if c is None:
        return None
    return {
        "style": c.style,
        "cache_argument": c.cache_arg,
        "flag_argument": c.flag_arg,
        "position_argument": c.position_arg,
        "reset": c.reset,
        "beam_search": c.reorderable,
    }


def names_for(name: str) -> tuple[str, str, str]:
    """(class prefix, file suffix, model_type) for ``--name`` ("ltg-bert", "LtgBert", ...)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name.strip())
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", spaced) if p]
    if not parts or not parts[0][0].isalpha():
        raise InputError(
            f"cannot make Python names from {name!r}",
            hint="pass --name with letters, e.g. --name my-model",
        )
    snake = "_".join(p.lower() for p in parts)
    prefix = "".join(p[:1].upper() + p[1:].lower() for p in parts)
    model_type = "-".join(p.lower() for p in parts) if "-" in name else snake
    return prefix, snake, model_type


def wrap(
    target: str,
    *,
    out: Path,
    weights: Path | None = None,
    tasks: Sequence[str] | None = None,
    name: str | None = None,
    args: Mapping[str, Any] | None = None,
    seq_first: bool | None = None,
    mask: str | None = None,
    lm_head: str | None = None,
    tokenizer: Path | None = None,
    code_root: Path | None = None,
    verify: bool = True,
    on_event: EventSink | None = None,
) -> WrapResult:
    """Generate a Hugging Face custom-code checkpoint for the research module ``MODULE:CLASS``.

    Raises:
        MissingDependency: torch or transformers is not installed.
        InputError: what the module, its weights or the options leave undecidable or broken
            (an import or construction failure, an ``out`` that exists and is not empty,
            weights that do not fit, an unknown or unsupported task, an unreadable
            ``tokenizer``); the message names the file and the option to pass.
    """
    require("torch", purpose="wrap")
    require("transformers", purpose="wrap")
    from hf_custom.wrapping.load import imported

    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(
            "the output folder exists and is not empty",
            path=str(out),
            hint="pass a new folder with --out (wrap never overwrites files)",
        )
    args = dict(args or {})
    notes: list[str] = []
    copied = _tokenizer_files(tokenizer) if tokenizer is not None else {}
    with imported(target, code_root=code_root) as tgt:
        cls = tgt.cls
        emit(on_event, Log(f"reading {cls.__name__}.__init__ and forward"))
        ctor = read_constructor(cls, args)
        module = _build(cls, ctor)
        plain = _plain_tensors(module)  # as the constructor leaves them, before any forward
        refuse_training_wrapper(cls, module, source=tgt.source)
        vocab_field = _pick(ctor.fields, VOCAB_NAMES)
        hint = args.get("vocab_size") or (vocab_field.value if vocab_field else None)
        fwd = read_forward(
            module,
            vocab_hint=hint if isinstance(hint, int) else None,
            seq_first=seq_first,
            mask_style=mask,
            lm_head_hint=lm_head,
        )
        chosen = _tasks(tasks, fwd)
        if all(t in FRESH_HEADS for t in chosen) and fwd.output_kind != "classes":
            chosen = ("base", *chosen)
            notes.append(
                "added the base model: config.json's architectures names a class whose every "
                "weight is in model.safetensors (the task heads start untrained)"
            )
        if fwd.loss_note:
            notes.append(fwd.loss_note)
        elif fwd.loss_path is not None and fwd.ignore_index is not None:
            notes.append(
                f"training uses {cls.__name__}'s own loss on `{fwd.targets_arg}` (it equals the "
                "cross-entropy of its logits"
                + (", the targets shifted inside it)" if fwd.loss_shift else ")")
            )
        if fwd.last_only:
            notes.append(
                f"{cls.__name__} returns the last position's logits without `{fwd.targets_arg}`: "
                "the wrapper passes the ids as targets to get every position"
            )
        notes += _cache_notes(cls.__name__, fwd, chosen)
        prefix, snake, model_type = names_for(name or cls.__name__)
        _check_model_type(model_type)
        state, source = _weights(module, weights, notes)
        if weights is None:
            notes.append(
                "no --weights given: model.safetensors holds the freshly initialised module "
                "(pass --weights FILE to ship trained weights)"
            )
        tied = _tied(module)
        saved = set(module.state_dict())
        computed = tuple(n for n, _ in module.named_buffers() if n not in saved)
        plan = _plan_code(tgt.source, tgt.src_dir, tgt.code_root, snake)
        research_module = _flat_name(plan, tgt.source, tgt.src_dir)
        config_type_module = None
        if ctor.kind == "dataclass" and ctor.config_type is not None:
            import inspect

            cfg_file = Path(inspect.getfile(ctor.config_type)).resolve()
            config_type_module = _flat_name(plan, cfg_file, tgt.src_dir, required=False)
            if config_type_module is None:
                raise InputError(
                    f"{ctor.config_type.__name__} is defined outside the research code",
                    path=str(cfg_file),
                    hint="define the config dataclass next to the module (or in a file it imports)",
                )
        design = _design(
            cls=cls,
            ctor=ctor,
            fwd=fwd,
            tasks=chosen,
            names=(prefix, snake, model_type),
            research_module=research_module,
            config_type_module=config_type_module,
            tied=tied,
            computed_buffers=computed,
            plain_tensors=plain,
            origin=tgt.source.name,
            notes=notes,
        )
        files = {
            f"configuration_{snake}.py": render_config(design),
            f"modeling_{snake}.py": render_modeling(design),
        }
        vendored = _closure(plan, research_module, config_type_module)
        for dest in vendored:
            files[dest] = plan.files[dest]
        config = _config_json(design)
        emit(on_event, Log(f"writing {out}"))
        tensors = _write(out, files, config, state, tied, copies=copied)
    result = WrapResult(
        out=out,
        files=tuple(sorted([*files, *copied, "config.json", "model.safetensors"])),
        model_type=model_type,
        auto_map=config["auto_map"],
        tasks=chosen,
        weights=source,
        tensors=tensors,
        forward=fwd,
        notes=tuple(notes),
        next_command=f"hf-custom publish {out} --repo-id YOUR_NAME/{model_type}",
        vendored={d: str(plan.origins.get(d, d)) for d in vendored},
        config_kind=ctor.kind,
        renamed=dict(design.renamed),
    )
    if verify:
        from hf_custom.verification import verify as run_verify

        emit(on_event, Log("verifying the folder in a clean process"))
        result = replace(result, verification=run_verify(out, on_event=on_event))
    return result


def _cache_notes(name: str, fwd: ForwardSpec, tasks: Sequence[str]) -> list[str]:
    if "causal-lm" not in tasks:
        return []
    c = fwd.cache
    if c is None:
        return [fwd.cache_note] if fwd.cache_note else []
    how = {
        "returned": f"the cache its forward returns (`{c.cache_arg}`)",
        "held": "the cache it keeps itself"
        + (f" (`{c.flag_arg}=True`)" if c.flag_arg else "")
        + (f", emptied by `{c.reset}()`" if c.reset else ""),
    }[c.style]
    where = f", new tokens placed by `{c.position_arg}`" if c.position_arg else ""
    beams = "" if c.reorderable else "; beam search needs use_cache=False"
    return [
        f"generate() decodes with {name}'s own key/value cache: {how}{where} (proven equal "
        f"to full forwards when wrapped{beams})"
    ]


def _build(cls: type, ctor: Constructor) -> Any:
    try:
        return instantiate(cls, ctor)
    except Exception as exc:
        raise InputError(
            f"constructing {cls.__name__} failed: {type(exc).__name__}: {exc}",
            hint="pass the constructor's arguments with --arg key=value",
        ) from exc


def _pick(fields: Sequence[Field], names: Sequence[str]) -> Field | None:
    by_name = {f.name: f for f in fields}
    return next(
        (by_name[n] for n in names if n in by_name and isinstance(by_name[n].value, int)), None
    )


def _tasks(requested: Sequence[str] | None, fwd: ForwardSpec) -> tuple[str, ...]:
    if fwd.output_kind == "classes":  # its own head: one vector of class scores per text
        if requested and set(requested) != {"sequence-classification"}:
            raise InputError(
                f"the module returns one vector per text ({fwd.width} class scores): it wraps "
                "as sequence-classification only",
                hint="pass --tasks sequence-classification, or wrap the part of the network "
                "that returns a vector per token for other tasks",
            )
        return ("sequence-classification",)
    if not requested:
        if fwd.output_kind == "logits":
            return ("causal-lm",) if fwd.causal else ("masked-lm",)
        lm = "causal-lm" if fwd.causal else "masked-lm"
        return ("base", lm, "sequence-classification", "token-classification")
    unknown = [t for t in requested if t not in TASKS]
    if unknown:
        raise InputError(
            f"unknown task {', '.join(unknown)}", hint=f"--tasks takes: {', '.join(TASKS)}"
        )
    for t in requested:
        if TASKS[t].needs_hidden and fwd.output_kind == "logits":
            raise InputError(
                f"task {t} needs hidden states, but the module returns logits",
                hint="wrap the part of the network that returns hidden states, or choose "
                "--tasks causal-lm / masked-lm",
            )
        if t == "causal-lm" and not fwd.causal:
            raise InputError(
                "task causal-lm needs a causal module, but position i of this one sees later tokens",
                hint="choose --tasks masked-lm for a bidirectional encoder",
            )
    return tuple(dict.fromkeys(requested))


def _check_model_type(model_type: str) -> None:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    if model_type in CONFIG_MAPPING_NAMES:
        raise InputError(
            f"model_type {model_type!r} is built into transformers: without trust_remote_code "
            "the built-in class would load silently",
            hint="pass --name with a name of your own (e.g. --name my-" + model_type + ")",
        )


def _weights(
    module: Any, weights: Path | None, notes: list[str] | None = None
) -> tuple[dict[str, Any], str]:
    if weights is None:
        return dict(module.state_dict()), "fresh initialisation"
    path = Path(weights)
    if not path.is_file():
        raise InputError("no such weights file", path=str(path), hint="pass --weights FILE")
    import torch

    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        raw = load_file(str(path))
    else:
        try:
            raw = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise InputError(
                f"cannot read the weights: {exc}",
                path=str(path),
                hint="pass a state dict saved with torch.save(model.state_dict()) or safetensors",
            ) from exc
    if isinstance(raw, Mapping) and "state_dict" in raw and isinstance(raw["state_dict"], Mapping):
        raw = raw["state_dict"]
    if not isinstance(raw, Mapping):
        raise InputError(
            "the weights file holds no state dict", path=str(path), hint="save model.state_dict()"
        )
    state: dict[str, Any] = {}
    for key, value in raw.items():
        for p in STRIP_PREFIXES:
            while key.startswith(p):
                key = key[len(p) :]
        state[key] = value
    state, prefix = inner_state(state, set(module.state_dict()))
    if prefix is not None and notes is not None:
        notes.append(
            f"the weights are the checkpoint's `{prefix}.` entries (the network inside the "
            "training code that saved it)"
        )
    result = module.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise InputError(
            f"the weights do not fit {type(module).__name__}: missing "
            f"{list(result.missing_keys)[:5]}, unexpected {list(result.unexpected_keys)[:5]}",
            path=str(path),
            hint="pass the --arg values the module was trained with",
        )
    return dict(module.state_dict()), str(path)


def _tied(module: Any) -> dict[str, str]:
    """Parameters shared inside the research module: {target: source} under ``model.``."""
    first: dict[int, str] = {}
    tied: dict[str, str] = {}
    for name, p in module.named_parameters(remove_duplicate=False):
        if id(p) in first:
            tied[f"model.{name}"] = f"model.{first[id(p)]}"
        else:
            first[id(p)] = name
    return tied


def _plain_tensors(module: Any) -> tuple[str, ...]:
    """Tensors the research module keeps as plain attributes (a preallocated key/value cache,
    precomputed rotary frequencies): neither weights nor buffers, so from_pretrained, which
    builds the model on the meta device, leaves them without data."""
    import torch

    found = []
    for prefix, m in module.named_modules():
        for attr, value in vars(m).items():
            if isinstance(value, torch.Tensor) and not isinstance(value, torch.nn.Parameter):
                found.append(f"{prefix}.{attr}" if prefix else attr)
    return tuple(sorted(found))


def _plan_code(source: Path, src_dir: Path, code_root: Path | None, snake: str) -> Any:
    from hf_custom.staging.code import plan_code

    if source.stem in (f"modeling_{snake}", f"configuration_{snake}"):
        raise InputError(
            f"the research module is itself named {source.name}",
            path=str(source),
            hint="pass another --name so that the generated files do not overwrite it",
        )
    root = code_root if code_root is not None and src_dir.is_relative_to(code_root) else None
    return plan_code(src_dir, code_root=root, entry=[source.stem])


def _flat_name(plan: Any, source: Path, src_dir: Path, *, required: bool = True) -> Any:
    for dest, origin in plan.origins.items():
        if (src_dir / origin).resolve() == source:
            return dest.removesuffix(".py")
    if required:
        raise InputError(
            "the research module was not packaged", path=str(source), hint="report this"
        )
    return None


def _closure(plan: Any, *roots: str | None) -> list[str]:
    """The vendored files the research module needs (not unrelated modeling_* files nearby)."""
    modules = {k.removesuffix(".py"): v for k, v in plan.package.modules.items()}
    todo = [r for r in roots if r]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in modules:
            continue
        seen.add(name)
        for imp in modules[name].imports:
            if imp.level == 1 and imp.module:
                todo.append(imp.module.split(".")[0])
            elif imp.level == 1:
                todo += list(imp.names)
    return sorted(f"{n}.py" for n in seen)


def _design(
    *,
    cls: type,
    ctor: Constructor,
    fwd: ForwardSpec,
    tasks: tuple[str, ...],
    names: tuple[str, str, str],
    research_module: str,
    config_type_module: str | None,
    tied: Mapping[str, str],
    computed_buffers: tuple[str, ...],
    plain_tensors: tuple[str, ...],
    origin: str,
    notes: list[str],
) -> Design:
    from transformers import PreTrainedConfig

    reserved = {n for n in dir(PreTrainedConfig()) if not n.startswith("_")} - {
        "vocab_size",
        "hidden_size",
    }
    renamed = _renamed([f.name for f in ctor.fields], reserved)
    for old, new in renamed.items():
        notes.append(
            f"config field {old!r} collides with a PreTrainedConfig attribute: stored as "
            f"{new!r} in config.json and passed back as {old!r} to {cls.__name__}"
        )
    prefix, snake, model_type = names
    extra: list[Field] = []
    amap: dict[str, str] = {}
    vocab = next(
        (f for f in ctor.fields if f.value == fwd.vocab_size and f.name in VOCAB_NAMES), None
    )
    if vocab is None:
        extra.append(Field("vocab_size", fwd.vocab_size, "int"))
        notes.append(
            f"vocab_size={fwd.vocab_size} read from the module (no constructor argument holds it)"
        )
    elif vocab.name != "vocab_size":
        amap["vocab_size"] = renamed.get(vocab.name, vocab.name)
    if fwd.output_kind == "hidden":
        hidden = next(
            (f for f in ctor.fields if f.value == fwd.width and f.name in HIDDEN_NAMES), None
        )
        if hidden is None:
            extra.append(Field("hidden_size", fwd.width, "int"))
        elif hidden.name != "hidden_size":
            amap["hidden_size"] = renamed.get(hidden.name, hidden.name)
    heads = ("sequence-classification", "token-classification", "multiple-choice")
    if any(t in heads for t in tasks) and fwd.output_kind != "classes":
        extra.append(Field("classifier_dropout", 0.1, "float"))
    if "causal-lm" in tasks:  # without the module's own cache generate() reruns the whole text
        extra.append(Field("use_cache", fwd.cache is not None, "bool"))
    lm_tie = None
    needs_head = (
        fwd.output_kind == "hidden"
        and fwd.lm_head is None
        and any(t in ("masked-lm", "causal-lm") for t in tasks)
    )
    if needs_head and fwd.input_embedding and fwd.embedding_dim == fwd.width:
        lm_tie = f"model.{fwd.input_embedding}.weight"
    elif needs_head:
        notes.append("the new lm_head is not tied: no input embedding of the hidden size was found")
    return Design(
        prefix=prefix,
        snake=snake,
        model_type=model_type,
        research_class=cls.__name__,
        research_module=research_module,
        ctor_kind=ctor.kind,
        fields=ctor.fields,
        forward=fwd,
        tasks=tasks,
        config_type=ctor.config_type.__name__ if ctor.config_type else None,
        config_type_module=config_type_module,
        factory=ctor.factory,
        factory_items=ctor.factory_items,
        renamed=renamed,
        extra_fields=tuple(extra),
        attribute_map=amap,
        tied=dict(tied),
        lm_head_tie=lm_tie,
        computed_buffers=computed_buffers,
        plain_tensors=plain_tensors,
        origin=origin,
    )


def _renamed(names: Sequence[str], reserved: set[str]) -> dict[str, str]:
    """{research field: config attribute} for the fields PreTrainedConfig uses itself."""
    taken = set(names) | reserved
    out: dict[str, str] = {}
    for name in names:
        if name not in reserved:
            continue
        new = f"research_{name}"
        while new in taken:
            new += "_"
        taken.add(new)
        out[name] = new
    return out


def _config_json(d: Design) -> dict[str, Any]:
    import transformers

    auto_map = {"AutoConfig": f"configuration_{d.snake}.{d.config_class}"}
    for t in d.tasks:
        auto_map[TASKS[t].auto_class] = f"modeling_{d.snake}.{d.class_name(t)}"
    config: dict[str, Any] = {
        "architectures": [d.class_name(d.tasks[0])],
        "auto_map": auto_map,
        "model_type": d.model_type,
    }
    for f in d.config_fields():
        config[f.name] = list(f.value) if isinstance(f.value, tuple) else f.value
    if d.forward.output_kind == "classes":  # the module's own classifier: its number of labels
        config["id2label"] = {str(i): f"LABEL_{i}" for i in range(d.forward.width)}
        config["label2id"] = {f"LABEL_{i}": i for i in range(d.forward.width)}
    config["tie_word_embeddings"] = d.tie_word_embeddings()
    config["dtype"] = "float32"
    config["transformers_version"] = transformers.__version__
    return config


def _tokenizer_files(folder: Path) -> dict[str, Path]:
    """The tokenizer files of ``folder`` (copied as they are; publish checks them)."""
    from hf_custom.inventory import FileKind, classify

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            "--tokenizer is not a folder",
            path=str(folder),
            hint="pass the folder tokenizer.save_pretrained() wrote",
        )
    found = {
        p.name: p
        for p in sorted(folder.iterdir())
        if p.is_file() and classify(p.name) is FileKind.TOKENIZER
    }
    if not found:
        raise InputError(
            "no tokenizer files in the --tokenizer folder",
            path=str(folder),
            hint="save it with tokenizer.save_pretrained(folder) first",
        )
    return found


def _write(
    out: Path,
    files: Mapping[str, str],
    config: Mapping[str, Any],
    state: Mapping[str, Any],
    tied: Mapping[str, str],
    *,
    copies: Mapping[str, Path] | None = None,
) -> int:
    """Write everything into a temporary sibling folder, then move it into place."""
    import torch
    from safetensors.torch import save_file

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for fname, text in files.items():
            (tmp / fname).write_text(text, encoding="utf-8")
        for fname, source in (copies or {}).items():
            shutil.copyfile(source, tmp / fname)
        (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        tensors: dict[str, torch.Tensor] = {}
        for key, value in state.items():
            name = f"model.{key}"
            if name in tied:  # the tie source is saved; transformers re-ties the target
                continue
            tensors[name] = value.detach().to("cpu").contiguous().clone()
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        if out.exists():
            out.rmdir()  # checked empty above
        tmp.replace(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return len(tensors)
