"""HFC204 for ``pkg_resources`` (removed from setuptools: transformers' check_imports refuses a
file importing it): rewritten to importlib.metadata / packaging.version, which mean the same
for the uses rewritten; other uses are left with their cause."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from hf_custom.diagnosis import doctor
from hf_custom.fixing import plan_fixes
from tests.checks.repo import CONFIG, CONFIGURATION, MODELING, write_repo

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pkg_resources") is not None,
    reason="pkg_resources is installed here: HFC204 does not fire",
)

USES = (
    "import torch\nimport pkg_resources\n\n"
    "try:\n"
    '    TORCH = pkg_resources.get_distribution("torch").version\n'
    "except pkg_resources.DistributionNotFound:\n"
    "    TORCH = None\n"
    'NEW = pkg_resources.parse_version(TORCH) >= pkg_resources.parse_version("2.0")\n'
)


def _files(modeling: str) -> dict[str, bytes]:
    return {"modeling_toy.py": modeling.encode(), "configuration_toy.py": CONFIGURATION.encode()}


def test_pkg_resources_fails_then_passes(tmp_path: Path) -> None:
    files = _files(MODELING.replace("import torch\n", USES, 1))
    before = doctor(write_repo(tmp_path / "before", files), select=["HFC204"])
    assert "HFC204" in {f.id for f in before.findings}
    plan = plan_fixes(files, config=CONFIG, rules={"HFC204"})
    assert not plan.unrepaired, plan.unrepaired
    out = {c.path: c.after for c in plan.changes}["modeling_toy.py"].decode()
    head = out.split("\n\n\nclass ")[0]
    assert "pkg_resources" not in out
    assert "import importlib.metadata\nimport packaging.version\n" in head
    assert 'TORCH = importlib.metadata.version("torch")' in head
    assert "except importlib.metadata.PackageNotFoundError:" in head
    # the rewritten module-level code runs and computes what pkg_resources computed
    ns: dict[str, object] = {}
    exec(compile(head.split("from torch import nn")[0], "modeling_toy.py", "exec"), ns)
    import torch

    assert ns["TORCH"] == importlib.metadata.version("torch") and ns["NEW"] is True
    assert torch.__version__.startswith(str(ns["TORCH"]).split("+")[0])
    fixed = {**files, "modeling_toy.py": out.encode()}
    after = doctor(write_repo(tmp_path / "after", fixed), select=["HFC204"])
    assert "HFC204" not in {f.id for f in after.findings}, after.findings
    assert not plan_fixes(fixed, config=CONFIG).changes  # idempotent


def test_from_import_and_unported_uses() -> None:
    text = MODELING.replace(
        "import torch\n",
        "import torch\nfrom pkg_resources import parse_version as pv, packaging\n",
        1,
    )
    plan = plan_fixes(_files(text), config=CONFIG, rules={"HFC204"})
    out = {c.path: c.after for c in plan.changes}["modeling_toy.py"].decode()
    assert "from packaging.version import parse as pv\nimport packaging.version\n" in out
    left = MODELING.replace(
        "import torch\n",
        'import torch\nimport pkg_resources\nPATH = pkg_resources.resource_filename("x", "y")\n',
        1,
    )
    plan = plan_fixes(_files(left), config=CONFIG, rules={"HFC204"})
    assert not plan.changes
    assert "resource_filename" in plan.unrepaired[0].cause
