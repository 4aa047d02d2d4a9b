"""The local Hub's route table: every route, its method, URL pattern and what it needs.

A pattern is a tuple of path segments (the path is split on ``/`` first, each part unquoted
after). Placeholders: ``{t}`` a repo type in the API's plural (``models``...), ``{tp}`` the
type prefix of a git-style URL (``datasets``, ``spaces``; absent for models), ``{ns}`` and
``{name}`` (or ``{name.git}``) the repository, ``{rev}`` a revision, ``{path}`` one segment,
``{path*}`` / ``{path+}`` the rest (possibly empty / at least one segment). :func:`match`
validates the repository id for every route at once: a route never sees an invalid one.

To add a route: write ``def route(req: Request, p: Params) -> None`` in ``routes_read.py`` or
``routes_write.py`` and add one :class:`Route` line below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hf_custom.hub import routes_read as read
from hf_custom.hub import routes_write as write
from hf_custom.hub.protocol import REPO_TYPES, HubError, Params, Request, repo_not_found
from hf_custom.hub.storage import validate_repo_id

Handler = Callable[[Request, Params], None]
_TYPE_PREFIXES = {"datasets": "dataset", "spaces": "space"}


def _agent_harnesses(req: Request, p: Params) -> None:  # the client's telemetry registry
    req.send(200, {"standardEnvVars": [], "harnesses": {}})


def _validate_yaml(req: Request, p: Params) -> None:
    req.body()  # the client parses the answer as JSON whatever the status: always answer JSON
    req.send(200, {"errors": [], "warnings": []})


def _xet(req: Request, p: Params) -> None:
    req.repo(p.repo_type, p.repo_id)
    raise HubError(
        501,
        "this Hub-compatible server does not speak Xet: run the client with "
        "HF_HUB_DISABLE_XET=1, or start the server with --upload-mode regular",
    )


@dataclass(frozen=True)
class Route:
    """``write``: an authenticated account is required before the body is read. ``streamed``:
    the body is not bound by the server's maximum body size (the LFS PUT, bound by the size its
    signed URL names). ``admin``: served only with ``admin_routes=True``."""

    methods: tuple[str, ...]
    pattern: tuple[str, ...]
    handler: Handler
    write: bool = False
    streamed: bool = False
    admin: bool = False


_REPO = ("api", "{t}", "{ns}", "{name}")
ROUTES: tuple[Route, ...] = (
    Route(("GET",), ("api", "whoami-v2"), read.whoami),
    Route(("POST",), ("api", "repos", "create"), write.create_repo, write=True),
    Route(("DELETE",), ("api", "repos", "delete"), write.delete_repo, write=True),
    Route(("GET",), ("api", "agent-harnesses"), _agent_harnesses),
    Route(("POST",), ("api", "validate-yaml"), _validate_yaml),
    Route(("GET",), _REPO, read.repo_info),
    Route(("GET",), (*_REPO, "revision", "{rev}"), read.repo_info),
    Route(("GET",), (*_REPO, "tree", "{rev}", "{path*}"), read.tree),
    Route(("POST",), (*_REPO, "paths-info", "{rev}"), read.paths_info),
    Route(("GET",), (*_REPO, "refs"), read.list_refs),
    Route(("GET",), (*_REPO, "commits", "{rev}"), read.list_commits),
    Route(("POST", "DELETE"), (*_REPO, "branch", "{path+}"), write.branch, write=True),
    Route(("POST",), (*_REPO, "preupload", "{rev}"), write.preupload, write=True),
    Route(("POST",), (*_REPO, "commit", "{rev}"), write.commit, write=True),
    Route(("GET", "POST"), (*_REPO, "xet-write-token", "{path*}"), _xet),
    Route(("GET", "POST"), (*_REPO, "xet-read-token", "{path*}"), _xet),
    Route(("PUT",), ("_lfs", "{path}"), write.lfs_put, streamed=True),
    Route(("POST",), ("_admin", "faults"), write.set_faults, admin=True),
    Route(
        ("POST",),
        ("{tp}", "{ns}", "{name.git}", "info", "lfs", "objects", "batch"),
        write.lfs_batch,
        write=True,
    ),
    Route(
        ("POST",),
        ("{ns}", "{name.git}", "info", "lfs", "objects", "batch"),
        write.lfs_batch,
        write=True,
    ),
    Route(
        ("GET", "HEAD"),
        ("{tp}", "{ns}", "{name}", "resolve", "{rev}", "{path+}"),
        read.resolve_file,
    ),
    Route(("GET", "HEAD"), ("{ns}", "{name}", "resolve", "{rev}", "{path+}"), read.resolve_file),
)


def _bind(pattern: Sequence[str], parts: Sequence[str]) -> dict[str, str] | None:
    """The placeholders' values if ``parts`` fits ``pattern``, else None."""
    found: dict[str, str] = {}
    for i, token in enumerate(pattern):
        if token in ("{path*}", "{path+}"):
            rest = parts[i:]
            if token == "{path+}" and not rest:
                return None
            found["path"] = "/".join(rest)
            return found
        if i >= len(parts):
            return None
        part = parts[i]
        if token == "{t}":
            if part not in REPO_TYPES:
                return None
            found["type"] = REPO_TYPES[part]
        elif token == "{tp}":
            if part not in _TYPE_PREFIXES:
                return None
            found["type"] = _TYPE_PREFIXES[part]
        elif token == "{name.git}":
            if not part.endswith(".git"):
                return None
            found["name"] = part[: -len(".git")]
        elif token.startswith("{"):
            found[token[1:-1]] = part
        elif token != part:
            return None
    return found if len(parts) == len(pattern) else None


def match(method: str, parts: Sequence[str], *, admin: bool = False) -> tuple[Route, Params]:
    """The route for ``method`` on ``parts`` and its parameters; HubError 404 if none."""
    for route in ROUTES:
        if method not in route.methods or (route.admin and not admin):
            continue
        bound = _bind(route.pattern, parts)
        if bound is None:
            continue
        repo_id = ""
        if "ns" in bound:
            repo_id = f"{bound['ns']}/{bound['name']}"
            if not validate_repo_id(repo_id):
                raise repo_not_found(repo_id)
        params = Params(
            repo_type=bound.get("type", "model"),
            repo_id=repo_id,
            rev=bound.get("rev", "main"),
            path=bound.get("path", ""),
        )
        return route, params
    raise HubError(404, f"no route for {method} /{'/'.join(parts)}")
