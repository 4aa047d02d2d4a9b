"""Staging's code rewrites as repairs of ``fix``: the import rewrites publish would make in the
staged copy (own absolute imports made relative, HFC203; fork imports ``from ...modeling_utils``
made ``transformers.modeling_utils``, HFC211; ...), computed by ``staging.code.plan_code`` and
written into the repaired copy, so a copy that is never published (a Hub pull request, a folder
used as it is) gets them too."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from hf_custom.errors import HFCustomError
from hf_custom.findings import Severity
from hf_custom.fixing.model import Repair


def _oneline(text: str) -> str:
    return " ".join(text.split())


def code_rewrites(
    src: Path,
    *,
    sources: Mapping[str, bytes],
    config: Mapping[str, Any] | None,
    rules: Collection[str],
) -> tuple[dict[str, bytes], list[Repair]]:
    """(file -> rewritten bytes, one repair per rewrite) for the top-level files of ``src``.

    A file is rewritten only when the rule of every rewrite in it is in ``rules``; a package
    staging cannot plan (it refuses) gets no rewrites (doctor names why).
    """
    from hf_custom.staging.code import plan_code
    from hf_custom.staging.steps.code import auto_map_modules

    try:
        plan = plan_code(src, entry=auto_map_modules(config or {}))
    except HFCustomError:
        return {}, []
    warned = {
        (f.path, f.line): f.id
        for f in plan.findings
        if f.severity is Severity.WARNING and f.id.startswith("HFC2")
    }
    by_file: dict[str, list[Repair]] = {}
    for r in plan.rewrites:
        rule = warned.get((r.path, r.line), "")
        change = f"`{_oneline(r.old)}` -> `{_oneline(r.new)}` ({r.reason})"
        by_file.setdefault(r.path, []).append(
            Repair(path=r.path, line=r.line, rule=rule, change=change)
        )
    files: dict[str, bytes] = {}
    repairs: list[Repair] = []
    for dest, text in plan.files.items():
        origin = plan.origins.get(dest, dest)
        data = text.encode("utf-8", "surrogateescape")
        mine = by_file.get(origin, [])
        if origin != dest or dest not in sources or data == sources[dest] or not mine:
            continue  # only in-place edits of the package's own top-level files
        if not all(r.rule and r.rule in rules for r in mine):
            continue
        files[dest] = data
        repairs.extend(mine)
    return files, repairs
