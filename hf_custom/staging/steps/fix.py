"""fix: the repairs of ``hf-custom fix``, planned on the staged code, applied with ``--fix``.

Runs on the code plan (the staged copy, in memory) before anything is written: the source
checkpoint is never touched. Without ``--fix`` the plan is kept so that a refusal can name the
repairs ``--fix`` would make. With ``--fix``, the earlier findings of what was repaired are
dropped: the checks step runs every check again on the staged folder. Repairs name the source file (``origins``) and the line in the
staged file (the same line unless an import rewrite above it changed the line count).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from hf_custom.staging.context import Artefacts, StageContext, need

if TYPE_CHECKING:  # pragma: no cover
    from hf_custom.fixing import Repair
    from hf_custom.staging.code import CodePlan


def fix(ctx: StageContext, art: Artefacts) -> Artefacts:
    from hf_custom.codeinfo import analyze_package
    from hf_custom.fixing import plan_fixes

    plan = need(art.code, "the code plan")
    files = {name: text.encode("utf-8", "surrogateescape") for name, text in plan.files.items()}
    fixes = plan_fixes(files, config=art.config)
    labelled = replace(
        fixes,
        repairs=tuple(replace(r, path=_origin(r.path, plan.origins)) for r in fixes.repairs),
        unrepaired=tuple(replace(u, path=_origin(u.path, plan.origins)) for u in fixes.unrepaired),
    )
    if not ctx.options.fix or not fixes.changes:
        return replace(art, fixes=labelled)
    ctx.log(f"applying {len(fixes.repairs)} repair(s) to the staged code (--fix)")
    new_files = dict(plan.files)
    for change in fixes.changes:  # staged (flat) names; hf_custom_compat.py is added
        new_files[change.path] = change.after.decode("utf-8", "surrogateescape")
    code = _guard_requirements(replace(plan, files=new_files), labelled.repairs)
    # earlier steps' findings of what was just repaired are stale (checks re-runs them all)
    repaired = {(r.rule, r.path) for r in labelled.repairs}
    left = {(u.rule, u.path, u.line) for u in labelled.unrepaired}
    findings = tuple(
        f for f in art.findings if (f.id, f.path) not in repaired or (f.id, f.path, f.line) in left
    )
    package = analyze_package(new_files)
    art = replace(art, code=code, package=package, fixes=labelled, fixed=True, findings=findings)
    return _replan_config(ctx, art)


def _replan_config(ctx: StageContext, art: Artefacts) -> Artefacts:
    """The config step's findings judged the code before the repairs (HFC115 names the read,
    the repair edits the config class): plan again on the repaired code."""
    from hf_custom.staging.config import normalize_config

    if art.config_plan is None or not art.config_plan.findings:
        return art
    opts = ctx.options
    again = normalize_config(
        art.config_in,
        need(art.package, "the code package"),
        model_type=opts.model_type,
        auto_classes=opts.auto_classes,
        architecture=opts.architecture,
        transformers_version=ctx.transformers_version,
    )
    stale = set(art.config_plan.findings)
    findings = (*(f for f in art.findings if f not in stale), *again.findings)
    return replace(
        art, config_plan=replace(art.config_plan, findings=again.findings), findings=findings
    )


def _guard_requirements(plan: CodePlan, repairs: Sequence[Repair]) -> CodePlan:
    """Imports HFC204 put in ``try`` are optional now: requirements as the code step computes."""
    from hf_custom.staging.imports import distribution_name

    guarded = {(r.path, r.line) for r in repairs if r.rule == "HFC204"}
    if not guarded:
        return plan
    third = tuple(
        replace(t, guarded=True) if (t.path, t.line) in guarded else t for t in plan.third_party
    )
    required = sorted({distribution_name(t.module) for t in third if not t.guarded})
    optional = sorted({distribution_name(t.module) for t in third if t.guarded} - set(required))
    return replace(
        plan,
        third_party=third,
        requirements=tuple(required),
        optional_requirements=tuple(optional),
    )


def _origin(path: str, origins: Mapping[str, str]) -> str:
    return origins.get(path, path)
