"""The verification child: a standalone script, run by path in a clean process.

It must not import hf_custom (the interpreter may be another environment, the one the model's
users will have), so it only needs torch, transformers and safetensors. It is started by
:mod:`hf_custom.verification.isolation` as ``python child.py REQUEST.json RESULT.jsonl`` with a fresh
HF_HOME / HF_MODULES_CACHE, HF_HUB_OFFLINE=1 and a temporary working directory.

It writes one JSON object per line to RESULT.jsonl, flushed as it goes, so that the parent keeps
what was learnt before a crash or a timeout:

    {"type": "env", ...}          interpreter and library versions
    {"type": "step", ...}         a step starts (the parent names it when the child dies)
    {"type": "row", ...}          the outcome for one AutoClass
    {"type": "finding", ...}      rule id, message, path, line, fix (the parent maps it to a Finding)
    {"type": "keys", ...}         expected_state_keys mode: one class's state-dict names
    {"type": "done", ...}         the run finished
    {"type": "served", ...}       a warm child's fork ended (``child.py --serve``, see serve())

Failures become findings with a cause and a fix, never tracebacks: :func:`diagnose` walks the
traceback to the frame inside the model's own files.
"""

# ruff: noqa: PTH110, PTH118, PTH208
# (os.path throughout: this script runs in other interpreters and stays plain and portable)
from __future__ import annotations

import gc
import json
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # noqa: PTH100, PTH120

import child_diagnose
import child_model
from child_diagnose import (
    FAILED,
    PASSED,
    Reporter,
    _class_location,
    answer_yes,
    diagnose,
    nested_auto_refusal,
    report_nested_auto,
)
from child_inputs import config_int
from child_model import Row, read_staged_tensors, verify_model
from child_tokenizer import verify_tokenizer

# --------------------------------------------------------------------------------------------


def run_verify(rep: Reporter, req: dict[str, Any]) -> None:
    from transformers import AutoConfig

    staged = req["staged"]
    if not os.path.exists(os.path.join(staged, "config.json")):
        verify_tokenizer_only(rep, staged)
        return
    with open(os.path.join(staged, "config.json"), encoding="utf-8") as fh:
        raw = json.load(fh)
    auto_map = raw.get("auto_map") or {}
    names_a_model = raw.get("model_type") or any(
        k == "AutoConfig" or k.startswith("AutoModel") for k in auto_map
    )
    weights = any(n.endswith((".safetensors", ".bin", ".pt", ".pth")) for n in os.listdir(staged))
    if (
        not names_a_model
        and not weights
        and os.path.exists(os.path.join(staged, "tokenizer_config.json"))
    ):
        verify_tokenizer_only(rep, staged)  # a tokenizer package's config.json: no model
        return
    architectures = list(raw.get("architectures") or [])
    models = [(k, v) for k, v in auto_map.items() if k.startswith("AutoModel")]
    has_tok = "AutoTokenizer" in auto_map or any(
        os.path.exists(os.path.join(staged, n)) for n in ("tokenizer.json", "tokenizer_config.json")
    )
    rep.write("plan", auto_classes=["AutoConfig"] + [k for k, _ in models]
              + (["AutoTokenizer"] if has_tok else []))  # fmt: skip

    row = Row("AutoConfig", str(auto_map.get("AutoConfig", "")).split(".")[-1])
    rep.write("step", auto_class="AutoConfig", step="load")
    try:
        config = AutoConfig.from_pretrained(staged, trust_remote_code=True)
        row.loaded = PASSED
        row.class_name = type(config).__name__
    except Exception as exc:
        row.loaded = FAILED
        row.details.append(diagnose(rep, exc, where="loading AutoConfig", cls_name=row.class_name))
        row.emit(rep)
        for k, v in models:
            skipped = Row(k, str(v).split(".")[-1])
            skipped.details.append("skipped: AutoConfig failed")
            skipped.emit(rep)
        return
    row.emit(rep)
    if not models:
        rep.finding("HFC526", "auto_map has no AutoModel entry: no model class was verified",
                    path="config.json")  # fmt: skip

    names = {str(v[0] if isinstance(v, list) else v).split(".")[-1] for _, v in models}
    if models and not names & set(architectures):
        rep.finding(
            "HFC532",
            f"architectures is {architectures or 'not set'}; no AutoModel entry of auto_map loads "
            "it, so no class had its weights checked strictly",
            path="config.json",
        )
    tensors, _fmt = read_staged_tensors(staged) if models else ({}, "")
    if models and not tensors:
        rep.finding("HFC525", "the staged folder has no weights file: weights not compared")
    for auto_class, ref in models:
        ref = ref[0] if isinstance(ref, list) else ref
        work = partial(
            verify_model, rep, auto_class, str(ref), staged=staged, config=config,
            tensors=tensors, architectures=architectures,
        )  # fmt: skip
        in_fork(rep, auto_class, work)
    if has_tok:
        vocab = config_int(config, "vocab_size")
        verify_tokenizer(
            rep, auto_map.get("AutoTokenizer", ""), staged=staged, raw_config=raw,
            vocab_limit=vocab,
        )  # fmt: skip


def verify_tokenizer_only(rep: Reporter, staged: str) -> None:
    """A folder without config.json (tokenizer code only): AutoTokenizer reads
    tokenizer_config.json alone, so the tokenizer is all there is to verify."""
    with open(os.path.join(staged, "tokenizer_config.json"), encoding="utf-8") as fh:
        tok_cfg = json.load(fh)
    auto_map = (tok_cfg.get("auto_map") if isinstance(tok_cfg, dict) else None) or {}
    rep.write("plan", auto_classes=["AutoTokenizer"])
    verify_tokenizer(
        rep, auto_map.get("AutoTokenizer", ""), staged=staged, raw_config={}, vocab_limit=None
    )


def run_keys(rep: Reporter, req: dict[str, Any]) -> None:
    staged = req["staged"]
    files = sorted(n for n in os.listdir(staged) if n.endswith(".py"))
    for name in req["class_names"]:
        in_fork(rep, name, partial(_keys_of, rep, name, staged=staged, files=files), row=False)


def _keys_of(rep: Reporter, name: str, *, staged: str, files: list[str]) -> None:
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    rep.write("step", auto_class=name, step="instantiate")
    try:
        ref = name if "." in name else _module_of(staged, files, name)
        if ref is None:
            rep.write("keys", cls=name, error=f"no class {name} in the staged .py files")
            return
        cls = get_class_from_dynamic_module(ref, staged)
        cfg_cls = getattr(cls, "config_class", None)
        if cfg_cls is None:
            rep.write("keys", cls=name, error=f"{name} has no config_class")
            return
        if os.path.exists(os.path.join(staged, "config.json")):
            config = cfg_cls.from_pretrained(staged)
        else:
            config = cfg_cls()
        model = _instantiate(rep, cls, config, cls_name=name.split(".")[-1])
        state = model.state_dict(keep_vars=True)
        params = {n for n, _ in model.named_parameters(remove_duplicate=False)}
        tied = getattr(model, "all_tied_weights_keys", None)
        if tied is None:
            short = name.split(".")[-1]
            p, ln = _class_location(short)
            rep.finding(
                "HFC501",
                f"{short} never calls self.post_init(): transformers v5 fails with "
                "'no attribute all_tied_weights_keys' when loading it",
                path=p,
                line=ln,
                fix=f"add `self.post_init()` as the last line of {short}.__init__",
            )
            declared = getattr(cls, "_tied_weights_keys", None)
            ties = getattr(config, "tie_word_embeddings", False)
            tied = dict(declared) if ties and isinstance(declared, dict) else {}
        rep.write(
            "keys",
            cls=name,
            params=sorted(k for k in state if k in params),
            buffers=sorted(k for k in state if k not in params),
            shapes={k: list(v.shape) for k, v in state.items()},
            dtypes={k: str(v.dtype).replace("torch.", "") for k, v in state.items()},
            tied=dict(tied or {}),
            base_model_prefix=getattr(model, "base_model_prefix", "") or "",
        )
        del model
    except Exception as exc:
        detail = diagnose(rep, exc, where=f"instantiating {name}", cls_name=name)
        rep.write("keys", cls=name, error=detail)


def in_fork(rep: Reporter, label: str, work: Callable[[], None], *, row: bool = True) -> None:
    """Run ``work`` in a forked copy of this process, as a fresh user process would: nothing one
    class registers with transformers' Auto classes leaks into the next, and its memory is
    given back when it exits; torch and transformers stay imported (the fork is cheap).

    A fork that dies is reported (HFC527) and, for a verification, gets a failed row."""
    if not hasattr(os, "fork"):  # pragma: no cover - Windows: in this process
        work()
        gc.collect()
        return
    pid = os.fork()
    if pid == 0:  # the child: never return into the caller's loop
        code = 0
        try:
            work()
        except BaseException as exc:  # a bug in the checks themselves: say so, then exit
            code = 70
            try:
                diagnose(rep, exc, where=f"checking {label}")
            except BaseException:
                pass
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return
    step = rep.last_step(label)
    how = (
        f"was killed by {_signal_name(os.WTERMSIG(status))}"
        if os.WIFSIGNALED(status)
        else f"exited with code {os.WEXITSTATUS(status)}"
    )
    rep.finding("HFC527", f"the verification process {how} while {step} {label}")
    if row:
        dead = Row(label, "")
        dead.loaded = PASSED if step != "load" else FAILED
        dead.details.append(f"process {how} during {step}")
        dead.emit(rep)
    else:
        rep.write("keys", cls=label, error=f"the process {how} while {step} {label}")


def _signal_name(number: int) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
    return name + (" (out of memory?)" if name == "SIGKILL" else "")


def _instantiate(rep: Reporter, cls: Any, config: Any, *, cls_name: str) -> Any:
    """``cls(config)`` on the meta device (on the CPU for code that computes in __init__), with
    a nested AutoX.from_config refusal reported and answered as from_pretrained's would be."""
    import torch

    for attempt in (0, 1):
        try:
            try:
                with torch.device("meta"):
                    return cls(config)
            except Exception:
                return cls(config)  # code that computes on tensors in __init__
        except ValueError as exc:
            if attempt or not report_nested_auto(rep, exc, cls_name=cls_name, how="instantiate"):
                raise
            found = nested_auto_refusal(exc)
            assert found is not None
            answer_yes(found[0], found[1])
    raise AssertionError("unreachable")


def _module_of(staged: str, files: list[str], name: str) -> str | None:
    pattern = re.compile(rf"^class\s+{re.escape(name)}\b", re.M)
    for f in files:
        with open(os.path.join(staged, f), encoding="utf-8", errors="replace") as fh:
            if pattern.search(fh.read()):
                return f"{f[:-3]}.{name}"
    return None


class _Capture(logging.Handler):
    """Keeps transformers' warnings (the load report, untied weights) for the parent's log."""

    def __init__(self, rep: Reporter) -> None:
        super().__init__(logging.WARNING)
        self.rep = rep

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.rep.write(
                "log", level=record.levelname.lower(), message=record.getMessage()[:2000]
            )
        except Exception:
            pass


def _import_heavy() -> tuple[float | None, str]:
    """Import torch and transformers and set them up; (seconds, "") or (None, why not)."""
    t0 = time.perf_counter()
    try:
        import torch
        import transformers.modeling_utils  # noqa: F401

        # transformers imports lazily: pay for the modules every run needs here, so that the
        # reported import time is the real one and the per-AutoClass times are the checks'.
        from transformers import AutoConfig, AutoTokenizer, GenerationMixin  # noqa: F401
        from transformers.utils import logging as tlog
    except ImportError as exc:
        return None, str(exc)
    tlog.disable_progress_bar()
    tlog.set_verbosity_warning()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    torch.manual_seed(0)  # fresh heads and untied weights initialise the same way every run
    try:  # uninitialised memory (torch.empty) becomes NaN: a buffer left uninitialised shows
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.utils.deterministic.fill_uninitialized_memory = True  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # older torch: best effort
        pass
    return round(time.perf_counter() - t0, 3), ""


def _answer(
    rep: Reporter, req: dict[str, Any], *, import_s: float | None, error: str, warm: bool = False
) -> None:
    """One request, start to end: the env record, the work, the done record. ``warm``: the
    imports were paid before (a warm child answers several requests)."""
    t0 = time.perf_counter()
    child_diagnose.STAGED = req["staged"] = os.path.realpath(req["staged"])
    child_diagnose.V4_BASE_DEFAULTS = frozenset(req.get("v4_base_defaults") or ())
    if req.get("save_outputs"):  # next to RESULT.jsonl, in the folder the parent collects
        result_dir = os.path.dirname(os.path.abspath(rep.path))  # noqa: PTH100, PTH120
        child_model.OUTPUTS = os.path.join(result_dir, "outputs")
    if import_s is None:
        rep.write("env", python=sys.version.split()[0], executable=sys.executable, error=error)
        rep.write("done", seconds=0.0, import_seconds=None)
        return
    import torch
    import transformers
    from transformers.utils import logging as tlog

    tlog.get_logger("transformers").addHandler(_Capture(rep))
    rep.write(
        "env",
        python=sys.version.split()[0],
        executable=sys.executable,
        torch=torch.__version__,
        transformers=transformers.__version__,
        import_seconds=import_s,
        warm=warm,
    )
    if req.get("mode") == "keys":
        run_keys(rep, req)
    else:
        run_verify(rep, req)
    rep.write("done", seconds=round(time.perf_counter() - t0, 3), import_seconds=import_s)


def _fresh_modules_cache(path: str, tmp: str) -> None:
    """Point transformers' remote-code cache (read once at import) at ``path``: each request
    of a warm child gets its own, as a fresh process would."""
    import tempfile

    import transformers.dynamic_module_utils as dmu
    import transformers.utils as tutils
    import transformers.utils.hub as thub

    os.environ["HF_MODULES_CACHE"] = path
    os.environ["TMPDIR"] = tmp
    tempfile.tempdir = None
    for module in (dmu, tutils, thub):
        if hasattr(module, "HF_MODULES_CACHE"):
            module.HF_MODULES_CACHE = path  # type: ignore[attr-defined]


def serve() -> int:
    """A warm child: import once, then answer one request per line of stdin, each in a fork
    of this process (with its own modules cache, working and temporary folders), so that
    class inspection and verification share the cost of the imports. Each request's result
    file ends with a ``served`` record (with the fork's exit status) written here."""
    import_s, error = _import_heavy()
    for line in sys.stdin:
        try:
            job = json.loads(line)
        except ValueError:
            continue
        if not isinstance(job, dict):
            continue
        pid = os.fork()
        if pid == 0:  # the fork: answer, then never return into the loop
            code = 0
            try:
                if import_s is not None:
                    _fresh_modules_cache(job["modules"], job["tmp"])
                os.chdir(job["work"])
                with open(job["request"], encoding="utf-8") as fh:
                    req = json.load(fh)
                _answer(Reporter(job["result"]), req, import_s=import_s, error=error, warm=True)
            except BaseException:
                code = 70
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        exit_code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        Reporter(job["result"]).write("served", returncode=exit_code)
    return 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["--serve"]:
        return serve()
    with open(argv[1], encoding="utf-8") as fh:
        req = json.load(fh)
    rep = Reporter(argv[2])
    import_s, error = _import_heavy()
    _answer(rep, req, import_s=import_s, error=error)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
