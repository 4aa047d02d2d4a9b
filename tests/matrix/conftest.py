"""Fixtures of the matrix tests: ONE transformers 4.57.x environment for the whole run.

The environment is built under the run's base temporary folder (shared by the pytest-xdist
workers, whose basetemps are its children); the builder's lock makes a second worker wait for
the first one's build and reuse it. Building needs the package registry: those tests are slow.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

V4 = "4.57"


@pytest.fixture(scope="session")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An HF_HOME shared by every worker of this run (its envs/ holds the v4 environment)."""
    base = tmp_path_factory.getbasetemp()
    parent = base.parent if base.name.startswith("popen-gw") else base
    home = parent / "matrix-hf-home"
    home.mkdir(exist_ok=True)
    return home


@pytest.fixture(scope="session")
def envs_dir(shared_home: Path) -> Path:
    return shared_home / "hf-custom" / "envs"


@pytest.fixture(scope="session")
def v4_targets(envs_dir: Path):  # type: ignore[no-untyped-def]
    pytest.importorskip("torch")
    from hf_custom.envs import parse_specs, resolve_targets

    return resolve_targets(parse_specs([V4, "installed"]), root=envs_dir)
