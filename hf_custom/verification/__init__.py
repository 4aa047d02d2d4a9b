"""Verification: prove a staged folder loads through every AutoClass, in a clean process.

:func:`verify` runs ONE child process per verification (importing torch and transformers is
most of its cost): AutoConfig, every ``AutoModel*`` entry of ``auto_map`` and AutoTokenizer with
``trust_remote_code=True``; bitwise weight comparison for the class in ``architectures``;
forward on inputs built from the config; greedy generate for generative heads; tokenizer round
trip; save round trip. Failures come back as findings with a cause and a fix (rules HFC5xx).

:func:`expected_state_keys` instantiates model classes on the meta device in a child and
returns their state-dict names, tied keys and base_model_prefix (publish uses it to choose
``architectures`` and to reconcile weight names before conversion).

Both run in a child process; inside :func:`shared_child` (publish opens one) they share one
warm child that imports torch and transformers once (:mod:`hf_custom.verification.session`).
Nothing here imports torch: the work happens in :mod:`hf_custom.verification.child`.
"""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hf_custom.errors import InputError
from hf_custom.events import EventSink, Log, emit
from hf_custom.findings import Finding, Severity, finding, sort_findings
from hf_custom.verification.isolation import ChildRun
from hf_custom.verification.session import run_request, shared_child

if TYPE_CHECKING:  # pragma: no cover
    from hf_custom.remote import Endpoint

__all__ = [
    "AutoClassRow",
    "ExpectedKeys",
    "VerifyReport",
    "expected_state_keys",
    "shared_child",
    "verify",
]

STATUSES = ("passed", "failed", "skipped", "n/a", "not compared")


@dataclass(frozen=True)
class AutoClassRow:
    """The outcome for one AutoClass. Each step is "passed", "failed", "skipped" (could not run
    because an earlier step failed) or "n/a" (does not apply to this class); the weights step
    is "not compared" when the folder held placeholder weights (none of its own)."""

    auto_class: str
    class_name: str
    loaded: str
    weights_equal: str = "n/a"
    forward: str = "n/a"
    generate: str = "n/a"
    save: str = "n/a"
    seconds: float = 0.0
    detail: str = ""

    @property
    def ok(self) -> bool:
        return "failed" not in (
            self.loaded,
            self.weights_equal,
            self.forward,
            self.generate,
            self.save,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "auto_class": self.auto_class,
            "class_name": self.class_name,
            "loaded": self.loaded,
            "weights_equal": self.weights_equal,
            "forward": self.forward,
            "generate": self.generate,
            "save": self.save,
            "seconds": self.seconds,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class VerifyReport:
    rows: tuple[AutoClassRow, ...]
    findings: tuple[Finding, ...]
    ok: bool
    seconds: float
    # Interpreter and library versions of the child, and how long its imports took.
    environment: Mapping[str, Any] = field(default_factory=dict)
    log: tuple[str, ...] = ()  # transformers' warnings during the run

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "rows": [r.to_json() for r in self.rows],
            "findings": [f.to_json() for f in self.findings],
            "environment": dict(self.environment),
        }


@dataclass(frozen=True)
class ExpectedKeys:
    """State-dict names of one class instantiated from the staged config (meta device)."""

    params: tuple[str, ...] = ()
    buffers: tuple[str, ...] = ()
    tied: Mapping[str, str] = field(default_factory=dict)  # target -> source
    base_model_prefix: str = ""
    shapes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    dtypes: Mapping[str, str] = field(default_factory=dict)
    error: str = ""  # why the class could not be instantiated ("" when it could)
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.error

    @property
    def keys(self) -> frozenset[str]:
        """Every state-dict key (parameters, including tie targets, and persistent buffers)."""
        return frozenset(self.params) | frozenset(self.buffers)

    @property
    def stored(self) -> frozenset[str]:
        """The keys a checkpoint must hold: every state-dict key except tie targets (an
        ``lm_head.weight`` tied to the embeddings is rebuilt from them at load time)."""
        return self.keys - frozenset(self.tied)


def _v4_base_defaults() -> list[str]:
    from hf_custom.staging.config import V4_BASE_DEFAULTS

    return sorted(V4_BASE_DEFAULTS)


def _check_staged(staged: Path, *, need_config: bool) -> Path:
    staged = Path(staged).resolve()
    if not staged.is_dir():
        raise InputError("not a folder", path=str(staged), hint="pass the staged model folder")
    tokenizer_only = (staged / "tokenizer_config.json").is_file() and not any(
        p.suffix in (".safetensors", ".bin", ".pt", ".pth") for p in staged.iterdir()
    )
    if need_config and not (staged / "config.json").is_file() and not tokenizer_only:
        raise InputError(
            "no config.json in the folder to verify",
            path=str(staged),
            hint="verify runs on a staged folder (hf-custom publish --out DIR writes one)",
        )
    return staged


def verify(
    staged: Path,
    *,
    python: str | None = None,
    timeout: float = 600,
    on_event: EventSink | None = None,
    outputs: Path | None = None,
    endpoint: Endpoint | str | None = None,
) -> VerifyReport:
    """Load ``staged`` through every AutoClass in a clean child process and check it.

    ``python`` is the interpreter to run the checks with (default: the current one); it needs
    torch and transformers, not hf_custom. The run is killed after ``timeout`` seconds.
    ``outputs`` (a folder that must not exist yet): each AutoClass whose forward passed leaves
    its inputs and outputs there as ``<AutoClass>.safetensors`` (the matrix compares them
    across transformers versions).

    auto_map values naming another repository's code (``org/repo--module.Class``) are
    downloaded first from ``endpoint`` (default: HF_ENDPOINT, else huggingface.co), code files
    only, into a cache the offline child resolves them from; a repository that cannot be read
    fails the verification with an HFC537 finding naming it.

    What happens in the child (an import error, a crash, a timeout) is reported in the result's
    findings, never raised.

    Raises:
        InputError: ``staged`` is not a folder or has no config.json (nor, for a tokenizer-only
            folder, tokenizer_config.json); ``python`` cannot be run.
        MissingDependency: torch or transformers is missing here (``python`` not given).
    """
    staged = _check_staged(staged, need_config=True)
    if python is None:
        from hf_custom.errors import require

        require("torch", purpose="verification")
        require("transformers", purpose="verification")
    start = time.perf_counter()
    with _referenced_code(staged, endpoint=endpoint, on_event=on_event) as (cache, problems):
        if problems:
            return _not_run(staged, problems, seconds=time.perf_counter() - start)
        run = run_request(
            {
                "mode": "verify",
                "staged": str(staged),
                "save_outputs": outputs is not None,
                "v4_base_defaults": _v4_base_defaults(),
            },
            python=python,
            timeout=timeout,
            on_event=on_event,
            outputs_to=outputs,
            hub_cache=cache,
        )
    findings = _findings(run)
    findings += _process_findings(run, timeout=timeout, what="verification")
    rows = _rows(run, planned=_planned(staged))
    seconds = time.perf_counter() - start
    ok = (
        run.finished
        and not any(f.severity is Severity.ERROR for f in findings)
        and all(r.ok for r in rows)
    )
    return VerifyReport(
        rows=rows,
        findings=tuple(sort_findings(findings)),
        ok=ok,
        seconds=seconds,
        environment={
            **{k: v for k, v in run.env.items() if k != "type"},
            "sandbox": run.sandbox.to_json(),
        },
        log=tuple(str(r.get("message", "")) for r in run.of_type("log")),
    )


@contextmanager
def _referenced_code(
    staged: Path, *, endpoint: Endpoint | str | None, on_event: EventSink | None
) -> Iterator[tuple[Path | None, list[Finding]]]:
    """``(hub cache holding the code other repositories serve, HFC537 findings)``; the cache
    is None when auto_map names no other repository, and is removed on exit."""
    from hf_custom.verification.references import fetch_references, folder_references

    refs = folder_references(staged)
    if not refs:
        yield None, []
        return
    from hf_custom.errors import HFCustomError

    names = ", ".join(r.repo_id for r in refs)
    tmp = Path(tempfile.mkdtemp(prefix="hf-custom-refs-"))
    try:
        try:
            ep = _endpoint(endpoint)
            emit(on_event, Log(f"downloading the code auto_map loads from {names} ({ep.url})"))
            fetched, problems = fetch_references(refs, endpoint=ep, cache_dir=tmp)
        except HFCustomError as exc:  # no usable endpoint at all
            why = f"auto_map loads its code from {names}, which cannot be downloaded: "
            fetched, problems = (), [finding("HFC537", why + exc.message, path="config.json")]
        if fetched and not problems:
            emit(on_event, Log(f"fetched {len(fetched)} code file(s): {', '.join(fetched)}"))
        yield tmp, problems
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _endpoint(endpoint: Endpoint | str | None) -> Endpoint:
    from hf_custom.remote import Endpoint, resolve_endpoint

    if isinstance(endpoint, Endpoint):
        return endpoint
    return resolve_endpoint(endpoint, None)


def _not_run(staged: Path, problems: list[Finding], *, seconds: float) -> VerifyReport:
    """The report of a verification that could not start (the code it needs is missing)."""
    why = "not run: the code auto_map names could not be downloaded (HFC537)"
    s = "skipped"
    rows = tuple(
        AutoClassRow(a, "", loaded=s, weights_equal=s, forward=s, generate=s, save=s, detail=why)
        for a in _planned(staged)
    )
    return VerifyReport(
        rows=rows, findings=tuple(sort_findings(problems)), ok=False, seconds=seconds
    )


def expected_state_keys(
    staged: Path,
    class_names: Sequence[str],
    *,
    python: str | None = None,
    timeout: float = 300,
    on_event: EventSink | None = None,
) -> Mapping[str, ExpectedKeys]:
    """State-dict keys, tied keys and base_model_prefix of each class in ``class_names``.

    Each name is ``Class`` (looked up in the staged ``*.py`` files) or ``module.Class``. The
    classes are instantiated on the meta device from the staged config.json (or the config
    class's defaults when there is none), all in one child process. A class that cannot be
    instantiated gets an entry with ``error`` set and the findings that explain it.
    """
    staged = _check_staged(staged, need_config=False)
    run = run_request(
        {
            "mode": "keys",
            "staged": str(staged),
            "class_names": list(class_names),
            "v4_base_defaults": _v4_base_defaults(),
        },
        python=python,
        timeout=timeout,
        on_event=on_event,
        task="inspect classes",
    )
    all_findings = _findings(run)
    process = _process_findings(run, timeout=timeout, what="listing the expected weight names")
    result: dict[str, ExpectedKeys] = {}
    for rec in run.of_type("keys"):
        name = str(rec.get("cls"))
        short = name.split(".")[-1]
        mine = tuple(f for f in all_findings if short in f.message)
        if rec.get("error"):
            result[name] = ExpectedKeys(error=str(rec["error"]), findings=mine)
            continue
        result[name] = ExpectedKeys(
            params=tuple(rec.get("params") or ()),
            buffers=tuple(rec.get("buffers") or ()),
            tied=dict(rec.get("tied") or {}),
            base_model_prefix=str(rec.get("base_model_prefix") or ""),
            shapes={k: tuple(v) for k, v in (rec.get("shapes") or {}).items()},
            dtypes=dict(rec.get("dtypes") or {}),
            findings=mine,
        )
    for name in class_names:
        if name not in result:
            why = process[0].message if process else "the child process reported nothing"
            result[name] = ExpectedKeys(error=why, findings=tuple(process))
    return result


# --------------------------------------------------------------------------------------------
# Child records -> data
# --------------------------------------------------------------------------------------------


def _findings(run: ChildRun) -> list[Finding]:
    out = []
    for rec in run.of_type("finding"):
        sev = rec.get("severity")
        out.append(
            finding(
                str(rec["rule"]),
                str(rec.get("message", "")),
                path=str(rec.get("path") or ""),
                line=int(rec.get("line") or 0),
                fix=rec.get("fix") or None,
                severity=Severity(sev) if sev else None,
            )
        )
    return out


def _process_findings(run: ChildRun, *, timeout: float, what: str) -> list[Finding]:
    """Findings about how the child ended: timeout, crash, unusable interpreter."""
    step = run.last_step
    during = f" while {step.get('step')} {step.get('auto_class')}" if step else ""
    if run.timed_out:
        return [
            finding(
                "HFC522",
                f"{what} did not finish within {timeout:g} s{during}; the process was killed",
            )
        ]
    env_error = run.env.get("error")
    if env_error:
        return [
            finding(
                "HFC528",
                f"the interpreter {run.env.get('executable')} (Python {run.env.get('python')}) "
                f"cannot run the checks: {env_error}",
            )
        ]
    if run.finished:
        return []
    how = _exit_description(run.returncode)
    tail = run.stderr_tail.strip().splitlines()
    last = f"; last output: {tail[-1][:300]}" if tail else ""
    if not run.records:
        return [
            finding(
                "HFC528",
                f"the verification child did not start ({how}){last}",
            )
        ]
    return [finding("HFC527", f"the verification process {how}{during}{last}")]


def _exit_description(code: int | None) -> str:
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        extra = " (out of memory?)" if name == "SIGKILL" else ""
        return f"was killed by {name}{extra}"
    return f"exited with code {code} before finishing"


_STEP_FIELD = {
    "load": "loaded",
    "weights": "weights_equal",
    "forward": "forward",
    "round-trip": "forward",
    "generate": "generate",
    "save": "save",
}


def _planned(staged: Path) -> list[str]:
    """The AutoClasses the child will check, as it chooses them (for rows it never reached)."""
    import json

    if not (staged / "config.json").exists() and (staged / "tokenizer_config.json").is_file():
        return ["AutoTokenizer"]  # a tokenizer-only folder: the child loads AutoTokenizer only
    try:
        config = json.loads((staged / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    auto_map = config.get("auto_map") if isinstance(config, dict) else None
    auto_map = auto_map if isinstance(auto_map, dict) else {}
    if (
        isinstance(config, dict)
        and not config.get("model_type")
        and not any(k == "AutoConfig" or str(k).startswith("AutoModel") for k in auto_map)
        and (staged / "tokenizer_config.json").is_file()
        and not any(p.suffix in (".safetensors", ".bin", ".pt", ".pth") for p in staged.iterdir())
    ):
        return ["AutoTokenizer"]  # a config.json naming no model: the tokenizer alone
    planned = ["AutoConfig"] + [k for k in auto_map if str(k).startswith("AutoModel")]
    if "AutoTokenizer" in auto_map or any(
        (staged / n).is_file() for n in ("tokenizer.json", "tokenizer_config.json")
    ):
        planned.append("AutoTokenizer")
    return planned


def _rows(run: ChildRun, *, planned: Sequence[str] = ()) -> tuple[AutoClassRow, ...]:
    rows: list[AutoClassRow] = []
    seen = set()
    for rec in run.of_type("row"):
        seen.add(rec.get("auto_class"))
        rows.append(
            AutoClassRow(
                auto_class=str(rec.get("auto_class")),
                class_name=str(rec.get("class_name") or ""),
                loaded=str(rec.get("loaded")),
                weights_equal=str(rec.get("weights_equal")),
                forward=str(rec.get("forward")),
                generate=str(rec.get("generate")),
                save=str(rec.get("save")),
                seconds=float(rec.get("seconds") or 0.0),
                detail=str(rec.get("detail") or ""),
            )
        )
    plans = run.of_type("plan")
    if plans:
        planned = list(plans[0].get("auto_classes") or ())
    step = run.last_step or {}
    for auto_class in planned:
        if auto_class in seen:
            continue
        running = step.get("auto_class") == auto_class
        reason = (
            f"{'timed out' if run.timed_out else 'process died'} during {step.get('step')}"
            if running
            else "not reached"
        )
        status = dict.fromkeys(_STEP_FIELD.values(), "skipped")
        if running:
            status[_STEP_FIELD.get(str(step.get("step")), "loaded")] = "failed"
            if step.get("step") != "load":
                status["loaded"] = "passed"
        rows.append(
            AutoClassRow(
                auto_class=auto_class,
                class_name="",
                loaded=status["loaded"],
                weights_equal=status["weights_equal"],
                forward=status["forward"],
                generate=status["generate"],
                save=status["save"],
                detail=reason,
            )
        )
    return tuple(rows)
