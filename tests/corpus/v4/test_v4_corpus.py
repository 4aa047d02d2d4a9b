"""The v4-era corpus: none of its packages loads under the installed transformers v5 as
published; after ``fix`` every one loads, verifies, and computes what the clean code computes."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_custom.fixing import plan_fixes

from .packages import PACKAGES, Package

IDS = [p.name for p in PACKAGES]


def _bytes(files: dict[str, str]) -> dict[str, bytes]:
    return {k: v.encode() for k, v in files.items()}


@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_fix_repairs_every_pattern_of_the_package(pkg: Package) -> None:
    config = {"auto_map": pkg.auto_map}
    plan = plan_fixes(_bytes(pkg.v4()), config=config)
    assert not plan.unrepaired, plan.unrepaired
    assert len({r.rule for r in plan.repairs}) >= 3  # several patterns per package
    fixed = {**_bytes(pkg.v4()), **{c.path: c.after for c in plan.changes}}
    assert not plan_fixes(fixed, config=config).changes  # idempotent
    assert not plan_fixes(_bytes(pkg.clean), config=config).repairs  # the clean code is left alone


@pytest.mark.slow
@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_loads_after_fix_with_the_same_outputs(pkg: Package, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from hf_custom.fixing.folder import fix_folder

    from .build import write_package
    from .loading import load_folder

    src = write_package(pkg, tmp_path / "src")
    reference = load_folder(write_package(pkg, tmp_path / "clean", variant="clean"))
    assert all(r["ok"] for r in reference.values()), reference
    before = load_folder(src)
    assert not any(r["ok"] for r in before.values()), before  # v4-era code: broken under v5
    result = fix_folder(src, out=tmp_path / "fixed")
    assert result.ok and result.verified, (result.verify_problem, result.verify_findings)
    after = load_folder(tmp_path / "fixed")
    assert after.keys() == reference.keys()
    for auto, row in after.items():
        assert row["ok"], (auto, row)
        got, want = row["output"], reference[auto]["output"]
        assert isinstance(got, list) and isinstance(want, list)
        assert got == pytest.approx(want, abs=1e-6), auto  # a repair never changes outputs
