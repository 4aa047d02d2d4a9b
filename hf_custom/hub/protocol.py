"""Shared pieces of the local Hub's HTTP layer: errors, names, and the base of the route mixins."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import Message
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hf_custom.hub.server import Account, HubServer
    from hf_custom.hub.storage import RepoMeta

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


class RouteBase:
    """What the route mixins use from the request handler (implemented in ``handler.py``)."""

    headers: Message
    command: str
    wfile: Any
    query: dict[str, list[str]]

    @property
    def hub(self) -> HubServer:
        raise NotImplementedError

    def _body_chunks(self) -> Iterator[bytes]:
        raise NotImplementedError

    def body(self) -> bytes:
        raise NotImplementedError

    def json_body(self) -> Any:
        raise NotImplementedError

    def send(
        self,
        status: int,
        doc: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> None:
        raise NotImplementedError

    def base_url(self) -> str:
        raise NotImplementedError

    def account(self) -> Account | None:
        raise NotImplementedError

    def repo(self, repo_type: str, repo_id: str, *, write: bool = False) -> RepoMeta:
        raise NotImplementedError

    def repo_url(self, repo_type: str, repo_id: str) -> str:
        return f"{self.base_url()}/{URL_PREFIX[repo_type]}{repo_id}"

    def flag(self, name: str) -> bool:
        values = self.query.get(name) or []
        return bool(values) and values[-1].lower() in ("1", "true", "yes")
