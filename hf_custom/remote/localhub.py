"""The embedded Hub's lifetime for ``--endpoint local``: an explicit context manager.

``with LocalHub() as endpoint:`` starts a :class:`hf_custom.hub.HubServer` over
:func:`local_hub_dir` on a free 127.0.0.1 port, with a random token that is never shown, and
stops it when the block ends. ``with connect(endpoint) as running:`` does that for a pending
endpoint (``resolve_endpoint("local", ...)``) and passes any other endpoint through, so a
command opens whatever it was given the same way. Nothing here registers ``atexit`` hooks or
keeps servers in module state: two blocks give two servers.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from hf_custom.remote.endpoint import Endpoint, local_hub_dir

if TYPE_CHECKING:  # pragma: no cover
    from hf_custom.hub import HubServer


class LocalHub:
    """The embedded Hub over ``data_dir`` (default :func:`local_hub_dir`) while in a ``with``."""

    def __init__(self, data_dir: Path | None = None) -> None:
        self.data_dir = data_dir
        self.server: HubServer | None = None

    def __enter__(self) -> Endpoint:
        from hf_custom.hub import Account, HubServer

        directory = (self.data_dir or local_hub_dir()).resolve()
        token = "hf_local_" + secrets.token_urlsafe(24)
        account = Account(name="local", any_namespace=True)
        self.server = HubServer(directory, tokens={token: account}, upload_mode="lfs").start()
        return Endpoint(url=self.server.url, token=token, local=True)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@contextmanager
def connect(endpoint: Endpoint, *, data_dir: Path | None = None) -> Iterator[Endpoint]:
    """A reachable endpoint for the block: the embedded Hub started for a pending one.

    Any other endpoint is yielded as it is (nothing is sent to check it).
    """
    if not endpoint.pending:
        yield endpoint
        return
    with LocalHub(data_dir) as running:
        yield running
