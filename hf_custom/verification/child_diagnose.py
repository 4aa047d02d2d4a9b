"""Verification child, part 1: constants, the result writer and the diagnosis of failures.

Loaded by child.py from its own folder (a standalone script: never imports hf_custom).
"""

# ruff: noqa: PTH118, PTH119, PTH208
# (os.path throughout: this script runs in other interpreters and stays plain and portable)
from __future__ import annotations

import inspect
import json
import os
import re
import sys
import traceback
from typing import Any

from child_cause import config_cause

STAGED = ""  # the staged folder (real path), set by child.main
# Attributes transformers v4's base config defaulted and v5's does not (sent by the parent,
# from hf_custom.staging.config.V4_BASE_DEFAULTS: this script never imports hf_custom).
V4_BASE_DEFAULTS: frozenset[str] = frozenset()

PASSED, FAILED, SKIPPED, NA = "passed", "failed", "skipped", "n/a"
NOT_COMPARED = "not compared"  # weights step: placeholder weights, nothing to compare with
SAMPLE_TEXT = "Hello world! The quick brown fox jumps over the lazy dog. 0123456789"
GENERATIVE = ("CausalLM", "Seq2SeqLM", "SpeechSeq2Seq")
# AutoClass suffix -> (ModelOutput family name, output field checked)
OUTPUT_FAMILY = {
    "AutoModelForCausalLM": ("CausalLMOutput", "logits"),
    "AutoModelForMaskedLM": ("MaskedLMOutput", "logits"),
    "AutoModelForSeq2SeqLM": ("Seq2SeqLMOutput", "logits"),
    "AutoModelForSpeechSeq2Seq": ("Seq2SeqLMOutput", "logits"),
    "AutoModelForSequenceClassification": ("SequenceClassifierOutput", "logits"),
    "AutoModelForTokenClassification": ("TokenClassifierOutput", "logits"),
    "AutoModelForQuestionAnswering": ("QuestionAnsweringModelOutput", "start_logits"),
    "AutoModelForMultipleChoice": ("MultipleChoiceModelOutput", "logits"),
    "AutoModelForImageClassification": ("ImageClassifierOutput", "logits"),
    "AutoModelForAudioClassification": ("SequenceClassifierOutput", "logits"),
    "AutoModelForCTC": ("CausalLMOutput", "logits"),
    "AutoModel": ("ModelOutput", "last_hidden_state"),
}


class Reporter:
    """Appends JSON lines to the result file, flushing each one."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115 - lives for the run

    def last_step(self, label: str) -> str:
        """The last step written for ``label`` (by this process or a fork of it)."""
        step = "starting"
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            for text in fh:
                if '"step"' not in text:
                    continue
                try:
                    rec = json.loads(text)
                except ValueError:
                    continue
                if rec.get("type") == "step" and rec.get("auto_class") == label:
                    step = str(rec.get("step"))
        return step

    def write(self, kind: str, **data: Any) -> None:
        data["type"] = kind
        self._fh.write(json.dumps(data, default=str) + "\n")
        self._fh.flush()

    def finding(
        self,
        rule: str,
        message: str,
        *,
        path: str = "",
        line: int = 0,
        fix: str | None = None,
        severity: str | None = None,
    ) -> None:
        self.write(
            "finding", rule=rule, message=message, path=path, line=line, fix=fix, severity=severity
        )


# --------------------------------------------------------------------------------------------
# Diagnosis: exception -> finding with cause and fix


def _code_frames(tb: Any) -> list[tuple[str, int, str]]:
    """Frames of the traceback that run the model's own files, innermost last."""
    frames = []
    for fs in traceback.extract_tb(tb):
        fn = fs.filename.replace("\\", "/")
        if "/transformers_modules/" in fn or fn.startswith(STAGED + "/"):
            frames.append((os.path.basename(fn), fs.lineno or 0, fs.name))
    return frames


def _last_frame(tb: Any) -> tuple[str, int, str]:
    frames = traceback.extract_tb(tb)
    if not frames:
        return ("", 0, "")
    fs = frames[-1]
    return (fs.filename, fs.lineno or 0, fs.name)


def _short(exc: BaseException, limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _missing_why(cfg_cls: Any, name: str) -> str:
    """Why a config has no ``name``: v5's dropped base default, or deleted after loading."""
    if name in V4_BASE_DEFAULTS:
        return "transformers v5 no longer sets it on the base config"
    try:
        fresh = cfg_cls.from_pretrained(STAGED) if STAGED else None
    except Exception:
        fresh = None
    if fresh is not None and hasattr(fresh, name):
        return (
            "It is set when the config is loaded, but was deleted from this config object "
            "after a model was built from it (transformers' post_init deletes a truthy "
            "gradient_checkpointing, for one)"
        )
    return "Neither config.json nor the config class sets it"


def _is_config(obj: Any) -> bool:
    try:
        from transformers import PretrainedConfig
    except ImportError:  # pragma: no cover - transformers always there in the child
        return False
    return isinstance(obj, PretrainedConfig)


def diagnose(
    rep: Reporter,
    exc: BaseException,
    *,
    where: str,
    cls_name: str = "",
    cause: tuple[str, str] | None = None,
) -> str:
    """Report ``exc`` as the most specific finding; return a one-line detail for the table."""
    frames = _code_frames(exc.__traceback__)
    path, line, func = frames[-1] if frames else ("", 0, "")
    at = f" ({path}:{line} in {func})" if path else ""
    msg = str(exc)
    name = getattr(exc, "name", None)
    subject = f"{cls_name}: " if cls_name else ""

    if isinstance(exc, AttributeError) and (
        name == "all_tied_weights_keys" or "all_tied_weights_keys" in msg
    ):
        owner = type(getattr(exc, "obj", None)).__name__ if getattr(exc, "obj", None) else cls_name
        p, ln = _class_location(owner) if owner else ("", 0)
        rep.finding(
            "HFC501",
            f"{owner} never calls self.post_init(): transformers v5 fails with "
            f"'no attribute all_tied_weights_keys' while {where}",
            path=p,
            line=ln,
            fix=f"add `self.post_init()` as the last line of {owner}.__init__",
        )
        return "post_init() not called"

    if (
        isinstance(exc, AttributeError)
        and "object has no attribute 'keys'" in msg
        and any("tied_weights" in f.name for f in traceback.extract_tb(exc.__traceback__))
    ):
        detail = _report_tied_list(rep, cls_name, where=where)
        if detail:
            return detail

    if isinstance(exc, AttributeError) and _is_config(getattr(exc, "obj", None)) and name:
        cfg = type(exc.obj).__name__
        reader = f"the model code reads it at {path}:{line}" if path else _reader(exc)
        cp, cl = _class_location(cfg)
        rep.finding(
            "HFC504",
            f"{subject}config attribute '{name}' is not set on {cfg} while {where}; {reader}. "
            + _missing_why(type(exc.obj), str(name)),
            path=path or cp,
            line=line or cl,
            fix=f"define it in {cfg}.__init__ with a default, e.g. `{name}=<default>` as a "
            f"parameter and `self.{name} = {name}` before super().__init__(**kwargs)",
        )
        return f"config attribute '{name}' missing"

    if isinstance(exc, ImportError):
        missing = re.search(r"not found in your environment: ([^.]+)\.", msg)
        if missing:
            pkgs = [p.strip() for p in missing.group(1).split(",")]
            path, line = _import_site(pkgs[0])
            rep.finding(
                "HFC503",
                f"{subject}the model code imports {', '.join(pkgs)}, which is not installed in the "
                f"verification environment; transformers refuses to load ({where})",
                fix=f"add {' '.join(pkgs)} to the requirements in the model card, or, if it is "
                "optional, import it inside a try/except block or inside the function that uses "
                "it (transformers' import check skips those)",
                path=path,
                line=line,
            )
            return f"missing package {', '.join(pkgs)}"
        mod = getattr(exc, "name", None) or ""
        if mod.startswith("transformers") or "from 'transformers" in msg:
            rep.finding(
                "HFC531",
                f"{subject}{_short(exc)}{at}: the name no longer exists in the installed "
                "transformers (removed or moved in v5)",
                path=path,
                line=line,
            )
            return "import of a removed transformers name"
        if isinstance(exc, ModuleNotFoundError) and mod:
            top = mod.split(".")[0]
            rep.finding(
                "HFC503",
                f"{subject}the model code imports '{top}', which is not installed in the "
                f"verification environment{at}",
                path=path,
                line=line,
                fix=f"add {top} to the requirements in the model card, or make the import "
                "optional (inside try/except or inside the function that uses it)",
            )
            return f"missing package {top}"

    rule = "HFC505" if where.startswith(("running forward", "generating")) else "HFC500"
    if not path:
        lf = _last_frame(exc.__traceback__)
        at = f" (raised in {os.path.basename(lf[0])}:{lf[1]} in {lf[2]})" if lf[0] else ""
    if cause is None:  # the config value or input behind it, from the failing frames
        cause = config_cause(exc, staged=STAGED)
    if cause is not None:  # the config value or input behind it
        rep.finding(
            rule,
            f"{subject}{_short(exc)} while {where}{at}: {cause[0]}",
            path=path,
            line=line,
            fix=cause[1],
        )
        return cause[0][:120]
    rep.finding(rule, f"{subject}{_short(exc)} while {where}{at}", path=path, line=line)
    return _short(exc, 120)


def _import_site(package: str) -> tuple[str, int]:
    """The first staged file and line importing ``package`` at any level."""
    pattern = re.compile(rf"^\s*(import|from)\s+{re.escape(package)}\b")
    for name in sorted(os.listdir(STAGED)):
        if not name.endswith(".py"):
            continue
        with open(os.path.join(STAGED, name), encoding="utf-8", errors="replace") as fh:
            for i, text in enumerate(fh, 1):
                if pattern.match(text):
                    return name, i
    return "", 0


def _reader(exc: BaseException) -> str:
    lf = _last_frame(exc.__traceback__)
    frames = traceback.extract_tb(exc.__traceback__)
    outside = [
        f
        for f in frames
        if "/transformers/" in f.filename.replace("\\", "/")
        and not f.filename.endswith(("configuration_utils.py", "deprecation.py", "_contextlib.py"))
    ]
    if outside:
        fs = outside[-1]
        rel = fs.filename.replace("\\", "/").split("/transformers/", 1)[1]
        return f"transformers reads it (transformers/{rel}:{fs.lineno} in {fs.name})"
    return f"read at {os.path.basename(lf[0])}:{lf[1]}" if lf[0] else "read by transformers"


def _class_location(name: str) -> tuple[str, int]:
    """File and line of a class defined in the model's code (already imported), if found."""
    for mod in list(sys.modules.values()):
        if not getattr(mod, "__name__", "").startswith("transformers_modules"):
            continue
        obj = getattr(mod, name, None)
        if inspect.isclass(obj) and obj.__module__ == mod.__name__:
            try:
                return os.path.basename(inspect.getsourcefile(obj) or ""), (
                    inspect.getsourcelines(obj)[1]
                )
            except (OSError, TypeError):
                return os.path.basename(getattr(mod, "__file__", "") or ""), 0
    return "", 0


def _find_class(name: str) -> Any:
    for mod in list(sys.modules.values()):
        if getattr(mod, "__name__", "").startswith("transformers_modules"):
            obj = getattr(mod, name, None)
            if inspect.isclass(obj) and obj.__module__ == mod.__name__:
                return obj
    return None


def _report_tied_list(rep: Reporter, cls_name: str, *, where: str) -> str:
    cls = _find_class(cls_name)
    if cls is None:
        return ""
    for klass in inspect.getmro(cls):
        value = klass.__dict__.get("_tied_weights_keys")
        if value is None:
            continue
        if isinstance(value, dict):
            return ""
        path, line = _class_location(klass.__name__)
        rep.finding(
            "HFC502",
            f"{klass.__name__}._tied_weights_keys is a {type(value).__name__} ({value!r}); "
            f"transformers v5 needs a dict {{target: source}}"
            + (f" and fails while {where}" if where else ""),
            path=path,
            line=line,
        )
        return "_tied_weights_keys is not a dict"
    return ""


# --------------------------------------------------------------------------------------------
# A backbone built with AutoX.from_config(config) inside the model's __init__
#
# transformers' generic heads (GenericForSequenceClassification & co., which forks of Llama or
# Qwen2 inherit) build their backbone with ``AutoModel.from_config(config)``, without
# trust_remote_code. For a custom config, transformers then asks "Do you wish to run the custom
# code?" on a terminal and refuses without one, even though the user passed
# trust_remote_code=True to from_pretrained. Verification reports that and goes on as a user who
# answers "y" does, so that the rest of the class is still checked.


def nested_auto_refusal(exc: BaseException) -> tuple[Any, Any, str] | None:
    """(AutoClass, config, kind) when ``exc`` comes from an ``AutoX.from_config`` call made by
    model code; kind is "untrusted" (trust_remote_code not passed on) or "unregistered"
    (auto_map has no entry for that AutoClass)."""
    if not isinstance(exc, ValueError):
        return None
    tb = exc.__traceback__
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "from_config" and code.co_filename.replace("\\", "/").endswith(
            "auto/auto_factory.py"
        ):
            found = tb.tb_frame
        tb = tb.tb_next
    if found is None:
        return None
    auto_cls, config = found.f_locals.get("cls"), found.f_locals.get("config")
    if auto_cls is None or config is None:
        return None
    msg = str(exc)
    if "trust_remote_code" in msg:
        return auto_cls, config, "untrusted"
    if "Unrecognized configuration class" in msg:
        return auto_cls, config, "unregistered"
    return None


def answer_yes(auto_cls: Any, config: Any) -> None:
    """What ``AutoX.from_config`` does when its trust_remote_code prompt is answered "y"."""
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    ref = config.auto_map[auto_cls.__name__]
    ref = ref[0] if isinstance(ref, (list, tuple)) else ref
    repo = STAGED  # what config.name_or_path is in a user's from_pretrained of this folder
    if "--" in ref:
        repo, ref = ref.split("--")
    model_class = get_class_from_dynamic_module(ref, repo)
    auto_cls.register(config.__class__, model_class, exist_ok=True)


def report_nested_auto(rep: Reporter, exc: BaseException, *, cls_name: str, how: str) -> bool:
    """Report a nested ``AutoX.from_config`` refusal; True when loading may be retried (the
    prompt was answered "y"), False when it cannot succeed for any user."""
    found = nested_auto_refusal(exc)
    if found is None:
        return False
    auto_cls, config, kind = found
    auto = auto_cls.__name__
    cfg = type(config).__name__
    path, line = _class_location(cls_name)
    base = _backbone_class(config, auto)
    if kind == "unregistered":
        rep.finding(
            "HFC534",
            f"{cls_name}.__init__ builds its backbone with {auto}.from_config(config), but "
            f"config.json's auto_map has no {auto} entry: no user can {how} it (transformers: "
            f"'Unrecognized configuration class {cfg} for this kind of AutoModel: {auto}')",
            path="config.json",
            fix=f'add "{auto}": "<module>.<backbone class>" to auto_map in config.json',
        )
        return False
    rep.finding(
        "HFC533",
        f"{cls_name}.__init__ builds its backbone with {auto}.from_config(config), which does "
        f"not pass trust_remote_code on: a user's from_pretrained(..., trust_remote_code=True) "
        "of this class in a fresh process asks again 'Do you wish to run the custom code?' and "
        "fails where there is no terminal (scripts, CI, servers); verified as if the user "
        "answered yes",
        path=path,
        line=line,
        fix=(
            f"give {cls_name} its own __init__ that builds the backbone directly, "
            f"`self.<base_model_prefix> = {base or '<backbone class>'}(config)`, instead of "
            f"{auto}.from_config(config) (registering the backbone in the modeling file does "
            "not help: transformers imports the config class twice)"
        ),
    )
    return True


def _backbone_class(config: Any, auto: str) -> str:
    ref = (getattr(config, "auto_map", None) or {}).get(auto)
    ref = ref[0] if isinstance(ref, (list, tuple)) else ref
    return str(ref).split("--")[-1].split(".")[-1] if ref else ""
