"""Normalising config.json: a pure function over dicts (plus the static facts of the code).

:func:`normalize_config` fills ``model_type`` from the config class, refuses built-in model types,
completes ``auto_map`` by transformers' naming conventions, chooses ``architectures`` from the
weight names, renames v4 keys and records every change. It reads nothing and writes nothing.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from hf_custom.codeinfo import ClassInfo, CodePackage, non_model_config
from hf_custom.findings import Finding, Severity, finding
from hf_custom.staging.automap import (
    OTHER_AUTO_CLASSES,
    auto_class_candidates,
    is_abstract_base_name,
    is_builtin_model_type,
    known_auto_model_classes,
    task_suffix,
)

#: Below this share of a class's parameters filled by the weights, no class is chosen.
MIN_FIT = 0.5

#: Suffixes of language-model heads, preferred as ``architectures`` when the fit ties.
LM_HEAD_SUFFIXES = frozenset(
    {"ForPreTraining", "ForCausalLM", "ForMaskedLM", "LMHeadModel", "ForConditionalGeneration"}
)

#: Generation parameters transformers v5 pops from config kwargs (GenerationConfig defaults).
GENERATION_PARAMS = frozenset(
    {
        "max_length",
        "min_length",
        "do_sample",
        "use_cache",
        "early_stopping",
        "num_beams",
        "temperature",
        "top_k",
        "top_p",
        "typical_p",
        "repetition_penalty",
        "length_penalty",
        "no_repeat_ngram_size",
        "encoder_no_repeat_ngram_size",
        "bad_words_ids",
        "num_return_sequences",
        "output_scores",
        "return_dict_in_generate",
        "forced_bos_token_id",
        "forced_eos_token_id",
        "remove_invalid_values",
        "exponential_decay_length_penalty",
        "suppress_tokens",
        "begin_suppress_tokens",
        "num_beam_groups",
        "diversity_penalty",
    }
)
#: Attributes transformers v4's PretrainedConfig defaulted on every config and v5 does not.
V4_BASE_DEFAULTS = frozenset(
    {
        "use_cache",
        "is_decoder",
        "add_cross_attention",
        "tie_word_embeddings",
        "tie_encoder_decoder",
        "cross_attention_hidden_size",
        "pad_token_id",
        "bos_token_id",
        "eos_token_id",
        "sep_token_id",
        "decoder_start_token_id",
        "max_length",
        "min_length",
        "num_beams",
        "torchscript",
        "pruned_heads",
        "tokenizer_class",
        "prefix",
        "task_specific_params",
        "finetuning_task",
    }
)
#: Attributes the v5 base config still provides (never reported).
V5_BASE_ATTRS = frozenset(
    {
        "output_hidden_states",
        "output_attentions",
        "return_dict",
        "use_return_dict",
        "dtype",
        "chunk_size_feed_forward",
        "is_encoder_decoder",
        "id2label",
        "label2id",
        "num_labels",
        "problem_type",
        "architectures",
        "transformers_version",
        "name_or_path",
        "_attn_implementation",
    }
)


@dataclass(frozen=True)
class Change:
    """One change to a JSON file: ``key`` (dotted for nested keys), old and new value, why."""

    key: str
    old: Any
    new: Any
    reason: str
    file: str = "config.json"

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "key": self.key,
            "old": self.old,
            "new": self.new,
            "reason": self.reason,
        }


_MISSING = None


@dataclass(frozen=True)
class ConfigResult:
    config: dict[str, Any]
    changes: tuple[Change, ...]
    findings: tuple[Finding, ...]
    config_class: str | None = None  # "module.Class"
    model_type: str | None = None
    # model_type to write into the config class's source (set when --model-type renames it)
    rename_model_type: tuple[str, str] | None = None

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def to_json(self) -> dict[str, object]:
        return {
            "changes": [c.to_json() for c in self.changes],
            "findings": [f.to_json() for f in self.findings],
            "config_class": self.config_class,
            "model_type": self.model_type,
        }


def _ref(cls: ClassInfo) -> str:
    return f"{cls.module}.{cls.name}"


def _resolve_entry(code: CodePackage, value: object) -> tuple[bool, str]:
    """(exists, message) for one auto_map value ``module.Class`` (or ``repo--module.Class``)."""
    if not isinstance(value, str) or "." not in value:
        return False, f"{value!r} is not of the form module.Class"
    if "--" in value:
        return True, ""  # code from another repository: cannot be checked here
    module, _, name = value.rpartition(".")
    if not any(m.name == module for m in code.modules.values()):
        return False, f"module {module}.py is not shipped"
    if code.find_class(name, module=module) is None:
        return False, f"{module}.py defines no class {name}"
    return True, ""


def _elsewhere(cfg: Mapping[str, Any]) -> set[str]:
    """Class names auto_map takes from another repository (``org/repo--module.Class``)."""
    auto_map = cfg.get("auto_map")
    out: set[str] = set()
    if isinstance(auto_map, dict):
        for value in auto_map.values():
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str) and "--" in v:
                    out.add(v.rpartition(".")[2])
    return out


def _localize_auto_map(
    cfg: dict[str, Any], code: CodePackage, changes: list[Change], findings: list[Finding]
) -> None:
    """``"org/repo--module.Class"`` values (code in another Hub repository) whose module and
    class ship in this package point at the local module: the package carries the code. The
    others stay, with HFC119 saying where the code comes from."""
    auto_map = cfg.get("auto_map")
    if not isinstance(auto_map, dict):
        return
    for key, value in sorted(auto_map.items()):
        values = value if isinstance(value, list) else [value]
        new_values: list[Any] = []
        for v in values:
            if not (isinstance(v, str) and "--" in v):
                new_values.append(v)
                continue
            repo, _, local = v.partition("--")
            module, _, name = local.rpartition(".")
            if module and code.find_class(name, module=module) is not None:
                new_values.append(local)
                continue
            new_values.append(v)
            findings.append(
                finding(
                    "HFC119",
                    f"auto_map.{key} loads its code from the Hub repository {repo} ({local}): "
                    "users and verification need that repository",
                    path="config.json",
                )
            )
        new: Any = new_values if isinstance(value, list) else new_values[0]
        if new != value:
            changes.append(
                Change(
                    f"auto_map.{key}",
                    value,
                    new,
                    "the code it names ships in this package (it pointed at another repository)",
                )
            )
            auto_map[key] = new


def _registrable(code: CodePackage, config_cls: ClassInfo | None = None) -> list[ClassInfo]:
    """Model classes that may get an auto_map entry: not the abstract *PreTrainedModel bases,
    and not classes built on another config class (sub-models such as a vision tower)."""
    out = []
    for cls in code.model_classes():
        if is_abstract_base_name(cls.name):
            continue
        if config_cls is not None:
            own = code.config_class_of(cls)
            if own is not None and (own.module, own.name) != (config_cls.module, config_cls.name):
                continue
        out.append(cls)
    return out


def _conventional(refs: list[str], config_cls: ClassInfo | None) -> list[str]:
    """Among classes competing for one AutoClass, those named after the config class
    (``XConfig`` -> ``XModel``, ``XForCausalLM``)."""
    if config_cls is None or not config_cls.name.endswith("Config"):
        return []
    stem = config_cls.name.removesuffix("Config")
    out = []
    for ref in refs:
        name = ref.rpartition(".")[2]
        suffix = task_suffix(name)
        if suffix is not None and name == stem + suffix:
            out.append(ref)
    return out


def _pick_config_class(
    config: Mapping[str, Any], code: CodePackage, findings: list[Finding]
) -> ClassInfo | None:
    classes = code.config_classes()
    auto_map = config.get("auto_map")
    entry = auto_map.get("AutoConfig") if isinstance(auto_map, dict) else None
    if isinstance(entry, str):
        ok, _ = _resolve_entry(code, entry)
        if ok and "--" not in entry:
            module, _, name = entry.rpartition(".")
            return code.find_class(name, module=module)
        if "--" in entry and not classes:
            return None  # the config class is another repository's code (HFC119 names it)
    if not classes:
        findings.append(
            finding(
                "HFC112",
                "no PretrainedConfig subclass in the code files",
                path="config.json",
            )
        )
        return None
    if len(classes) == 1:
        return classes[0]
    # several: the one the model classes point at
    used = {_ref(c) for m in code.model_classes() if (c := code.config_class_of(m)) is not None}
    candidates = [c for c in classes if _ref(c) in used]
    if len(candidates) == 1:
        return candidates[0]
    findings.append(
        finding(
            "HFC112",
            "several config classes ("
            + ", ".join(sorted(_ref(c) for c in classes))
            + "): name the right one in auto_map.AutoConfig",
            path="config.json",
            fix='set "auto_map": {"AutoConfig": "module.Class"} in config.json',
            severity=Severity.ERROR,
        )
    )
    return None


def _model_type(
    cfg: dict[str, Any],
    cls: ClassInfo | None,
    code: CodePackage,
    rename: str | None,
    changes: list[Change],
    findings: list[Finding],
) -> tuple[str | None, tuple[str, str] | None]:
    class_mt = code.model_type_of(cls) if cls is not None else None
    current = cfg.get("model_type")
    if rename:
        if current != rename:
            changes.append(Change("model_type", current, rename, "renamed with --model-type"))
            cfg["model_type"] = rename
        source_rename = (class_mt or "", rename) if class_mt != rename else None
        if is_builtin_model_type(rename):
            findings.append(
                finding(
                    "HFC103",
                    f"--model-type {rename!r} is also a model type built into transformers",
                    path="config.json",
                )
            )
        return rename, source_rename
    if current is None or current == "":
        if class_mt is None:
            where = f" ({cls.module}.{cls.name} sets no literal model_type)" if cls else ""
            findings.append(
                finding("HFC101", f"config.json has no model_type{where}", path="config.json")
            )
            return None, None
        cfg["model_type"] = class_mt
        changes.append(
            Change(
                "model_type", None, class_mt, f"taken from {cls.name if cls else '?'}.model_type"
            )
        )
        current = class_mt
    elif class_mt is not None and current != class_mt:
        findings.append(
            finding(
                "HFC102",
                f"config.json says model_type {current!r}, {cls.name if cls else '?'} says "
                f"{class_mt!r}",
                path="config.json",
            )
        )
    if isinstance(current, str) and is_builtin_model_type(current):
        findings.append(
            finding(
                "HFC103",
                f"model_type {current!r} is built into transformers: without "
                "trust_remote_code its own class loads instead of yours",
                path="config.json",
            )
        )
    return current if isinstance(current, str) else None, None


def _builtin_type_severity(cfg: Mapping[str, Any], findings: list[Finding]) -> list[Finding]:
    """A built-in model_type (HFC103) breaks only users without trust_remote_code when
    auto_map names the config class: transformers then prefers the remote code (v4-era Hub
    packages whose type was built in later do this). Without an AutoConfig entry the built-in
    config class really loads: an error."""
    auto_map = cfg.get("auto_map")
    if not (isinstance(auto_map, Mapping) and auto_map.get("AutoConfig")):
        return findings
    out = []
    for f in findings:
        if f.id == "HFC103" and f.severity is Severity.ERROR:
            mt = cfg.get("model_type")
            f = finding(
                "HFC103",
                f"model_type {mt!r} is built into transformers: users who load without "
                "trust_remote_code get transformers' own class, not yours (auto_map names "
                f"{auto_map['AutoConfig']}, which trust_remote_code=True loads)",
                path=f.path,
                severity=Severity.WARNING,
                fix="rename the model type (hf-custom publish --model-type NEW-NAME) if users "
                "may load it without trust_remote_code",
            )
        out.append(f)
    return out


def _config_unsupported(cls_name: str, cfg: Mapping[str, Any]) -> str | None:
    """Why this config cannot serve a head of this name (None when it can), by transformers'
    own head contracts: a decoder head needs ``is_decoder`` when the config sets it false, a
    question-answering head splits its logits into start and end (``num_labels == 2``)."""
    if cls_name.endswith(("LMHeadModel", "ForCausalLM")) and cfg.get("is_decoder") is False:
        return "config.is_decoder is false, so it is an encoder"
    if cls_name.endswith(("ForQuestionAnswering", "ForQuestionAnsweringSimple")):
        labels = cfg.get("num_labels")
        if labels is None and isinstance(cfg.get("id2label"), dict):
            labels = len(cfg["id2label"])
        if labels is not None and labels != 2:
            return f"a question-answering head needs num_labels == 2, the config has {labels}"
    return None


def _auto_map(
    cfg: dict[str, Any],
    code: CodePackage,
    config_cls: ClassInfo | None,
    overrides: Mapping[str, str],
    changes: list[Change],
    findings: list[Finding],
    unusable: Mapping[str, str],
) -> None:
    raw = cfg.get("auto_map")
    old = copy.deepcopy(raw) if isinstance(raw, dict) else None
    auto_map: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
    if raw is not None and not isinstance(raw, dict):
        findings.append(
            finding("HFC105", "auto_map is not a JSON object: replaced", path="config.json")
        )

    # existing entries that point nowhere
    for key, value in sorted(auto_map.items()):
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v is None:
                continue
            ok, why = _resolve_entry(code, v)
            if not ok:
                findings.append(
                    finding("HFC105", f"auto_map.{key} = {v!r}: {why}", path="config.json")
                )

    if config_cls is not None and "AutoConfig" not in auto_map:
        auto_map["AutoConfig"] = _ref(config_cls)

    known = known_auto_model_classes()
    wanted: dict[str, list[str]] = {}  # AutoClass -> class refs claiming it
    dropped: dict[str, str] = {}  # class name -> why it is registered under no AutoClass
    for cls_name, auto in sorted(overrides.items()):
        if auto.lower() == "none":
            dropped[cls_name] = f"--auto-class {cls_name}=none"
            continue
        cls = code.find_class(cls_name)
        if cls is None or not code.is_model_class(cls):
            findings.append(
                finding(
                    "HFC114",
                    f"--auto-class {cls_name}={auto}: {cls_name} is not a model class of the code",
                    path="config.json",
                )
            )
            continue
        if auto not in known and auto not in OTHER_AUTO_CLASSES:
            findings.append(
                finding(
                    "HFC114",
                    f"--auto-class {cls_name}={auto}: transformers has no {auto}",
                    path="config.json",
                )
            )
            continue
        wanted.setdefault(auto, []).append(_ref(cls))

    overridden = {code.find_class(n).name for n in overrides if code.find_class(n)}  # type: ignore[union-attr]
    authored = {str(v).rpartition(".")[2] for v in auto_map.values() if isinstance(v, str) and v}
    layers = code.built_as_layers()
    for cls in _registrable(code, config_cls):
        if cls.name in overridden or cls.name in dropped:
            continue
        candidates = auto_class_candidates(cls.name)
        unsupported = unusable.get(cls.name) or _config_unsupported(cls.name, cfg)
        if unsupported and cls.name not in authored:
            if candidates:
                findings.append(
                    finding(
                        "HFC116",
                        f"{cls.name} is not registered as {' or '.join(candidates)}: "
                        + (
                            f"it cannot be instantiated from this config ({unsupported})"
                            if cls.name in unusable
                            else f"this config does not support it ({unsupported})"
                        ),
                        path="config.json",
                        severity=Severity.WARNING,
                    )
                )
            continue
        if len(candidates) > 1 and cfg.get("is_encoder_decoder") is True:
            seq2seq = (
                "AutoModelForSpeechSeq2Seq"
                if any(k in cfg for k in ("num_mel_bins", "feature_size", "input_feat_per_channel"))
                else "AutoModelForSeq2SeqLM"
            )
            candidates = (seq2seq,) if seq2seq in candidates else candidates
        if len(candidates) == 1:
            wanted.setdefault(candidates[0], []).append(_ref(cls))
        elif candidates:
            already = [a for a in candidates if auto_map.get(a) == _ref(cls)]
            if already:
                continue
            findings.append(
                finding(
                    "HFC106",
                    f"{cls.name} could be registered as any of {', '.join(candidates)}",
                    path="config.json",
                    fix=f"add --auto-class {cls.name}={candidates[0]} (or another of them)",
                )
            )
        elif cls.name not in authored and cls.name not in layers:
            # a class the author registered needs no convention; a layer that another class of
            # the package builds (a PreTrainedModel block inside an encoder) is not loaded alone
            findings.append(
                finding(
                    "HFC106",
                    f"{cls.name}: its name follows no transformers naming convention, so no "
                    "AutoClass is registered for it",
                    path="config.json",
                    fix=f"add --auto-class {cls.name}=AutoModelForX if users should load it",
                    severity=Severity.WARNING,
                )
            )

    for auto, refs in sorted(wanted.items()):
        existing = auto_map.get(auto)
        if auto in auto_map and existing in refs and _resolve_entry(code, existing)[0]:
            continue
        explicit = [r for r in refs if r.rpartition(".")[2] in overrides]
        if explicit:
            auto_map[auto] = explicit[0]
            continue
        if auto in auto_map and _resolve_entry(code, existing)[0]:
            continue  # the author's valid choice wins over the convention
        if len(refs) > 1 and len(named := _conventional(refs, config_cls)) == 1:
            auto_map[auto] = named[0]
            continue
        if len(refs) > 1:
            findings.append(
                finding(
                    "HFC106",
                    f"{' and '.join(refs)} both fit {auto}",
                    path="config.json",
                    fix=f"choose one: --auto-class {refs[0].rpartition('.')[2]}={auto}",
                )
            )
            continue
        auto_map[auto] = refs[0]

    for key, value in list(auto_map.items()):
        if isinstance(value, str) and value.rpartition(".")[2] in dropped:
            del auto_map[key]

    # drop broken entries that a valid replacement now covers, keep the others (reported)
    if auto_map != (old or {}):
        ordered = dict(sorted(auto_map.items(), key=lambda kv: (kv[0] != "AutoConfig", kv[0])))
        cfg["auto_map"] = ordered
        for key in sorted(set(ordered) | set(old or {})):
            before = (old or {}).get(key)
            after = ordered.get(key)
            if before != after:
                changes.append(
                    Change(
                        f"auto_map.{key}",
                        before,
                        after,
                        "completed from the classes in the code"
                        if before is None
                        else dropped.get(str(before).rpartition(".")[2], "")
                        if after is None
                        else "replaced an entry that named nothing shipped",
                    )
                )


def _suffixes(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


_WRAPPER_PREFIXES = ("module.", "_orig_mod.")


def _strip(name: str) -> str:
    changed = True
    while changed:
        changed = False
        for p in _WRAPPER_PREFIXES:
            if name.startswith(p):
                name = name[len(p) :]
                changed = True
    return name


def fit_score(
    weight_names: Collection[str], params: Collection[str], aliases: Collection[str] = ()
) -> tuple[float, float]:
    """(share of ``params`` the weights fill, share of weights used) under prefix differences.

    A weight fills a parameter when the names are equal or one is a dotted suffix of the other
    (``encoder.layer.0.w`` fills ``model.encoder.layer.0.w``), after stripping ``module.`` and
    ``_orig_mod.``.
    """
    if not params or not weight_names:
        return 0.0, 0.0
    w = {_strip(n) for n in weight_names}
    w_suffixes = {s for n in w for s in _suffixes(n)}
    p = set(params)
    # tie aliases (``lm_head.weight`` tied to the embeddings) need not be saved, but a saved
    # one is evidence for the class that has it and against the classes that do not
    q = p | set(aliases)
    q_suffixes = {s for n in q for s in _suffixes(n)}
    filled = sum(1 for n in p if n in w_suffixes or any(s in w for s in _suffixes(n)))
    used = sum(1 for n in w if n in q_suffixes or any(s in q for s in _suffixes(n)))
    return filled / len(p), used / len(w)


def choose_architecture(
    weight_names: Collection[str],
    class_params: Mapping[str, Collection[str]],
    aliases: Mapping[str, Collection[str]] | None = None,
) -> tuple[str | None, list[tuple[str, float, float]]]:
    """The class whose parameters the weights fill best, or None when none or several tie.

    ``aliases``: per class, the tie targets it has (not required in the weights, but counted as
    names the class uses)."""
    aliases = aliases or {}
    scores = sorted(
        (
            (name, *fit_score(weight_names, params, aliases.get(name, ())))
            for name, params in class_params.items()
        ),
        key=lambda s: (-s[1], -s[2], s[0]),
    )
    if not scores or scores[0][1] < MIN_FIT:
        return None, scores
    best = scores[0]
    tied = [s[0] for s in scores if s[1:] == best[1:]]
    if len(tied) == 1:
        return best[0], scores
    # Equal fit: a head class holding the whole network beats the bare base model, and a
    # language-model head (the usual pre-training objective) beats the other task heads.
    heads = [n for n in tied if task_suffix(n) not in ("Model", None)]
    if len(heads) == 1:
        return heads[0], scores
    lm = [n for n in heads if task_suffix(n) in LM_HEAD_SUFFIXES]
    if len(lm) == 1:
        return lm[0], scores
    return None, scores


def _architectures(
    cfg: dict[str, Any],
    code: CodePackage,
    config_cls: ClassInfo | None,
    architecture: str | None,
    weight_names: Collection[str] | None,
    class_params: Mapping[str, Collection[str]] | None,
    changes: list[Change],
    findings: list[Finding],
    class_aliases: Mapping[str, Collection[str]] | None = None,
) -> None:
    current = cfg.get("architectures")
    registrable = {c.name for c in _registrable(code, config_cls)}
    chosen: str | None = None
    reason = ""
    if architecture:
        if architecture not in registrable:
            findings.append(
                finding(
                    "HFC114",
                    f"--architecture {architecture}: not a model class of the code "
                    f"(classes: {', '.join(sorted(registrable)) or 'none'})",
                    path="config.json",
                )
            )
            return
        chosen, reason = architecture, "given with --architecture"
    elif weight_names is not None and class_params:
        params = {k: v for k, v in class_params.items() if k in registrable or not registrable}
        best, scores = choose_architecture(weight_names, params, class_aliases)
        top = [n for n, f, u in scores if scores and (f, u) == scores[0][1:]]
        if (
            best is None
            and scores
            and scores[0][1] >= MIN_FIT
            and isinstance(current, list)
            and len(current) == 1
            and current[0] in top
        ):
            best = current[0]  # the author's choice, and the weights confirm it
        if best is None:
            detail = ", ".join(f"{n} {f:.0%}" for n, f, _ in scores[:4])
            findings.append(
                finding(
                    "HFC113",
                    f"the weights fit no single class ({detail})",
                    path="config.json",
                )
            )
        else:
            filled = next(s[1] for s in scores if s[0] == best)
            chosen, reason = best, f"the weights fill {filled:.0%} of its parameters"
    if chosen is None:
        valid = isinstance(current, list) and current and all(a in registrable for a in current)
        if not valid:
            if isinstance(current, list) and current and set(current) <= _elsewhere(cfg):
                pass  # classes whose code another repository serves (HFC119 names it)
            elif isinstance(current, list) and current:
                findings.append(
                    finding(
                        "HFC107",
                        f"architectures {current} names no model class of the code",
                        path="config.json",
                    )
                )
            elif len(registrable) == 1:
                only = next(iter(registrable))
                chosen, reason = only, "the only model class of the code"
        if chosen is None:
            return
    new = [chosen]
    if current != new:
        cfg["architectures"] = new
        changes.append(Change("architectures", current, new, reason))


def _v5_keys(
    cfg: dict[str, Any],
    code: CodePackage,
    config_cls: ClassInfo | None,
    dtype: str | None,
    transformers_version: str | None,
    changes: list[Change],
    findings: list[Finding],
) -> None:
    if "torch_dtype" in cfg:
        old = cfg.pop("torch_dtype")
        if "dtype" not in cfg:
            cfg["dtype"] = old
            changes.append(Change("dtype", None, old, "renamed from torch_dtype (transformers v5)"))
        changes.append(Change("torch_dtype", old, None, "deprecated in transformers v5"))
    if dtype is not None and cfg.get("dtype") != dtype:
        changes.append(Change("dtype", cfg.get("dtype"), dtype, "the dtype of the weights"))
        cfg["dtype"] = dtype
    if transformers_version and cfg.get("transformers_version") != transformers_version:
        changes.append(
            Change(
                "transformers_version",
                cfg.get("transformers_version"),
                transformers_version,
                "the transformers version the folder is staged and verified with",
            )
        )
        cfg["transformers_version"] = transformers_version

    rope = cfg.get("rope_scaling")
    if isinstance(rope, dict) and "type" in rope and "rope_type" not in rope:
        findings.append(
            finding(
                "HFC110",
                f"rope_scaling uses the legacy key 'type' ({rope['type']!r})",
                path="config.json",
            )
        )

    declared = _declared_attrs(code, config_cls)
    gen = sorted(k for k in cfg if k in GENERATION_PARAMS and k not in declared)
    if gen:
        failing = certain_missing_reads(code, cfg, config_cls, attrs=set(gen), dropped=True)
        message = "generation parameters transformers v5 drops when loading the config: " + (
            ", ".join(gen)
        )
        if failing:
            attr, path, line = failing[0]
            findings.append(
                finding(
                    "HFC111",
                    message + f"; {path}:{line} reads config.{attr} unguarded, so under v5 it "
                    "raises AttributeError",
                    path="config.json",
                    severity=Severity.ERROR,
                    fix=f"run `hf-custom fix` (or publish --fix): it makes {attr} an __init__ "
                    "parameter of the config class, as v5 needs",
                )
            )
        else:
            findings.append(finding("HFC111", message, path="config.json"))

    # code reading v4 base-config defaults that nothing sets any more
    reported: set[str] = set()
    certain = {
        (a, p, n)
        for a, p, n in certain_missing_reads(
            code, cfg, config_cls, attrs=set(V4_BASE_DEFAULTS) - V5_BASE_ATTRS
        )
    }
    for path, module in sorted(code.modules.items()):
        for attr, line in module.config_reads:
            if attr not in V4_BASE_DEFAULTS or attr in reported or attr in V5_BASE_ATTRS:
                continue
            if attr in cfg or attr in declared:
                continue
            reported.add(attr)
            fails = next(((p, n) for a, p, n in sorted(certain) if a == attr), None)
            if fails is not None:
                findings.append(
                    finding(
                        "HFC115",
                        f"reads config.{attr} unguarded, which transformers v5 no longer "
                        "defaults and neither config.json nor the config class sets: under v5 "
                        "it raises AttributeError",
                        path=fails[0],
                        line=fails[1],
                        severity=Severity.ERROR,
                        fix=f"run `hf-custom fix` (or publish --fix): it restores v4's default "
                        f"of {attr} in the config class; or set it in config.json",
                    )
                )
                continue
            findings.append(
                finding(
                    "HFC115",
                    f"reads config.{attr}, which transformers v5 no longer defaults and "
                    "neither config.json nor the config class sets",
                    path=path,
                    line=line,
                )
            )


#: The base config classes whose attributes :data:`V5_BASE_ATTRS` lists (v5 renamed it).
BASE_CONFIG_NAMES = frozenset({"PretrainedConfig", "PreTrainedConfig"})


def certain_missing_reads(
    code: CodePackage,
    cfg: Mapping[str, Any],
    config_cls: ClassInfo | None,
    *,
    attrs: Collection[str],
    dropped: bool = False,
) -> list[tuple[str, str, int]]:
    """``(attr, path, line)`` of unguarded ``config.X`` reads, X in ``attrs``, that raise
    AttributeError under v5 for certain (PURE): X is not in config.json (``dropped``: v5 drops
    it from config.json anyway), and no config class of the package sets it (class attribute,
    annotation, ``__init__`` parameter or ``self.X`` assignment, attribute_map, property or
    method), every config class derives from the base config alone (no built-in config or
    sub-config that might set X), and the read runs whenever the model is built or run
    (``ModuleInfo.sure_reads``: at the top level of ``__init__``/``forward``, never in a
    ``try``, a branch or under hasattr/getattr of X). Anything unknown is not certain."""
    configs = code.config_classes()
    if config_cls is None or not configs:
        return []
    if any(isinstance(v, dict) and "model_type" in v for v in cfg.values()):
        return []  # sub-configs in config.json: config.X may be read from one of them
    declared: set[str] = set()
    for cls in configs:
        for c in code.ancestors(cls):
            amap = c.attrs.get("attribute_map", {})
            if c.dynamic_attrs or not isinstance(amap, dict) or "sub_configs" in c.attrs:
                return []
            if {"__getattr__", "__getattribute__"} & set(c.methods):
                return []
            declared.update(c.init_params, c.attrs, c.methods, c.self_assigned, map(str, amap))
        if any(b.rpartition(".")[2] not in BASE_CONFIG_NAMES for b in code.external_bases(cls)):
            return []
    for mod in code.modules.values():  # a built-in config class imported next to the code's
        for imp in mod.imports:
            if imp.level or not imp.module.startswith("transformers"):
                continue
            if any(
                n.endswith("Config") and n not in BASE_CONFIG_NAMES and not non_model_config(n)
                for n in imp.names
            ):
                return []
    out: list[tuple[str, str, int]] = []
    for path, mod in sorted(code.modules.items()):
        spans = [(c.line, c.end_line) for c in configs if c.module == mod.name]
        for attr, line in mod.config_reads:
            if attr not in attrs or attr in declared or (attr in cfg and not dropped):
                continue
            if (attr, line) in mod.guarded_reads or any(a <= line <= b for a, b in spans):
                continue
            if (attr, line) not in mod.sure_reads:
                continue  # in a branch, or a method loading and one forward may not call
            out.append((attr, path, line))
    return out


def _declared_attrs(code: CodePackage, cls: ClassInfo | None) -> set[str]:
    """Attributes the config class (and its in-package bases) declares or takes in __init__."""
    out: set[str] = set()
    seen: set[tuple[str, str]] = set()
    stack = [cls] if cls is not None else []
    while stack:
        c = stack.pop()
        if (c.module, c.name) in seen:
            continue
        seen.add((c.module, c.name))
        out.update(c.init_params)
        out.update(c.attrs)
        stack.extend(b for b in (code.resolve_base(c, i) for i in range(len(c.bases))) if b)
    return out


def normalize_config(
    config: Mapping[str, Any],
    code: CodePackage,
    *,
    weight_names: Collection[str] | None = None,
    class_params: Mapping[str, Collection[str]] | None = None,
    model_type: str | None = None,
    auto_classes: Mapping[str, str] | None = None,
    architecture: str | None = None,
    transformers_version: str | None = None,
    dtype: str | None = None,
    unusable: Mapping[str, str] | None = None,
    class_aliases: Mapping[str, Collection[str]] | None = None,
) -> ConfigResult:
    """The normalised config, every change made, and what could not be fixed (PURE).

    ``unusable``: model class name -> why it cannot be instantiated from this config; such a
    class is not registered by naming convention (HFC116), only where the author's auto_map
    already names it (then verification must prove it).
    """
    cfg: dict[str, Any] = copy.deepcopy(dict(config))
    changes: list[Change] = []
    findings: list[Finding] = []
    _localize_auto_map(cfg, code, changes, findings)
    config_cls = _pick_config_class(cfg, code, findings)
    mt, source_rename = _model_type(cfg, config_cls, code, model_type, changes, findings)
    _auto_map(
        cfg, code, config_cls, dict(auto_classes or {}), changes, findings, dict(unusable or {})
    )
    _architectures(
        cfg,
        code,
        config_cls,
        architecture,
        weight_names,
        class_params,
        changes,
        findings,
        class_aliases,
    )
    _v5_keys(cfg, code, config_cls, dtype, transformers_version, changes, findings)
    findings = _builtin_type_severity(cfg, findings)
    return ConfigResult(
        config=cfg,
        changes=tuple(changes),
        findings=tuple(sorted(findings)),
        config_class=_ref(config_cls) if config_cls else None,
        model_type=mt,
        rename_model_type=source_rename,
    )


def rename_model_type_in_source(source: str, class_name: str, new: str) -> str | None:
    """``source`` with ``model_type = ...`` of ``class_name`` set to ``new`` (None if not found)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ClassDef) and node.name == class_name):
            continue
        for stmt in node.body:
            value = None
            if (
                isinstance(stmt, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "model_type" for t in stmt.targets)
            ) or (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and stmt.target.id == "model_type"
            ):
                value = stmt.value
            if value is None or value.end_lineno is None or value.end_col_offset is None:
                continue
            lines = source.splitlines(keepends=True)
            if value.lineno != value.end_lineno:
                return None
            line = lines[value.lineno - 1]
            lines[value.lineno - 1] = (
                line[: value.col_offset] + repr(new) + line[value.end_col_offset :]
            )
            return "".join(lines)
    return None
