"""Upload a folder in one atomic commit, sending only what the remote does not have.

Xet: huggingface_hub uploads large files through Xet whenever ``hf_xet`` is installed, unless
the files are given as open file objects, which it sends through the LFS batch API instead.
The embedded Hub has no Xet, so its uploads pass file objects; for any other endpoint Xet stays
on, and if that server refuses the Xet token request (404/501, as a Hub-compatible server
without Xet does), the upload is retried once through LFS (nothing was committed by then).
No ``huggingface_hub.constants`` value is touched for this.
"""

from __future__ import annotations

import hashlib
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hf_custom.errors import InputError, RemoteError
from hf_custom.events import EventSink, Log, Progress, emit
from hf_custom.remote.client import hf_api, lfs_without_xet_warning
from hf_custom.remote.endpoint import Endpoint, require_running
from hf_custom.remote.failures import map_error

KEEP_ON_REPLACE = frozenset({".gitattributes"})
SKIP_DIRS = frozenset({".git", ".cache", "__pycache__"})
_CHUNK = 1 << 20


@dataclass(frozen=True)
class UploadResult:
    repo_url: str
    commit_url: str | None
    commit_oid: str | None
    committed: bool
    uploaded: tuple[str, ...]
    skipped: tuple[str, ...]
    deleted: tuple[str, ...]
    pr_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "repo_url": self.repo_url,
            "commit_url": self.commit_url,
            "commit_oid": self.commit_oid,
            "committed": self.committed,
            "uploaded": list(self.uploaded),
            "skipped": list(self.skipped),
            "deleted": list(self.deleted),
            "pr_url": self.pr_url,
        }


@dataclass(frozen=True)
class _Request:
    """One upload's parameters, as :func:`upload` received them."""

    folder: Path
    repo_id: str
    endpoint: Endpoint
    private: bool
    revision: str | None
    commit_message: str | None
    create_pr: bool
    replace: bool
    on_event: EventSink | None


def _local_files(folder: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not SKIP_DIRS.intersection(rel.parts[:-1]):
            out[rel.as_posix()] = path
    return out


def _hashes(path: Path, size: int) -> tuple[str, str]:
    """sha256 and git blob sha1 of a file, one pass."""
    sha256, sha1 = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha256.update(chunk)
            sha1.update(chunk)
    return sha256.hexdigest(), sha1.hexdigest()


def _unchanged(path: Path, remote: Any) -> bool:
    size = path.stat().st_size
    if size != remote.size:
        return False
    sha256, sha1 = _hashes(path, size)
    return sha256 == remote.lfs.sha256 if remote.lfs else sha1 == remote.blob_id


def upload(
    folder: Path,
    *,
    repo_id: str,
    endpoint: Endpoint,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    create_pr: bool = False,
    replace: bool = True,
    on_event: EventSink | None = None,
) -> UploadResult:
    """Upload ``folder`` to ``repo_id`` in one atomic commit (or none if nothing changed).

    Creates the repository when needed (``private`` applies then only). Files whose content is
    already on the remote are not sent; with ``replace``, remote files absent from ``folder``
    (except ``.gitattributes``) are deleted in the same commit. ``endpoint`` must be running:
    for the embedded Hub, call this inside ``with hf_custom.remote.connect(endpoint) as e:``.

    Raises:
        InputError: ``folder`` is not a directory.
        RemoteError: the server refused the upload or could not be reached (nothing committed).
        ValueError: ``endpoint`` is the embedded Hub not started (see ``connect``).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"nothing to upload: {folder} is not a directory", path=str(folder))
    request = _Request(
        folder, repo_id, require_running(endpoint), private, revision, commit_message,
        create_pr, replace, on_event,
    )  # fmt: skip
    action = f"publishing to {repo_id}"
    xet = not endpoint.local
    while True:
        try:
            return _upload(request, xet=xet)
        except RemoteError:
            raise
        except Exception as exc:
            if xet and _xet_refused(exc):  # a Hub-compatible server without Xet: use LFS
                emit(on_event, Log(f"{endpoint.url} does not speak Xet: uploading through LFS"))
                xet = False
                continue
            raise map_error(exc, endpoint=endpoint, repo_id=repo_id, action=action) from exc


def _xet_refused(exc: BaseException) -> bool:
    """The server answered the Xet token request with 'not found' or 'not implemented'."""
    seen: BaseException | None = exc
    while seen is not None:
        text = str(seen)
        if "xet-write-token" in text and ("501" in text or "404" in text):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _target(api: Any, req: _Request) -> tuple[str, str, str]:
    """The repository's URL, the branch and its head commit; both are created when missing."""
    from huggingface_hub import errors as hf_errors

    repo_id, on_event = req.repo_id, req.on_event
    try:  # look first: create_repo(exist_ok=True) mis-builds its URL for non-Hub endpoints on 403
        existing = api.repo_info(repo_id)
        repo_url = f"{req.endpoint.url}/{repo_id}"
        if req.private and not existing.private:
            emit(on_event, Log(f"{repo_id} already exists and is public: --private only "
                               "applies when creating a repository", level="warning"))  # fmt: skip
    except hf_errors.RepositoryNotFoundError:
        emit(on_event, Log(f"creating {'private ' if req.private else ''}repository {repo_id}"))
        repo_url = str(api.create_repo(repo_id, private=req.private, exist_ok=True))
    branch = req.revision or "main"
    try:
        head = api.repo_info(repo_id, revision=branch).sha
    except hf_errors.RevisionNotFoundError:
        if branch.startswith("refs/"):
            raise
        emit(on_event, Log(f"creating branch {branch}"))
        api.create_branch(repo_id, branch=branch, exist_ok=True)
        head = api.repo_info(repo_id, revision=branch).sha
    return repo_url, branch, str(head)


def _upload(req: _Request, *, xet: bool) -> UploadResult:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    api = hf_api(req.endpoint)
    repo_id, on_event = req.repo_id, req.on_event
    repo_url, branch, head = _target(api, req)
    remote = {
        f.path: f
        for f in api.list_repo_tree(repo_id, revision=head, recursive=True)
        if hasattr(f, "blob_id") and hasattr(f, "size")
    }
    local = _local_files(req.folder)
    changed = [p for p in local if p not in remote or not _unchanged(local[p], remote[p])]
    skipped = tuple(p for p in local if p not in changed)
    deleted = tuple(
        sorted(p for p in remote if req.replace and p not in local and p not in KEEP_ON_REPLACE)
    )
    if not changed and not deleted:
        emit(on_event, Log(f"{repo_id}@{branch} already has these files: nothing to commit"))
        return UploadResult(repo_url, None, head, False, (), skipped, ())
    with ExitStack() as files, lfs_without_xet_warning():
        # A path lets huggingface_hub choose Xet; an open file makes it use LFS (and no bar).
        additions = [
            CommitOperationAdd(
                path_in_repo=p,
                path_or_fileobj=str(local[p]) if xet else files.enter_context(local[p].open("rb")),
            )
            for p in changed
        ]
        for op in additions:  # one file at a time: a progress event per file
            size = op.upload_info.size
            emit(on_event, Progress("upload", 0, size, "B", key=op.path_in_repo))
            api.preupload_lfs_files(
                repo_id, additions=[op], revision=branch, create_pr=req.create_pr,
                free_memory=False,
            )  # fmt: skip
            emit(on_event, Progress("upload", size, size, "B", key=op.path_in_repo))
        operations: list[Any] = [
            *additions,
            *(CommitOperationDelete(path_in_repo=p) for p in deleted),
        ]
        info = api.create_commit(
            repo_id,
            operations=operations,
            commit_message=req.commit_message or f"Upload {len(changed)} file(s) with hf-custom",
            revision=branch,
            create_pr=req.create_pr,
            parent_commit=None if req.create_pr else head,
        )
    if info.oid == head:  # the server found nothing new either
        return UploadResult(repo_url, None, head, False, (), (*skipped, *changed), ())
    return UploadResult(
        repo_url=repo_url,
        commit_url=info.commit_url,
        commit_oid=info.oid,
        committed=True,
        uploaded=tuple(changed),
        skipped=skipped,
        deleted=deleted,
        pr_url=info.pr_url,
    )
