"""``hf-custom publish``: stage, check, verify and upload a custom-code checkpoint."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hf_custom.cli.matrix_view import matrix_options, matrix_settings
from hf_custom.cli.options import endpoint_option, python_option, revision_option, token_option
from hf_custom.cli.output import (
    STATE,
    agent_fields,
    err_console,
    findings_console,
    format_option,
    hub_bars_off,
    out_console,
    print_json,
    progress_sink,
    render_findings,
    summary_line,
)
from hf_custom.errors import InputError, Refusal

if TYPE_CHECKING:  # pragma: no cover
    from rich.console import Console


def _size(value: str) -> int:
    from hf_custom.weights.shards import parse_size

    try:
        return parse_size(value)
    except ValueError as exc:
        raise InputError(str(exc), hint="e.g. --max-shard-size 5GB") from exc


_RENAME_REASONS = {
    "ddp-prefix": "module. prefix (DDP) stripped",
    "compile-prefix": "_orig_mod. prefix (torch.compile) stripped",
    "base-model-prefix": "wrapper prefix added",
    "rename-rule": "--rename",
}


def _group_renames(renames: Sequence[Any]) -> list[tuple[str, list[Any]]]:
    """Renames grouped by their reason, in first-seen order: one line per kind for people."""
    groups: dict[str, list[Any]] = {}
    for r in renames:
        reason = str(getattr(r, "reason", "") or "renamed")
        groups.setdefault(_RENAME_REASONS.get(reason, reason), []).append(r)
    return list(groups.items())


def _renames(values: tuple[str, ...]) -> list[tuple[str, str]]:
    from hf_custom.weights.names import parse_rename

    out = []
    for v in values:
        try:
            out.append(parse_rename(v))
        except ValueError as exc:
            raise InputError(str(exc), hint="e.g. --rename '^encoder\\.=model.encoder.'") from exc
    return out


@click.command("publish")
@click.argument("src", type=click.Path(path_type=Path, file_okay=False))
@click.option("--repo-id", help="Where to upload: NAMESPACE/NAME. Not needed with --dry-run.")
@click.option("--dry-run", is_flag=True, help="Stage, check and verify; upload nothing.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write the staged folder here (default: a temporary folder).",
)
@click.option("--force", is_flag=True, help="Replace a non-empty --out folder.")
@click.option("--no-verify", is_flag=True, help="Skip the test-load (said loudly in the output).")
@click.option(
    "--code-root",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Folder holding your own package imported by the model code (vendored).",
)
@click.option("--model-type", help="Rename model_type (needed when it is a built-in type).")
@click.option(
    "--auto-class",
    "auto_class",
    multiple=True,
    metavar="CLASS=AUTOCLASS",
    help="Register CLASS under AUTOCLASS (settles ambiguous names). Repeatable.",
)
@click.option("--architecture", help="The class the weights were saved from.")
@click.option(
    "--rename",
    "rename",
    multiple=True,
    metavar="REGEX=REPLACEMENT",
    help="Rename weights (re.sub on each name). Repeatable.",
)
@click.option(
    "--dtype", type=click.Choice(["bfloat16", "float16", "float32"]), help="Cast the weights."
)
@click.option("--max-shard-size", default="5GB", show_default=True, help="Largest shard size.")
@click.option(
    "--fix",
    "fix",
    is_flag=True,
    help="Apply hf-custom fix's code repairs to the staged copy (SRC is not modified).",
)
@python_option
@matrix_options
@endpoint_option
@token_option
@click.option("--private", is_flag=True, help="Create the repository private.")
@revision_option
@click.option("--create-pr", is_flag=True, help="Open a pull request instead of committing.")
@click.option("--commit-message", help="The commit message.")
@format_option
def publish(
    src: Path,
    repo_id: str | None,
    dry_run: bool,
    out: Path | None,
    force: bool,
    no_verify: bool,
    code_root: Path | None,
    model_type: str | None,
    auto_class: tuple[str, ...],
    architecture: str | None,
    rename: tuple[str, ...],
    dtype: str | None,
    max_shard_size: str,
    fix: bool,
    python: str | None,
    transformers: tuple[str, ...],
    allow_fail: tuple[str, ...],
    endpoint: str | None,
    token: str | None,
    private: bool,
    revision: str | None,
    create_pr: bool,
    commit_message: str | None,
    fmt: str,
) -> None:
    """Publish the checkpoint folder SRC so that AutoModel*.from_pretrained(...,
    trust_remote_code=True) works: package the code, normalise config.json, convert the weights,
    write tokenizer files and a model card, verify the result loads, then upload in one commit.

    With --fix, the repairs of `hf-custom fix` are made in the staged copy and listed under
    Changes; without it, a refusal names the repairs --fix would make.

    \b
    hf-custom publish ./ckpt --dry-run --out staged     stage and verify only
    hf-custom publish ./ckpt --repo-id you/model        stage, verify, upload
    """
    from hf_custom.cli.main import ResultCode
    from hf_custom.publishing import parse_auto_classes
    from hf_custom.publishing import publish as run
    from hf_custom.staging.options import PublishOptions, StageOptions

    if not src.is_dir():
        raise InputError("the checkpoint folder does not exist", path=str(src))
    transformers, allow_fail = matrix_settings(src, transformers, allow_fail)
    options = PublishOptions(
        stage=StageOptions(
            code_root=code_root,
            model_type=model_type,
            auto_classes=parse_auto_classes(auto_class),
            architecture=architecture,
            renames=tuple(_renames(rename)),
            dtype=dtype,
            max_shard_size=_size(max_shard_size),
            python=python,
            repo_id=repo_id,
            force=force,
            fix=fix,
        ),
        dry_run=dry_run,
        out=out,
        verify=not no_verify,
        endpoint=endpoint,
        token=token,
        private=private,
        revision=revision,
        commit_message=commit_message,
        create_pr=create_pr,
        transformers=transformers,
        allow_fail=allow_fail,
    )
    if not dry_run:
        hub_bars_off()
    with progress_sink() as sink:
        try:
            result = run(src, options=options, on_event=sink)
        except Refusal as exc:
            if fmt != "json":
                raise
            # one JSON document even when planning refused (nothing was staged)
            print_json(
                {
                    "ok": False,
                    "refused": str(exc),
                    "hint": exc.hint,
                    "findings": [f.to_json() for f in exc.findings],
                    "stage": None,
                }
            )
            raise ResultCode(1) from exc
    if fmt == "json":
        print_json(result.to_json())
    else:
        _human(result, local=endpoint == "local")
    if not result.ok:
        raise ResultCode(1)


def _human(result: Any, *, local: bool = False) -> None:
    """Every format but json: what staging did (stderr), the findings and verification
    (stdout, as doctor's), then the result line(s) (stdout)."""
    _render_staging(result.stage)
    _render_report(result)
    _render_result(result, local=local)


def _render_staging(st: Any) -> None:
    """What staging did to the checkpoint: diagnostics, on stderr."""
    from hf_custom.cli.output import escape

    err = err_console()
    if st.excluded:
        err.print("[bold]Not staged[/]")
        for e in st.excluded:
            err.print(f"  {escape(e.path)}  [dim]{escape(e.reason)}[/]")
    if st.rewrites:
        err.print("[bold]Code rewrites[/]")
        for r in st.rewrites:
            err.print(f"  {escape(r.path)}:{r.line}  {escape(r.old)} -> {escape(r.new)}")
    if st.changes or st.repairs:
        err.print("[bold]Changes[/]")
        for c in st.changes:
            err.print(
                f"  {escape(c.file)} {escape(c.key)}: {escape(repr(c.old))} -> "
                f"{escape(repr(c.new))}  [dim]{escape(c.reason)}[/]"
            )
        for rep in st.repairs:
            err.print(
                f"  {escape(rep.path)}:{rep.line} {rep.rule} {escape(rep.change)}  [dim]--fix[/]"
            )
    if st.unrepaired:
        err.print("[bold]Not repairable by --fix[/]")
        for u in st.unrepaired:
            err.print(f"  {escape(u.path)}:{u.line} {u.rule} {escape(u.cause)}")
    if st.renames:
        err.print(f"[bold]Weight renames[/] ({len(st.renames)}; every name in --format json)")
        for reason, group in _group_renames(st.renames):
            first = group[0]
            more = f" and {len(group) - 1} more" if len(group) > 1 else ""
            err.print(
                f"  {escape(reason)}: {escape(str(first.old))} -> {escape(str(first.new))}{more}"
            )
    if st.requirements:
        err.print("[bold]Requirements[/] " + escape(", ".join(st.requirements)))


def _render_report(result: Any) -> None:
    """The findings and the verification: results, on stdout (the findings stream)."""
    report = findings_console()
    if result.findings:
        render_findings(result.findings, report)
    if result.verify_skipped:
        err_console().print(
            "[bold yellow]verification SKIPPED (--no-verify): nothing proves the staged folder "
            "loads through its AutoClasses[/]"
        )
    elif result.matrix is not None and len(result.matrix.columns) > 1:
        from hf_custom.cli.matrix_view import render_matrix

        render_matrix(result.matrix, report)
    elif result.verify is not None:
        _render_verify(result.verify, report)
    if STATE.mode != "agent":
        report.print(summary_line(result.findings))


def _render_result(result: Any, *, local: bool) -> None:
    """The result on stdout (``key=value`` for agents), what happened next on stderr."""
    from hf_custom.cli.output import escape

    out, err, up = out_console(), err_console(), result.upload
    if STATE.mode == "agent":  # one key=value line, as hf prints a result for agents
        line = agent_fields(
            ok=str(result.ok).lower(),
            staged=result.stage.out if result.kept else None,
            committed=(up.commit_url or up.repo_url) if up is not None and up.committed else None,
            unchanged=up.repo_url if up is not None and not up.committed else None,
            pull_request=getattr(up, "pr_url", None),
            refused=result.refused,
        )
        out.print(line, markup=False, soft_wrap=True)
    else:
        lines = [f"staged: {result.stage.out}"] if result.kept else []
        if up is not None:
            lines.append(
                f"committed: {up.commit_url or up.repo_url}"
                if up.committed
                else f"no changes: {up.repo_url} is already up to date"
            )
            if getattr(up, "pr_url", None):
                lines.append(f"pull request: {up.pr_url}")
        for text in lines:
            out.print(text, highlight=False, soft_wrap=True)
    if up is not None and local:
        from hf_custom.remote import local_hub_dir

        err.print(
            f"the embedded Hub stopped with this command; its repositories are in "
            f"{escape(str(local_hub_dir()))}. To load from them: hf-custom hub serve "
            "--token TOKEN --port 8080, then HF_ENDPOINT=http://127.0.0.1:8080",
            highlight=False,
        )
    if result.refused:
        err.print(f"[bold red]refused:[/] {escape(result.refused)} (nothing was uploaded)")
    elif result.dry_run:
        err.print("dry run: nothing was uploaded")


def _render_verify(report: Any, console: Console) -> None:
    from hf_custom.cli.verify_view import render_verify

    render_verify(report, console, findings=False)
