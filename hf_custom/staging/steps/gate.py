"""gate: refuse before anything is converted when planning found errors."""

from __future__ import annotations

import json

from hf_custom.errors import Refusal
from hf_custom.findings import Finding, Severity, sort_findings
from hf_custom.staging.context import Artefacts, StageContext


def planned_code_errors(art: Artefacts) -> list[Finding]:
    """The errors doctor's code checks find in the planned code and config.json, before
    anything is written: a later step (keys, weights) failing on them would hide the cause."""
    from hf_custom.checks.view import MemoryView
    from hf_custom.diagnosis import diagnose_view

    if art.code is None:
        return []
    files = {name: text.encode("utf-8", "surrogateescape") for name, text in art.code.files.items()}
    updates = art.tokenizer.config_updates if art.tokenizer is not None else {}
    files["config.json"] = json.dumps({**art.config, **updates}).encode()
    view = MemoryView(files, label="the planned code")
    report = diagnose_view(view, kind="folder", select=CODE_CHECK_RULES)
    return [f for f in report.findings if f.severity is Severity.ERROR]


#: The rules of doctor's code checks that read the code alone (the packaging rules, HFC200-249,
#: are the code step's own findings).
CODE_CHECK_RULES = ("HFC25",)


def gate(ctx: StageContext, art: Artefacts) -> Artefacts:
    """Stop when the findings so far, or doctor's code checks on the plan, hold an error.

    Raises:
        Refusal: with every finding so far; nothing is installed at ``out``.
    """
    # with --fix, the fix step has already repaired the planned code these checks read
    found = [*art.findings, *planned_code_errors(art)]
    if any(f.severity is Severity.ERROR for f in found):
        from hf_custom.staging.result import fix_hint

        hint = "fix the errors above (hf-custom explain ID tells more), then run again"
        if art.fixes is not None and not art.fixed and art.fixes.repairs:
            hint += "; " + fix_hint(art.fixes.repairs)
        raise Refusal(
            "the checkpoint cannot be staged as it is",
            path=str(ctx.src),
            hint=hint,
            findings=sort_findings(set(found)),
        )
    return art
