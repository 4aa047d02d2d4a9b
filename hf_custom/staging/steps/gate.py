"""gate: refuse before anything is converted when planning found errors."""

from __future__ import annotations

from hf_custom.errors import Refusal
from hf_custom.findings import Severity, sort_findings
from hf_custom.staging.context import Artefacts, StageContext


def gate(ctx: StageContext, art: Artefacts) -> Artefacts:
    """Stop when the findings so far hold an error: the folder would not load.

    Raises:
        Refusal: with every finding so far; nothing is installed at ``out``.
    """
    if any(f.severity is Severity.ERROR for f in art.findings):
        from hf_custom.staging.result import fix_hint

        hint = "fix the errors above (hf-custom explain ID tells more), then run again"
        if art.fixes is not None and not art.fixed and art.fixes.repairs:
            hint += "; " + fix_hint(art.fixes.repairs)
        raise Refusal(
            "the checkpoint cannot be staged as it is",
            path=str(ctx.src),
            hint=hint,
            findings=sort_findings(set(art.findings)),
        )
    return art
