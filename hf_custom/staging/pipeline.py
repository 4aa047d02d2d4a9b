"""The staging pipeline: the list of steps, and :func:`stage` that runs them.

    read -> code -> config -> fix -> tokenizer -> gate -> write -> keys -> weights -> card -> checks

Each step is ``step(ctx, art) -> art`` (see :mod:`hf_custom.staging.context`), one module each
under :mod:`hf_custom.staging.steps`. To add a step, write it and add one line to
:data:`STAGE_STEPS`. The steps write into a temporary sibling of ``out``; :func:`stage` renames
it into place only once every step has run, so ``out`` is never left half-written.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from hf_custom.errors import InputError
from hf_custom.events import EventSink
from hf_custom.findings import Finding, Severity, finding, sort_findings
from hf_custom.inventory import Exclusion, FileKind, Inventory
from hf_custom.staging.context import Artefacts, StageContext, Step, need
from hf_custom.staging.options import StageOptions, stage_options
from hf_custom.staging.result import StageResult
from hf_custom.staging.steps.card import card
from hf_custom.staging.steps.checks import checks
from hf_custom.staging.steps.code import code
from hf_custom.staging.steps.config import config
from hf_custom.staging.steps.fix import fix
from hf_custom.staging.steps.gate import gate
from hf_custom.staging.steps.keys import keys
from hf_custom.staging.steps.read import read
from hf_custom.staging.steps.tokenizer import tokenizer
from hf_custom.staging.steps.weights import weights
from hf_custom.staging.steps.write import write

#: The steps of :func:`stage`, in order. Planning steps come before ``gate``, which refuses
#: when they found errors; the steps after it write, start the keys child, and convert.
STAGE_STEPS: tuple[tuple[str, Step], ...] = (
    ("read", read),
    ("code", code),
    ("config", config),
    ("fix", fix),
    ("tokenizer", tokenizer),
    ("gate", gate),
    ("write", write),
    ("keys", keys),
    ("weights", weights),
    ("card", card),
    ("checks", checks),
)


def run_steps(ctx: StageContext, steps: Sequence[tuple[str, Step]], art: Artefacts) -> Artefacts:
    """Run ``steps`` in order, each on the artefacts of the ones before it."""
    for name, step in steps:
        art = step(ctx, art)
        art = replace(art, steps=(*art.steps, name))
    return art


def stage(
    src: Path | str,
    *,
    out: Path | str,
    options: StageOptions | None = None,
    on_event: EventSink | None = None,
    steps: Sequence[tuple[str, Step]] = STAGE_STEPS,
    **option_fields: Any,
) -> StageResult:
    """Stage checkpoint ``src`` into ``out`` (installed atomically, only when complete).

    ``options`` (or the defaults) with ``option_fields`` applied: ``stage(src, out=o,
    model_type="x")`` is ``stage(src, out=o, options=StageOptions(model_type="x"))``.
    ``steps``: a subset of :data:`STAGE_STEPS` (``doctor --load`` leaves out ``checks``, and
    ``weights`` for a folder without weights).

    Raises:
        InputError: unreadable input (no or malformed config.json, no weights, a bad ``out``).
        Refusal: planning found errors that would make the folder unloadable (with the
            findings); nothing is installed at ``out`` then.
        TypeError: an unknown option name.
    """
    start = time.perf_counter()
    opts = stage_options(options, **option_fields)
    src = Path(src).resolve()
    out = Path(out).resolve()
    prepare_out(out, src, force=opts.force)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    ctx = StageContext(
        src=src,
        out=out,
        staging=staging,
        options=opts,
        transformers_version=_transformers_version(),
        on_event=on_event,
    )
    try:
        art = run_steps(ctx, steps, Artefacts())
        result = _result(ctx, art, seconds=time.perf_counter() - start)
        _install(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result


def _result(ctx: StageContext, art: Artefacts, *, seconds: float) -> StageResult:
    inventory = need(art.inventory, "the inventory")
    code_plan = need(art.code, "the code plan")
    config_plan = need(art.config_plan, "the config plan")
    unused = unused_files(inventory, set(code_plan.origins.values()))
    findings = sort_findings(
        {
            *art.findings,
            *(_cap(f, Severity.WARNING) for f in inventory.findings),
            *(f for _, f in unused),
        }
    )
    staged_files = sorted(
        p.relative_to(ctx.staging).as_posix() for p in ctx.staging.rglob("*") if p.is_file()
    )
    archs = art.config.get("architectures")
    report = art.checks
    fixes = art.fixes
    return StageResult(
        out=ctx.out,
        source=ctx.src,
        files=tuple(staged_files),
        changes=(*config_plan.changes, *art.changes),
        rewrites=tuple(code_plan.rewrites),
        renames=tuple(art.weights.renames) if art.weights is not None else (),
        excluded=tuple(
            sorted([*inventory.excluded, *(e for e, _ in unused)], key=lambda e: e.path)
        ),
        requirements=tuple(code_plan.requirements),
        findings=tuple(findings),
        config=dict(art.config),
        architecture=archs[0] if isinstance(archs, list) and archs else None,
        weights=art.weights,
        checks_run=tuple(report.run) if report is not None else (),
        checks_skipped=(
            tuple(f"{s.check}: {s.reason}" for s in report.skipped) if report is not None else ()
        ),
        steps=art.steps,
        seconds=seconds,
        repairs=fixes.repairs if fixes is not None and art.fixed else (),
        fixable=fixes.repairs if fixes is not None and not art.fixed else (),
        unrepaired=fixes.unrepaired if fixes is not None else (),
    )


def _transformers_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("transformers")
    except Exception:
        return None


def prepare_out(out: Path, src: Path, *, force: bool) -> None:
    """Refuse an ``out`` that overlaps ``src``, is a file, or is a non-empty folder without force;
    create its parent folders.

    Raises:
        InputError: naming what is wrong with ``out``.
    """
    if out == src or src in out.parents:
        raise InputError(
            "the output folder is inside the checkpoint folder",
            path=str(out),
            hint="choose --out outside the checkpoint: the source is never modified",
        )
    if out in src.parents:
        raise InputError(
            "the output folder contains the checkpoint folder",
            path=str(out),
            hint="choose another --out",
        )
    if out.exists() and not out.is_dir():
        raise InputError("--out exists and is not a folder", path=str(out), hint="choose another")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(
            "the output folder is not empty",
            path=str(out),
            hint="choose an empty or new --out, or pass --force to replace it",
        )
    try:  # the staging folder is built next to ``out``: its parents must exist
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the folders above --out: {exc.strerror or exc}",
            path=str(out.parent),
            hint="choose an --out whose parent folder you can write to",
        ) from None


def _install(staging: Path, out: Path) -> None:
    """Move the complete ``staging`` folder to ``out`` (replacing it) with renames only."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        out.replace(old / "x")
    try:
        staging.replace(out)
    except BaseException:
        if old is not None:
            (old / "x").replace(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def unused_files(inventory: Inventory, code_sources: set[str]) -> list[tuple[Exclusion, Finding]]:
    """Files no step used: code outside the import closure, other files in subfolders."""
    out = []
    for entry in inventory.files:
        if entry.kind is FileKind.CODE:
            if entry.path in code_sources:
                continue
        elif "/" not in entry.path:
            continue
        reason = (
            "not part of the packaged code (no import reaches it)"
            if entry.kind is FileKind.CODE
            else "in a subfolder: only top-level files are staged"
        )
        out.append(
            (
                Exclusion(entry.path, entry.kind, reason, size=entry.size),
                finding("HFC607", f"{entry.path} not staged: {reason}", path=entry.path),
            )
        )
    return out


def _cap(f: Finding, severity: Severity) -> Finding:
    """An excluded file is not published: what it holds is worth a warning, not a refusal."""
    return replace(f, severity=severity) if f.severity.rank < severity.rank else f


__all__ = ["STAGE_STEPS", "prepare_out", "run_steps", "stage", "unused_files"]
