"""The huggingface_hub client for one endpoint, configured per call, never per process.

Everything endpoint-specific is passed to the client (``HfApi(endpoint=..., token=...)``);
no ``huggingface_hub.constants`` value is changed, so two endpoints work side by side in one
process (threads included) and code around us sees huggingface_hub exactly as it set it up.

Offline mode (``HF_HUB_OFFLINE``) is respected as huggingface_hub respects it: it blocks
every request, the embedded Hub's included (see :func:`hf_custom.remote.require_online`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from hf_custom.remote.endpoint import Endpoint, require_running

#: huggingface_hub's warning when file objects make it skip Xet: that is what we asked for.
_LFS_FALLBACK_WARNING = "binary IO buffer is not supported by Xet"
_QUIET: ContextVar[bool] = ContextVar("hf_custom_remote_quiet", default=False)
_filter_installed = False


def hf_api(endpoint: Endpoint) -> Any:
    """An ``HfApi`` that talks to ``endpoint`` with its token (none: anonymous)."""
    from huggingface_hub import HfApi

    running = require_running(endpoint)
    return HfApi(endpoint=running.url, token=running.token or False, library_name="hf-custom")


class _DropOurFallbackWarning(logging.Filter):
    """Drops the Xet fallback warning only while :func:`lfs_without_xet_warning` is active."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (_QUIET.get() and _LFS_FALLBACK_WARNING in record.getMessage())


@contextmanager
def lfs_without_xet_warning() -> Iterator[None]:
    """While active (this thread/context only), huggingface_hub's "falling back to HTTP
    upload" warning is not shown: the library never prints, and LFS is what we chose."""
    global _filter_installed
    if not _filter_installed:  # one inert filter: it only acts inside this context manager
        logging.getLogger("huggingface_hub._commit_api").addFilter(_DropOurFallbackWarning())
        _filter_installed = True
    token = _QUIET.set(True)
    try:
        yield
    finally:
        _QUIET.reset(token)
