"""``hf-custom doctor`` and ``hf-custom explain``: thin click layer over :mod:`hf_custom.diagnosis`."""

from __future__ import annotations

from pathlib import Path

import click

from hf_custom.cli.matrix_view import matrix_options
from hf_custom.cli.options import (
    endpoint_option,
    ignore_option,
    python_option,
    revision_option,
    select_option,
    split_patterns,
    token_option,
)
from hf_custom.cli.output import format_option, out_console, print_json, summary_line


@click.command()
@click.argument("target", required=False)
@revision_option
@endpoint_option
@token_option
@select_option
@ignore_option
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option(
    "--load",
    is_flag=True,
    help="Also load the model in an isolated child process. This EXECUTES the repository's code.",
)
@click.option(
    "--trust-remote-code",
    is_flag=True,
    help="Needed with --load on a repo id: say that you accept to run that repository's code.",
)
@python_option
@matrix_options
@click.option("--list-checks", is_flag=True, help="List every rule and the check reporting it.")
@format_option
def doctor(
    target: str | None,
    revision: str | None,
    endpoint: str | None,
    token: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    strict: bool,
    load: bool,
    trust_remote_code: bool,
    python: str | None,
    transformers: tuple[str, ...],
    allow_fail: tuple[str, ...],
    list_checks: bool,
    fmt: str,
) -> None:
    """Diagnose a checkpoint folder or a repo id (static: the model's code is never run).

    \b
    hf-custom doctor ./my-model
    hf-custom doctor you/model --revision main --format json
    hf-custom doctor ./my-model --select HFC2 --ignore HFC250 --strict
    hf-custom doctor ./my-model --load --transformers 4.57,latest
    """
    from hf_custom.cli.main import ResultCode

    if list_checks:
        _list_checks(fmt)
        return
    if not target:
        raise click.UsageError("missing TARGET (a folder or a repo id)")
    from hf_custom.cli.output import progress_sink
    from hf_custom.diagnosis import doctor as run_doctor

    if Path(target).is_dir():  # the folder's settings file gives what the command line does not
        from hf_custom.settings import load_settings

        settings = load_settings(Path(target))
        select = select or settings.select
        ignore = ignore or settings.ignore
        if load and python is None:
            transformers = transformers or settings.transformers
            allow_fail = allow_fail or settings.allow_fail

    with progress_sink() as sink:
        report = run_doctor(
            target,
            revision=revision,
            endpoint=endpoint,
            token=token,
            select=split_patterns(select),
            ignore=split_patterns(ignore),
            strict=strict,
            load=load,
            trust_remote_code=trust_remote_code,
            python=python,
            transformers=transformers,
            allow_fail=allow_fail,
            on_event=sink,
        )
    if fmt == "json":
        print_json(report.to_json())
    else:
        _render(report)
    if not report.ok:
        raise ResultCode(1)


def rule_span(rules: tuple[str, ...]) -> str:
    """``HFC500..HFC531 (32 rules)`` for long lists, the ids themselves for short ones."""
    if len(rules) <= 3:
        return ", ".join(rules)
    return f"{min(rules)}..{max(rules)}, {len(rules)} rules"


def _render(report: object) -> None:
    from hf_custom.cli.output import (
        STATE,
        agent_fields,
        err_console,
        escape,
        findings_console,
        render_findings,
    )
    from hf_custom.diagnosis import DoctorReport
    from hf_custom.findings import Severity

    assert isinstance(report, DoctorReport)
    console = findings_console()  # the verdict line alone under --format quiet
    if report.matrix is not None and len(report.matrix.columns) > 1:  # --load --transformers
        from hf_custom.cli.matrix_view import render_matrix

        render_matrix(report.matrix, console)
    elif report.verify is not None:  # --load: the per-AutoClass table first
        from hf_custom.cli.verify_view import verify_table

        console.print(verify_table(report.verify))
    if report.compatibility is not None:
        from hf_custom.cli.matrix_view import render_compatibility

        render_compatibility(report.compatibility, console)
    render_findings(report.findings, console)
    # skipped checks: with the findings for people; for agents, stderr keeps stdout parseable
    # (the findings table, then the result line)
    skipped_to = err_console() if STATE.mode == "agent" else console
    for s in report.skipped:
        skipped_to.print(
            f"[dim]skipped {s.check} ({rule_span(s.rules)}): {escape(s.reason)}[/]",
            soft_wrap=True,
        )
    if STATE.mode == "agent":  # one key=value line, as hf prints a result for agents
        counts = {s.value + "s": 0 for s in Severity}
        for f in report.findings:
            counts[f.severity.value + "s"] += 1
        line = agent_fields(
            target=report.target, ok=str(report.ok).lower(), **counts, checks_run=len(report.run),
            checks_skipped=len(report.skipped), bytes_downloaded=report.bytes_downloaded,
        )  # fmt: skip
        out_console().print(line, markup=False, soft_wrap=True)
        return
    verdict = "[green]ok[/]" if report.ok else "[bold red]failed[/]"
    if not report.run:
        verdict = "[bold red]nothing was checked[/]"
    extra = ""
    if report.bytes_downloaded is not None:
        extra = f", {report.bytes_downloaded} bytes downloaded"
    out_console().print(
        f"{report.target}: {verdict} ({summary_line(report.findings)}; "
        f"{len(report.run)} checks run, {len(report.skipped)} skipped{extra})",
        soft_wrap=True,
    )


def _list_checks(fmt: str) -> None:
    from hf_custom.checks import all_checks
    from hf_custom.findings import all_rules

    by_rule: dict[str, list[str]] = {}
    for c in all_checks():
        for r in c.rules:
            by_rule.setdefault(r, []).append(c.name)
    rules = all_rules()
    if fmt == "json":
        print_json(
            {"rules": [{**r.to_json(), "checks": sorted(by_rule.get(r.id, []))} for r in rules]}
        )
        return
    from hf_custom.checks import CRASH_RULE

    by_rule[CRASH_RULE] = ["(any check)"]
    console = out_console()
    for rule in rules:
        checks = ", ".join(sorted(by_rule.get(rule.id, []))) or "(staging only)"
        console.print(
            f"{rule.id}  {rule.name:<38} {rule.severity.value:<7} {rule.needs:<6} "
            f"{checks:<28} {rule.summary}",
            markup=False,
            soft_wrap=True,
        )


@click.command()
@click.argument("rule_key", metavar="RULE")
@format_option
def explain(rule_key: str, fmt: str) -> None:
    """Explain a rule: what it checks, why it matters, an example and the fix.

    RULE is an id (HFC101) or a name (model-type-missing).
    """
    from hf_custom.errors import InputError
    from hf_custom.findings import get_rule

    try:
        r = get_rule(rule_key)
    except KeyError:
        raise InputError(
            f"unknown rule {rule_key!r}",
            hint="list the rules with `hf-custom doctor --list-checks`",
        ) from None
    if fmt == "json":
        print_json(r.to_json(full=True))
        return
    from rich.markdown import Markdown

    console = out_console()
    console.print(f"[bold]{r.id}[/] {r.name} ({r.severity.value}, {r.area}, needs {r.needs})")
    console.print(r.summary)
    console.print()
    if console.is_terminal:
        console.print(Markdown(r.explanation))
    else:
        console.print(r.explanation, markup=False)
    console.print(f"fix: {r.fix}", markup=False)
