"""The only module that talks to the network: endpoint and token, upload, remote reading.

Endpoint and token resolution (``resolve_endpoint``), read from the environment at call time
only: an explicit value, else ``HF_ENDPOINT`` / ``HF_TOKEN``, else the token stored by
``hf auth login``. ``"local"`` is the embedded Hub (``hf_custom.hub``) with its data under
``local_hub_dir()`` (``$HF_HOME/hf-custom/hub``, i.e. ``~/.cache/huggingface/hf-custom/hub`` by
default), started in-process on a free loopback port for the life of the process, with a
random token that is never shown.

Xet: huggingface_hub uploads large files through Xet whenever ``hf_xet`` is installed. The
embedded Hub has no Xet, so Xet is switched off for it; for any other endpoint Xet stays on, and
if that server refuses the Xet token request (404/501, as a Hub-compatible server without Xet
does), the upload is retried once through the LFS batch API (nothing was committed by then).

Tokens are never printed, logged or put in an error message.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from hf_custom.errors import InputError, RemoteError
from hf_custom.events import EventSink, Log, Progress, emit

if TYPE_CHECKING:
    from hf_custom.hub import HubServer

DEFAULT_ENDPOINT = "https://huggingface.co"
LOCAL = "local"
KEEP_ON_REPLACE = frozenset({".gitattributes"})
SKIP_DIRS = frozenset({".git", ".cache", "__pycache__"})
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Endpoint:
    """Where to talk to. ``token`` is hidden from ``repr`` (and never logged)."""

    url: str
    token: str | None = field(default=None, repr=False)
    local: bool = False


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
class RemoteFile:
    path: str
    size: int
    lfs_sha256: str | None
    blob_id: str = ""


# -- endpoint and token --------------------------------------------------------------------------
def local_hub_dir() -> Path:
    """Where ``--endpoint local`` keeps its repositories: ``$HF_HOME/hf-custom/hub``."""
    home = os.environ.get("HF_HOME")
    if not home:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        home = str(Path(cache) / "huggingface")
    return Path(home).expanduser() / "hf-custom" / "hub"


_LOCAL_LOCK = threading.Lock()
_LOCAL_SERVERS: dict[Path, tuple[HubServer, str]] = {}


def start_local_hub(data_dir: Path | None = None) -> Endpoint:
    """Start (once per data dir and process) the embedded Hub on a free loopback port."""
    from hf_custom.hub import Account, HubServer

    directory = (data_dir or local_hub_dir()).resolve()
    with _LOCAL_LOCK:
        if directory not in _LOCAL_SERVERS:
            token = "hf_local_" + secrets.token_urlsafe(24)
            account = Account(name="local", any_namespace=True)
            server = HubServer(directory, tokens={token: account}, upload_mode="lfs").start()
            if not _LOCAL_SERVERS:
                atexit.register(stop_local_hubs)
            _LOCAL_SERVERS[directory] = (server, token)
        server, token = _LOCAL_SERVERS[directory]
    return Endpoint(url=server.url, token=token, local=True)


def stop_local_hubs() -> None:
    """Stop every embedded Hub this process started (registered with atexit)."""
    with _LOCAL_LOCK:
        for server, _ in _LOCAL_SERVERS.values():
            server.stop()
        _LOCAL_SERVERS.clear()


def _stored_token() -> str | None:
    path = os.environ.get("HF_TOKEN_PATH")
    if not path and os.environ.get("HF_HOME"):
        path = str(Path(os.environ["HF_HOME"]) / "token")
    if path and Path(path).is_file():
        text = Path(path).read_text(encoding="utf-8").strip()
        if text:
            return text
    from huggingface_hub import get_token

    return get_token()


def resolve_endpoint(endpoint: str | None, token: str | None) -> Endpoint:
    """Explicit values first, then ``HF_ENDPOINT`` / ``HF_TOKEN``, then ``hf auth login``'s token."""
    url = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).strip()
    if url == LOCAL:
        return start_local_hub()
    if not url.startswith(("http://", "https://")):
        raise InputError(
            f"endpoint {url!r} is not a URL",
            hint="pass --endpoint https://huggingface.co, another http(s) URL, or --endpoint local",
        )
    resolved = token or os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    return Endpoint(url=url.rstrip("/"), token=resolved or _stored_token())


# -- the client's process-wide switches ----------------------------------------------------------
_CLIENT_LOCK = threading.RLock()


@contextmanager
def _client(endpoint: Endpoint, *, xet: bool = True) -> Iterator[Any]:
    """An ``HfApi`` for ``endpoint``. For the embedded Hub, Xet is off and offline mode lifted.

    huggingface_hub reads both switches from module constants at call time; they are restored.
    """
    from huggingface_hub import HfApi, constants
    from huggingface_hub.utils import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    with _CLIENT_LOCK:
        saved = (constants.HF_HUB_DISABLE_XET, constants.HF_HUB_OFFLINE)
        bars_were_off = are_progress_bars_disabled()
        disable_progress_bars()  # the library never prints: progress goes out as events
        if endpoint.local or not xet:
            constants.HF_HUB_DISABLE_XET = True
        if endpoint.local:
            constants.HF_HUB_OFFLINE = False
        try:
            yield HfApi(endpoint=endpoint.url, token=endpoint.token or False)
        finally:
            constants.HF_HUB_DISABLE_XET, constants.HF_HUB_OFFLINE = saved
            if not bars_were_off:
                enable_progress_bars()


def _scrub(text: str, endpoint: Endpoint) -> str:
    return text.replace(endpoint.token, "***") if endpoint.token else text


def map_error(exc: BaseException, *, endpoint: Endpoint, repo_id: str, action: str) -> RemoteError:
    """A huggingface_hub / transport error as a RemoteError saying what to do next."""
    from huggingface_hub import errors as hf_errors

    login = "run `hf auth login` or pass --token"
    where = f"{repo_id} at {endpoint.url}"
    if isinstance(exc, hf_errors.OfflineModeIsEnabled):
        return RemoteError(
            f"{action} needs the network but HF_HUB_OFFLINE is set",
            hint="unset HF_HUB_OFFLINE, or publish to the embedded Hub with --endpoint local",
        )
    if isinstance(exc, hf_errors.RepositoryNotFoundError):
        return RemoteError(
            f"repository {where} was not found, or this token cannot see it",
            hint=f"check the repo id; for a private repository {login}",
        )
    if isinstance(exc, hf_errors.RevisionNotFoundError):
        return RemoteError(f"{action}: revision not found in {where}", hint="check --revision")
    if isinstance(exc, hf_errors.HfHubHTTPError) and exc.response is not None:
        status = exc.response.status_code
        server_says = _scrub(exc.server_message or "", endpoint).strip()
        detail = f" (the server says: {server_says})" if server_says else ""
        if status == 401:
            hint = login if endpoint.token is None else f"the token was refused: {login}"
            return RemoteError(
                f"{action} at {endpoint.url}: not authenticated (401){detail}", hint=hint
            )
        if status == 403:
            namespace = repo_id.split("/")[0]
            return RemoteError(
                f"{action}: this token may not write to {namespace!r} (403){detail}",
                hint=f"use a token with write access to {namespace}: {login}",
            )
        if status == 412:
            return RemoteError(
                f"{action}: {where} changed while publishing (412); nothing was committed{detail}",
                hint="re-run the command: it starts from the new state",
            )
        if status >= 500:
            return RemoteError(
                f"{action}: the server failed (HTTP {status}); nothing was committed{detail}",
                hint="re-run the command; files already uploaded are not sent again",
            )
        return RemoteError(f"{action} failed: HTTP {status}{detail}", hint=f"check {where}")
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, RuntimeError) and cause is not None:  # the LFS upload of one file
        match = re.search(r"uploading '(.+)' to the Hub", str(exc))
        what = f"uploading {match.group(1)}" if match else action
        inner = map_error(cause, endpoint=endpoint, repo_id=repo_id, action=what)
        return RemoteError(
            f"{inner.message.rstrip('.')}; nothing was committed",
            hint="re-run the command; files already uploaded are not sent again",
        )
    if _is_transport_error(exc):
        return RemoteError(
            f"cannot reach {endpoint.url}: {type(exc).__name__}: {_scrub(str(exc), endpoint)}",
            hint="check --endpoint / HF_ENDPOINT and the network, or use --endpoint local",
        )
    return RemoteError(
        f"{action} failed: {type(exc).__name__}: {_scrub(str(exc), endpoint)}",
        hint=f"check {where}",
    )


def _is_transport_error(exc: BaseException) -> bool:
    try:
        import httpx2

        if isinstance(exc, httpx2.TransportError):
            return True
    except ImportError:  # pragma: no cover - older huggingface_hub
        pass
    return isinstance(exc, (ConnectionError, TimeoutError))


# -- upload --------------------------------------------------------------------------------------
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
    (except ``.gitattributes``) are deleted in the same commit.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"nothing to upload: {folder} is not a directory", path=str(folder))
    action = f"publishing to {repo_id}"
    xet = True
    while True:
        try:
            with _client(endpoint, xet=xet) as api:
                return _upload(
                    api, folder, repo_id=repo_id, endpoint=endpoint, private=private,
                    revision=revision, commit_message=commit_message, create_pr=create_pr,
                    replace=replace, on_event=on_event,
                )  # fmt: skip
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


def _upload(
    api: Any,
    folder: Path,
    *,
    repo_id: str,
    endpoint: Endpoint,
    private: bool,
    revision: str | None,
    commit_message: str | None,
    create_pr: bool,
    replace: bool,
    on_event: EventSink | None,
) -> UploadResult:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete
    from huggingface_hub import errors as hf_errors

    try:  # look first: create_repo(exist_ok=True) mis-builds its URL for non-Hub endpoints on 403
        existing = api.repo_info(repo_id)
        repo_url = f"{endpoint.url}/{repo_id}"
        if private and not existing.private:
            emit(on_event, Log(f"{repo_id} already exists and is public: --private only "
                               "applies when creating a repository", level="warning"))  # fmt: skip
    except hf_errors.RepositoryNotFoundError:
        emit(on_event, Log(f"creating {'private ' if private else ''}repository {repo_id}"))
        repo_url = str(api.create_repo(repo_id, private=private, exist_ok=True))
    branch = revision or "main"
    try:
        head = api.repo_info(repo_id, revision=branch).sha
    except hf_errors.RevisionNotFoundError:
        if branch.startswith("refs/"):
            raise
        emit(on_event, Log(f"creating branch {branch}"))
        api.create_branch(repo_id, branch=branch, exist_ok=True)
        head = api.repo_info(repo_id, revision=branch).sha
    remote = {
        f.path: f
        for f in api.list_repo_tree(repo_id, revision=head, recursive=True)
        if hasattr(f, "blob_id") and hasattr(f, "size")
    }
    local = _local_files(folder)
    changed = [p for p in local if p not in remote or not _unchanged(local[p], remote[p])]
    skipped = tuple(p for p in local if p not in changed)
    deleted = tuple(
        sorted(p for p in remote if replace and p not in local and p not in KEEP_ON_REPLACE)
    )
    if not changed and not deleted:
        emit(on_event, Log(f"{repo_id}@{branch} already has these files: nothing to commit"))
        return UploadResult(repo_url, None, head, False, (), skipped, ())
    additions = [CommitOperationAdd(path_in_repo=p, path_or_fileobj=str(local[p])) for p in changed]
    for op in additions:  # one file at a time: a progress event per file
        size = op.upload_info.size
        emit(on_event, Progress("upload", 0, size, "B", key=op.path_in_repo))
        api.preupload_lfs_files(
            repo_id, additions=[op], revision=branch, create_pr=create_pr, free_memory=False
        )
        emit(on_event, Progress("upload", size, size, "B", key=op.path_in_repo))
    operations: list[Any] = [*additions, *(CommitOperationDelete(path_in_repo=p) for p in deleted)]
    message = commit_message or f"Upload {len(changed)} file(s) with hf-custom"
    info = api.create_commit(
        repo_id,
        operations=operations,
        commit_message=message,
        revision=branch,
        create_pr=create_pr,
        parent_commit=None if create_pr else head,
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


# -- remote reading (doctor) ---------------------------------------------------------------------
class RemoteRepo:
    """Read a remote repository cheaply: file list, small files, byte ranges.

    ``bytes_downloaded`` counts every response body read (API answers included), so a caller
    can prove its downloads do not grow with the size of the weights.
    """

    def __init__(
        self,
        repo_id: str,
        *,
        endpoint: Endpoint,
        revision: str | None = None,
        repo_type: str = "model",
    ) -> None:
        self.repo_id = repo_id
        self.endpoint = endpoint
        self.revision = revision or "main"
        self.repo_type = repo_type
        self.bytes_downloaded = 0
        self._sha: str | None = None
        self._files: list[RemoteFile] | None = None

    # plumbing
    def _headers(self) -> dict[str, str]:
        from huggingface_hub.utils import build_hf_headers

        return build_hf_headers(token=self.endpoint.token or False, library_name="hf-custom")

    @contextmanager
    def _request(self, url: str, headers: dict[str, str] | None = None) -> Iterator[Any]:
        from huggingface_hub.utils import get_session, hf_raise_for_status

        action = f"reading {self.repo_id}"
        with _client(self.endpoint):
            try:
                with get_session().stream(
                    "GET", url, headers={**self._headers(), **(headers or {})}, timeout=60
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        self.bytes_downloaded += len(response.content)
                    hf_raise_for_status(response)
                    yield response
            except RemoteError:
                raise
            except Exception as exc:
                raise map_error(
                    exc, endpoint=self.endpoint, repo_id=self.repo_id, action=action
                ) from exc

    def _get_json(self, url: str) -> tuple[Any, Any]:
        import json

        with self._request(url) as response:
            body = response.read()
            self.bytes_downloaded += len(body)
            return json.loads(body), response

    def _api(self, *parts: str) -> str:
        return f"{self.endpoint.url}/api/{self.repo_type}s/{self.repo_id}/" + "/".join(parts)

    @property
    def sha(self) -> str:
        """The commit the revision points to (all reads use it, so they agree)."""
        if self._sha is None:
            doc, _ = self._get_json(self._api("revision", quote(self.revision, safe="")))
            self._sha = str(doc["sha"])
        return self._sha

    def files(self) -> list[RemoteFile]:
        if self._files is None:
            url: str | None = self._api("tree", self.sha) + "?recursive=True&expand=False"
            out: list[RemoteFile] = []
            while url:
                doc, response = self._get_json(url)
                for item in doc:
                    if item.get("type") == "file":
                        lfs = item.get("lfs") or {}
                        out.append(
                            RemoteFile(item["path"], int(item["size"]), lfs.get("oid"), item["oid"])
                        )
                url = response.links.get("next", {}).get("url")
            self._files = sorted(out, key=lambda f: f.path)
        return list(self._files)

    def _file_url(self, path: str) -> str:
        prefix = {"model": "", "dataset": "datasets/", "space": "spaces/"}[self.repo_type]
        return f"{self.endpoint.url}/{prefix}{self.repo_id}/resolve/{self.sha}/{quote(path)}"

    def read_bytes(self, path: str, *, max_bytes: int = 50 * 1024 * 1024) -> bytes:
        """The whole file (refused above ``max_bytes``: use ``read_range`` for big files)."""
        known = {f.path: f.size for f in self._files or []}
        if known.get(path, 0) > max_bytes:
            raise RemoteError(
                f"{path} in {self.repo_id} is {known[path]} bytes, more than {max_bytes} to read whole"
            )
        return self._read(path, None, max_bytes)

    def read_range(self, path: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive) of ``path``, by an HTTP range request."""
        if start < 0 or end <= start:
            return b""
        return self._read(path, (start, end), end - start)

    def _read(self, path: str, span: tuple[int, int] | None, limit: int) -> bytes:
        headers = {"Range": f"bytes={span[0]}-{span[1] - 1}"} if span else {}
        chunks: list[bytes] = []
        got = 0
        with self._request(self._file_url(path), headers) as response:
            skip = span[0] if span and response.status_code == 200 else 0  # no range support
            for chunk in response.iter_bytes():
                self.bytes_downloaded += len(chunk)
                if skip:
                    cut = min(skip, len(chunk))
                    chunk, skip = chunk[cut:], skip - cut
                chunks.append(chunk)
                got += len(chunk)
                if span is None and got > limit:
                    raise RemoteError(f"{path} in {self.repo_id} is larger than {limit} bytes")
                if span is not None and got >= limit:
                    break
        return b"".join(chunks)[:limit]
