"""Rendering for the CLI: rich on stderr for people, one JSON document on stdout for machines.

House rules 2 and 10: results to stdout, everything else to stderr; colour only on a terminal
and never with NO_COLOR; progress only on a terminal; stable JSON keys.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console

from hf_custom.events import Event, EventSink, Log, Progress
from hf_custom.findings import Finding, Severity, sort_findings

JSON_SCHEMA_VERSION = 1

F = TypeVar("F", bound=Callable[..., Any])


def escape(text: str) -> str:
    """``text`` safe to print in rich markup: markup escaped, and control and bidi characters
    shown as escapes (``\\n``, ``\\u202e``), so a file name cannot forge report lines."""
    from rich.markup import escape as markup_escape

    from hf_custom.textsafety import printable

    return markup_escape(printable(text))


def _console(file: Any) -> Console:
    no_color = bool(os.environ.get("NO_COLOR"))
    return Console(file=file, no_color=no_color, highlight=False, soft_wrap=False)


def err_console() -> Console:
    return _console(sys.stderr)


def out_console() -> Console:
    return _console(sys.stdout)


def format_option(func: F) -> F:
    """``--format human|json``, the same on every command that reports."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["human", "json"]),
        default="human",
        show_default=True,
        help="human: tables on the terminal; json: exactly one JSON document on stdout.",
    )(func)


def print_json(doc: dict[str, Any]) -> None:
    """Print one JSON document on stdout, keys sorted, with the schema version."""
    body = {"schema_version": JSON_SCHEMA_VERSION, **doc}
    sys.stdout.write(json.dumps(body, indent=2, sort_keys=True, default=_default) + "\n")
    sys.stdout.flush()


def _default(obj: Any) -> Any:
    if hasattr(obj, "to_json"):
        return obj.to_json()
    if isinstance(obj, (set, frozenset, tuple)):
        return sorted(obj) if isinstance(obj, (set, frozenset)) else list(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if hasattr(obj, "value"):
        return obj.value
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def render_findings(findings: Iterable[Finding], console: Console) -> None:
    """Human output grouped by file, sorted (house rule 10)."""
    current: str | None = None
    for f in sort_findings(findings):
        path = f.path or "(repository)"
        if path != current:
            console.print(f"[bold]{escape(path)}[/]")
            current = path
        where = f":{f.line}" if f.line else ""
        console.print(
            f"  {where:<6}[{_STYLE[f.severity]}]{f.severity.value:<7}[/] "
            f"[bold]{f.id}[/] {escape(f.message)} [dim]({f.name})[/]"
        )
        if f.fix:
            console.print(f"          [dim]fix: {escape(f.fix)}[/]")


def summary_line(findings: Iterable[Finding]) -> str:
    counts = {s: 0 for s in Severity}
    for f in findings:
        counts[f.severity] += 1
    return ", ".join(f"{counts[s]} {s.value}{'s' if counts[s] != 1 else ''}" for s in Severity)


@contextmanager
def progress_sink(enabled: bool | None = None) -> Iterator[EventSink]:
    """An event sink that draws progress bars on stderr when it is a terminal.

    Log events are printed on stderr either way; progress is dropped off a terminal.
    """
    console = err_console()
    show = console.is_terminal if enabled is None else enabled
    if not show:

        def sink(event: Event) -> None:
            if isinstance(event, Log):
                _print_log(console, event)

        yield sink
        return

    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        ProgressColumn,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as Bar
    from rich.progress import Task as BarTask
    from rich.text import Text

    class ByUnit(ProgressColumn):
        """Bytes and bytes/s for byte tasks, "n/m" for counted ones."""

        def __init__(self) -> None:
            super().__init__()
            self._bytes = DownloadColumn()
            self._speed = TransferSpeedColumn()
            self._count = MofNCompleteColumn()

        def render(self, task: BarTask) -> Text:
            if task.fields.get("unit") == "B":
                return Text.assemble(self._bytes.render(task), " ", self._speed.render(task))
            return self._count.render(task)

    bar = Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        ByUnit(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[tuple[str, str], TaskID] = {}

    def rich_sink(event: Event) -> None:
        if isinstance(event, Log):
            _print_log(console, event)
            return
        assert isinstance(event, Progress)
        key = (event.task, event.key)
        if key not in tasks:
            label = f"{event.task} {event.key}".strip()
            tasks[key] = bar.add_task(label, total=event.total, unit=event.unit)
        bar.update(tasks[key], completed=event.done, total=event.total)

    with bar:
        yield rich_sink


def _print_log(console: Console, event: Log) -> None:
    style = "yellow" if event.level == "warning" else "dim"
    prefix = "warning: " if event.level == "warning" else ""
    console.print(f"[{style}]{prefix}{escape(event.message)}[/]")
