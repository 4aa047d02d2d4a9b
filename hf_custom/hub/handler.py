"""HTTP plumbing of the local Hub: parse, authenticate, dispatch, answer.

The routes themselves live in ``routes_read.py`` and ``routes_write.py``. Paths are split on
``/`` first and each part unquoted after (huggingface_hub quotes revisions with ``safe=""``, so
``refs/pr/1`` arrives as ``refs%2Fpr%2F1``). Every request body is read before answering, even
an error: an unread body would be parsed as the next request on a keep-alive connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from hf_custom.hub.protocol import Hub, HubError, repo_not_found
from hf_custom.hub.routes import match
from hf_custom.hub.state import Account
from hf_custom.hub.storage import RepoMeta

# An unread body up to this size is drained before an early error answer (so the connection
# can be kept alive); a larger one is left unread and the connection closed.
_DRAIN_LIMIT = 1 << 20


class HubHandler(BaseHTTPRequestHandler):
    """Implements :class:`hf_custom.hub.protocol.Request` over ``http.server``."""

    protocol_version = "HTTP/1.1"
    server_version = "hf-custom-hub"

    # -- plumbing -----------------------------------------------------------------------------
    @property
    def hub(self) -> Hub:
        return self.server.hub  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        self._body_read = True
        self._body_limit: int | None = None
        self.query: dict[str, list[str]] = {}

    def log_message(self, format: str, *args: Any) -> None:
        if self.hub.log:
            super().log_message(format, *args)

    def content_length(self) -> int | None:
        """The announced body size (None: chunked); HubError 400 if it is not a number."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return None
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not raw.isdigit():
            raise HubError(400, f"invalid Content-Length: {raw[:40]!r}")
        return int(raw)

    def body_chunks(self) -> Iterator[bytes]:
        """The request body, streamed (Content-Length or chunked). Marks it consumed.

        Past the route's size limit the rest is left unread, the connection is closed and the
        answer is 413.
        """
        self._body_read = True
        limit, seen = self._body_limit, 0
        length = self.content_length()
        if length is not None:
            yield from self._read_exactly(length)
            return
        while True:
            size_line = self.rfile.readline(1024)
            try:
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                self.close_connection = True
                raise HubError(400, "malformed chunked request body") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return
            seen += size
            if limit is not None and seen > limit:
                self.close_connection = True
                raise _too_large(limit)
            yield from self._read_exactly(size)
            self.rfile.readline(1024)

    def _read_exactly(self, size: int) -> Iterator[bytes]:
        """``size`` bytes of the request body in chunks of at most 1 MB."""
        left = size
        while left:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                raise ConnectionError("client closed the connection mid-body")
            left -= len(chunk)
            yield chunk

    def body(self) -> bytes:
        return b"".join(self.body_chunks())

    def _discard_body(self) -> None:
        """Drain a small unread body; leave a large or malformed one and close the connection."""
        self._body_read = True
        try:
            length = self.content_length()
        except HubError:
            length = None
        if length is None or length > _DRAIN_LIMIT:
            self.close_connection = True
            return
        for _ in self._read_exactly(length):
            pass

    def send(
        self,
        status: int,
        doc: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> None:
        if not self._body_read:
            self._discard_body()  # never leave a body to be parsed as the next request
        payload = raw if raw is not None else json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
            self.hub.stats.add(len(payload))

    def send_stream_headers(self, status: int, *, length: int, headers: Mapping[str, str]) -> None:
        if not self._body_read:
            self._discard_body()
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()

    def base_url(self) -> str:
        host = self.headers.get("Host")
        return f"http://{host}" if host else self.hub.url

    # -- auth ---------------------------------------------------------------------------------
    def account(self) -> Account | None:
        auth = self.headers.get("Authorization", "")
        if not auth:
            return None
        scheme, _, token = auth.partition(" ")
        found = self.hub.account(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise HubError(401, "Invalid credentials in Authorization header")
        return found

    def repo(self, repo_type: str, repo_id: str, *, write: bool = False) -> RepoMeta:
        """The repository if this request may see it (and write to it with ``write``)."""
        account = self.account()
        meta = self.hub.storage.get_repo(repo_type, repo_id)
        namespace = repo_id.split("/")[0]
        if meta is None:
            raise repo_not_found(repo_id)
        if meta.private and (account is None or not account.can_read(namespace)):
            raise repo_not_found(repo_id)  # private repos are invisible to others
        if write:
            if account is None:
                raise HubError(401, "You must be authenticated to write to this repository")
            if not account.can_write(namespace):
                raise HubError(403, f"You don't have the rights to write to {repo_id}")
        return meta

    # -- dispatch -----------------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        self._body_read = False
        self._body_limit = None
        self.hub.stats.count_request()
        split = urlsplit(self.path)
        self.query = parse_qs(split.query, keep_blank_values=True)
        parts = (
            [unquote(p) for p in split.path.strip("/").split("/")] if split.path.strip("/") else []
        )
        try:
            self._handle(parts)
        except HubError as exc:
            headers = {"X-Error-Message": exc.message.encode("ascii", "replace").decode()}
            if exc.code:
                headers["X-Error-Code"] = exc.code
            self.send(exc.status, {"error": exc.message}, headers=headers)
        except (ConnectionError, BrokenPipeError):
            self.close_connection = True
        except Exception as exc:  # a bug in the server: answer 500, keep serving
            self.close_connection = True
            try:
                self.send(500, {"error": f"internal error: {type(exc).__name__}"})
            except OSError:
                pass
            if self.hub.log:
                raise

    def _handle(self, parts: list[str]) -> None:
        """Route, then check what needs no body (auth, size) before the route reads it."""
        route, params = match(self.command, parts, admin=self.hub.admin_routes)
        account = self.account()  # a bad token is refused before any body is read
        if route.write and account is None:
            raise HubError(401, "You must be authenticated to do this")
        if not route.streamed:
            limit = self.hub.max_body_size
            length = self.content_length()
            if length is not None and length > limit:
                raise _too_large(limit)
            self._body_limit = limit
        route.handler(self, params)


def _too_large(limit: int) -> HubError:
    return HubError(
        413,
        f"request body larger than this server accepts ({limit} bytes): start it with a "
        "larger --max-body-size, or upload large files through LFS",
    )
