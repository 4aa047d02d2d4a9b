"""The one check that executes the model's code: E's verification in an isolated child process.

Registered with every rule whose ``needs`` is "load"; it runs only with ``load=True`` (doctor
``--load``) on a local copy of the repository (for a repo id, doctor downloads a snapshot).
"""

from __future__ import annotations

from collections.abc import Iterator

from hf_custom.checks import Skip, register
from hf_custom.checks.context import Context
from hf_custom.findings import Finding, all_rules

LOAD_RULES = tuple(r.id for r in all_rules() if r.needs == "load")


@register("loading.verify", rules=LOAD_RULES, needs="load")
def verify(ctx: Context) -> Iterator[Finding]:
    """Load every AutoClass of auto_map in a clean child process, compare tensors, run forward."""
    if ctx.load_dir is None:
        raise Skip("no local copy of the repository to load")
    # a repo id: code other repositories serve comes from the same endpoint (and token)
    endpoint = getattr(getattr(ctx.view, "repo", None), "endpoint", None)
    if ctx.targets:  # --transformers: one verification per version, in cached envs
        from hf_custom.verification.matrix import verify_matrix

        matrix = verify_matrix(
            ctx.load_dir, ctx.targets, allow_fail=ctx.allow_fail, on_event=ctx.on_event,
            endpoint=endpoint,
        )  # fmt: skip
        ctx.matrix_report = matrix
        ctx.verify_report = matrix.columns[0].report
        yield from matrix.all_findings()
        return
    from hf_custom.verification import verify as run_verify

    report = run_verify(ctx.load_dir, python=ctx.python, endpoint=endpoint)
    ctx.verify_report = report
    yield from report.findings
