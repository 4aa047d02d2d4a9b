"""Write routes of the local Hub: repos, branches, preupload, LFS batch and PUT, commit, faults."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

from hf_custom.hub.protocol import (
    HubError,
    RouteBase,
    entry_not_found,
    repo_not_found,
    revision_not_found,
)
from hf_custom.hub.storage import (
    LFS_THRESHOLD,
    Operation,
    StorageError,
    lfs_patterns,
    matches_lfs,
    validate_path,
    validate_repo_id,
)

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


class WriteRoutes(RouteBase):
    # -- repositories -------------------------------------------------------------------------
    def create_repo(self) -> None:
        doc = self.json_body()
        account = self.account()
        if account is None:
            raise HubError(401, "You must be authenticated to create a repository")
        repo_type = doc.get("type") or "model"
        if repo_type not in ("model", "dataset", "space"):
            raise HubError(400, f"invalid repo type: {repo_type}")
        namespace = doc.get("organization") or account.name
        repo_id = f"{namespace}/{doc.get('name', '')}"
        if not validate_repo_id(repo_id):
            raise HubError(400, f"invalid repository id: {repo_id!r}")
        url = self.repo_url(repo_type, repo_id)
        if not account.can_write(namespace):
            raise HubError(
                403, f"You don't have the rights to create a repository under {namespace}"
            )
        private = doc.get("visibility") == "private" or bool(doc.get("private"))
        try:
            self.hub.storage.create_repo(repo_type, repo_id, private=private, owner=account.name)
        except StorageError as exc:
            existing = self.hub.storage.get_repo(repo_type, repo_id)
            if exc.kind == "conflict" and existing is not None:
                # the client reads `url` from the 409 body with exist_ok=True
                self.send(409, {"error": exc.message, "url": url},
                          headers={"X-Error-Message": exc.message})  # fmt: skip
                return
            raise storage_error(exc) from None
        self.send(200, {"url": url, "name": repo_id, "id": repo_id})

    def delete_repo(self) -> None:
        doc = self.json_body()
        repo_type = doc.get("type") or "model"
        account = self.account()
        namespace = doc.get("organization") or (account.name if account else "")
        repo_id = f"{namespace}/{doc.get('name', '')}"
        self.repo(repo_type, repo_id, write=True)
        self.hub.storage.delete_repo(repo_type, repo_id)
        self.send(200, {})

    def branch(self, method: str, repo_type: str, repo_id: str, branch: str) -> None:
        doc = self.json_body()
        self.repo(repo_type, repo_id, write=True)
        storage = self.hub.storage
        try:
            if method == "DELETE":
                storage.delete_branch(repo_type, repo_id, branch)
            else:
                start = storage.resolve(repo_type, repo_id, doc.get("startingPoint") or "main")
                if start is None:
                    raise revision_not_found(doc.get("startingPoint") or "main")
                storage.create_branch(repo_type, repo_id, branch, start=start)
        except StorageError as exc:
            raise storage_error(exc) from None
        self.send(200, {})

    # -- uploads ------------------------------------------------------------------------------
    def preupload(self, repo_type: str, repo_id: str, revision: str) -> None:
        doc = self.json_body()
        self.repo(repo_type, repo_id, write=True)
        commit = self.hub.storage.resolve(repo_type, repo_id, revision)
        if commit is None:
            raise revision_not_found(revision)
        patterns: list[str] = []
        attributes = commit.files.get(".gitattributes")
        if attributes is not None:
            with self.hub.storage.open_object(attributes) as fh:
                patterns = lfs_patterns(fh.read())
        answers = []
        for item in doc.get("files") or []:
            path = str(item.get("path", ""))
            size = int(item.get("size") or 0)
            sample = base64.b64decode(item.get("sample") or "")
            lfs = self.hub.upload_mode == "lfs" and (
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
        self.send(200, {"files": answers, "commitOid": commit.id})

    def lfs_batch(self, repo_type: str, repo_id: str) -> None:
        doc = self.json_body()
        self.repo(repo_type, repo_id, write=True)
        if doc.get("operation") != "upload":
            raise HubError(400, "only the upload operation is supported")
        objects = []
        expires = int(time.time()) + UPLOAD_URL_TTL
        for obj in doc.get("objects") or []:
            oid, size = str(obj.get("oid", "")), int(obj.get("size", -1))
            out: dict[str, Any] = {"oid": oid, "size": size, "authenticated": True}
            if len(oid) != 64 or size < 0:
                out["error"] = {"code": 422, "message": "invalid oid or size"}
            elif not self.hub.storage.has_object(oid, size):
                query = urlencode(
                    {"size": size, "exp": expires, "sig": self._sign(oid, size, expires)}
                )
                out["actions"] = {
                    "upload": {
                        "href": f"{self.base_url()}/_lfs/{oid}?{query}",
                        "expires_in": UPLOAD_URL_TTL,
                    }
                }
            objects.append(out)
        self.send(200, {"transfer": "basic", "objects": objects},
                  content_type="application/vnd.git-lfs+json")  # fmt: skip

    def _sign(self, oid: str, size: int, expires: int) -> str:
        message = f"{oid}:{size}:{expires}".encode()
        return hmac.new(self.hub.secret, message, hashlib.sha256).hexdigest()

    def lfs_put(self, oid: str) -> None:
        """The upload URL authorises itself: the client sends no Authorization header here."""
        try:
            size = int(self.query["size"][-1])
            expires = int(self.query["exp"][-1])
            signature = self.query["sig"][-1]
        except (KeyError, ValueError, IndexError):
            raise HubError(403, "upload URL is not signed") from None
        good = hmac.compare_digest(signature, self._sign(oid, size, expires))
        if not good or expires < time.time():
            raise HubError(403, "upload URL signature is invalid or expired")
        chunks = self._body_chunks()
        if self.hub.faults.take("lfs_upload"):
            chunks = _cut_short(chunks, size // 2)
        try:
            self.hub.storage.put_stream(chunks, size=size, expected_sha256=oid)
        except StorageError as exc:
            for _ in chunks:  # drain whatever is left of the body
                pass
            raise storage_error(exc) from None
        self.send(200, {})

    def commit(self, repo_type: str, repo_id: str, revision: str) -> None:
        raw = self.body()
        meta = self.repo(repo_type, repo_id, write=True)
        account = self.account()
        assert account is not None
        header: dict[str, Any] | None = None
        operations: list[Operation] = []
        storage = self.hub.storage
        for line in raw.splitlines():
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                key, value = item["key"], item["value"]
            except (ValueError, KeyError, TypeError):
                raise HubError(400, "malformed commit payload (expected ndjson)") from None
            if key == "header":
                header = value
                continue
            path = str(value.get("path", "")).strip()
            if key == "deletedFolder":
                path = path.rstrip("/")
            if not validate_path(path):
                raise HubError(400, f"invalid path in commit: {path!r}")
            if key == "file":
                try:
                    data = base64.b64decode(value.get("content", ""), validate=True)
                except binascii.Error:
                    raise HubError(400, f"invalid base64 content for {path}") from None
                operations.append(Operation("add", path, storage.put_bytes(data)))
            elif key == "lfsFile":
                oid, size = str(value.get("oid", "")), value.get("size")
                if not storage.has_object(oid, size if isinstance(size, int) else None):
                    raise HubError(422, f"LFS object {oid} for {path} was not uploaded")
                operations.append(Operation("add", path, storage.entry_for_object(oid, lfs=True)))
            elif key == "deletedFile":
                operations.append(Operation("delete_file", path))
            elif key == "deletedFolder":
                operations.append(Operation("delete_folder", path))
            else:
                raise HubError(400, f"unknown commit operation: {key}")
        if header is None or not str(header.get("summary", "")).strip():
            raise HubError(400, "the commit needs a header with a summary")
        if self.hub.faults.take("commit_error"):
            raise HubError(500, "Internal Error (injected fault: the commit was not applied)")
        if self.hub.faults.take("stale_parent"):
            raise HubError(
                412, "A commit has happened since. Please refresh and try again. (injected fault)"
            )
        create_pr = self.flag("create_pr")
        try:
            new, number = storage.commit(
                repo_type, repo_id, revision=revision, operations=operations,
                title=str(header["summary"]), message=str(header.get("description") or ""),
                author=account.name, parent_commit=header.get("parentCommit"), create_pr=create_pr,
            )  # fmt: skip
        except StorageError as exc:
            raise storage_error(exc) from None
        base = self.repo_url(meta.repo_type, repo_id)
        self.send(
            200,
            {
                "success": True,
                "commitOid": new.id,
                "commitUrl": f"{base}/commit/{new.id}",
                "pullRequestUrl": f"{base}/discussions/{number}" if number else None,
            },
        )

    def set_faults(self) -> None:
        """Test-only route (``admin_routes=True``): ``{"commit_error": 1, ...}``."""
        doc = self.json_body()
        for name in ("commit_error", "lfs_upload", "stale_parent"):
            if name in doc:
                setattr(self.hub.faults, name, int(doc[name]))
        self.send(200, {})


def _cut_short(chunks: Any, limit: int) -> Any:
    """Pass on only the first ``limit`` bytes (then drain): a transfer broken midway."""
    sent = 0
    for chunk in chunks:
        if sent < limit:
            piece = chunk[: limit - sent]
            sent += len(piece)
            yield piece


__all__ = ["WriteRoutes", "entry_not_found", "repo_not_found"]
