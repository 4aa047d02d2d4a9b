"""Fixtures for the examples: each example's make_checkpoint.py is imported from its file and run
once per session (few training steps) into a temporary folder that tests only read."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FAST_STEPS = "8"  # enough to exercise training; the examples default to more


def load_script(example: str) -> ModuleType:
    """Import examples/<example>/make_checkpoint.py as a module (it is not in any package)."""
    name = f"_{example}_make_checkpoint"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / example / "make_checkpoint.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_in_fresh_process(script: str, args: Sequence[str], *, cwd: Path) -> str:
    """Run ``script`` in a new interpreter that sees none of the examples' source folders, with the
    fresh HF_HOME / HF_MODULES_CACHE of the calling test, and return its stdout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    assert Path(env["HF_MODULES_CACHE"]).parent == Path(env["HF_HOME"])  # set per test
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,  # transformers asks on stdin when trust_remote_code is unset
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"child failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@contextmanager
def _keep_torch_threads() -> Iterator[None]:
    """The scripts pin torch to one thread (a process-wide setting): give other tests theirs back."""
    import torch

    threads = torch.get_num_threads()
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _restore_torch_threads() -> Iterator[None]:
    with _keep_torch_threads():
        yield


@pytest.fixture(scope="session")
def ltgbert_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ltgbert") / "checkpoint"
    with _keep_torch_threads():
        assert load_script("ltgbert").main(["--out", str(out), "--steps", FAST_STEPS]) == 0
    return out


@pytest.fixture(scope="session")
def tinylm_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tinylm") / "checkpoint"
    with _keep_torch_threads():
        assert load_script("tinylm").main(["--out", str(out), "--steps", FAST_STEPS]) == 0
    return out


@pytest.fixture
def example_script() -> Callable[[str], ModuleType]:
    return load_script


@pytest.fixture
def fresh_process() -> Callable[..., str]:
    return run_in_fresh_process


@pytest.fixture
def fast_steps() -> str:
    """The --steps the session checkpoints were built with (to rebuild them identically)."""
    return FAST_STEPS
