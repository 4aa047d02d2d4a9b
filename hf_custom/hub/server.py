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
from collections.abc import Mapping
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Literal

from hf_custom.hub.handler import HubHandler
from hf_custom.hub.state import Account, Faults, Stats
from hf_custom.hub.storage import Storage

UploadMode = Literal["lfs", "regular"]
# Largest request body read (LFS uploads excepted: their signed URL bounds them). Regular-mode
# commits carry file contents base64-encoded, so this bounds a regular-mode upload's size.
DEFAULT_MAX_BODY = 4 * 1024**3

__all__ = ["DEFAULT_MAX_BODY", "Account", "Faults", "HubServer", "Stats", "UploadMode"]


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
        max_body_size: int = DEFAULT_MAX_BODY,
    ) -> None:
        self.storage = Storage(Path(data_dir))
        self.swept = self.storage.sweep_tmp()  # partial writes a crash left behind
        self.data_dir = Path(data_dir)
        self.tokens = dict(tokens)
        self.upload_mode: UploadMode = upload_mode
        self.admin_routes = admin_routes
        self.tree_page_size = tree_page_size
        self.commits_page_size = commits_page_size
        self.log = log
        self.max_body_size = max_body_size
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
