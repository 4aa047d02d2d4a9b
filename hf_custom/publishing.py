"""publish: stage -> verify -> matrix -> upload, and the result as plain data.

:func:`publish` runs the staging pipeline (:mod:`hf_custom.staging.pipeline`), then the steps of
:data:`PUBLISH_STEPS` on the staged folder. A step that finds a reason not to upload sets
``refused``; the steps after it see that and do nothing. Nothing here prints.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Collection
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hf_custom.errors import InputError
from hf_custom.events import EventSink
from hf_custom.findings import Finding, sort_findings
from hf_custom.staging.context import PublishArtefacts, PublishContext, PublishStep
from hf_custom.staging.options import (
    DEFAULT_MAX_SHARD_SIZE,
    PublishOptions,
    StageOptions,
    publish_options,
)
from hf_custom.staging.pipeline import stage
from hf_custom.staging.result import StageResult
from hf_custom.staging.steps.matrix import matrix
from hf_custom.staging.steps.upload import upload
from hf_custom.staging.steps.verify import verify

if TYPE_CHECKING:  # pragma: no cover
    from hf_custom.remote import UploadResult
    from hf_custom.verification import VerifyReport
    from hf_custom.verification.matrix import MatrixReport

#: The steps after staging, in order. To add one (a code repair, ...), write it and add a line.
PUBLISH_STEPS: tuple[tuple[str, PublishStep], ...] = (
    ("verify", verify),
    ("matrix", matrix),
    ("upload", upload),
)


@dataclass(frozen=True)
class PublishResult:
    stage: StageResult
    repo_id: str | None
    dry_run: bool
    verified: bool  # verification ran and passed
    verify_skipped: bool
    verify: VerifyReport | None = None
    matrix: MatrixReport | None = None  # one column per transformers version
    upload: UploadResult | None = None
    findings: tuple[Finding, ...] = ()
    refused: str | None = None  # why nothing was uploaded, when refused
    kept: bool = True  # whether the staged folder still exists
    steps: tuple[str, ...] = ()  # the publish steps that ran after staging
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.refused is None

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "repo_id": self.repo_id,
            "dry_run": self.dry_run,
            "refused": self.refused,
            "stage": self.stage.to_json(),
            "staged_folder": str(self.stage.out) if self.kept else None,
            "verification": (
                {"skipped": True}
                if self.verify_skipped
                else (self.verify.to_json() if self.verify is not None else None)
            ),
            "matrix": self.matrix.to_json() if self.matrix is not None else None,
            "upload": self.upload.to_json() if self.upload is not None else None,
            "findings": [f.to_json() for f in self.findings],
            "steps": list(self.steps),
            "seconds": round(self.seconds, 3),
        }


def publish(
    src: Path | str,
    *,
    options: PublishOptions | None = None,
    on_event: EventSink | None = None,
    **option_fields: Any,
) -> PublishResult:
    """Stage ``src``, check and verify the result, and upload it to ``repo_id`` in one commit.

    ``options`` (or the defaults) with ``option_fields`` applied, staging ones included:
    ``publish(src, repo_id="me/m", dry_run=True)``. With ``dry_run`` nothing is uploaded
    (``repo_id`` may be omitted). Without ``out`` the folder is staged in a temporary directory,
    kept for a dry run and removed after an upload. A failed check or verification refuses the
    upload: the result says why (``refused``).

    Raises:
        InputError: no ``repo_id`` without ``dry_run``; unreadable input (see :func:`stage`).
        Refusal: staging refused (see :func:`hf_custom.staging.pipeline.stage`).
        RemoteError: the Hub refused or could not be reached (bad token, no access, ...), or
            HF_HUB_OFFLINE is set (checked before staging).
        TypeError: an unknown option name.
    """
    start = time.perf_counter()
    opts = publish_options(options, **option_fields)
    repo_id = opts.repo_id
    if not opts.dry_run and not repo_id:
        raise InputError(
            "publish needs --repo-id (or --dry-run to stage and verify only)",
            hint="hf-custom publish ./ckpt --repo-id you/model  (or add --dry-run)",
        )
    endpoint = None
    if not opts.dry_run:  # fail early, before any work; nothing is started or sent here
        from hf_custom.remote import require_online, resolve_endpoint

        endpoint = resolve_endpoint(opts.endpoint, opts.token)
        require_online(
            endpoint,
            action=f"publishing to {repo_id}",
            alternative="add --dry-run to stage and verify without uploading",
        )
    tmp_parent: Path | None = None
    if opts.out is None:
        tmp_parent = Path(tempfile.mkdtemp(prefix="hf-custom-"))
        out_path = tmp_parent / (repo_id.split("/")[-1] if repo_id else Path(src).name)
    else:
        out_path = opts.out
    from hf_custom.verification.session import shared_child

    try:
        # class inspection (keys) and verification share one warm child: one import of torch
        with shared_child():
            staged = stage(src, out=out_path, options=opts.stage, on_event=on_event)
            ctx = PublishContext(staged=staged, options=opts, endpoint=endpoint, on_event=on_event)
            art = PublishArtefacts(findings=staged.findings)
            if not staged.ok:
                art = replace(art, refused="the staged folder has errors (see the findings)")
            for name, step in PUBLISH_STEPS:
                art = step(ctx, art)
                art = replace(art, steps=(*art.steps, name))
    except BaseException:
        if tmp_parent is not None:  # a temporary staging folder: nothing left behind
            shutil.rmtree(tmp_parent, ignore_errors=True)
        raise
    if art.refused is not None and staged.fixable:  # name what --fix would repair
        art = replace(art, refused=f"{art.refused}; {staged.fix_hint()}")
    kept = True
    if tmp_parent is not None and not opts.dry_run and art.refused is None:
        shutil.rmtree(tmp_parent, ignore_errors=True)
        kept = False
    if art.config is not None:
        staged = replace(staged, config=art.config)
    return PublishResult(
        stage=staged,
        repo_id=repo_id,
        dry_run=opts.dry_run,
        verified=art.verify is not None and art.verify.ok,
        verify_skipped=not opts.verify,
        verify=art.verify,
        matrix=art.matrix,
        upload=art.upload,
        findings=tuple(sort_findings(set(art.findings))),
        refused=art.refused,
        kept=kept,
        steps=art.steps,
        seconds=time.perf_counter() - start,
    )


def parse_auto_classes(pairs: Collection[str]) -> dict[str, str]:
    """``["XForY=AutoModelForY", ...]`` -> mapping.

    Raises:
        InputError: a pair is not of the form ``Class=AutoClass``.
    """
    out: dict[str, str] = {}
    for pair in pairs:
        cls, sep, auto = pair.partition("=")
        if not sep or not cls.strip() or not auto.strip():
            raise InputError(
                f"--auto-class {pair!r} is not of the form Class=AutoClass",
                hint="e.g. --auto-class MyT5ForConditionalGeneration=AutoModelForSeq2SeqLM",
            )
        out[cls.strip()] = auto.strip()
    return out


__all__ = [
    "DEFAULT_MAX_SHARD_SIZE",
    "PUBLISH_STEPS",
    "PublishOptions",
    "PublishResult",
    "StageOptions",
    "StageResult",
    "parse_auto_classes",
    "publish",
    "stage",
]
