"""upload: one atomic commit of the staged folder, only when nothing refused it.

For ``--endpoint local`` the embedded Hub runs for this step only (``remote.connect``): a
refused or dry-run publish starts no server.
"""

from __future__ import annotations

from dataclasses import replace

from hf_custom.staging.context import PublishArtefacts, PublishContext, need


def upload(ctx: PublishContext, art: PublishArtefacts) -> PublishArtefacts:
    """Upload unless refused or a dry run. Network errors raise RemoteError (hf_custom.remote)."""
    if art.refused is not None or ctx.options.dry_run:
        return art
    from hf_custom.remote import connect
    from hf_custom.remote import upload as run_upload

    repo_id = need(ctx.options.repo_id, "the repository id")
    ctx.log(f"uploading to {repo_id}")
    opts = ctx.options
    with connect(need(ctx.endpoint, "the endpoint")) as endpoint:
        result = run_upload(
            ctx.staged.out,
            repo_id=repo_id,
            endpoint=endpoint,
            private=opts.private,
            revision=opts.revision,
            commit_message=opts.commit_message,
            create_pr=opts.create_pr,
            on_event=ctx.on_event,
        )
    return replace(art, upload=result)
