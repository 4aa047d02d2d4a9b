"""``hf-custom fix``: thin click layer over :func:`hf_custom.fixing.folder.fix_folder` (a folder)
and :func:`hf_custom.fixing.remote.fix_repo` (a repo id)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from hf_custom.cli.matrix_view import matrix_options
from hf_custom.cli.options import hub_options, python_option, split_patterns
from hf_custom.cli.output import format_option, print_json

_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")  # owner/name, not a path


@click.command()
@click.argument("src", type=click.Path(path_type=Path), metavar="SRC|REPO_ID")
@click.option("--out", type=click.Path(path_type=Path), help="Write the repaired copy here.")
@click.option("--diff", "diff_only", is_flag=True, help="Print the repairs; write nothing.")
@click.option("--select", multiple=True, help="Only these repairs: rule id, prefix or name.")
@click.option("--ignore", multiple=True, help="Skip these repairs: rule id, prefix or name.")
@click.option("--no-verify", is_flag=True, help="Do not verify the repaired copy (exit 1).")
@click.option("--force", is_flag=True, help="Replace a non-empty --out folder.")
@python_option
@matrix_options
@hub_options
@click.option("--create-pr", is_flag=True, help="REPO_ID: open a pull request with the repairs.")
@click.option("--commit-message", help="REPO_ID: the pull request's title.")
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
    endpoint: str | None,
    token: str | None,
    revision: str | None,
    create_pr: bool,
    commit_message: str | None,
    fmt: str,
) -> None:
    """Repair a checkpoint's custom code for the installed transformers, in a copy.

    SRC is never modified. Prints a unified diff per file and one line per repair (rule id,
    file:line, change). Exit 0: everything repaired and the copy verifies; 1: breaks remain
    (named) or verification failed; 2: input error.

    With a repo id, fix reads the repository's code, config and tokenizer files (never its
    weights), repairs them, verifies the copy with random weights of the config's shapes (the
    weights are not compared) and prints the diff; --create-pr opens a pull request with the
    repaired files. Exit 0 also when there is nothing to repair (no pull request then); 2 when
    the revision moved since it was read (no pull request).

    \b
    hf-custom fix ./my-model --out ./my-model-fixed
    hf-custom fix you/model --create-pr
    hf-custom fix ./my-model --diff --select HFC252,HFC253
    hf-custom fix ./my-model --out ./fixed --transformers 4.57,latest  (works on both lines,
        and the outputs match the original's under 4.57)
    """
    from hf_custom.cli.main import ResultCode
    from hf_custom.cli.output import progress_sink
    from hf_custom.fixing.folder import fix_folder

    if not src.exists() and _REPO_ID.fullmatch(str(src)):
        if out is not None or force or transformers or allow_fail:
            raise click.UsageError("--out, --force, --transformers and --allow-fail apply to a "
                                   "folder; for a repo id, fix prints the diff (--create-pr "
                                   "proposes it)")  # fmt: skip
        _fix_repo(
            str(src),
            select=split_patterns(select),
            ignore=split_patterns(ignore),
            no_verify=no_verify,
            python=python,
            endpoint=endpoint,
            token=token,
            revision=revision,
            create_pr=create_pr,
            commit_message=commit_message,
            fmt=fmt,
        )
        return
    if create_pr or commit_message or endpoint or token or revision:
        raise click.UsageError("--create-pr, --commit-message, --endpoint, --token and "
                               "--revision apply to a repo id, not to a folder")  # fmt: skip
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
            select=split_patterns(select),
            ignore=split_patterns(ignore),
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


def _fix_repo(
    repo_id: str,
    *,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    no_verify: bool,
    python: str | None,
    endpoint: str | None,
    token: str | None,
    revision: str | None,
    create_pr: bool,
    commit_message: str | None,
    fmt: str,
) -> None:
    from hf_custom.cli.main import ResultCode
    from hf_custom.cli.output import progress_sink
    from hf_custom.fixing.remote import fix_repo
    from hf_custom.remote import connect, resolve_endpoint

    hub = connect(resolve_endpoint(endpoint, token))  # "local": the embedded Hub, for this block
    with progress_sink() as sink, hub as running:
        result = fix_repo(
            repo_id,
            endpoint=running,
            revision=revision,
            select=select,
            ignore=ignore,
            verify=not no_verify,
            create_pr=create_pr,
            commit_message=commit_message,
            python=python,
            on_event=sink,
        )
    if fmt == "json":
        print_json(result.to_json())
    else:
        from hf_custom.fixing.remote import WEIGHTS_NOT_COMPARED

        w = sys.stdout.write
        if not result.changed:
            w(f"{repo_id} at {result.read_commit[:12]}: nothing to repair\n")
        _render(result.fix, where="nothing written here")
        if result.changed and result.fix.verified is not None:
            w(f"{WEIGHTS_NOT_COMPARED}\n")
        w(_pr_line(result, create_pr=create_pr) + "\n")  # what happened to the PR, always
    if not result.ok:
        raise ResultCode(1)


def _pr_line(result: object, *, create_pr: bool) -> str:
    from hf_custom.fixing.remote import RepoFixResult

    assert isinstance(result, RepoFixResult)
    if result.pull_request is not None:
        return f"pull request opened: {result.pull_request.url}"
    if result.pull_request_skipped:
        return f"no pull request opened: {result.pull_request_skipped}"
    if not create_pr:
        return "nothing written (--create-pr opens a pull request)"
    return "no pull request opened"


def _render(result: object, *, where: str = "") -> None:
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
    if not where:
        where = f"written to {result.out}" if result.out else "nothing written (--diff)"
    w(f"{n} repair(s), {left} left; {verdict}; {where}\n")
