"""``hf-custom fix``: thin click layer over :func:`hf_custom.fixing.folder.fix_folder`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from hf_custom.cli.matrix_view import matrix_options
from hf_custom.cli.options import python_option
from hf_custom.cli.output import format_option, print_json


def _patterns(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(p.strip() for v in values for p in v.split(",") if p.strip())


@click.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), help="Write the repaired copy here.")
@click.option("--diff", "diff_only", is_flag=True, help="Print the repairs; write nothing.")
@click.option("--select", multiple=True, help="Only these repairs: rule id, prefix or name.")
@click.option("--ignore", multiple=True, help="Skip these repairs: rule id, prefix or name.")
@click.option("--no-verify", is_flag=True, help="Do not verify the repaired copy (exit 1).")
@click.option("--force", is_flag=True, help="Replace a non-empty --out folder.")
@python_option
@matrix_options
@format_option
def fix(
    src: Path,
    out: Path | None,
    diff_only: bool,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    no_verify: bool,
    force: bool,
    python: str | None,
    transformers: tuple[str, ...],
    allow_fail: tuple[str, ...],
    fmt: str,
) -> None:
    """Repair a checkpoint's custom code for the installed transformers, in a copy.

    SRC is never modified. Prints a unified diff per file and one line per repair (rule id,
    file:line, change). Exit 0: everything repaired and the copy verifies; 1: breaks remain
    (named) or verification failed; 2: input error.

    \b
    hf-custom fix ./my-model --out ./my-model-fixed
    hf-custom fix ./my-model --diff --select HFC252,HFC253
    hf-custom fix ./my-model --out ./fixed --transformers 4.57,latest  (works on both lines,
        and the outputs match the original's under 4.57)
    """
    from hf_custom.cli.main import ResultCode
    from hf_custom.cli.output import progress_sink
    from hf_custom.fixing.folder import fix_folder

    if out is None and not diff_only:
        raise click.UsageError("pass --out DIR to write the repaired copy, or --diff")
    if out is not None and diff_only:
        raise click.UsageError("--diff writes nothing: drop --out, or drop --diff")
    if src.is_dir() and python is None and not no_verify:
        from hf_custom.cli.matrix_view import matrix_settings

        transformers, allow_fail = matrix_settings(src, transformers, allow_fail)
    if (transformers or allow_fail) and no_verify:
        raise click.UsageError("--transformers and --allow-fail choose how to verify: "
                               "drop them, or drop --no-verify")  # fmt: skip
    with progress_sink() as sink:
        result = fix_folder(
            src,
            out=out,
            select=_patterns(select),
            ignore=_patterns(ignore),
            verify=not no_verify,
            force=force,
            python=python,
            transformers=transformers,
            allow_fail=allow_fail,
            on_event=sink,
        )
    if fmt == "json":
        print_json(result.to_json())
    else:
        _render(result)
    if not result.ok or result.verified is None:
        raise ResultCode(1)


def _render(result: object) -> None:
    from hf_custom.fixing.folder import FixResult

    assert isinstance(result, FixResult)
    w = sys.stdout.write
    for change in result.plan.changes:
        if change.added:  # our own module: named, not printed (--format json has its text)
            lines = change.after.count(b"\n")
            w(
                f"--- /dev/null\n+++ b/{change.path} (new file, {lines} lines, written by hf-custom)\n"
            )
        else:
            w(change.diff())
    if result.plan.repairs:
        w(f"Repairs ({len(result.plan.repairs)})\n")
    for r in result.plan.repairs:
        w(f"  {r.rule} {r.path}:{r.line} {r.change}\n")
    named = {(u.rule, u.path, u.line) for u in result.plan.unrepaired}
    remains = [f for f in result.remaining if (f.id, f.path, f.line) not in named]
    if result.plan.unrepaired or remains:
        w(f"Left ({len(result.plan.unrepaired) + len(remains)})\n")
    for u in result.plan.unrepaired:
        w(f"  {u.rule} {u.path}:{u.line} NOT repaired: {u.cause}\n")
    for f in remains:
        w(f"  {f.id} {f.path}:{f.line} remains: {f.message}\n")
    if result.matrix is not None and len(result.matrix.columns) > 1:
        from hf_custom.cli.matrix_view import render_cross_version, render_matrix
        from hf_custom.cli.output import err_console

        render_matrix(result.matrix, err_console())
        if result.cross_version is not None:
            render_cross_version(result.cross_version, err_console())
    if result.verified is None:
        verdict = "not verified (--no-verify)"
    elif result.verified:
        verdict = "the repaired copy verifies"
    else:
        verdict = "verification FAILED"
        w(f"Verification FAILED: {result.verify_problem}\n")
        for f in result.verify_findings:
            where = f" {f.path}:{f.line}" if f.path and f.line else (f" {f.path}" if f.path else "")
            w(f"  blocking: {f.id}{where} {f.message}\n")
    n, left = len(result.plan.repairs), len(result.plan.unrepaired) + len(remains)
    where = f"written to {result.out}" if result.out else "nothing written (--diff)"
    w(f"{n} repair(s), {left} left; {verdict}; {where}\n")
