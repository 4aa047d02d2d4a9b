"""Registry-driven: every static rule has a failing and a passing case, and both behave."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_custom.diagnosis import DoctorReport, doctor
from hf_custom.findings import all_rules

from .cases import CASES, SPECIAL, CallCase, Case
from .repo import write_repo

STATIC = [r.id for r in all_rules() if r.needs == "static"]


def test_every_static_rule_has_cases() -> None:
    missing = [rid for rid in STATIC if rid not in CASES and rid not in SPECIAL]
    assert not missing, f"static rules without a failing and a passing case: {missing}"


def test_special_cases_exist() -> None:
    root = Path(__file__).resolve().parents[2]
    for rule_id, target in SPECIAL.items():
        path, _, name = target.partition("::")
        assert f"def {name}(" in (root / path).read_text(), (rule_id, target)


def test_cases_name_existing_rules() -> None:
    known = {r.id for r in all_rules()}
    assert set(CASES) <= known, sorted(set(CASES) - known)


def _ran(report: DoctorReport, rule_id: str) -> None:
    skipped = [s for s in report.skipped if rule_id in s.rules]
    assert not skipped, f"{rule_id}: its check was skipped: {skipped}"
    assert report.run, "no check ran"


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_case(rule_id: str, tmp_path: Path) -> None:
    case = CASES[rule_id]
    if isinstance(case, CallCase):
        assert rule_id in {f.id for f in case.fail()}
        assert rule_id not in {f.id for f in case.ok()}
        return
    assert isinstance(case, Case)
    bad = doctor(write_repo(tmp_path / "fail", case.fail), select=[rule_id])
    _ran(bad, rule_id)
    assert rule_id in {f.id for f in bad.findings}, bad.findings
    good = doctor(write_repo(tmp_path / "ok", case.ok), select=[rule_id])
    _ran(good, rule_id)
    assert rule_id not in {f.id for f in good.findings}, good.findings
