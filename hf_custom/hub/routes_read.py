"""Read routes of the local Hub: whoami, repo info, tree, paths-info, refs, commits, resolve."""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

from hf_custom.hub.protocol import (
    HubError,
    Params,
    Request,
    entry_not_found,
    flag,
    revision_not_found,
)
from hf_custom.hub.storage import CHUNK, Commit, Entry
from hf_custom.hub.validate import Body

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _etag(entry: Entry) -> str:
    return f'"{entry.sha256 if entry.lfs else entry.sha1}"'


def _tree_file(path: str, entry: Entry) -> dict[str, Any]:
    doc: dict[str, Any] = {"type": "file", "path": path, "oid": entry.blob_id, "size": entry.size}
    if entry.lfs:
        doc["lfs"] = {"oid": entry.sha256, "size": entry.size, "pointerSize": entry.pointer_size}
    return doc


def _tree_dir(path: str, commit: Commit) -> dict[str, Any]:
    oid = hashlib.sha1(f"tree {commit.id} {path}".encode()).hexdigest()
    return {"type": "directory", "path": path, "oid": oid}


def _directories(files: list[str]) -> set[str]:
    dirs: set[str] = set()
    for path in files:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    return dirs


def _page(req: Request, name: str) -> int:
    value = (req.query.get(name) or ["0"])[-1] or "0"
    if not value.isdigit():
        raise HubError(400, f"invalid request: query parameter {name!r} must be a number")
    return int(value)


def commit_at(req: Request, repo_type: str, repo_id: str, revision: str) -> Commit:
    commit = req.hub.storage.resolve(repo_type, repo_id, revision)
    if commit is None:
        raise revision_not_found(revision)
    return commit


def whoami(req: Request, p: Params) -> None:
    account = req.account()
    if account is None:
        raise HubError(401, "Invalid credentials in Authorization header")
    role = "write" if account.write else "read"
    req.send(
        200,
        {
            "type": "user",
            "name": account.name,
            "fullname": account.name,
            "orgs": [{"type": "org", "name": org} for org in account.orgs],
            "auth": {
                "type": "access_token",
                "accessToken": {"displayName": "local", "role": role},
            },
        },
    )


def repo_info(req: Request, p: Params) -> None:
    repo_type, repo_id, revision = p.repo_type, p.repo_id, p.rev
    meta = req.repo(repo_type, repo_id)
    commit = commit_at(req, repo_type, repo_id, revision)
    blobs = flag(req, "blobs")
    siblings = []
    for path in sorted(commit.files):
        sibling: dict[str, Any] = {"rfilename": path}
        if blobs:
            entry = commit.files[path]
            sibling.update(size=entry.size, blobId=entry.blob_id)
            if entry.lfs:
                sibling["lfs"] = {
                    "size": entry.size,
                    "sha256": entry.sha256,
                    "pointerSize": entry.pointer_size,
                }
        siblings.append(sibling)
    req.send(
        200,
        {
            "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
            "id": repo_id,
            "modelId": repo_id,
            "author": repo_id.split("/")[0],
            "sha": commit.id,
            "private": meta.private,
            "gated": False,
            "disabled": False,
            "createdAt": meta.created,
            "lastModified": commit.date,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
        },
    )


def _tree_entries(commit: Commit, path: str, recursive: bool) -> list[dict[str, Any]]:
    path = path.strip("/")
    files = sorted(commit.files)
    dirs = _directories(files)
    if path and path not in dirs:
        raise entry_not_found(path)
    prefix = f"{path}/" if path else ""
    out: list[dict[str, Any]] = []
    for d in sorted(dirs):
        if d.startswith(prefix) and (recursive or "/" not in d[len(prefix) :]):
            out.append(_tree_dir(d, commit))
    for f in files:
        if f.startswith(prefix) and (recursive or "/" not in f[len(prefix) :]):
            out.append(_tree_file(f, commit.files[f]))
    return out


def tree(req: Request, p: Params) -> None:
    repo_type, repo_id, revision, path = p.repo_type, p.repo_id, p.rev, p.path
    req.repo(repo_type, repo_id)
    commit = commit_at(req, repo_type, repo_id, revision)
    entries = _tree_entries(commit, path, flag(req, "recursive"))
    start = _page(req, "cursor")
    size = req.hub.tree_page_size
    page = entries[start : start + size]
    headers = {}
    if start + size < len(entries):
        params = {k: v[-1] for k, v in req.query.items()}
        params["cursor"] = str(start + size)
        base = f"{req.base_url()}/api/{repo_type}s/{repo_id}/tree/{quote(revision, safe='')}"
        link = f"{base}{'/' + quote(path, safe='') if path else ''}?{urlencode(params)}"
        headers["Link"] = f'<{link}>; rel="next"'
    req.send(200, page, headers=headers)


def paths_info(req: Request, p: Params) -> None:
    repo_type, repo_id, revision = p.repo_type, p.repo_id, p.rev
    raw = req.body()
    req.repo(repo_type, repo_id)
    commit = commit_at(req, repo_type, repo_id, revision)
    ctype = req.headers.get("Content-Type", "")
    if "json" in ctype:
        paths = Body.parse(raw).strings("paths")
    else:
        paths = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).get("paths", [])
    dirs = _directories(list(commit.files))
    out = []
    for path in paths:
        path = path.strip("/")
        if path in commit.files:
            out.append(_tree_file(path, commit.files[path]))
        elif path in dirs:
            out.append(_tree_dir(path, commit))
    req.send(200, out)


def list_refs(req: Request, p: Params) -> None:
    repo_type, repo_id = p.repo_type, p.repo_id
    req.repo(repo_type, repo_id)
    refs = req.hub.storage.refs(repo_type, repo_id)

    def info(ref: str, name: str) -> dict[str, str]:
        return {"name": name, "ref": ref, "targetCommit": refs[ref]}

    branches = [
        info(r, r[len("refs/heads/") :]) for r in sorted(refs) if r.startswith("refs/heads/")
    ]
    prs = sorted((r for r in refs if r.startswith("refs/pr/")), key=lambda r: int(r.split("/")[-1]))
    doc: dict[str, Any] = {"branches": branches, "converts": [], "tags": []}
    if flag(req, "include_prs"):
        doc["pullRequests"] = [info(r, r[len("refs/") :]) for r in prs]
    req.send(200, doc)


def list_commits(req: Request, p: Params) -> None:
    repo_type, repo_id, revision = p.repo_type, p.repo_id, p.rev
    req.repo(repo_type, repo_id)
    head = commit_at(req, repo_type, repo_id, revision)
    history = req.hub.storage.history(repo_type, repo_id, head)
    start = _page(req, "p")
    size = req.hub.commits_page_size
    page = history[start * size : (start + 1) * size]
    items = [
        {
            "id": c.id,
            "title": c.title,
            "message": c.message,
            "authors": [{"user": c.author, "avatar": None}],
            "date": c.date,
            "formatted": {"title": c.title, "message": c.message},
        }
        for c in page
    ]
    headers = {}
    if (start + 1) * size < len(history):
        params = {k: v[-1] for k, v in req.query.items()}
        params["p"] = str(start + 1)
        base = f"{req.base_url()}/api/{repo_type}s/{repo_id}/commits/{quote(revision, safe='')}"
        headers["Link"] = f'<{base}?{urlencode(params)}>; rel="next"'
    req.send(200, items, headers=headers)


def resolve_file(req: Request, p: Params) -> None:
    repo_type, repo_id, revision, path = p.repo_type, p.repo_id, p.rev, p.path
    req.repo(repo_type, repo_id)
    commit = commit_at(req, repo_type, repo_id, revision)
    entry = commit.files.get(path)
    if entry is None:
        raise entry_not_found(path)
    headers = {
        "X-Repo-Commit": commit.id,
        "ETag": _etag(entry),
        "Accept-Ranges": "bytes",
        "Content-Disposition": f"inline; filename*=UTF-8''{quote(path.rsplit('/', 1)[-1])}",
    }
    if entry.lfs:
        headers["X-Linked-Etag"] = _etag(entry)
        headers["X-Linked-Size"] = str(entry.size)
    start, end, status = 0, entry.size - 1, 200
    wanted = req.headers.get("Range")
    if wanted:
        match = _RANGE.match(wanted.strip().replace(" ", ""))
        if match is None or (not match.group(1) and not match.group(2)):
            raise HubError(416, f"unsupported Range: {wanted}")
        if match.group(1):
            start = int(match.group(1))
            end = min(int(match.group(2)), entry.size - 1) if match.group(2) else entry.size - 1
        else:
            start = max(entry.size - int(match.group(2)), 0)
        if start >= entry.size or start > end:
            req.send(416, {"error": "Range Not Satisfiable"},
                      headers={"Content-Range": f"bytes */{entry.size}"})  # fmt: skip
            return
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{entry.size}"
    length = max(end - start + 1, 0)
    req.send_stream_headers(status, length=length, headers=headers)
    if req.command == "HEAD" or length == 0:
        return
    with req.hub.storage.open_object(entry) as fh:
        fh.seek(start)
        left = length
        while left:
            chunk = fh.read(min(left, CHUNK))
            if not chunk:
                break
            req.wfile.write(chunk)
            left -= len(chunk)
            req.hub.stats.add(len(chunk), repo_id=repo_id, path=path)
