"""verify: load every AutoClass of the staged folder in a clean child process."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from hf_custom.findings import Finding, Severity, finding
from hf_custom.staging.context import PublishArtefacts, PublishContext
from hf_custom.staging.result import StageResult
from hf_custom.staging.tokenizer import write_json_atomic


def verify(ctx: PublishContext, art: PublishArtefacts) -> PublishArtefacts:
    """Refuse the upload unless the staged folder loads as it should (or --no-verify, loudly)."""
    if art.refused is not None:
        return art
    if ctx.options.verify and ctx.options.transformers:
        return art  # --transformers: the matrix step verifies, once per version
    if not ctx.options.verify:
        ctx.log(
            "verification SKIPPED (--no-verify): nothing proves the folder loads "
            "through its AutoClasses",
            level="warning",
        )
        return art.add(findings=[finding("HFC529", "verification was skipped (--no-verify)")])
    from hf_custom.verification import verify as run_verify

    ctx.log("verifying: loading every AutoClass in a clean process")
    try:
        report = run_verify(
            ctx.staged.out,
            python=ctx.options.stage.python,
            timeout=ctx.options.verify_timeout,
            on_event=ctx.on_event,
            endpoint=_code_endpoint(ctx),
        )
    except BaseException:  # Ctrl-C mid-verification: never leave an unproven --out behind
        shutil.rmtree(ctx.staged.out, ignore_errors=True)
        raise
    dropped = _drop_unverified_added(ctx.staged, report.findings)
    art = art.add(findings=[f for f in report.findings if f not in dropped.replaced])
    art = art.add(findings=dropped.warnings)
    if dropped.warnings and not dropped.remaining_errors:
        report = replace(report, ok=True, findings=tuple(dropped.kept))
        art = replace(art, config=dropped.config)
    art = replace(art, verify=report)
    if not report.ok:
        art = replace(
            art, refused="verification failed: the staged folder does not load as it should"
        )
    return art


def _code_endpoint(ctx: PublishContext) -> Any:
    """Where code other repositories serve (auto_map ``org/repo--module.Class``) is read from:
    the upload's endpoint, or --endpoint/--token for a dry run (None: nothing to read)."""
    from hf_custom.verification.references import folder_references

    if ctx.endpoint is not None or not folder_references(ctx.staged.out):
        return ctx.endpoint
    from hf_custom.remote import resolve_endpoint

    return resolve_endpoint(ctx.options.endpoint, ctx.options.token)


@dataclass(frozen=True)
class _Dropped:
    config: Mapping[str, Any]
    replaced: frozenset[Finding]  # verification errors of dropped entries
    warnings: tuple[Finding, ...]  # one HFC116 per dropped entry
    kept: tuple[Finding, ...]  # the other verification findings
    remaining_errors: bool


def _drop_unverified_added(staged: StageResult, found: Sequence[Finding]) -> _Dropped:
    """Entries publish added to auto_map on its own (by naming convention) that fail
    verification are dropped from the staged config.json with a warning, not a refusal; the
    author's entries and the architectures class must verify."""
    config: dict[str, Any] = dict(staged.config)
    auto_map = dict(config.get("auto_map") or {})
    added = {
        c.key.removeprefix("auto_map."): c.new
        for c in staged.changes
        if c.key.startswith("auto_map.AutoModel") and c.old is None and isinstance(c.new, str)
    }
    archs = set(config.get("architectures") or [])
    errors = [f for f in found if f.severity is Severity.ERROR]
    replaced: set[Finding] = set()
    warnings: list[Finding] = []
    for auto, ref in sorted(added.items()):
        name = ref.rpartition(".")[2]
        if name in archs or auto_map.get(auto) != ref:
            continue
        mine = [f for f in errors if f.message.startswith(f"{name}:")]
        if not mine:
            continue
        replaced.update(mine)
        del auto_map[auto]
        warnings.append(
            finding(
                "HFC116",
                f"{name} is not registered as {auto}: it fails verification "
                f"({mine[0].id}: {mine[0].message.removeprefix(name + ':').strip()[:160]})",
                path="config.json",
                severity=Severity.WARNING,
            )
        )
    if warnings:
        config["auto_map"] = auto_map
        write_json_atomic(staged.out / "config.json", config)
    return _Dropped(
        config=config,
        replaced=frozenset(replaced),
        warnings=tuple(warnings),
        kept=tuple(f for f in found if f not in replaced),
        remaining_errors=any(f not in replaced for f in errors),
    )
