"""Read a remote repository cheaply: file list, small files, byte ranges (doctor on a repo id).

Requests go through huggingface_hub's shared session with the endpoint's own URL and token;
nothing process-wide is changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hf_custom.errors import RemoteError
from hf_custom.remote.endpoint import Endpoint, require_running
from hf_custom.remote.failures import map_error


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    lfs_sha256: str | None
    blob_id: str = ""


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
        self.endpoint = require_running(endpoint)
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
