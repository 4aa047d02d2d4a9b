"""What the local Hub's routes see: errors, names, and the request they answer (a Protocol).

Routes are plain functions ``route(req: Request, p: Params) -> None`` listed in ``routes.py``;
``handler.py`` implements :class:`Request` over ``http.server``. This module imports only
``state`` and ``storage`` (no HTTP, no server), so nothing in the package imports in a circle.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from email.message import Message
from io import BufferedIOBase
from typing import Any, Protocol

from hf_custom.hub.state import Account, Faults, Stats
from hf_custom.hub.storage import RepoMeta, Storage

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}


class HubError(Exception):
    """An answer other than success: status, optional ``X-Error-Code``, message."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def repo_not_found(repo_id: str) -> HubError:
    return HubError(404, f"Repository not found: {repo_id}", "RepoNotFound")


def revision_not_found(revision: str) -> HubError:
    return HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")


def entry_not_found(path: str) -> HubError:
    return HubError(404, f"Entry not found: {path}", "EntryNotFound")


class Hub(Protocol):
    """The server object as routes use it (``server.HubServer`` implements it)."""

    storage: Storage
    faults: Faults
    stats: Stats
    url: str
    upload_mode: str
    admin_routes: bool
    tree_page_size: int
    commits_page_size: int
    max_body_size: int
    secret: bytes
    log: bool

    def account(self, token: str) -> Account | None: ...


@dataclass(frozen=True)
class Params:
    """What the route table took from the URL. ``repo_id`` is validated before any route runs."""

    repo_type: str = "model"
    repo_id: str = ""
    rev: str = "main"
    path: str = ""


class Request(Protocol):
    """One HTTP request as a route answers it (``handler.HubHandler`` implements it)."""

    headers: Message
    command: str
    wfile: BufferedIOBase
    query: dict[str, list[str]]

    @property
    def hub(self) -> Hub: ...

    def body_chunks(self) -> Iterator[bytes]: ...

    def body(self) -> bytes: ...

    def send(
        self,
        status: int,
        doc: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> None: ...

    def send_stream_headers(self, status: int, *, length: int, headers: Mapping[str, str]) -> None:
        """Start a response whose ``length`` bytes the route then writes to ``wfile``."""
        ...

    def base_url(self) -> str: ...

    def account(self) -> Account | None: ...

    def repo(self, repo_type: str, repo_id: str, *, write: bool = False) -> RepoMeta: ...


def repo_url(req: Request, repo_type: str, repo_id: str) -> str:
    return f"{req.base_url()}/{URL_PREFIX[repo_type]}{repo_id}"


def flag(req: Request, name: str) -> bool:
    values = req.query.get(name) or []
    return bool(values) and values[-1].lower() in ("1", "true", "yes")
