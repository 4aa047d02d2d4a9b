"""The only code that talks to the network, in five parts.

- :mod:`~hf_custom.remote.endpoint`: endpoint and token resolution (``resolve_endpoint``),
  pure: it starts nothing and sends nothing. ``"local"`` is a pending endpoint.
- :mod:`~hf_custom.remote.localhub`: the embedded Hub's lifetime, an explicit context manager
  (``with connect(endpoint) as running:`` / ``with LocalHub() as running:``), its data under
  ``local_hub_dir()`` (``$HF_HOME/hf-custom/hub``), a random token that is never shown.
- :mod:`~hf_custom.remote.upload`: ``upload()``, one atomic commit of a folder.
- :mod:`~hf_custom.remote.reading`: ``RemoteRepo``, cheap reads of a remote repository.
- :mod:`~hf_custom.remote.code`: ``code_fetcher``, another repository's ``.py`` files into a
  Hugging Face cache folder (verification of auto_map ``org/repo--module.Class`` values).

The client gets the endpoint and token per call (:mod:`~hf_custom.remote.client`); no
``huggingface_hub.constants`` value is ever changed. Tokens are never printed, logged or put in
an error message (:mod:`~hf_custom.remote.failures` scrubs server text).
"""

from __future__ import annotations

from hf_custom.remote.endpoint import (
    DEFAULT_ENDPOINT,
    LOCAL,
    Endpoint,
    local_hub_dir,
    require_online,
    resolve_endpoint,
)
from hf_custom.remote.failures import map_error
from hf_custom.remote.localhub import LocalHub, connect
from hf_custom.remote.reading import RemoteFile, RemoteRepo
from hf_custom.remote.upload import KEEP_ON_REPLACE, SKIP_DIRS, UploadResult, upload

__all__ = [
    "DEFAULT_ENDPOINT",
    "KEEP_ON_REPLACE",
    "LOCAL",
    "SKIP_DIRS",
    "Endpoint",
    "LocalHub",
    "RemoteFile",
    "RemoteRepo",
    "UploadResult",
    "connect",
    "local_hub_dir",
    "map_error",
    "require_online",
    "resolve_endpoint",
    "upload",
]
