"""A warm verification child shared by class inspection and verification.

Importing torch and transformers is most of the cost of a child. Inside :func:`shared_child`
(``publish`` opens one around staging and verification), the first child request starts
``child.py --serve``: it imports once, then answers each request in a fork of itself with its
own modules cache and working folder, as a fresh process would. The ``keys`` step's class
inspection and the verification of the same staged folder then share one interpreter.

A request goes to the warm child only when the child can see the folder: its sandbox was
opened on that folder (the staging folder renamed to ``--out`` is the same directory), with
the same interpreter. Anything else, or no :func:`shared_child`, runs a one-off child
(:func:`hf_custom.verification.isolation.run_child`). A request that times out kills the warm
child; the next request starts a new one.
"""

from __future__ import annotations

import contextvars
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from hf_custom.events import EventSink
from hf_custom.verification.isolation import (
    ChildRun,
    _interpreter,
    _start,
    child_env,
    child_run,
    child_sandbox,
    kill_group,
    move_outputs,
    prepare_home,
    run_child,
    seed_hub_cache,
    watch,
)
from hf_custom.verification.sandbox import Sandbox

__all__ = ["WarmChild", "run_request", "shared_child"]


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


class WarmChild:
    """One ``child.py --serve`` process; requests are answered one at a time."""

    def __init__(self, interpreter: str, staged: Path) -> None:
        self.interpreter = interpreter
        self.folder = _identity(staged)
        self.home = Path(tempfile.mkdtemp(prefix="hf-custom-verify-"))
        self.requests = 0
        script = prepare_home(self.home)
        self.sandbox: Sandbox = child_sandbox(interpreter, staged, self.home)
        self._out: IO[bytes] = open(self.home / "stdout.txt", "wb")  # noqa: SIM115
        self._err: IO[bytes] = open(self.home / "stderr.txt", "wb")  # noqa: SIM115
        try:
            self.proc: subprocess.Popen[bytes] = _start(
                [*self.sandbox.prefix, interpreter, "-u", str(script), "--serve"],
                cwd=self.home / "work",
                env=child_env(self.home),
                stdout=self._out,
                stderr=self._err,
                stdin=subprocess.PIPE,
            )
        except BaseException:
            self._cleanup()
            raise

    def serves(self, interpreter: str, staged: Path) -> bool:
        return (
            self.proc.poll() is None
            and interpreter == self.interpreter
            and self.folder is not None
            and _identity(staged) == self.folder
        )

    def run(
        self,
        request: Mapping[str, Any],
        *,
        timeout: float,
        on_event: EventSink | None,
        task: str,
        outputs_to: Path | None = None,
        hub_cache: Path | None = None,
    ) -> ChildRun:
        """Answer ``request`` in a fork of the warm child; kill the child on a timeout."""
        start = time.perf_counter()
        self.requests += 1
        seed_hub_cache(self.home, hub_cache)
        job_dir = self.home / f"job-{self.requests}"
        for sub in ("work", "tmp", "modules"):
            (job_dir / sub).mkdir(parents=True)
        req_path = job_dir / "request.json"
        out_path = job_dir / "result.jsonl"
        req_path.write_text(json.dumps(dict(request)), encoding="utf-8")
        out_path.touch()
        job = {
            "request": str(req_path),
            "result": str(out_path),
            "work": str(job_dir / "work"),
            "tmp": str(job_dir / "tmp"),
            "modules": str(job_dir / "modules"),
        }
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(job) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
            records, timed_out = watch(
                self.proc, out_path, timeout, on_event, task, start, until="served"
            )
        except BrokenPipeError:
            records, timed_out = [], False
        except BaseException:
            self.close()
            raise
        served = [r for r in records if r.get("type") == "served"]
        if timed_out:
            self.close()
        returncode = served[-1].get("returncode") if served else self.proc.poll()
        run = child_run(
            [r for r in records if r.get("type") != "served"],
            returncode=returncode if isinstance(returncode, int) else None,
            timed_out=timed_out,
            seconds=time.perf_counter() - start,
            home=self.home,
            sandbox=self.sandbox,
        )
        move_outputs(job_dir / "outputs", outputs_to)
        shutil.rmtree(job_dir, ignore_errors=True)
        return run

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                if self.proc.stdin is not None:
                    self.proc.stdin.close()  # end of requests: the child exits
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            kill_group(self.proc)
            self.proc.wait()
        self._cleanup()

    def _cleanup(self) -> None:
        self._out.close()
        self._err.close()
        shutil.rmtree(self.home, ignore_errors=True)


class _Pool:
    def __init__(self) -> None:
        self.child: WarmChild | None = None
        self.started = 0  # warm children started (one per folder and interpreter)

    def get(self, interpreter: str, staged: Path) -> WarmChild:
        if self.child is not None and not self.child.serves(interpreter, staged):
            self.child.close()
            self.child = None
        if self.child is None:
            self.child = WarmChild(interpreter, staged)
            self.started += 1
        return self.child

    def close(self) -> None:
        if self.child is not None:
            self.child.close()
            self.child = None


_ACTIVE: contextvars.ContextVar[_Pool | None] = contextvars.ContextVar(
    "hf_custom_warm_child", default=None
)


@contextmanager
def shared_child() -> Iterator[_Pool]:
    """Within this block, child requests on the same folder share one warm child."""
    pool = _Pool()
    token = _ACTIVE.set(pool)
    try:
        yield pool
    finally:
        _ACTIVE.reset(token)
        pool.close()


def run_request(
    request: Mapping[str, Any],
    *,
    python: str | None,
    timeout: float,
    on_event: EventSink | None = None,
    task: str = "verify",
    outputs_to: Path | None = None,
    hub_cache: Path | None = None,
) -> ChildRun:
    """Run a child request: in the warm child of :func:`shared_child` when there is one,
    else in a one-off child process. ``hub_cache``: see :func:`run_child`."""
    pool = _ACTIVE.get()
    if pool is None or not hasattr(os, "fork"):
        return run_child(
            request,
            python=python,
            timeout=timeout,
            on_event=on_event,
            task=task,
            outputs_to=outputs_to,
            hub_cache=hub_cache,
        )
    interpreter = _interpreter(python or sys.executable)
    staged = Path(str(request["staged"]))
    child = pool.get(interpreter, staged)
    return child.run(
        request,
        timeout=timeout,
        on_event=on_event,
        task=task,
        outputs_to=outputs_to,
        hub_cache=hub_cache,
    )
