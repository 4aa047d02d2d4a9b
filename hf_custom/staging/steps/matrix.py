"""matrix: verify once per ``--transformers`` version; write the card's Compatibility section.

Without ``--transformers`` the verify step ran under the installed transformers: this step only
records that one version on the card. With it, the verify step stood aside and this step runs
the verification in each version's cached environment (:mod:`hf_custom.envs`); a failing
version refuses the upload unless ``--allow-fail`` names it.
"""

from __future__ import annotations

import shutil
from dataclasses import replace

from hf_custom.errors import InputError
from hf_custom.staging.context import PublishArtefacts, PublishContext


def matrix(ctx: PublishContext, art: PublishArtefacts) -> PublishArtefacts:
    from hf_custom.staging.steps.verify import _code_endpoint
    from hf_custom.verification.matrix import run_matrix, single_column, write_compatibility

    if art.refused is not None or not ctx.options.verify:
        return art
    opts = ctx.options
    if not opts.transformers:
        if art.verify is None or opts.stage.python is not None:
            return art  # another interpreter: its transformers is not "the installed" one
        report = single_column(art.verify)
        if report.ok:
            write_compatibility(ctx.staged.out, report)
        return replace(art, matrix=report)
    if opts.stage.python is not None:
        raise InputError(
            "--python and --transformers cannot be combined",
            hint="--transformers builds its own environments; drop --python",
        )
    try:
        report = run_matrix(
            ctx.staged.out,
            opts.transformers,
            allow_fail=opts.allow_fail,
            timeout=opts.verify_timeout,
            on_event=ctx.on_event,
            outputs=opts.matrix_outputs,
            endpoint=_code_endpoint(ctx),
        )
    except BaseException:  # never leave an unproven --out behind
        shutil.rmtree(ctx.staged.out, ignore_errors=True)
        raise
    art = art.add(findings=report.all_findings())
    art = replace(art, matrix=report, verify=report.columns[0].report)
    if not report.ok:
        failed = ", ".join(c.version for c in report.columns if not c.report.ok)
        return replace(art, refused=f"verification failed with transformers {failed}")
    write_compatibility(ctx.staged.out, report)
    return art
