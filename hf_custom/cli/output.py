"""Rendering for the CLI: rich on stderr for people, one JSON document on stdout for machines.

House rules 2 and 10: results to stdout, everything else to stderr; colour only on a terminal
and never with NO_COLOR; progress only on a terminal; stable JSON keys.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import click

from hf_custom.events import Event, EventSink, Log, Progress
from hf_custom.findings import Finding, Severity, sort_findings

if TYPE_CHECKING:  # rich is imported when something is printed: `--help` stays fast
    from rich.console import Console

JSON_SCHEMA_VERSION = 1

F = TypeVar("F", bound=Callable[..., Any])


def escape(text: str) -> str:
    """``text`` safe to print in rich markup: markup escaped, and control and bidi characters
    shown as escapes (``\\n``, ``\\u202e``), so a file name cannot forge report lines."""
    from rich.markup import escape as markup_escape

    from hf_custom.textsafety import printable

    return markup_escape(printable(text))


#: ``--format`` choices, with the meaning they have in huggingface_hub's ``hf`` CLI.
FORMATS = ("auto", "human", "agent", "json", "quiet")


@dataclass
class _State:
    """The output mode of this CLI process (set once by ``--format``) and whether the one
    JSON document was printed already."""

    mode: str = "human"
    printed_json: bool = False


STATE = _State()


def resolve_format(value: str) -> str:
    """``auto`` -> ``agent`` when an AI coding agent runs us (as ``hf`` decides), else ``human``."""
    if value != "auto":
        return value
    try:
        from huggingface_hub.utils import is_agent
    except ImportError:  # pragma: no cover - an older huggingface_hub
        return "human"
    return "agent" if is_agent() else "human"


def _is_terminal(file: Any) -> bool:
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _console(file: Any) -> Console:
    """A console on ``file``. Lines are wrapped to the width only for people at a terminal
    (``human`` mode on a tty): agents, pipes and files get every line whole, so ``grep`` and a
    parser see a whole message on one line."""
    from rich.console import Console

    no_color = bool(os.environ.get("NO_COLOR")) or STATE.mode != "human"
    wrap = STATE.mode == "human" and _is_terminal(file)
    return Console(file=file, no_color=no_color, highlight=False, soft_wrap=not wrap)


def err_console() -> Console:
    """Diagnostics on stderr: findings, progress, hints (nothing under ``--format quiet``)."""
    if STATE.mode == "quiet":
        from rich.console import Console

        return Console(file=io.StringIO(), no_color=True, highlight=False, soft_wrap=False)
    return _console(sys.stderr)


def error_console() -> Console:
    """Errors on stderr, in every mode."""
    return _console(sys.stderr)


def out_console() -> Console:
    return _console(sys.stdout)


def findings_console() -> Console:
    """Where every command's findings go: stdout, with the other results. Nothing under
    ``--format quiet`` (the final result only) or ``json`` (they are in the document)."""
    if STATE.mode in ("quiet", "json"):
        from rich.console import Console

        return Console(file=io.StringIO(), no_color=True, highlight=False, soft_wrap=True)
    return out_console()


def _set_format(ctx: click.Context, param: click.Parameter, value: str) -> str:
    STATE.mode = resolve_format(value)
    return STATE.mode


def format_option(func: F) -> F:
    """``--format auto|human|agent|json|quiet``, the same on every command that reports.

    The command receives the resolved mode (never ``auto``).
    """
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="auto",
        show_default=True,
        callback=_set_format,
        is_eager=True,
        help=(
            "auto: agent when run by an AI agent, else human; human: colour and tables; "
            "agent: the same plain, no colour or progress; json: exactly one JSON document "
            "on stdout, on every exit path; quiet: results only, no diagnostics."
        ),
    )(func)


def format_in_argv(argv: Sequence[str]) -> str | None:
    """The ``--format`` value in ``argv`` (for exit paths before click has parsed it)."""
    for i, arg in enumerate(argv):
        if arg == "--format" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--format="):
            return arg.partition("=")[2]
    return None


def print_json(doc: Mapping[str, Any]) -> None:
    """Print the one JSON document on stdout: keys sorted, ``schema_version`` its only version."""
    body = {k: v for k, v in doc.items() if k != "version"}
    body["schema_version"] = JSON_SCHEMA_VERSION
    sys.stdout.write(json.dumps(body, indent=2, sort_keys=True, default=_default) + "\n")
    sys.stdout.flush()
    STATE.printed_json = True


def error_json(*, kind: str, message: str, exit_code: int, **extra: Any) -> None:
    """Under ``--format json``, the document of a failed run unless one was printed already."""
    if STATE.mode != "json" or STATE.printed_json:
        return
    findings = extra.pop("findings", [])
    print_json(
        {
            "ok": False,
            "error": {"kind": kind, "message": message, "exit_code": exit_code, **extra},
            "findings": findings,
        }
    )


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


#: Columns of the findings table in ``--format agent`` (TSV with this header, as ``hf`` prints
#: tables for agents).
AGENT_FINDING_COLUMNS = ("severity", "id", "path", "line", "name", "message", "fix")


def agent_cell(value: object) -> str:
    """One TSV cell: never a tab or a line break inside (escaped), ``None`` as empty."""
    from hf_custom.textsafety import printable

    return "" if value is None else printable(str(value))


def agent_fields(**fields: object) -> str:
    """``key=value`` pairs on one line, as ``hf`` prints a result for agents (``None`` left out)."""
    return " ".join(f"{k}={agent_cell(v)}" for k, v in fields.items() if v is not None)


def render_findings(findings: Iterable[Finding], console: Console) -> None:
    """Human output grouped by file, sorted (house rule 10); ``--format agent``: a TSV table
    with a header line, one finding per line."""
    if STATE.mode == "agent":
        rows = sort_findings(findings)
        if not rows:
            return
        lines = ["\t".join(AGENT_FINDING_COLUMNS)]  # written as is: rich would expand tabs
        for f in rows:
            doc = f.to_json()
            lines.append("\t".join(agent_cell(doc[c]) for c in AGENT_FINDING_COLUMNS))
        console.file.write("\n".join(lines) + "\n")
        console.file.flush()
        return
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


def hub_bars_off() -> None:
    """Turn huggingface_hub's own progress bars off for this process (a CLI process only).

    The CLI draws progress from the library's events; huggingface_hub would otherwise draw its
    own bars for Xet uploads. The library never changes this setting itself.
    """
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()


@contextmanager
def progress_sink(enabled: bool | None = None) -> Iterator[EventSink]:
    """An event sink that draws progress bars on stderr when it is a terminal.

    Log events are printed on stderr either way; progress is dropped off a terminal.
    """
    console = err_console()
    show = (console.is_terminal and STATE.mode == "human") if enabled is None else enabled
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
