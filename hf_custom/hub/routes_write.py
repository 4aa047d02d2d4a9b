"""Write routes of the local Hub: repos, branches, preupload, LFS batch and PUT, commit, faults."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from hf_custom.hub import validate
from hf_custom.hub.protocol import HubError, Params, Request, flag, repo_url, revision_not_found
from hf_custom.hub.state import Account
from hf_custom.hub.storage import (
    LFS_THRESHOLD,
    Operation,
    Storage,
    StorageError,
    lfs_patterns,
    matches_lfs,
    validate_path,
)
from hf_custom.hub.validate import Body

UPLOAD_URL_TTL = 3600


def storage_error(exc: StorageError) -> HubError:
    if exc.kind == "not_found_entry":
        return HubError(404, exc.message, "EntryNotFound")
    if exc.kind == "not_found_revision":
        return HubError(404, exc.message, "RevisionNotFound")
    if exc.kind == "conflict":
        return HubError(409, exc.message)
    if exc.kind == "stale":
        return HubError(412, exc.message)
    return HubError(400, exc.message)


# -- repositories -----------------------------------------------------------------------------
def _repo_ref(doc: Body, account: Account | None) -> tuple[str, str, str]:
    """(type, id, namespace) of the repository a create/delete body names, validated."""
    repo_type = validate.repo_type(doc.str_("type"))
    namespace = doc.str_("organization") or (account.name if account else "")
    name = doc.str_("name", required=True) or ""
    return repo_type, validate.repo_id(namespace, name), namespace


def create_repo(req: Request, p: Params) -> None:
    doc = Body.parse(req.body())
    account = req.account()
    if account is None:
        raise HubError(401, "You must be authenticated to create a repository")
    repo_type, repo_id, namespace = _repo_ref(doc, account)
    url = repo_url(req, repo_type, repo_id)
    if not account.can_write(namespace):
        raise HubError(403, f"You don't have the rights to create a repository under {namespace}")
    private = doc.str_("visibility") == "private" or doc.bool_("private")
    try:
        req.hub.storage.create_repo(repo_type, repo_id, private=private, owner=account.name)
    except StorageError as exc:
        existing = req.hub.storage.get_repo(repo_type, repo_id)
        if exc.kind == "conflict" and existing is not None:
            # the client reads `url` from the 409 body with exist_ok=True
            req.send(409, {"error": exc.message, "url": url},
                     headers={"X-Error-Message": exc.message})  # fmt: skip
            return
        raise storage_error(exc) from None
    req.send(200, {"url": url, "name": repo_id, "id": repo_id})


def delete_repo(req: Request, p: Params) -> None:
    doc = Body.parse(req.body())
    repo_type, repo_id, _namespace = _repo_ref(doc, req.account())
    req.repo(repo_type, repo_id, write=True)
    req.hub.storage.delete_repo(repo_type, repo_id)
    req.send(200, {})


def branch(req: Request, p: Params) -> None:
    doc = Body.parse(req.body())
    req.repo(p.repo_type, p.repo_id, write=True)
    storage = req.hub.storage
    try:
        if req.command == "DELETE":
            storage.delete_branch(p.repo_type, p.repo_id, p.path)
        else:
            starting = doc.str_("startingPoint") or "main"
            start = storage.resolve(p.repo_type, p.repo_id, starting)
            if start is None:
                raise revision_not_found(starting)
            storage.create_branch(p.repo_type, p.repo_id, p.path, start=start)
    except StorageError as exc:
        raise storage_error(exc) from None
    req.send(200, {})


# -- uploads ----------------------------------------------------------------------------------
def preupload(req: Request, p: Params) -> None:
    doc = Body.parse(req.body())
    req.repo(p.repo_type, p.repo_id, write=True)
    commit = req.hub.storage.resolve(p.repo_type, p.repo_id, p.rev)
    if commit is None:
        raise revision_not_found(p.rev)
    patterns: list[str] = []
    attributes = commit.files.get(".gitattributes")
    if attributes is not None:
        with req.hub.storage.open_object(attributes) as fh:
            patterns = lfs_patterns(fh.read())
    answers = []
    for item in doc.objects("files"):
        path = item.str_("path", required=True) or ""
        size = item.int_("size", default=0) or 0
        try:
            sample = base64.b64decode(item.str_("sample") or "", validate=True)
        except (binascii.Error, ValueError):
            raise HubError(
                400, f"invalid request: field '{item.where}sample' is not base64"
            ) from None
        lfs = req.hub.upload_mode == "lfs" and (
            size >= LFS_THRESHOLD or b"\0" in sample or matches_lfs(path, patterns)
        )
        answer: dict[str, Any] = {
            "path": path,
            "uploadMode": "lfs" if lfs else "regular",
            "shouldIgnore": False,
        }
        existing = commit.files.get(path)
        if existing is not None:
            answer["oid"] = existing.sha256 if lfs else existing.sha1
        answers.append(answer)
    req.send(200, {"files": answers, "commitOid": commit.id})


def lfs_batch(req: Request, p: Params) -> None:
    doc = Body.parse(req.body())
    req.repo(p.repo_type, p.repo_id, write=True)
    if doc.str_("operation") != "upload":
        raise HubError(400, "only the upload operation is supported")
    objects = []
    expires = int(time.time()) + UPLOAD_URL_TTL
    for obj in doc.objects("objects"):
        oid, size = obj.str_("oid", required=True) or "", obj.int_("size", required=True) or 0
        out: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
        if len(oid) != 64:
            out["error"] = {"code": 422, "message": "invalid oid"}
        elif not req.hub.storage.has_object(oid, size):
            query = urlencode({"size": size, "exp": expires, "sig": _sign(req, oid, size, expires)})
            out["actions"] = {
                "upload": {
                    "href": f"{req.base_url()}/_lfs/{oid}?{query}",
                    "expires_in": UPLOAD_URL_TTL,
                }
            }
        objects.append(out)
    req.send(200, {"transfer": "basic", "objects": objects},
             content_type="application/vnd.git-lfs+json")  # fmt: skip


def _sign(req: Request, oid: str, size: int, expires: int) -> str:
    message = f"{oid}:{size}:{expires}".encode()
    return hmac.new(req.hub.secret, message, hashlib.sha256).hexdigest()


def lfs_put(req: Request, p: Params) -> None:
    """The upload URL authorises itself: the client sends no Authorization header here."""
    oid = p.path
    try:
        size = int(req.query["size"][-1])
        expires = int(req.query["exp"][-1])
        signature = req.query["sig"][-1]
    except (KeyError, ValueError, IndexError):
        raise HubError(403, "upload URL is not signed") from None
    good = hmac.compare_digest(signature, _sign(req, oid, size, expires))
    if not good or expires < time.time():
        raise HubError(403, "upload URL signature is invalid or expired")
    announced = req.headers.get("Content-Length")
    if announced is not None and announced.strip() != str(size):
        raise HubError(400, f"the upload URL is for {size} bytes, the request has {announced}")
    chunks = req.body_chunks()
    if req.hub.faults.take("lfs_upload"):
        chunks = _cut_short(chunks, size // 2)
    try:
        req.hub.storage.put_stream(chunks, size=size, expected_sha256=oid)
    except StorageError as exc:
        for _ in chunks:  # drain whatever is left of the body
            pass
        raise storage_error(exc) from None
    req.send(200, {})


def _commit_lines(raw: bytes) -> Iterator[tuple[int, str, Body]]:
    """(line number, key, value) of each ndjson line of a commit body, each validated."""
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        item = Body.parse(line, where=f"commit line {number}", empty_ok=False)
        key = item.str_("key", required=True) or ""
        yield number, key, item.object("value", required=True)


def _operation(storage: Storage, key: str, value: Body) -> Operation:
    path = (value.str_("path", required=True) or "").strip()
    if key == "deletedFolder":
        path = path.rstrip("/")
    if not validate_path(path):
        raise HubError(400, f"invalid path in commit: {path!r}")
    if key == "file":
        try:
            data = base64.b64decode(value.str_("content", default="") or "", validate=True)
        except (binascii.Error, ValueError):
            raise HubError(400, f"invalid base64 content for {path}") from None
        return Operation("add", path, storage.put_bytes(data))
    if key == "lfsFile":
        oid, size = value.str_("oid", required=True) or "", value.int_("size")
        if not storage.has_object(oid, size):
            raise HubError(422, f"LFS object {oid} for {path} was not uploaded")
        return Operation("add", path, storage.entry_for_object(oid, lfs=True))
    if key == "deletedFile":
        return Operation("delete_file", path)
    if key == "deletedFolder":
        return Operation("delete_folder", path)
    raise HubError(400, f"unknown commit operation: {key}")


def commit(req: Request, p: Params) -> None:
    raw = req.body()
    meta = req.repo(p.repo_type, p.repo_id, write=True)
    account = req.account()
    assert account is not None
    header: Body | None = None
    operations: list[Operation] = []
    storage = req.hub.storage
    for _number, key, value in _commit_lines(raw):
        if key == "header":
            header = value
        else:
            operations.append(_operation(storage, key, value))
    summary = (header.str_("summary") or "").strip() if header is not None else ""
    if header is None or not summary:
        raise HubError(400, "the commit needs a header with a summary")
    if req.hub.faults.take("commit_error"):
        raise HubError(500, "Internal Error (injected fault: the commit was not applied)")
    if req.hub.faults.take("stale_parent"):
        raise HubError(
            412, "A commit has happened since. Please refresh and try again. (injected fault)"
        )
    try:
        new, number = storage.commit(
            p.repo_type, p.repo_id, revision=p.rev, operations=operations,
            title=header.str_("summary") or "", message=header.str_("description") or "",
            author=account.name, parent_commit=header.str_("parentCommit"),
            create_pr=flag(req, "create_pr"),
        )  # fmt: skip
    except StorageError as exc:
        raise storage_error(exc) from None
    base = repo_url(req, meta.repo_type, p.repo_id)
    req.send(
        200,
        {
            "success": True,
            "commitOid": new.id,
            "commitUrl": f"{base}/commit/{new.id}",
            "pullRequestUrl": f"{base}/discussions/{number}" if number else None,
        },
    )


def set_faults(req: Request, p: Params) -> None:
    """Test-only route (``admin_routes=True``): ``{"commit_error": 1, ...}``."""
    doc = Body.parse(req.body())
    for name in ("commit_error", "lfs_upload", "stale_parent"):
        if doc.has(name):
            setattr(req.hub.faults, name, doc.int_(name))
    req.send(200, {})


def _cut_short(chunks: Any, limit: int) -> Any:
    """Pass on only the first ``limit`` bytes (then drain): a transfer broken midway."""
    sent = 0
    for chunk in chunks:
        if sent < limit:
            piece = chunk[: limit - sent]
            sent += len(piece)
            yield piece
