"""Run the verification child in a clean, isolated process.

Isolation is what makes a pass mean something: a fresh ``HF_HOME`` and ``HF_MODULES_CACHE`` in a
temporary directory (stale remote code in the user's modules cache is a classic false pass),
``HF_HUB_OFFLINE=1``, a working directory outside the source, only the staged folder given, no
``PYTHONPATH`` (the author's own package must not leak in), and a timeout after which the whole
process group is killed. The child is a standalone script run by path (``child.py``), so the
interpreter given by ``python=`` needs torch and transformers but not hf_custom.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hf_custom.errors import InputError
from hf_custom.events import EventSink, Log, Progress, emit
from hf_custom.verification.sandbox import Sandbox, plan

_HERE = Path(__file__).parent
# The child's script files (child.py imports the others from its own folder).
CHILD_FILES = (
    "child.py",
    "child_cause.py",
    "child_diagnose.py",
    "child_init.py",
    "child_inputs.py",
    "child_model.py",
    "child_tokenizer.py",
)
# The only variables the child inherits (names, or prefixes ending in "_"): what a Python with
# torch needs to find its libraries and pick its threads. Everything else (tokens, cloud keys,
# caches, PYTHONPATH, the author's settings) stays out.
_INHERITED = (
    "PATH",
    "LANG",
    "LANGUAGE",
    "LC_",
    "TZ",
    "LD_LIBRARY_PATH",
    "CUDA_VISIBLE_DEVICES",
    "CUDA_HOME",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "SYSTEMROOT",
    "HF_CUSTOM_NO_SANDBOX",
)
# Never inherited, even under an allowed name: anything that looks like a credential.
_SECRET_WORDS = ("TOKEN", "SECRET", "KEY", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH")


def _inherited(name: str) -> bool:
    upper = name.upper()
    if any(word in upper for word in _SECRET_WORDS):
        return False
    return any(upper == n or (n.endswith("_") and upper.startswith(n)) for n in _INHERITED)


_TAIL = 4000


@dataclass(frozen=True)
class ChildRun:
    """What one child process reported, and how it ended."""

    records: tuple[Mapping[str, Any], ...]
    returncode: int | None
    timed_out: bool
    seconds: float
    stderr_tail: str = ""
    stdout_tail: str = ""
    last_step: Mapping[str, Any] | None = None
    env: Mapping[str, Any] = field(default_factory=dict)
    sandbox: Sandbox = field(default_factory=lambda: Sandbox((), ()))

    @property
    def finished(self) -> bool:
        return any(r.get("type") == "done" for r in self.records)

    def of_type(self, kind: str) -> list[Mapping[str, Any]]:
        return [r for r in self.records if r.get("type") == kind]


def child_env(home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The child's environment: an allow-list of ``base`` (default os.environ), fresh caches.

    Nothing whose name says TOKEN, SECRET, KEY, PASSWORD, CREDENTIAL or AUTH is passed on, and
    ``HOME`` is the child's own temporary folder (so ``~/.cache/huggingface/token``,
    ``~/.netrc`` and friends are not where the child looks).
    """
    env = {k: v for k, v in (os.environ if base is None else base).items() if _inherited(k)}
    env.update(
        HOME=str(home / "home"),
        HF_HOME=str(home / "hf_home"),
        HF_MODULES_CACHE=str(home / "modules"),
        HF_HUB_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_PROGRESS_BARS="1",
        TRANSFORMERS_NO_ADVISORY_WARNINGS="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
        PYTHONIOENCODING="utf-8",
        PYTHONSAFEPATH="1",
        TMPDIR=str(home / "tmp"),
    )
    env.setdefault("OMP_NUM_THREADS", str(min(2, os.cpu_count() or 1)))
    return env


def run_child(
    request: Mapping[str, Any],
    *,
    python: str | None = None,
    timeout: float = 600.0,
    on_event: EventSink | None = None,
    task: str = "verify",
    outputs_to: Path | None = None,
    hub_cache: Path | None = None,
) -> ChildRun:
    """Run ``child.py`` on ``request`` (must name ``staged``) and collect its JSON lines.

    ``outputs_to``: where the files the child wrote into its ``outputs`` folder (forward outputs,
    with ``save_outputs`` in the request) are moved before the temporary folder is removed.
    ``hub_cache``: a Hugging Face hub cache (other repositories' code files) copied into the
    child's own ``HF_HOME`` first, so that it resolves them offline.

    Never raises for what happens inside the child: a timeout or a crash is reported in the
    returned :class:`ChildRun`. Raises :class:`InputError` if the interpreter cannot be started.
    """
    start = time.perf_counter()
    home = Path(tempfile.mkdtemp(prefix="hf-custom-verify-"))
    try:
        script = prepare_home(home)
        seed_hub_cache(home, hub_cache)
        work = home / "work"
        req_path = home / "request.json"
        out_path = home / "result.jsonl"
        req_path.write_text(json.dumps(dict(request)), encoding="utf-8")
        out_path.touch()
        interpreter = _interpreter(python or sys.executable)
        sandbox = child_sandbox(interpreter, Path(str(request["staged"])), home)
        with open(home / "stdout.txt", "wb") as so, open(home / "stderr.txt", "wb") as se:
            proc = _start(
                [*sandbox.prefix, interpreter, "-u", str(script), str(req_path), str(out_path)],
                cwd=work,
                env=child_env(home),
                stdout=so,
                stderr=se,
            )
            try:
                records, timed_out = watch(proc, out_path, timeout, on_event, task, start)
            except BaseException:  # Ctrl-C or a failing event sink: never leave the child behind
                kill_group(proc)
                proc.wait()
                raise
        move_outputs(home / "outputs", outputs_to)
        return child_run(
            records,
            returncode=proc.returncode,
            timed_out=timed_out,
            seconds=time.perf_counter() - start,
            home=home,
            sandbox=sandbox,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


def move_outputs(found: Path, outputs_to: Path | None) -> None:
    """The forward outputs a child left in ``found`` (``save_outputs``), moved to ``outputs_to``."""
    if outputs_to is not None and found.is_dir():
        outputs_to.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(found), str(outputs_to))


def prepare_home(home: Path) -> Path:
    """The child's folders (tmp, home, work) and a copy of its scripts; the script's path."""
    for sub in ("tmp", "home", "work"):
        (home / sub).mkdir(exist_ok=True)
    code = home / "child"
    code.mkdir(exist_ok=True)
    for name in CHILD_FILES:
        shutil.copyfile(_HERE / name, code / name)
    return code / "child.py"


def seed_hub_cache(home: Path, hub_cache: Path | None) -> None:
    """Copy ``hub_cache`` into the hub cache of the child whose home is ``home`` (its
    ``HF_HOME/hub``: readable inside its sandbox, found by huggingface_hub offline)."""
    if hub_cache is not None and hub_cache.is_dir():
        shutil.copytree(hub_cache, home / "hf_home" / "hub", symlinks=True, dirs_exist_ok=True)


def child_sandbox(interpreter: str, staged: Path, home: Path) -> Sandbox:
    """The confinement of a child that reads ``staged`` and writes ``home`` only."""
    return plan(
        interpreter,
        read=[staged.resolve()],
        write=[home],
        policy_file=home / "sandbox.json",
        enabled=os.environ.get("HF_CUSTOM_NO_SANDBOX", "") != "1",
    )


def child_run(
    records: list[dict[str, Any]],
    *,
    returncode: int | None,
    timed_out: bool,
    seconds: float,
    home: Path,
    sandbox: Sandbox,
) -> ChildRun:
    steps = [r for r in records if r.get("type") == "step"]
    envs = [r for r in records if r.get("type") == "env"]
    return ChildRun(
        records=tuple(records),
        returncode=returncode,
        timed_out=timed_out,
        seconds=seconds,
        stderr_tail=_tail(home / "stderr.txt"),
        stdout_tail=_tail(home / "stdout.txt"),
        last_step=steps[-1] if steps else None,
        env=envs[0] if envs else {},
        sandbox=sandbox,
    )


def _interpreter(python: str) -> str:
    """``python`` as an executable path, or :class:`InputError` if there is none."""
    found = shutil.which(python) if os.sep not in python else python
    if found is None or not Path(found).is_file() or not os.access(found, os.X_OK):
        raise InputError(
            f"cannot run the interpreter {python}: no such executable file",
            path=python,
            hint="--python takes the path of a Python executable (the environment of the "
            "model's users, with torch and transformers installed)",
        )
    return found


def _start(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    stdout: Any,
    stderr: Any,
    stdin: Any = subprocess.DEVNULL,
) -> Any:
    """Start the child in its own session (so a timeout kills everything it started)."""
    try:
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    except OSError as exc:
        raise InputError(
            f"cannot run the interpreter {argv[0]}: {exc.strerror or exc}",
            path=argv[0],
            hint="--python takes the path of a Python executable (the environment of the "
            "model's users, with torch and transformers installed)",
        ) from exc


def watch(
    proc: subprocess.Popen[bytes],
    out_path: Path,
    timeout: float,
    on_event: EventSink | None,
    task: str,
    start: float,
    *,
    until: str = "",
) -> tuple[list[dict[str, Any]], bool]:
    """Wait for ``proc`` (or, with ``until``, for a record of that type), turning its JSON
    lines into events; kill its group on timeout."""
    records: list[dict[str, Any]] = []
    buf = b""
    timed_out = False
    total: int | None = None
    done = 0
    reached = False
    with open(out_path, "rb") as fh:
        while True:
            try:
                proc.wait(timeout=0.2)
                finished = True
            except subprocess.TimeoutExpired:
                finished = False
            buf += fh.read()
            *lines, buf = buf.split(b"\n")
            for raw in lines:
                rec = _parse(raw)
                if rec is None:
                    continue
                records.append(rec)
                kind = rec.get("type")
                if kind == "plan":
                    total = len(rec.get("auto_classes") or ())
                    emit(on_event, Progress(task, 0, total, unit="steps"))
                elif kind == "row":
                    done += 1
                    emit(on_event, Progress(task, done, total, unit="steps"))
                elif kind == "step":
                    emit(on_event, Log(f"{task}: {rec.get('auto_class')} {rec.get('step')}"))
                reached = reached or (bool(until) and kind == until)
            if finished or reached:
                break
            if time.perf_counter() - start > timeout:
                timed_out = True
                kill_group(proc)
                proc.wait()
                break
    rec = _parse(buf)
    if rec is not None:
        records.append(rec)
    return records, timed_out


def _parse(raw: bytes) -> dict[str, Any] | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        rec = json.loads(raw.decode("utf-8", errors="replace"))
    except ValueError:
        return None
    return rec if isinstance(rec, dict) else None


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the child and everything it started (its own session, so its own group)."""
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - Windows
            proc.kill()
    except ProcessLookupError:
        pass


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-_TAIL:].decode("utf-8", errors="replace")
