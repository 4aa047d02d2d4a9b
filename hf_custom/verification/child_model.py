"""Verification child, part 2: the checks on one model class (weights, forward, round trip,
generate, save round trip).
"""

# ruff: noqa: PTH109, PTH118, PTH208
# (os.path throughout: this script runs in other interpreters and stays plain and portable)
from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator, Mapping
from typing import Any

from child_diagnose import (
    FAILED,
    GENERATIVE,
    NA,
    NOT_COMPARED,
    OUTPUT_FAMILY,
    PASSED,
    SKIPPED,
    Reporter,
    _class_location,
    _report_tied_list,
    answer_yes,
    diagnose,
    nested_auto_refusal,
    report_nested_auto,
)
from child_init import init_weights_cause
from child_inputs import (
    MAIN_INPUTS,
    build_inputs,
    config_id,
    config_int,
    decoder_start,
    is_encoder_decoder,
    main_input,
    model_config,
)

# Where each AutoClass's forward inputs and outputs go (``<auto_class>.safetensors``), set by
# child.main when the request asks for them (the cross-version comparison of the matrix).
OUTPUTS: str | None = None
_NOT_SAVED = frozenset({"past_key_values", "cache_params"})  # caches: version-specific objects


def _flat_tensors(prefix: str, value: Any, out: dict[str, Any]) -> None:
    import torch

    if isinstance(value, torch.Tensor):
        out[prefix] = value.detach().to("cpu").contiguous()
    elif isinstance(value, Mapping) or hasattr(value, "items"):
        for k, v in value.items():
            if k not in _NOT_SAVED and v is not None:
                _flat_tensors(f"{prefix}.{k}", v, out)
    elif isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            _flat_tensors(f"{prefix}.{i}", v, out)


def save_outputs(auto_class: str, inputs: Mapping[str, Any], out: Any) -> None:
    """Write the forward's inputs and output tensors to OUTPUTS/<auto_class>.safetensors
    (atomically), so that the parent can compare them across transformers versions."""
    if OUTPUTS is None:
        return
    from safetensors.torch import save_file

    tensors: dict[str, Any] = {}
    _flat_tensors("input", dict(inputs), tensors)
    _flat_tensors("output", out, tensors)
    os.makedirs(OUTPUTS, exist_ok=True)  # noqa: PTH103
    path = os.path.join(OUTPUTS, f"{auto_class}.safetensors")
    save_file({k: v.clone() for k, v in tensors.items()}, path + ".tmp")
    os.replace(path + ".tmp", path)  # noqa: PTH105


# AutoClasses of encoder-decoder LMs: the logits follow the decoder's inputs
SEQ2SEQ_LM = ("AutoModelForSeq2SeqLM", "AutoModelForSpeechSeq2Seq")

# --------------------------------------------------------------------------------------------
# Reading the staged weights (the reference: the converter checked staged == source)
# --------------------------------------------------------------------------------------------


#: safetensors metadata key of placeholder weights (hf_custom.fixing.remote writes it)
PLACEHOLDER_KEY = "hf_custom_placeholder"


def is_placeholder(tensors: Mapping[str, Any]) -> bool:
    """Whether ``tensors`` are placeholder weights (no checkpoint to compare with)."""
    return bool(getattr(tensors, "placeholder", False))


class LazyTensors(Mapping[str, Any]):
    """The staged safetensors, read one tensor at a time (memory stays ~ one model, not two)."""

    def __init__(self, files: list[str]) -> None:
        from safetensors import safe_open

        self._handles = [safe_open(f, framework="pt") for f in files]
        self._where = {k: h for h in self._handles for k in h.keys()}  # noqa: SIM118
        #: hf-custom wrote these weights itself (random, of the config's shapes: a folder or a
        #: repository without weights); loaded tensors equal to them prove the loading only
        self.placeholder = any((h.metadata() or {}).get(PLACEHOLDER_KEY) for h in self._handles)

    def __getitem__(self, key: str) -> Any:
        return self._where[key].get_tensor(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, key: object) -> bool:
        return key in self._where


def read_staged_tensors(staged: str) -> tuple[Mapping[str, Any], str]:
    import torch

    names = sorted(os.listdir(staged))
    st = [os.path.join(staged, n) for n in names if n.endswith(".safetensors")]
    if st:
        return LazyTensors(st), "safetensors"
    pt = [n for n in names if n.endswith(".bin") and n.startswith("pytorch_model")]
    if pt:
        out: dict[str, Any] = {}
        for n in pt:
            path = os.path.join(staged, n)
            try:
                out.update(torch.load(path, map_location="cpu", weights_only=True, mmap=True))
            except RuntimeError:  # legacy (non-zip) format cannot be memory-mapped
                out.update(torch.load(path, map_location="cpu", weights_only=True))
        return out, "bin"
    return {}, ""


# --------------------------------------------------------------------------------------------
# Inputs and outputs
# --------------------------------------------------------------------------------------------


def _tensors(obj: Any) -> list[Any]:
    import torch

    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, dict):
        return [t for v in obj.values() for t in _tensors(v)]
    if isinstance(obj, (list, tuple)):
        return [t for v in obj for t in _tensors(v)]
    return []


def expected_shape(
    auto_class: str, config: Any, model: Any, inputs: dict[str, Any]
) -> list[int] | None:
    labels = config_int(config, "num_labels")
    vocab = config_int(config, "vocab_size")
    main = main_input(inputs)
    b = int(main.shape[0])
    s = int(main.shape[-1])
    if auto_class in SEQ2SEQ_LM and "decoder_input_ids" in inputs:
        s = int(inputs["decoder_input_ids"].shape[-1])
        return [b, s, vocab] if vocab else None
    if "input_ids" not in inputs:  # vision, audio: the sequence axis is the model's
        if auto_class in ("AutoModelForImageClassification", "AutoModelForAudioClassification"):
            return [b, labels] if labels else None
        return None
    if auto_class in ("AutoModelForCausalLM", "AutoModelForMaskedLM", "AutoModelForSeq2SeqLM"):
        return [b, s, vocab] if vocab else None
    if auto_class == "AutoModelForSequenceClassification":
        return [b, labels] if labels else None
    if auto_class == "AutoModelForTokenClassification":
        return [b, s, labels] if labels else None
    if auto_class == "AutoModelForQuestionAnswering":
        return [b, s]
    if auto_class == "AutoModelForMultipleChoice":
        return [b, 2]
    if auto_class == "AutoModel" and "decoder_input_ids" not in inputs:
        hidden = config_int(config, "hidden_size", "d_model", "n_embd")
        return [b, s, hidden] if hidden else None
    return None


def _output_rows(model: Any) -> int | None:
    try:
        emb = model.get_output_embeddings()
    except Exception:
        return None
    weight = getattr(emb, "weight", None)
    return int(weight.shape[0]) if weight is not None and weight.dim() == 2 else None


def check_output(
    rep: Reporter,
    out: Any,
    *,
    auto_class: str,
    cls_name: str,
    config: Any,
    model: Any,
    inputs: Any,
    fresh: tuple[str, ...] = (),
) -> tuple[str, str]:
    """(status, detail) of one forward's output: type, field, shape, finite values."""
    import torch
    from transformers.utils import ModelOutput

    family, field = OUTPUT_FAMILY.get(auto_class, ("ModelOutput", ""))
    if not isinstance(out, ModelOutput):
        rep.finding(
            "HFC511",
            f"{cls_name}.forward returns {type(out).__name__}, not a transformers ModelOutput "
            f"(expected a {family} for {auto_class})",
            path=_class_location(cls_name)[0],
            line=_class_location(cls_name)[1],
            fix=f"return transformers.modeling_outputs.{family}(...) from forward "
            "(and honour return_dict)",
        )
        return FAILED, f"returns {type(out).__name__}"
    mro = [c.__name__ for c in type(out).__mro__]
    status, detail = PASSED, type(out).__name__
    if family != "ModelOutput" and not any(family in n for n in mro):
        rep.finding(
            "HFC511",
            f"{cls_name}.forward returns {type(out).__name__}; {auto_class} users expect a "
            f"{family}",
            path=_class_location(cls_name)[0],
            fix=f"return transformers.modeling_outputs.{family}(...) from forward",
            severity="warning",
        )
    value = out.get(field) if field else None
    if field and value is None and auto_class != "AutoModel":
        rep.finding(
            "HFC511",
            f"{cls_name}.forward output has no '{field}' ({type(out).__name__} with "
            f"{sorted(out.keys())})",
            path=_class_location(cls_name)[0],
            fix=f"return a {family} with {field} set",
        )
        return FAILED, f"no {field} in output"
    want = expected_shape(auto_class, config, model, inputs)
    if value is not None and want is not None and isinstance(value, torch.Tensor):
        got = list(value.shape)
        head = _output_rows(model)  # LM heads padded beyond vocab_size are fine
        if got != want and not (head and got == [*want[:-1], head] and "LM" in auto_class):
            rep.finding(
                "HFC512",
                f"{cls_name}.forward: {field} has shape {got}, expected {want} for {auto_class} "
                f"with inputs of shape {list(main_input(inputs).shape)}",
                path=_class_location(cls_name)[0],
            )
            status, detail = FAILED, f"{field} shape {got} != {want}"
    bad = [t for t in _tensors(dict(out)) if t.is_floating_point() and not torch.isfinite(t).all()]
    if bad:
        nan = any(torch.isnan(t).any() for t in bad)
        why, fix = _nan_suspects(model, fresh) if nan else ("", None)
        rep.finding(
            "HFC513",
            f"{cls_name}.forward produced NaN or infinite values ({len(bad)} output tensor(s))"
            + why,
            path=_class_location(cls_name)[0],
            fix=fix,
        )
        status, detail = FAILED, "non-finite output"
    return status, detail


def _nan_suspects(model: Any, fresh: tuple[str, ...]) -> tuple[str, str | None]:
    """The likeliest causes of NaN output, first: tensors that hold NaN after loading
    (uninitialised memory is NaN-filled in the child), then newly initialised ones."""
    import torch

    holding = [
        name
        for name, t in [*model.named_parameters(), *model.named_buffers()]
        if t.is_floating_point() and bool(torch.isnan(t).any())
    ]
    if holding:
        return (
            f"; {len(holding)} tensor(s) hold NaN right after loading, i.e. from_pretrained left "
            f"them uninitialised (verification fills uninitialised memory with NaN): "
            f"{_few(sorted(holding))}",
            "initialise them in _init_weights (a non-persistent buffer computed in __init__ "
            "must be recomputed there), or save them in the weights file",
        )
    if fresh:
        return (
            f"; newly initialised (not in the weights file), look at them first: "
            f"{_few(sorted(fresh))}",
            "check how _init_weights initialises these tensors, or save them in the weights file",
        )
    return (
        "; no tensor holds NaN after loading: the NaN comes from the computation (masking with "
        "-inf, division by zero, log of zero)",
        None,
    )


# --------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------


def compare_weights(
    rep: Reporter,
    model: Any,
    info: dict[str, Any],
    tensors: Mapping[str, Any],
    *,
    auto_class: str,
    cls_name: str,
    strict: bool,
) -> tuple[str, str]:
    """Every loaded tensor against the staged file; missing/unexpected keys for ``strict``."""

    missing = sorted(info.get("missing_keys") or ())
    unexpected = sorted(info.get("unexpected_keys") or ())
    mismatched = sorted(str(m[0]) for m in (info.get("mismatched_keys") or ()))
    tied = dict(getattr(model, "all_tied_weights_keys", {}) or {})
    declared = _declared_ties(model)
    failed = False
    state = model.state_dict()
    prefix = getattr(model, "base_model_prefix", "") or ""
    # Tensors that share storage are tied whatever the transformers version says (v4 declares
    # ties as a list, and has no all_tied_weights_keys).
    by_storage: dict[tuple[int, tuple[int, ...]], list[str]] = {}
    for key, value in state.items():
        by_storage.setdefault((value.data_ptr(), tuple(value.shape)), []).append(key)
    for keys in by_storage.values():
        for key in keys:
            if key not in tied:
                others = [k for k in keys if k != key and _lookup(tensors, k, prefix) is not None]
                if others:
                    tied[key] = others[0]

    if mismatched:
        rep.finding(
            "HFC506",
            f"{cls_name}: {len(mismatched)} weight(s) have a different shape in the file than in "
            f"the model: {_few(mismatched)}",
        )
        failed = True
    if strict and unexpected:
        rep.finding(
            "HFC507",
            f"{cls_name} (the class in `architectures`) does not use {len(unexpected)} tensor(s) "
            f"of the weights file: {_few(unexpected)}",
        )
        failed = True

    initialised = []
    differ = []
    for key in sorted(state):
        loaded = state[key]
        ref = _lookup(tensors, key, prefix)
        if ref is None and key in tied:
            ref = _lookup(tensors, tied[key], prefix)
        if ref is None:
            initialised.append(key)
            continue
        if ref.shape != loaded.shape:
            differ.append(key)
            continue
        if ref.dtype != loaded.dtype:
            ref = ref.to(loaded.dtype)
        if not _same_tensor(ref, loaded.detach().cpu()):
            differ.append(key)

    if differ:
        cause = init_weights_cause(
            model,
            differ,
            present=lambda k: _lookup(tensors, k, prefix) is not None or k in tied,
            lookup=lambda k: _lookup(tensors, k, prefix),
        )
        rep.finding(
            "HFC508",
            f"{cls_name}: {len(differ)} loaded tensor(s) differ from the weights file: "
            f"{_few(differ)}" + (f"; {cause}" if cause else ""),
            path=_class_location(cls_name)[0] if cause else "",
            fix="make _init_weights initialise only the module it is given, through "
            "transformers.initialization (init.normal_, init.zeros_: they skip loaded tensors)"
            if cause
            else None,
        )
        failed = True
    lost = _backbone_not_loaded(rep, model, initialised, tensors, cls_name=cls_name)
    if lost:
        failed = True
        initialised = [k for k in initialised if k not in lost]
    if initialised and strict:
        for key in initialised:
            target_tie = declared.get(key)
            if target_tie and not getattr(model.config, "tie_word_embeddings", False):
                rep.finding(
                    "HFC509",
                    f"{cls_name}: '{key}' is not in the weights file and stays randomly "
                    f"initialised: the class declares it tied to '{target_tie}' but the config "
                    "does not set tie_word_embeddings (transformers v5 no longer defaults it "
                    "to True)",
                    path="config.json",
                    fix="set tie_word_embeddings=True in config.json and as the default in the "
                    "config class __init__ (or save the tensor in the weights file)",
                )
            else:
                rep.finding(
                    "HFC509",
                    f"{cls_name}: '{key}' is not in the weights file and is not a declared tie: "
                    "it stays randomly initialised"
                    + (" (transformers reported it missing)" if key in missing else "")
                    + (" although transformers reported nothing missing" if not missing else ""),
                )
        failed = True
    elif initialised:
        rep.finding(
            "HFC510",
            f"{auto_class} {cls_name}: {len(initialised)} weight(s) newly initialised "
            f"(expected for a fresh head): {_few(initialised)}",
        )
    info["fresh"] = (*initialised, *lost)
    if failed:
        return FAILED, f"{len(differ)} differ, {len(initialised) + len(lost)} not loaded"
    detail = f"{len(state) - len(initialised)} tensors equal"
    if initialised:
        detail += f", {len(initialised)} newly initialised"
    return PASSED, detail


def _backbone_not_loaded(
    rep: Reporter, model: Any, initialised: list[str], tensors: Mapping[str, Any], *, cls_name: str
) -> list[str]:
    """The backbone's tensors among the newly initialised ones, reported as an error (HFC535)
    naming the prefix the weights file uses instead of ``base_model_prefix``."""
    prefix = getattr(model, "base_model_prefix", "") or ""
    if (
        not prefix
        or getattr(model, prefix, None) is None
        or type(model).__name__ == type(getattr(model, prefix)).__name__
    ):
        return []
    lost = [k for k in initialised if k.startswith(prefix + ".")]
    if not lost:
        return []
    rests = {k[len(prefix) + 1 :] for k in lost}
    found: dict[str, int] = {}
    for name in tensors:
        for rest in rests:
            if name == rest:
                found[""] = found.get("", 0) + 1
            elif name.endswith("." + rest):
                other = name[: -len(rest) - 1]
                found[other] = found.get(other, 0) + 1
    total = sum(1 for k in model.state_dict() if k.startswith(prefix + "."))
    where = max(found, key=lambda k: found[k]) if found else None
    if where is None:
        why = "the weights file does not hold them under any prefix"
        fix = "save the backbone's weights with the checkpoint"
    elif where == "":
        why = "the weights file holds them without a prefix"
        fix = f"check base_model_prefix ('{prefix}') against the file's tensor names"
    else:
        why = (
            f"the weights file holds them under '{where}.' while {cls_name}.base_model_prefix "
            f"is '{prefix}'"
        )
        fix = (
            f"set base_model_prefix = '{where}' in {cls_name} and keep its backbone as "
            f"self.{where} (or rename the file's '{where}.' tensors to '{prefix}.')"
        )
    path, line = _class_location(cls_name)
    rep.finding(
        "HFC535",
        f"{cls_name}: the backbone was not loaded: {len(lost)} of its {total} backbone tensor(s) "
        f"({prefix}.*) are newly initialised, e.g. {_few(sorted(lost), 3)}; {why}",
        path=path,
        line=line,
        fix=fix,
    )
    return lost


def _transformers_major() -> int:
    import transformers

    try:
        return int(transformers.__version__.split(".")[0])
    except ValueError:
        return 0


def _same_tensor(a: Any, b: Any) -> bool:
    """Bitwise equal, NaN equal to NaN (uninitialised memory is NaN-filled in the child)."""
    import torch

    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if torch.equal(a, b):
        return True
    if not a.is_floating_point():
        return False
    return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all())


def _lookup(tensors: Mapping[str, Any], key: str, prefix: str) -> Any:
    """The file's tensor for a model key, allowing for the base-model prefix either way."""
    if key in tensors:
        return tensors[key]
    if prefix:
        if f"{prefix}.{key}" in tensors:
            return tensors[f"{prefix}.{key}"]
        if key.startswith(prefix + ".") and key[len(prefix) + 1 :] in tensors:
            return tensors[key[len(prefix) + 1 :]]
    return None


def _declared_ties(model: Any) -> dict[str, str]:
    """``_tied_weights_keys`` of the model and its PreTrainedModel submodules, prefixed."""
    from transformers import PreTrainedModel

    out: dict[str, str] = {}
    for prefix, module in model.named_modules():
        if not isinstance(module, PreTrainedModel):
            continue
        value = getattr(type(module), "_tied_weights_keys", None)
        if isinstance(value, dict):
            pre = f"{prefix}." if prefix else ""
            out.update({f"{pre}{k}": f"{pre}{v}" for k, v in value.items()})
    return out


def _few(keys: list[str], n: int = 5) -> str:
    shown = ", ".join(keys[:n])
    return shown + (f" (+{len(keys) - n} more)" if len(keys) > n else "")


# --------------------------------------------------------------------------------------------
# Steps
# --------------------------------------------------------------------------------------------


class Row:
    def __init__(self, auto_class: str, class_name: str) -> None:
        self.auto_class = auto_class
        self.class_name = class_name
        self.loaded = SKIPPED
        self.weights_equal = NA
        self.forward = NA
        self.generate = NA
        self.save = NA
        self.details: list[str] = []
        self.t0 = time.perf_counter()

    def emit(self, rep: Reporter) -> None:
        rep.write(
            "row",
            auto_class=self.auto_class,
            class_name=self.class_name,
            loaded=self.loaded,
            weights_equal=self.weights_equal,
            forward=self.forward,
            generate=self.generate,
            save=self.save,
            seconds=round(time.perf_counter() - self.t0, 3),
            detail="; ".join(d for d in self.details if d),
        )


def _auto(name: str) -> Any:
    import transformers

    return getattr(transformers, name, None)


def verify_model(
    rep: Reporter,
    auto_class: str,
    ref: str,
    *,
    staged: str,
    config: Any,
    tensors: Mapping[str, Any],
    architectures: list[str],
) -> None:
    import torch

    cls_name = ref.split(".")[-1]
    row = Row(auto_class, cls_name)
    strict = cls_name in architectures
    generative = any(g in auto_class for g in GENERATIVE)
    row.weights_equal = SKIPPED  # stays skipped when there is nothing to compare with
    row.forward = SKIPPED
    row.generate = SKIPPED if generative else NA
    row.save = SKIPPED
    auto = _auto(auto_class)
    if auto is None:
        rep.finding(
            "HFC523",
            f"auto_map names {auto_class}, which the installed transformers does not have "
            "(removed or renamed in v5?)",
            path="config.json",
        )
        row.loaded = FAILED
        row.details.append(f"no transformers.{auto_class}")
        row.emit(rep)
        return

    rep.write("step", auto_class=auto_class, step="load")
    try:
        model, info = load_as_user(rep, auto, staged, cls_name=cls_name)
    except Exception as exc:
        row.loaded = FAILED
        if "ignore_mismatched_sizes" in str(exc):
            row.details.append(_report_mismatch(rep, auto, staged, cls_name=cls_name))
        else:
            row.details.append(diagnose(rep, exc, where=f"loading {auto_class}", cls_name=cls_name))
        row.emit(rep)
        return
    row.loaded = PASSED
    got = type(model).__name__
    if got != cls_name:
        rep.finding(
            "HFC524",
            f"{auto_class} loaded {got}, but auto_map names {ref}",
            path="config.json",
        )
        row.loaded = FAILED
        row.details.append(f"loaded {got}")
    model.eval()
    if _transformers_major() >= 5:  # a list is the v4 form: only v5 requires a dict
        _report_tied_list(rep, got, where="")

    if tensors:
        rep.write("step", auto_class=auto_class, step="weights")
        try:
            row.weights_equal, d = compare_weights(
                rep, model, info, tensors, auto_class=auto_class, cls_name=got, strict=strict
            )
            if is_placeholder(tensors) and row.weights_equal == PASSED:
                row.weights_equal = NOT_COMPARED
                d = f"weights not compared (placeholder weights loaded as saved: {d})"
            row.details.append(d)
        except Exception as exc:
            row.weights_equal = FAILED
            row.details.append(diagnose(rep, exc, where="comparing weights", cls_name=got))

    rep.write("step", auto_class=auto_class, step="forward")
    inputs, why = build_inputs(model, config, auto_class)
    out = None
    if inputs is None:
        row.forward = SKIPPED
        row.details.append(f"forward not run: {why}")
        rep.finding(
            "HFC530",
            f"{auto_class} {got}: forward not checked ({why})",
        )
    else:
        try:
            with torch.no_grad():
                out = model(**inputs)
            row.forward, d = check_output(
                rep, out, auto_class=auto_class, cls_name=got, config=config, model=model,
                inputs=inputs, fresh=tuple(info.get("fresh") or ()),
            )  # fmt: skip
            if row.forward == FAILED:
                row.details.append(d)
            else:
                save_outputs(auto_class, inputs, out)
        except Exception as exc:
            row.forward = FAILED
            cause = forward_cause(auto_class, config)
            row.details.append(
                diagnose(rep, exc, where="running forward", cls_name=got, cause=cause)
            )
            out = None
    if out is not None and tensors and row.weights_equal != FAILED:
        rep.write("step", auto_class=auto_class, step="round-trip")
        try:
            ok, d, stale = round_trip(model, config, tensors, inputs, out)
            if stale:
                _report_stale_buffers(rep, got, stale)
                row.forward = FAILED
                row.details.append("buffers not initialised by from_pretrained")
            if not ok:
                buffers = _non_persistent_buffers(model)
                hint = (
                    f"; its non-persistent buffers ({_few(buffers)}) are not in the weights "
                    "file: from_pretrained leaves them uninitialised unless _init_weights "
                    "recomputes them"
                    if buffers
                    else ""
                )
                rep.finding(
                    "HFC514",
                    f"{got}: a model built from the config with the staged state dict loaded by "
                    f"load_state_dict gives different outputs than from_pretrained ({d}){hint}",
                    path=_class_location(got)[0],
                )
                row.forward = FAILED
                row.details.append("round trip differs")
        except Exception as exc:
            row.forward = FAILED
            row.details.append(
                diagnose(rep, exc, where="rebuilding the model from its config", cls_name=got)
            )

    if generative:
        rep.write("step", auto_class=auto_class, step="generate")
        row.generate, d = run_generate(rep, model, config, inputs, cls_name=got)
        if d:
            row.details.append(d)

    # every AutoClass: users save fine-tuned heads of every kind
    rep.write("step", auto_class=auto_class, step="save")
    try:
        row.save, d = save_round_trip(rep, model, cls_name=got)
        if d:
            row.details.append(d)
    except Exception as exc:
        row.save = FAILED
        row.details.append(diagnose(rep, exc, where="save_pretrained round trip", cls_name=got))
    row.emit(rep)
    del model


def forward_cause(auto_class: str, config: Any) -> tuple[str, str] | None:
    """The config value that makes a head's forward fail in transformers' own code (a fork
    runs it unchanged), when it can be told from the config alone."""
    labels = config_int(config, "num_labels")
    if auto_class == "AutoModelForQuestionAnswering" and labels not in (None, 2):
        return (
            f"config num_labels is {labels}; a question-answering head splits its output into "
            "start and end logits and needs num_labels=2",
            "set num_labels=2 (id2label with two entries) in config.json",
        )
    return None


def load_as_user(rep: Reporter, auto: Any, staged: str, *, cls_name: str) -> tuple[Any, Any]:
    """``auto.from_pretrained(staged, trust_remote_code=True)`` as a user runs it; a nested
    AutoX.from_config refusal is reported, then answered "y" as a user on a terminal would."""
    return as_user(
        lambda: auto.from_pretrained(staged, trust_remote_code=True, output_loading_info=True),
        rep=rep,
        cls_name=cls_name,
    )


def as_user(call: Any, *, rep: Reporter | None, cls_name: str) -> Any:
    """``call()``; after a nested AutoX.from_config refusal (reported when ``rep`` is given),
    answered "y", once more."""
    try:
        return call()
    except ValueError as exc:
        found = nested_auto_refusal(exc)
        if found is None or found[2] != "untrusted":
            if rep is not None:
                report_nested_auto(rep, exc, cls_name=cls_name, how="load")
            raise
        if rep is not None:
            report_nested_auto(rep, exc, cls_name=cls_name, how="load")
        answer_yes(found[0], found[1])
    return call()


def _report_mismatch(rep: Reporter, auto: Any, staged: str, *, cls_name: str) -> str:
    """transformers v5 refuses shape mismatches; load again tolerating them to name the keys."""
    try:
        _model, info = auto.from_pretrained(
            staged, trust_remote_code=True, output_loading_info=True, ignore_mismatched_sizes=True
        )
        found = sorted(info.get("mismatched_keys") or ())
    except Exception:
        found = []
    shown = [f"{k} (file {list(a)}, model {list(b)})" for k, a, b in found]
    rep.finding(
        "HFC506",
        f"{cls_name}: {len(found) or 'some'} weight(s) have a different shape in the file than in "
        f"the model" + (f": {_few(shown)}" if shown else "") + "; transformers refuses to load",
        path="config.json",
    )
    return "weight shapes differ from the model's"


def _non_persistent_buffers(model: Any) -> list[str]:
    out = []
    for prefix, module in model.named_modules():
        for name in sorted(getattr(module, "_non_persistent_buffers_set", ())):
            out.append(f"{prefix}.{name}" if prefix else name)
    return out


def fresh_config(model: Any) -> Any:
    """The model's config loaded again from the staged config.json, as a user building a
    second model would: model code (and transformers' post_init, which deletes a truthy
    ``gradient_checkpointing``) may change the config object a model was built from."""
    import child_diagnose

    return type(model.config).from_pretrained(child_diagnose.STAGED)


def _report_stale_buffers(rep: Reporter, cls_name: str, stale: list[str]) -> None:
    p, ln = _class_location(cls_name)
    rep.finding(
        "HFC536",
        f"{cls_name}: {len(stale)} non-persistent buffer(s) differ between from_pretrained and "
        f"the class built from its config ({_few(stale)}): from_pretrained builds the model on "
        "the meta device and never runs the tensor creation in __init__, so a buffer that is "
        "not in the weights file and not recomputed by _init_weights is left as uninitialised "
        "memory (any value, different at every load)",
        path=p,
        line=ln,
        fix="recompute the buffer in _init_weights (e.g. `module.masked_bias.fill_(-1e4)`), "
        "make it a plain Python float or a persistent buffer saved in the weights, or compute "
        "it in forward",
    )


def stale_buffers(model: Any, ref: Any) -> list[str]:
    """Non-persistent buffers whose value after from_pretrained differs from the one the
    class computes when built from its config (left uninitialised by the meta-device load)."""
    import torch

    built = dict(ref.named_buffers())
    transient = set(_non_persistent_buffers(model))
    stale = []
    for name, value in model.named_buffers():
        if name not in transient or name not in built:
            continue
        want = built[name]
        if value.shape != want.shape or value.dtype != want.dtype:
            continue  # a buffer resized or cast on purpose: nothing to compare
        if value.is_floating_point():
            same = torch.allclose(value, want, rtol=1e-4, atol=1e-6, equal_nan=True)
        else:
            same = torch.equal(value, want)
        if not same:
            stale.append(name)
    return stale


def round_trip(
    model: Any, config: Any, tensors: Mapping[str, Any], inputs: Any, out: Any
) -> tuple[bool, str, list[str]]:
    """Outputs of ``cls(config)`` with the staged tensors loaded vs from_pretrained's; also
    the non-persistent buffers the two disagree on (:func:`stale_buffers`)."""
    import torch

    cls = type(model)
    torch.manual_seed(1234)
    ref = cls(fresh_config(model))
    ref.to(model.dtype).eval()
    # every tensor as the file has it (under the model's own name), tie targets from their
    # source; what the file does not hold (a fresh head) as from_pretrained initialised it
    prefix = getattr(model, "base_model_prefix", "") or ""
    tied = dict(getattr(model, "all_tied_weights_keys", {}) or {})
    loaded = model.state_dict()
    state = {}
    for key in ref.state_dict():
        value = _lookup(tensors, key, prefix)
        if value is None and key in tied:
            value = _lookup(tensors, tied[key], prefix)
        if value is None:
            value = loaded.get(key)
        if value is not None:
            state[key] = value
    ref.load_state_dict(state, strict=False)
    stale = stale_buffers(model, ref)
    with torch.no_grad():
        ref_out = ref(**inputs)
    a = _tensors(dict(out))
    b = _tensors(dict(ref_out)) if hasattr(ref_out, "keys") else _tensors(ref_out)
    if len(a) != len(b):
        return False, "different number of output tensors", stale
    worst, differs = 0.0, False
    for x, y in zip(a, b):  # noqa: B905 (lengths checked above)
        if x.shape != y.shape:
            return False, f"shape {list(x.shape)} vs {list(y.shape)}", stale
        if x.is_floating_point():
            if not torch.allclose(x, y, rtol=1e-4, atol=1e-5, equal_nan=True):
                differs = True
                gap = (x - y).abs()
                if not torch.isfinite(gap).all():
                    return False, "NaN or infinite values on one side only", stale
                worst = max(worst, float(gap.max()))
        elif not torch.equal(x, y):
            return False, "integer outputs differ", stale
    return not differs, f"max abs difference {worst:.3g}" if differs else "", stale


def run_generate(
    rep: Reporter, model: Any, config: Any, inputs: Any, *, cls_name: str
) -> tuple[str, str]:
    import torch

    if not callable(getattr(model, "generate", None)) or not model.can_generate():
        p, ln = _class_location(cls_name)
        rep.finding(
            "HFC515",
            f"{cls_name} cannot generate: it does not inherit GenerationMixin (transformers v5 "
            "PreTrainedModel no longer does)",
            path=p,
            line=ln,
            fix=f"declare `class {cls_name}(<YourPreTrainedModel>, GenerationMixin)` with "
            "`from transformers import GenerationMixin`",
        )
        return FAILED, "no generate (GenerationMixin missing)"
    # generate takes the family's flag from the model's own config (a decoder-only head of an
    # encoder-decoder family turns it off)
    own = getattr(model_config(model, config), "is_encoder_decoder", None)
    seq2seq = own if isinstance(own, bool) else is_encoder_decoder(model, config)
    if inputs is None or ("input_ids" not in inputs and not seq2seq):
        return SKIPPED, ""
    name = next(k for k in MAIN_INPUTS if k in inputs)
    prompt = {name: inputs[name][:1]}
    if name == "input_ids":
        prompt["attention_mask"] = torch.ones_like(prompt["input_ids"])
    ids = prompt[name]
    n_new = 4
    pad = config_id(config, "pad_token_id")
    eos = config_id(config, "eos_token_id")
    kwargs: dict[str, Any] = {
        "max_new_tokens": n_new,
        "do_sample": False,
        "return_dict_in_generate": True,
        "output_logits": True,
    }
    if pad is None and eos is not None:
        kwargs["pad_token_id"] = eos
    try:
        with torch.no_grad():
            out = model.generate(**prompt, **kwargs)
    except Exception as exc:
        return FAILED, diagnose(rep, exc, where="generating", cls_name=cls_name)
    gen = out if hasattr(out, "shape") else out.sequences
    step_logits = getattr(out, "logits", None)
    # decoder-only: the prompt, then the new tokens; encoder-decoder: the decoder start token,
    # then the new tokens
    start = decoder_start(model_config(model, config))
    head = gen.new_tensor([[start]]) if seq2seq else ids
    s = head.shape[1]
    new = gen[0, s:]
    if gen.shape[0] != 1 or not torch.equal(gen[:, :s], head) or not 1 <= len(new) <= n_new:
        expect = (
            f"[1, 1 + up to {n_new}] starting with decoder_start_token_id {start}"
            if seq2seq
            else f"[1, {s} + up to {n_new}] starting with the prompt"
        )
        rep.finding(
            "HFC516",
            f"{cls_name}.generate returned shape {list(gen.shape)} for {name} of shape "
            f"{list(ids.shape)} and max_new_tokens={n_new}; expected {expect}",
            path=_class_location(cls_name)[0],
        )
        return FAILED, "generate output malformed"
    vocab = config_int(config, "vocab_size")
    if vocab and int(new.max()) >= vocab:
        rep.finding("HFC516", f"{cls_name}.generate produced token ids >= vocab_size {vocab}")
        return FAILED, "generated ids out of range"
    if not step_logits:
        return PASSED, ""
    # The logits generate used at each step must be those of a full forward on the same prefix
    # (no cache): a forward that ignores the cache sees only the last token at each step.
    with torch.no_grad():
        if seq2seq:
            full = model(**prompt, decoder_input_ids=gen[:, :-1]).logits
        else:
            full = model(input_ids=gen[:, :-1], attention_mask=torch.ones_like(gen[:, :-1])).logits
    used = torch.stack([t.to(full.dtype) for t in step_logits], dim=1)
    ref = full[:, s - 1 : s - 1 + used.shape[1]]
    if not (torch.isfinite(used).all() and torch.isfinite(ref).all()):
        return SKIPPED, "non-finite logits: cache consistency not checked"
    if used.shape != ref.shape or not torch.allclose(used, ref, rtol=1e-3, atol=1e-4):
        diff = float((used - ref).abs().max()) if used.shape == ref.shape else float("nan")
        if not seq2seq and _mask_changes_outputs(rep, model, gen, used, s, cls_name=cls_name):
            return FAILED, "an all-ones attention_mask changes the outputs"
        rep.finding(
            "HFC517",
            f"{cls_name}: the logits generate computes step by step (with its cache) differ from "
            f"a full forward on the same tokens (max difference {diff:.3g}): the cache handling "
            "(the `cache`/past_key_values argument of forward) is inconsistent; a forward that "
            "ignores the cache sees only the last token at each step",
            path=_class_location(cls_name)[0],
        )
        return FAILED, "generate differs from full forwards"
    return PASSED, ""


def _mask_changes_outputs(
    rep: Reporter, model: Any, gen: Any, used: Any, s: int, *, cls_name: str
) -> bool:
    """When generate's step logits differ from a full forward with an all-ones attention_mask:
    if a full forward WITHOUT the mask gives generate's logits, the cache is consistent and it is
    the mask that changes the outputs (HFC538, reported here)."""
    import torch

    try:
        with torch.no_grad():
            ids = gen[:, :-1]
            bare = model(input_ids=ids).logits
            masked = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits
    except Exception:
        return False
    ref = bare[:, s - 1 : s - 1 + used.shape[1]]
    if ref.shape != used.shape or not torch.allclose(used, ref, rtol=1e-3, atol=1e-4):
        return False
    if bare.shape != masked.shape:
        return False
    diff = (bare - masked).abs().amax(dim=-1)[0]
    first = int((diff > 1e-4).nonzero()[0]) if bool((diff > 1e-4).any()) else -1
    at = f"; the first position that differs is {first} of {ids.shape[1]}" if first >= 0 else ""
    rep.finding(
        "HFC538",
        f"{cls_name}: a forward with an all-ones attention_mask gives other logits than the same "
        f"forward without one (max difference {float(diff.max()):.3g}{at}), while generate's "
        "cache is consistent: with a mask the causal mask is lost or misapplied, so padded "
        "batches, scoring and fine-tuning see other (future) tokens",
        path=_class_location(cls_name)[0],
    )
    return True


def save_round_trip(rep: Reporter, model: Any, *, cls_name: str) -> tuple[str, str]:

    with tempfile.TemporaryDirectory(prefix="save-", dir=os.getcwd()) as tmp:
        model.save_pretrained(tmp)
        again = as_user(lambda: type(model).from_pretrained(tmp), rep=None, cls_name=cls_name)
    a, b = model.state_dict(), again.state_dict()
    keys = sorted(set(a) ^ set(b))
    differ = [k for k in sorted(set(a) & set(b)) if not _same_tensor(a[k], b[k])]
    if keys or differ:
        rep.finding(
            "HFC520",
            f"{cls_name}: save_pretrained then from_pretrained does not give the same tensors "
            f"({len(differ)} differ: {_few(differ)}; {len(keys)} only on one side: "
            f"{_few(keys)})",
        )
        return FAILED, "save round trip differs"
    return PASSED, ""
