"""``doctor``: run the checks registry on a folder or a repo id and return a plain report.

Static by default: the model's code is parsed, never executed. For a repo id only config, code,
tokenizer and card files and the safetensors *headers* are fetched (range requests), so the
download does not grow with the weights. ``load=True`` adds the verification in an isolated child
process (for a repo id, after downloading a snapshot into a temporary folder).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hf_custom.checks import Skipped, run_checks
from hf_custom.checks.context import Context
from hf_custom.checks.view import FolderView, RepoView
from hf_custom.errors import InputError
from hf_custom.events import EventSink, Log, emit
from hf_custom.findings import Finding, Severity

if TYPE_CHECKING:
    from hf_custom.compatibility import Compatibility
    from hf_custom.envs import Target

REPORT_VERSION = 1
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")


@dataclass(frozen=True)
class DoctorReport:
    target: str
    kind: str  # "folder" | "repo" | "git"
    findings: tuple[Finding, ...]
    run: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    strict: bool = False
    revision: str | None = None
    bytes_downloaded: int | None = None
    seconds: float = field(default=0.0, compare=False)
    verify: Any = field(default=None, compare=False)  # VerifyReport with --load
    matrix: Any = field(default=None, compare=False)  # MatrixReport with --load --transformers
    # the model card's Compatibility section (which transformers versions were verified)
    compatibility: Compatibility | None = None

    @property
    def summary(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Severity}
        for f in self.findings:
            counts[f.severity.value] += 1
        return counts

    @property
    def failing(self) -> tuple[Finding, ...]:
        """The findings that make the run fail: errors, and warnings with ``strict``."""
        bad = {Severity.ERROR, Severity.WARNING} if self.strict else {Severity.ERROR}
        return tuple(f for f in self.findings if f.severity in bad)

    @property
    def ok(self) -> bool:
        """No failing finding, and something was checked (an empty run is not a clean one)."""
        return bool(self.run) and not self.failing

    def to_json(self) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "target": self.target,
            "kind": self.kind,
            "revision": self.revision,
            "ok": self.ok,
            "strict": self.strict,
            "summary": self.summary,
            "findings": [f.to_json() for f in self.findings],
            "checks": {"run": list(self.run), "skipped": [s.to_json() for s in self.skipped]},
            "bytes_downloaded": self.bytes_downloaded,
            "verify": self.verify.to_json() if self.verify is not None else None,
            "matrix": self.matrix.to_json() if self.matrix is not None else None,
            "compatibility": (
                self.compatibility.to_json() if self.compatibility is not None else None
            ),
        }


def doctor(
    target: str | Path,
    *,
    revision: str | None = None,
    endpoint: str | None = None,
    token: str | None = None,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    strict: bool = False,
    load: bool = False,
    python: str | None = None,
    on_event: EventSink | None = None,
    trust_remote_code: bool = False,
    transformers: Sequence[str] = (),
    allow_fail: Sequence[str] = (),
) -> DoctorReport:
    """Diagnose ``target`` (a folder, or a repo id on ``endpoint``) with the checks registry.

    ``load`` on a repo id runs that repository's code (in the sandboxed child): it needs
    ``trust_remote_code=True``, the word transformers uses, or :class:`InputError` is raised.
    ``transformers`` (``--transformers`` specs, with ``load``) verifies once per version in the
    cached environments of :mod:`hf_custom.envs`; ``allow_fail`` names versions whose failure
    is a warning.

    Raises:
        InputError: options that do not combine (``transformers``/``allow_fail`` without
            ``load``, ``python`` with ``transformers``, ``revision`` on a folder), a target that
            is neither a folder nor a repo id, or ``load`` on a repo id without
            ``trust_remote_code``.
        MissingDependency: ``load`` in this environment without torch or transformers.
        RemoteError: the repository or revision does not exist, or the token cannot see it.
        RemoteUnavailable: the endpoint could not be read (unreachable, refused, or
            HF_HUB_OFFLINE set).
        EnvBuildError: an environment for a ``transformers`` version could not be built.
    """
    start = time.perf_counter()
    if (transformers or allow_fail) and not load:
        raise InputError(
            "--transformers and --allow-fail choose the versions --load verifies with",
            hint="add --load (it runs the model's code in an isolated child process)",
        )
    if transformers and python is not None:
        raise InputError(
            "--python and --transformers cannot be combined",
            hint="--transformers builds its own environments; drop --python",
        )
    path = Path(target)
    if path.is_dir():
        if revision is not None:
            raise InputError(
                "--revision applies to a repo id, not to a folder",
                path=str(path),
                hint="drop --revision, or pass a repo id such as you/model",
            )
        targets = _targets(transformers, allow_fail, on_event=on_event)
        if not load:
            return diagnose_view(
                FolderView(path), kind="folder", select=select, ignore=ignore, strict=strict,
                on_event=on_event, start=start,
            )  # fmt: skip
        from hf_custom.checks import selected_rules
        from hf_custom.findings import sort_findings
        from hf_custom.staging.preview import staged_copy

        keep = selected_rules(select, ignore)
        with staged_copy(path, on_event=on_event) as (load_dir, notes):
            report = diagnose_view(
                FolderView(path), kind="folder", select=select, ignore=ignore, strict=strict,
                load_dir=load_dir, load=True, python=python, targets=targets,
                allow_fail=allow_fail, on_event=on_event, start=start,
            )  # fmt: skip
        notes = [f for f in notes if f.id in keep]
        return replace(report, findings=tuple(sort_findings({*report.findings, *notes})))
    if path.exists():
        raise InputError(
            "doctor needs a folder or a repo id, not a file",
            path=str(path),
            hint="pass the folder holding config.json, or a repo id such as you/model",
        )
    name = str(target)
    if not _REPO_ID.match(name) or name.startswith((".", "~")) or "/" not in name:
        raise InputError(
            f"{name!r} is neither an existing folder nor a repo id",
            hint="pass a checkpoint folder or a repo id of the form owner/name",
        )
    if load and not trust_remote_code:
        raise InputError(
            f"--load runs the code of {name} (downloaded from the Hub) on this machine",
            hint="add --trust-remote-code if you trust that repository's code; it runs in a "
            "sandboxed child process (see the verification report for what confines it)",
        )
    return _doctor_remote(
        name,
        revision=revision,
        endpoint=endpoint,
        token=token,
        select=select,
        ignore=ignore,
        strict=strict,
        load=load,
        python=python,
        targets=_targets(transformers, allow_fail, on_event=on_event),
        allow_fail=allow_fail,
        on_event=on_event,
        start=start,
    )


def _targets(
    transformers: Sequence[str], allow_fail: Sequence[str], *, on_event: EventSink | None
) -> tuple[Target, ...]:
    """The matrix columns of ``--transformers`` (environments built now, before any check:
    a version that cannot be built is an error, not a crashed check)."""
    if not transformers:
        return ()
    from hf_custom.envs import parse_specs, resolve_targets
    from hf_custom.verification.matrix import check_allow_fail

    targets = resolve_targets(parse_specs(transformers), on_event=on_event)
    check_allow_fail(allow_fail, targets)
    return targets


def diagnose_view(
    view: RepoView,
    *,
    kind: str,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    strict: bool = False,
    load: bool = False,
    load_dir: Path | None = None,
    python: str | None = None,
    revision: str | None = None,
    on_event: EventSink | None = None,
    start: float | None = None,
    installed_transformers: bool = True,
    targets: Sequence[Target] = (),
    allow_fail: Sequence[str] = (),
) -> DoctorReport:
    """Run the registry on any :class:`RepoView` (the hooks use it on a git tree).

    ``installed_transformers=False`` (the hooks): v5 removals come from the static list, and
    transformers is never imported, so the run stays fast.
    """
    start = time.perf_counter() if start is None else start
    ctx = Context(
        view,
        load_dir=load_dir,
        python=python,
        installed_transformers=installed_transformers,
        targets=targets,
        allow_fail=allow_fail,
        on_event=on_event,
        kind=kind,
    )
    result = run_checks(ctx, select=select, ignore=ignore, load=load, on_event=on_event)
    compatibility = _card_compatibility(ctx)
    downloaded = getattr(view, "bytes_downloaded", None)
    return DoctorReport(
        target=view.label,
        kind=kind,
        findings=result.findings,
        run=result.run,
        skipped=result.skipped,
        strict=strict,
        revision=revision,
        bytes_downloaded=downloaded if isinstance(downloaded, int) else None,
        seconds=time.perf_counter() - start,
        verify=ctx.verify_report,
        matrix=ctx.matrix_report,
        compatibility=compatibility,
    )


def _card_compatibility(ctx: Context) -> Compatibility | None:
    """The Compatibility section hf-custom wrote into the model card, read back (None when the
    card has none, or cannot be read)."""
    from hf_custom.checks import Skip
    from hf_custom.compatibility import read_compatibility
    from hf_custom.errors import HFCustomError

    if not ctx.has("README.md"):
        return None
    try:
        return read_compatibility(ctx.text("README.md"))
    except (Skip, HFCustomError, OSError):
        return None


def _names_a_missing_thing(exc: BaseException) -> bool:
    from huggingface_hub import errors as hf_errors

    cause = exc.__cause__
    missing = (hf_errors.RepositoryNotFoundError, hf_errors.RevisionNotFoundError)
    return isinstance(cause, missing)


def _doctor_remote(
    repo_id: str,
    *,
    revision: str | None,
    endpoint: str | None,
    token: str | None,
    select: Collection[str],
    ignore: Collection[str],
    strict: bool,
    load: bool,
    python: str | None,
    targets: Sequence[Target],
    allow_fail: Sequence[str],
    on_event: EventSink | None,
    start: float,
) -> DoctorReport:
    from hf_custom.checks.remoteview import RemoteView, download_snapshot
    from hf_custom.errors import RemoteError, RemoteUnavailable

    with RemoteView.open(repo_id, revision=revision, endpoint=endpoint, token=token) as view:
        try:
            view.files()  # one request first: an unreadable repo is one error, not a crash per check
        except RemoteError as exc:
            if _names_a_missing_thing(exc):
                raise  # the endpoint works; the repo id or revision is wrong (exit 1, as before)
            raise RemoteUnavailable(
                f"cannot read {repo_id}: {exc.message}",
                path=exc.path,
                hint=exc.hint or "check --endpoint, --token and the repo id, then try again",
            ) from exc
        tmp: Path | None = None
        try:
            if load:
                tmp = Path(tempfile.mkdtemp(prefix="hf-custom-doctor-"))
                emit(on_event, Log(f"downloading a snapshot of {repo_id} for --load"))
                download_snapshot(view, tmp, on_event=on_event)
            return diagnose_view(
                view,
                kind="repo",
                select=select,
                ignore=ignore,
                strict=strict,
                load=load,
                load_dir=tmp,
                python=python,
                revision=revision,
                targets=targets,
                allow_fail=allow_fail,
                on_event=on_event,
                start=start,
            )
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
