"""HFC255 does not flag config reads the code guards itself (hasattr / getattr with a default)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_custom.diagnosis import doctor
from tests.checks.cases import modeling
from tests.checks.repo import write_repo

ANCHOR = "        hidden = self.model(input_ids)"

GUARDED = [
    "        if hasattr(self.config, 'hfc_x'):\n            s = self.config.hfc_x\n",
    "        if getattr(config, 'hfc_x', None):\n            s = config.hfc_x\n",
    "        s = self.config.hfc_x if hasattr(self.config, 'hfc_x') else 1\n",
    "        s = hasattr(self.config, 'hfc_x') and self.config.hfc_x\n",
    "        if not hasattr(self.config, 'hfc_x'):\n            s = 1\n"
    "        else:\n            s = self.config.hfc_x\n",
    "        s = getattr(self.config, 'hfc_x', 1)\n",
]
UNGUARDED = [
    "        s = self.config.hfc_x\n",
    "        if hasattr(self.config, 'hfc_y'):\n            s = self.config.hfc_x\n",
    "        if not hasattr(self.config, 'hfc_x'):\n            s = self.config.hfc_x\n",
]


def _hfc255(tmp_path: Path, snippet: str) -> list[str]:
    repo = write_repo(tmp_path, {"modeling_toy.py": modeling(ANCHOR, snippet + ANCHOR)})
    return [f.message for f in doctor(repo, select=["HFC255"]).findings if f.id == "HFC255"]


@pytest.mark.parametrize("snippet", GUARDED)
def test_guarded_read_is_not_flagged(snippet: str, tmp_path: Path) -> None:
    assert _hfc255(tmp_path, snippet) == []


@pytest.mark.parametrize("snippet", UNGUARDED)
def test_unguarded_read_is_flagged(snippet: str, tmp_path: Path) -> None:
    assert any("config.hfc_x" in m for m in _hfc255(tmp_path, snippet))
