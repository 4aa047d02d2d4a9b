"""Rendering of a verification report: one row per AutoClass (publish and doctor --load use it).

Human output goes to the console given (stderr in publish/doctor, house rule 2); the JSON form
is :meth:`hf_custom.verification.VerifyReport.to_json`, the same data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.table import Table

from hf_custom.cli.output import escape, render_findings, summary_line

if TYPE_CHECKING:
    from hf_custom.verification import AutoClassRow, VerifyReport

_STYLE = {
    "passed": "green",
    "failed": "bold red",
    "skipped": "yellow",
    "n/a": "dim",
    "not compared": "yellow",
}
_MARK = {"passed": "ok", "failed": "FAIL", "skipped": "skip", "n/a": "-"}  # others: as they are


def _cell(status: str) -> str:
    style = _STYLE.get(status, "")
    text = _MARK.get(status, status)
    return f"[{style}]{escape(text)}[/]" if style else escape(text)


def verify_table(report: VerifyReport) -> Table:
    """The per-AutoClass table: load / weights equal / forward / generate / save / time.

    Short statuses (ok, FAIL, skip, -) and no vertical rules keep it within 80 columns; the
    class names and details are printed under it.
    """
    table = Table(
        title="verification (clean process)",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        expand=False,
        pad_edge=False,  # the longest AutoClass names still fit in 80 columns
    )
    table.add_column("AutoClass", no_wrap=True)
    for name in ("load", "weights", "fwd", "gen", "save"):
        table.add_column(name, no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    for row in report.rows:
        table.add_row(*_cells(row))
    return table


def _cells(row: AutoClassRow) -> list[str]:
    return [
        escape(row.auto_class),
        _cell(row.loaded),
        _cell(row.weights_equal),
        _cell(row.forward),
        _cell(row.generate),
        _cell(row.save),
        f"{row.seconds:.1f}s",
    ]


def timing_note(report: VerifyReport) -> str:
    """How long the verification took and what the imports cost. A warm child (publish shares
    one between class inspection and verification) imported torch and transformers before
    this run started, so its import time is not part of the run's."""
    env = report.environment
    imports = env.get("import_seconds")
    took = f"{imports:.1f} s" if isinstance(imports, (int, float)) else "?"
    if env.get("warm"):
        return (
            f"verified in {report.seconds:.1f} s by a warm child (its imports took {took}, "
            "once, before this run)"
        )
    return f"verified in {report.seconds:.1f} s, of which imports took {took}"


def render_verify(report: VerifyReport, console: Console, *, findings: bool = True) -> None:
    """Print the table, then (by default) the findings, then a one-line verdict."""
    console.print(verify_table(report))
    for row in report.rows:
        cls = f" ({row.class_name})" if row.class_name else ""
        detail = f": {row.detail}" if row.detail else ""
        console.print(f"  [dim]{escape(row.auto_class + cls + detail)}[/]")
    env = report.environment
    if env:
        console.print(
            f"[dim]python {escape(str(env.get('python', '?')))} "
            f"({escape(str(env.get('executable', '?')))}), torch {escape(str(env.get('torch', '?')))}, "
            f"transformers {escape(str(env.get('transformers', '?')))}; "
            f"{escape(timing_note(report))}[/]"
        )
    sandbox = env.get("sandbox") if env else None
    if isinstance(sandbox, dict):
        mechanisms = " + ".join(str(m) for m in sandbox.get("mechanisms") or ()) or "none"
        console.print(f"[dim]sandbox: {escape(mechanisms)}[/]")
        for warning in sandbox.get("warnings") or ():
            console.print(f"[yellow]warning: {escape(str(warning))}[/]")
    if findings and report.findings:
        render_findings(report.findings, console)
    verdict = "[bold green]verified[/]" if report.ok else "[bold red]verification failed[/]"
    console.print(f"{verdict}: {summary_line(report.findings)}")
