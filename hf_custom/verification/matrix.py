"""The verification matrix: the same verification once per transformers version.

Orchestration only: each column is one :func:`hf_custom.verification.verify` run, with the
interpreter of a cached environment (:mod:`hf_custom.envs`) or the current one for the
installed transformers. The report is AutoClass x version, each cell holding the usual steps
(load, weights, forward, generate, save) and the first failure's cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hf_custom.compatibility import Compatibility, VersionResult, render_section, with_section
from hf_custom.envs import Target, matches
from hf_custom.errors import InputError
from hf_custom.events import EventSink, Log, emit
from hf_custom.findings import Finding, Severity, finding, sort_findings
from hf_custom.verification import AutoClassRow, VerifyReport, verify

__all__ = [
    "Cell",
    "Column",
    "MatrixReport",
    "check_allow_fail",
    "run_matrix",
    "single_column",
    "verify_matrix",
    "write_compatibility",
]

_STEPS = ("loaded", "weights_equal", "forward", "generate", "save")


@dataclass(frozen=True)
class Column:
    target: Target
    report: VerifyReport
    allowed_to_fail: bool = False

    @property
    def version(self) -> str:
        return self.target.version

    def to_json(self) -> dict[str, object]:
        return {
            **self.target.to_json(),
            "ok": self.report.ok,
            "allowed_to_fail": self.allowed_to_fail,
            "versions": {
                k: str(v)
                for k, v in sorted(self.report.environment.items())
                if k in ("transformers", "torch", "huggingface_hub", "tokenizers", "python")
            },
            "report": self.report.to_json(),
        }


@dataclass(frozen=True)
class Cell:
    """One AutoClass under one transformers version."""

    auto_class: str
    version: str
    status: str  # "passed", "failed", "skipped" or "missing" (the class was not reported)
    steps: tuple[tuple[str, str], ...] = ()
    cause: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "auto_class": self.auto_class,
            "version": self.version,
            "status": self.status,
            "steps": dict(self.steps),
            "cause": self.cause,
        }


@dataclass(frozen=True)
class MatrixReport:
    columns: tuple[Column, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """Every column passed, or was allowed to fail."""
        return all(c.report.ok or c.allowed_to_fail for c in self.columns)

    @property
    def versions(self) -> tuple[str, ...]:
        return tuple(c.version for c in self.columns)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(c.version for c in self.columns if not c.report.ok)

    def all_findings(self) -> tuple[Finding, ...]:
        """The matrix's own findings and each column's, prefixed with the version; an allowed
        failure's errors are downgraded to warnings."""
        from dataclasses import replace

        out = list(self.findings)
        for col in self.columns:
            for f in col.report.findings:
                sev = (
                    Severity.WARNING
                    if col.allowed_to_fail and f.severity is Severity.ERROR
                    else f.severity
                )
                out.append(
                    replace(f, message=f"[transformers {col.version}] {f.message}", severity=sev)
                )
        return tuple(sort_findings(out))

    @property
    def auto_classes(self) -> tuple[str, ...]:
        seen: list[str] = []
        for col in self.columns:
            for row in col.report.rows:
                if row.auto_class not in seen:
                    seen.append(row.auto_class)
        return tuple(seen)

    def cell(self, auto_class: str, version: str) -> Cell:
        col = next(c for c in self.columns if c.version == version)
        row = next((r for r in col.report.rows if r.auto_class == auto_class), None)
        if row is None:
            return Cell(auto_class, version, "missing", cause="not reported by this version")
        return _cell(row, version, findings=col.report.findings)

    def cells(self) -> tuple[Cell, ...]:
        return tuple(self.cell(a, v) for a in self.auto_classes for v in self.versions)

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "versions": list(self.versions),
            "failed": list(self.failed),
            "columns": [c.to_json() for c in self.columns],
            "cells": [c.to_json() for c in self.cells()],
            "findings": [f.to_json() for f in self.findings],
        }


def _cell(row: AutoClassRow, version: str, *, findings: Sequence[Finding] = ()) -> Cell:
    steps = tuple((name, str(getattr(row, name))) for name in _STEPS)
    values = [v for _, v in steps]
    if "failed" in values:
        status = "failed"
    elif row.loaded == "skipped":
        status = "skipped"
    else:
        status = "passed"
    cause = ""
    if status != "passed":
        # the first error the child reported for this class, else the row's first detail
        # (which may start with what passed, like "28 tensors equal")
        mine = [
            f.message.removeprefix(f"{row.class_name}:").strip()
            for f in findings
            if f.severity is Severity.ERROR and row.class_name and
            f.message.startswith(f"{row.class_name}:")
        ]  # fmt: skip
        lines = [ln.strip() for ln in row.detail.splitlines() if ln.strip()]
        if status == "failed" and mine:
            cause = mine[0]
        else:
            cause = lines[0] if lines else next(n for n, v in steps if v in ("failed", "skipped"))
    return Cell(row.auto_class, version, status, steps=steps, cause=cause)


def check_allow_fail(allow_fail: Sequence[str], targets: Sequence[Target]) -> None:
    """Refuse ``--allow-fail`` values that name no requested version (a typo would otherwise
    let a failure through unnoticed, or hide nothing)."""
    for value in allow_fail:
        if not any(_allowed(value, t) for t in targets):
            asked = ", ".join(t.version for t in targets) or "none"
            raise InputError(
                f"--allow-fail {value} names no version of the matrix (versions: {asked})",
                hint="give a version passed to --transformers (e.g. --allow-fail 4.57)",
            )


def _allowed(value: str, target: Target) -> bool:
    value = value.strip().lower()
    return value in (target.spec, target.version) or matches(value, target.version)


def verify_matrix(
    staged: Path,
    targets: Sequence[Target],
    *,
    allow_fail: Sequence[str] = (),
    timeout: float = 600,
    on_event: EventSink | None = None,
    outputs: Path | None = None,
    endpoint: Any = None,
) -> MatrixReport:
    """Verify ``staged`` once per target (one clean child process each).

    ``outputs``: each version's forward inputs and outputs are kept in ``outputs/<version>/``
    (see :func:`hf_custom.verification.verify`), for :mod:`hf_custom.verification.crossversion`.
    ``endpoint``: where code other repositories serve is downloaded from (see ``verify``)."""
    check_allow_fail(allow_fail, targets)
    columns = []
    findings: list[Finding] = []
    for target in targets:
        emit(on_event, Log(f"verifying with transformers {target.version}"))
        report = verify(
            staged,
            python=target.python,
            timeout=timeout,
            on_event=on_event,
            outputs=outputs / target.version if outputs is not None else None,
            endpoint=endpoint,
        )
        allowed = any(_allowed(v, target) for v in allow_fail)
        columns.append(Column(target=target, report=report, allowed_to_fail=allowed))
        if report.ok:
            continue
        first = next((r for r in report.rows if not r.ok), None)
        why = (
            _cell(first, target.version, findings=report.findings).cause
            if first is not None
            else ""
        )
        if not why and report.findings:
            why = report.findings[0].message
        where = f" ({first.auto_class}: {why})" if first is not None else f" ({why})"
        if allowed:
            findings.append(
                finding(
                    "HFC591",
                    f"transformers {target.version} fails{where}; allowed by --allow-fail",
                )
            )
        else:
            findings.append(
                finding("HFC590", f"the package fails with transformers {target.version}{where}")
            )
    return MatrixReport(columns=tuple(columns), findings=tuple(sort_findings(findings)))


def single_column(report: VerifyReport) -> MatrixReport:
    """A one-column matrix for a verification under the installed transformers."""
    from hf_custom.envs import installed_version

    version = str(report.environment.get("transformers") or installed_version() or "")
    target = Target(spec="installed", version=version)
    return MatrixReport(columns=(Column(target=target, report=report),), findings=())


def run_matrix(
    staged: Path,
    specs: Sequence[str],
    *,
    allow_fail: Sequence[str] = (),
    timeout: float = 600,
    root: Path | None = None,
    on_event: EventSink | None = None,
    outputs: Path | None = None,
    endpoint: Any = None,
) -> MatrixReport:
    """Resolve ``specs`` (``--transformers`` values), build or reuse their environments and
    verify ``staged`` under each; ``allow_fail`` must name resolved versions."""
    from hf_custom.envs import parse_specs, resolve_targets

    parsed = parse_specs(specs)
    targets = resolve_targets(parsed, root=root, on_event=on_event)
    return verify_matrix(
        staged,
        targets,
        allow_fail=allow_fail,
        timeout=timeout,
        on_event=on_event,
        outputs=outputs,
        endpoint=endpoint,
    )


def compatibility_of(matrix: MatrixReport, *, date: str, version: str) -> Compatibility:
    """The model card facts of ``matrix``: per version, whether it passed and what failed."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    results = []
    for col in matrix.columns:
        env = col.report.environment
        hub = col.target.env.versions.get("huggingface_hub", "") if col.target.env else ""
        if col.target.env is None:
            try:
                hub = dist_version("huggingface_hub")
            except PackageNotFoundError:
                hub = ""
        results.append(
            VersionResult(
                transformers=col.version,
                ok=col.report.ok,
                torch=str(env.get("torch", "")),
                huggingface_hub=hub,
                failed=tuple(r.auto_class for r in col.report.rows if not r.ok),
            )
        )
    return Compatibility(date=date, hf_custom=version, versions=tuple(results))


def write_compatibility(staged: Path, matrix: MatrixReport) -> Compatibility:
    """Put the Compatibility section of ``matrix`` into ``staged``/README.md (atomically)."""
    import os
    import tempfile
    from datetime import datetime, timezone

    from hf_custom._version import __version__

    compat = compatibility_of(
        matrix, date=datetime.now(timezone.utc).strftime("%Y-%m-%d"), version=__version__
    )
    card = Path(staged) / "README.md"
    text = card.read_text(encoding="utf-8") if card.is_file() else ""
    new = with_section(text, render_section(compat))
    fd, tmp = tempfile.mkstemp(prefix=".README.", dir=str(card.parent))
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(new)
    Path(tmp).replace(card)
    return compat
