"""HTTP plumbing of the local Hub: parse, authenticate, dispatch, answer.

The routes themselves live in ``routes_read.py`` and ``routes_write.py``. Paths are split on
``/`` first and each part unquoted after (huggingface_hub quotes revisions with ``safe=""``, so
``refs/pr/1`` arrives as ``refs%2Fpr%2F1``). Every request body is read before answering, even
an error: an unread body would be parsed as the next request on a keep-alive connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from hf_custom.hub.protocol import REPO_TYPES, HubError, repo_not_found
from hf_custom.hub.routes_read import ReadRoutes
from hf_custom.hub.routes_write import WriteRoutes
from hf_custom.hub.storage import RepoMeta

if TYPE_CHECKING:
    from hf_custom.hub.server import Account, HubServer


class HubHandler(ReadRoutes, WriteRoutes, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hf-custom-hub"

    # -- plumbing -----------------------------------------------------------------------------
    @property
    def hub(self) -> HubServer:
        return self.server.hub  # type: ignore[attr-defined]

    def setup(self) -> None:
        super().setup()
        self._body_read = True
        self.query = {}

    def log_message(self, format: str, *args: Any) -> None:
        if self.hub.log:
            super().log_message(format, *args)

    def _body_chunks(self) -> Iterator[bytes]:
        """The request body, streamed (Content-Length or chunked). Marks it consumed."""
        self._body_read = True
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size_line = self.rfile.readline(1024)
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                yield from self._read_exactly(size)
                self.rfile.readline(1024)
        else:
            yield from self._read_exactly(int(self.headers.get("Content-Length") or 0))

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
        return b"".join(self._body_chunks())

    def json_body(self) -> Any:
        raw = self.body()
        try:
            return json.loads(raw or b"{}")
        except ValueError as exc:
            raise HubError(400, f"invalid JSON body: {exc}") from None

    def send(
        self,
        status: int,
        doc: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> None:
        if not self._body_read:
            for _ in self._body_chunks():  # never leave a body to be parsed as a request
                pass
        payload = raw if raw is not None else json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
            self.hub.stats.add(len(payload))

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
        self.hub.stats.count_request()
        split = urlsplit(self.path)
        self.query = parse_qs(split.query, keep_blank_values=True)
        parts = (
            [unquote(p) for p in split.path.strip("/").split("/")] if split.path.strip("/") else []
        )
        try:
            self._route(self.command, parts)
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
                self.send(500, {"error": f"internal error: {type(exc).__name__}: {exc}"})
            except OSError:
                pass
            if self.hub.log:
                raise

    def _route(self, method: str, parts: list[str]) -> None:
        if parts[:1] == ["api"]:
            rest = parts[1:]
            if rest == ["whoami-v2"] and method == "GET":
                return self.whoami()
            if rest == ["repos", "create"] and method == "POST":
                return self.create_repo()
            if rest == ["repos", "delete"] and method == "DELETE":
                return self.delete_repo()
            if rest == ["agent-harnesses"] and method == "GET":  # the client's telemetry registry
                return self.send(200, {"standardEnvVars": [], "harnesses": {}})
            if rest == ["validate-yaml"] and method == "POST":
                self.body()
                return self.send(200, {"errors": [], "warnings": []})
            if len(rest) >= 3 and rest[0] in REPO_TYPES:
                repo_type, repo_id, tail = REPO_TYPES[rest[0]], f"{rest[1]}/{rest[2]}", rest[3:]
                return self._repo_route(method, repo_type, repo_id, tail)
        elif parts[:1] == ["_lfs"] and len(parts) == 2 and method == "PUT":
            return self.lfs_put(parts[1])
        elif parts[:2] == ["_admin", "faults"] and method == "POST" and self.hub.admin_routes:
            return self.set_faults()
        else:
            repo_type = "model"
            if parts[:1] in (["datasets"], ["spaces"]):
                repo_type, parts = REPO_TYPES[parts[0]], parts[1:]
            if len(parts) == 6 and parts[1].endswith(".git") and parts[2:] == [
                "info", "lfs", "objects", "batch"
            ] and method == "POST":  # fmt: skip
                return self.lfs_batch(repo_type, f"{parts[0]}/{parts[1][:-4]}")
            if len(parts) >= 5 and parts[2] == "resolve" and method in ("GET", "HEAD"):
                return self.resolve_file(
                    repo_type, f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:])
                )
        raise HubError(404, f"no route for {method} {self.path.split('?')[0]}")

    def _repo_route(self, method: str, repo_type: str, repo_id: str, tail: list[str]) -> None:
        op = tail[0] if tail else ""
        rev = tail[1] if len(tail) > 1 else "main"
        if method == "GET" and not tail:
            return self.repo_info(repo_type, repo_id, "main")
        if method == "GET" and op == "revision" and len(tail) == 2:
            return self.repo_info(repo_type, repo_id, rev)
        if method == "GET" and op == "tree" and len(tail) >= 2:
            return self.tree(repo_type, repo_id, rev, "/".join(tail[2:]))
        if method == "POST" and op == "paths-info" and len(tail) == 2:
            return self.paths_info(repo_type, repo_id, rev)
        if method == "GET" and op == "refs" and len(tail) == 1:
            return self.list_refs(repo_type, repo_id)
        if method == "GET" and op == "commits" and len(tail) == 2:
            return self.list_commits(repo_type, repo_id, rev)
        if op == "branch" and len(tail) >= 2 and method in ("POST", "DELETE"):
            return self.branch(method, repo_type, repo_id, "/".join(tail[1:]))
        if method == "POST" and op == "preupload" and len(tail) == 2:
            return self.preupload(repo_type, repo_id, rev)
        if method == "POST" and op == "commit" and len(tail) == 2:
            return self.commit(repo_type, repo_id, rev)
        if op in ("xet-write-token", "xet-read-token"):
            self.repo(repo_type, repo_id)
            raise HubError(
                501,
                "this Hub-compatible server does not speak Xet: run the client with "
                "HF_HUB_DISABLE_XET=1, or start the server with --upload-mode regular",
            )
        raise HubError(404, f"no route for {method} {self.path.split('?')[0]}")
