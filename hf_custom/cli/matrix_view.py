"""``--transformers`` / ``--allow-fail``: declared once, and the matrix table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

F = TypeVar("F", bound=Callable[..., Any])

_SYMBOL = {"passed": "ok", "failed": "FAIL", "skipped": "skip", "missing": "-"}


def matrix_options(func: F) -> F:
    """The two matrix options, the same on publish, doctor --load and fix."""
    func = click.option(
        "--allow-fail",
        "allow_fail",
        multiple=True,
        metavar="VERSION",
        help="Do not refuse when this --transformers version fails (repeatable).",
    )(func)
    return click.option(
        "--transformers",
        "transformers",
        multiple=True,
        metavar="SPEC",
        help="Verify with each of these transformers versions, in cached environments: "
        "4.57, 5.24.0, latest, latest-4, installed (repeatable or comma-separated). "
        "Default: hf-custom.toml / [tool.hf-custom], else the installed version only.",
    )(func)


def matrix_settings(
    folder: Path, transformers: tuple[str, ...], allow_fail: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Command-line values, else the repository's settings file (for each option separately)."""
    from hf_custom.settings import load_settings

    if transformers and allow_fail:
        return transformers, allow_fail
    settings = load_settings(folder)
    return (transformers or settings.transformers, allow_fail or settings.allow_fail)


def render_matrix(matrix: Any, console: Console) -> None:
    """AutoClass x version: one short status per cell, then the cause of each failed cell."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="verification matrix", title_justify="left", pad_edge=False)
    table.add_column("AutoClass")
    for version in matrix.versions:
        table.add_column(f"transformers {version}")
    causes = []
    for auto_class in matrix.auto_classes:
        cells = [matrix.cell(auto_class, v) for v in matrix.versions]
        table.add_row(auto_class, *(_symbol(c) for c in cells))
        causes += [c for c in cells if c.status == "failed"]
    console.print(table)
    for cell in causes:
        console.print(
            f"  {escape(cell.auto_class)} @ {escape(cell.version)}: {escape(cell.cause)}",
            highlight=False,
        )
    for col in matrix.columns:
        if col.allowed_to_fail and not col.report.ok:
            console.print(f"  transformers {col.version} failed: allowed by --allow-fail")


def _symbol(cell: Any) -> str:
    """The cell's short status; a pass on placeholder weights says they were not compared."""
    text = _SYMBOL.get(cell.status, cell.status)
    if cell.status == "passed" and dict(cell.steps).get("weights_equal") == "not compared":
        text += " (weights not compared)"
    return text


def render_compatibility(compat: Any, console: Console) -> None:
    """The model card's Compatibility section, read back: which versions were verified, when."""
    from rich.markup import escape

    console.print(
        f"model card: verified on {escape(compat.date or '?')} by hf-custom "
        f"{escape(compat.hf_custom or '?')} with transformers:",
        highlight=False,
    )
    for v in compat.versions:
        result = "passed" if v.ok else "failed" + (f" ({', '.join(v.failed)})" if v.failed else "")
        extra = ", ".join(
            f"{name} {value}"
            for name, value in (("huggingface_hub", v.huggingface_hub), ("torch", v.torch))
            if value
        )
        console.print(
            f"  {escape(v.transformers)}: {escape(result)}"
            + (f" ({escape(extra)})" if extra else ""),
            highlight=False,
        )


def render_cross_version(cross: Any, console: Console) -> None:
    """One line per AutoClass: the original's outputs under v4 against the repaired copy's."""
    from rich.markup import escape

    console.print(
        f"outputs: the original under transformers {cross.base} against the repaired copy "
        f"under {cross.other}",
        highlight=False,
    )
    for d in cross.diffs:
        if d.status == "same":
            text = f"same (max abs difference {d.max_abs_diff:.3g})"
        elif d.status == "differs":
            text = f"DIFFER: {', '.join(d.fields[:3])}: {d.detail}"
        else:
            text = f"not compared: {d.detail}"
        console.print(f"  {escape(d.auto_class)}: {escape(text)}", highlight=False)
    if not cross.diffs:
        console.print("  nothing compared: the original gave no outputs", highlight=False)
