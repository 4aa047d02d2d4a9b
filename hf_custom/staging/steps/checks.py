"""checks: the static checks of ``doctor`` on the staged folder, paths relative to it."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from hf_custom.findings import Finding
from hf_custom.staging.context import Artefacts, StageContext


def relabel(f: Finding, staging: Path) -> Finding:
    """Findings of the checks name staged paths relative to the folder, never the temp dir."""
    prefix = str(staging) + os.sep
    if f.path.startswith(prefix):
        return replace(f, path=f.path[len(prefix) :])
    return f


def checks(ctx: StageContext, art: Artefacts) -> Artefacts:
    from hf_custom.diagnosis import doctor

    ctx.log("checking the staged folder")
    report = doctor(ctx.staging, on_event=ctx.on_event)
    return replace(art, checks=report).add(
        findings=[relabel(f, ctx.staging) for f in report.findings]
    )
