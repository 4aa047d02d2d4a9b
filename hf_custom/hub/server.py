"""The local Hub server object: accounts, fault injection, statistics, start/stop.

``HubServer(data_dir, tokens={...})`` serves the Hub's HTTP protocol (see ``handler.py``) on a
loopback port from a standard-library ``ThreadingHTTPServer``. Use it as a context manager, or
``start()`` (background thread) / ``serve_forever()`` (blocking) and ``stop()``.

Xet: huggingface_hub uploads every LFS file through Xet when ``hf_xet`` is importable, and this
server does not speak Xet. ``upload_mode="regular"`` answers ``uploadMode: "regular"`` to every
preupload request so that any client works (file contents then travel base64-encoded inside the
commit request, in memory on both sides: fine for models up to a few GB of RAM).
``upload_mode="lfs"`` applies the Hub's own rule (LFS for files of 10 MB and more, binary files
and ``.gitattributes`` LFS patterns, uploaded through the LFS batch API) and needs clients that
run with ``HF_HUB_DISABLE_XET=1``; a Xet client gets a 501 on ``xet-write-token`` (no silent
fallback in huggingface_hub; ``hf_custom.remote.upload`` retries such an upload through LFS).
The Python API defaults to ``"lfs"`` (tests, ``--endpoint local``: our own client turns Xet
off); ``hf-custom hub serve`` defaults to ``"regular"`` (stock clients, Xet on).
"""

from __future__ import annotations

import secrets
import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Literal

from hf_custom.hub.storage import Storage

UploadMode = Literal["lfs", "regular"]


@dataclass(frozen=True)
class Account:
    """Who a token belongs to. ``any_namespace`` lets the embedded Hub's owner write anywhere."""

    name: str
    orgs: tuple[str, ...] = ()
    write: bool = True
    any_namespace: bool = False

    def can_write(self, namespace: str) -> bool:
        return self.write and (
            self.any_namespace or namespace == self.name or namespace in self.orgs
        )

    def can_read(self, namespace: str) -> bool:
        return self.any_namespace or namespace == self.name or namespace in self.orgs


@dataclass
class Faults:
    """Failures to inject, each a count of the next requests it hits (tests set these).

    - ``commit_error``: the commit endpoint answers 500 without applying anything.
    - ``lfs_upload``: the large-file PUT is cut short, so the stored bytes fail verification (400).
    - ``stale_parent``: the commit endpoint answers 412 as if another commit had landed first.
    """

    commit_error: int = 0
    lfs_upload: int = 0
    stale_parent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, name: str) -> bool:
        with self._lock:
            left = getattr(self, name)
            if left > 0:
                setattr(self, name, left - 1)
                return True
            return False

    def clear(self) -> None:
        with self._lock:
            self.commit_error = self.lfs_upload = self.stale_parent = 0


@dataclass
class Stats:
    """Bytes of response bodies sent, in total and per (repo id, file path) for file downloads."""

    bytes_sent: int = 0
    requests: int = 0
    file_bytes: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, n: int, *, repo_id: str | None = None, path: str | None = None) -> None:
        with self._lock:
            self.bytes_sent += n
            if repo_id is not None and path is not None:
                self.file_bytes[(repo_id, path)] += n

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def reset(self) -> None:
        with self._lock:
            self.bytes_sent = 0
            self.requests = 0
            self.file_bytes.clear()


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    hub: HubServer


class HubServer:
    """A Hub-compatible server over a data directory. ``url`` is known once constructed."""

    def __init__(
        self,
        data_dir: Path,
        *,
        tokens: Mapping[str, Account],
        host: str = "127.0.0.1",
        port: int = 0,
        upload_mode: UploadMode = "lfs",
        admin_routes: bool = False,
        tree_page_size: int = 1000,
        commits_page_size: int = 50,
        log: bool = False,
    ) -> None:
        from hf_custom.hub.handler import HubHandler

        self.storage = Storage(Path(data_dir))
        self.data_dir = Path(data_dir)
        self.tokens = dict(tokens)
        self.upload_mode: UploadMode = upload_mode
        self.admin_routes = admin_routes
        self.tree_page_size = tree_page_size
        self.commits_page_size = commits_page_size
        self.log = log
        self.faults = Faults()
        self.stats = Stats()
        self.secret = secrets.token_bytes(32)  # signs the self-authorising LFS upload URLs
        self._httpd = _HTTPServer((host, port), HubHandler)
        self._httpd.hub = self
        self._thread: threading.Thread | None = None
        bound_host, bound_port = self._httpd.server_address[:2]
        shown = "127.0.0.1" if bound_host in ("0.0.0.0", "") else str(bound_host)
        self.url = f"http://{shown}:{bound_port}"

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def account(self, token: str) -> Account | None:
        return self.tokens.get(token)

    def start(self) -> HubServer:
        """Serve from a background (daemon) thread."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="hf-custom-hub", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until ``stop()`` or KeyboardInterrupt."""
        try:
            self._httpd.serve_forever()
        finally:
            self._httpd.server_close()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> HubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
