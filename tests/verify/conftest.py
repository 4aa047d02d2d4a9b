"""Fixtures for the verification tests: tiny packages verified once per module.

Each verification is one child process whose cost is mostly importing torch and transformers,
so a folder combining several defects is verified once and many tests read the report.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

pytest.importorskip("torch")
pytest.importorskip("transformers")

from verify_cases import ZOO_HEADS, ZOO_LOADING
from verify_factory import make_model_dir

from hf_custom.verification import VerifyReport, verify


@pytest.fixture(scope="session")
def sound_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_model_dir(tmp_path_factory.mktemp("sound"))


@pytest.fixture(scope="session")
def sound_report(sound_dir: Path) -> VerifyReport:
    return verify(sound_dir, timeout=300)


@pytest.fixture(scope="session")
def heads_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_model_dir(tmp_path_factory.mktemp("heads"), defects=ZOO_HEADS)


@pytest.fixture(scope="session")
def heads_report(heads_dir: Path) -> VerifyReport:
    return verify(heads_dir, timeout=300)


@pytest.fixture(scope="session")
def loading_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_model_dir(tmp_path_factory.mktemp("loading"), defects=ZOO_LOADING)


@pytest.fixture(scope="session")
def loading_report(loading_dir: Path) -> VerifyReport:
    return verify(loading_dir, timeout=300)
