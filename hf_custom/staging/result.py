""":class:`StageResult`: what staging produced, as plain frozen data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hf_custom.findings import Finding, Severity

if TYPE_CHECKING:  # pragma: no cover
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
            "steps": list(self.steps),
            "seconds": round(self.seconds, 3),
        }


__all__ = ["StageResult"]
