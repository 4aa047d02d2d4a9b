""":class:`StageResult`: what staging produced, as plain frozen data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hf_custom.findings import Finding, Severity

if TYPE_CHECKING:  # pragma: no cover
    from hf_custom.fixing import Repair, Unrepaired
    from hf_custom.inventory import Exclusion
    from hf_custom.staging.code import Rewrite
    from hf_custom.staging.config import Change
    from hf_custom.weights import ConvertResult, Rename


@dataclass(frozen=True)
class StageResult:
    out: Path
    source: Path
    files: tuple[str, ...]  # staged files, relative to out
    changes: tuple[Change, ...]  # config.json, tokenizer and card changes
    rewrites: tuple[Rewrite, ...]  # code rewrites
    renames: tuple[Rename, ...]  # weight renames
    excluded: tuple[Exclusion, ...]  # files not staged, and why
    requirements: tuple[str, ...]
    findings: tuple[Finding, ...]
    config: Mapping[str, object]  # the staged config.json
    architecture: str | None
    weights: ConvertResult | None = None
    checks_run: tuple[str, ...] = ()
    checks_skipped: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()  # the pipeline steps that ran, in order
    seconds: float = 0.0
    repairs: tuple[Repair, ...] = ()  # code repairs made in the staged copy (--fix)
    fixable: tuple[Repair, ...] = ()  # the repairs --fix would make (without --fix)
    unrepaired: tuple[Unrepaired, ...] = ()  # breaks the repairs found but cannot repair

    def fix_hint(self) -> str:
        """``--fix would make N repair(s): HFC252 a.py:3, ...`` ("" when there is none)."""
        return fix_hint(self.fixable)

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def to_json(self) -> dict[str, object]:
        return {
            "out": str(self.out),
            "source": str(self.source),
            "ok": self.ok,
            "files": list(self.files),
            "changes": [c.to_json() for c in self.changes],
            "code_rewrites": [r.to_json() for r in self.rewrites],
            "weight_renames": [r.to_json() for r in self.renames],
            "excluded": [e.to_json() for e in self.excluded],
            "requirements": list(self.requirements),
            "findings": [f.to_json() for f in self.findings],
            "architecture": self.architecture,
            "weights": self.weights.to_json() if self.weights is not None else None,
            "checks": {"run": list(self.checks_run), "skipped": list(self.checks_skipped)},
            "repairs": [r.to_json() for r in self.repairs],
            "fixable": [r.to_json() for r in self.fixable],
            "unrepaired": [u.to_json() for u in self.unrepaired],
            "steps": list(self.steps),
            "seconds": round(self.seconds, 3),
        }


def fix_hint(fixable: Sequence[Repair]) -> str:
    """What ``--fix`` would repair, by rule id and file:line ("" when nothing)."""
    if not fixable:
        return ""
    where = ", ".join(f"{r.rule} {r.path}:{r.line}" for r in fixable)
    return f"publish --fix would make {len(fixable)} repair(s) in the staged copy: {where}"


__all__ = ["StageResult", "fix_hint"]
