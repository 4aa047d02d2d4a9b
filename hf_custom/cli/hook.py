"""``hf-custom hook install|uninstall|run``: git hooks running the static doctor."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from hf_custom.cli.options import ignore_option, select_option, split_patterns

HOOK_TYPE = click.Choice(["pre-push", "pre-commit"])


@click.group()
def hook() -> None:
    """Git hooks that run `hf-custom doctor` before a push (or a commit) and block on errors."""


@hook.command()
@click.option("--hook-type", type=HOOK_TYPE, default="pre-push", show_default=True)
@click.option(
    "--repo", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True
)
def install(hook_type: str, repo: Path) -> None:
    """Install the hook in this clone (an existing hook is kept as <hook>.legacy and chained)."""
    from hf_custom import hooks

    change = hooks.install(repo, hook_type=hook_type)
    click.echo(f"hf-custom {hook_type} hook {change.action} at {change.path}")
    if change.legacy is not None:
        click.echo(f"the previous hook is kept as {change.legacy} and runs first", err=True)


@hook.command()
@click.option("--hook-type", type=HOOK_TYPE, multiple=True, help="Default: every type.")
@click.option(
    "--repo", type=click.Path(file_okay=False, path_type=Path), default=".", show_default=True
)
def uninstall(hook_type: tuple[str, ...], repo: Path) -> None:
    """Remove the hook and restore exactly what was there before."""
    from hf_custom import hooks

    for change in hooks.uninstall(repo, hook_types=hook_type or hooks.HOOK_TYPES):
        if change.action == "not-installed":
            continue
        if change.action == "not-ours":
            click.echo(f"{change.path} is not an hf-custom hook: left alone", err=True)
            continue
        extra = " (previous hook restored)" if change.action == "restored" else ""
        click.echo(f"hf-custom {change.hook_type} hook removed from {change.path}{extra}")


@hook.command(hidden=True, context_settings={"ignore_unknown_options": True})
@click.option("--hook-type", type=HOOK_TYPE, default="pre-push")
@click.option("--hook-dir", type=click.Path(path_type=Path), default=None)
@click.option(
    "--from-pre-commit",
    is_flag=True,
    help="Called by the pre-commit framework (the ref comes from PRE_COMMIT_TO_REF).",
)
@select_option
@ignore_option
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(
    hook_type: str,
    hook_dir: Path | None,
    from_pre_commit: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    args: tuple[str, ...],
) -> None:
    """Run by the installed hook script: the previous hook, then the static doctor."""
    from hf_custom import hooks
    from hf_custom.cli.main import ResultCode
    from hf_custom.cli.output import err_console, render_findings, summary_line

    to_ref = None
    if from_pre_commit:
        to_ref = os.environ.get("PRE_COMMIT_TO_REF") or None
        hook_type = "pre-push" if to_ref else "pre-commit"
        stdin = b""
    else:
        stdin = sys.stdin.buffer.read() if hook_type == "pre-push" else b""
    result = hooks.run(
        Path.cwd(),
        hook_type=hook_type,
        args=args,
        stdin=stdin,
        hook_dir=hook_dir,
        to_ref=to_ref,
        select=list(split_patterns(select)),
        ignore=list(split_patterns(ignore)),
    )
    console = err_console()
    if result.legacy_code:
        console.print(
            f"hf-custom hook: the previous {hook_type} hook failed ({result.legacy_code})"
        )
    for label, report in result.reports:
        if report.findings:
            render_findings(report.findings, console)
        for s in report.skipped:
            console.print(f"[dim]skipped {s.check}: {s.reason}[/]")
        if not report.ok:
            ids = ", ".join(sorted({f.id for f in report.failing}))
            verb = "push" if hook_type == "pre-push" else "commit"
            console.print(
                f"[bold red]hf-custom: {verb} blocked[/] ({label}): "
                f"{summary_line(report.findings)} [{ids}]. Fix them "
                f"(`hf-custom explain ID` says how), or bypass once with `git {verb} --no-verify`."
            )
        else:
            console.print(f"hf-custom: {label}: ok ({summary_line(report.findings)})")
    if not result.ok:
        raise ResultCode(1)
