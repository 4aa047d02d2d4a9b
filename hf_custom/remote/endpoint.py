"""Endpoint and token resolution: pure, it starts nothing and sends nothing.

``resolve_endpoint`` reads the environment at call time only: an explicit value, else
``HF_ENDPOINT`` / ``HF_TOKEN``, else the token stored by ``hf auth login``. ``"local"`` resolves
to a *pending* :class:`Endpoint` for the embedded Hub: it has no URL until
:func:`hf_custom.remote.localhub.connect` starts the server for the duration of a ``with``
block.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from hf_custom.errors import InputError, RemoteError

DEFAULT_ENDPOINT = "https://huggingface.co"
LOCAL = "local"


@dataclass(frozen=True)
class Endpoint:
    """Where to talk to. ``token`` is hidden from ``repr`` (and never logged).

    ``local`` marks the embedded Hub. Its ``url`` is :data:`LOCAL` until the server runs
    (``pending``); :func:`hf_custom.remote.connect` gives the running one.
    """

    url: str
    token: str | None = field(default=None, repr=False)
    local: bool = False

    @property
    def pending(self) -> bool:
        """The embedded Hub, not started yet: nothing can be sent to it."""
        return self.url == LOCAL


def local_hub_dir() -> Path:
    """Where ``--endpoint local`` keeps its repositories: ``$HF_HOME/hf-custom/hub``."""
    home = os.environ.get("HF_HOME")
    if not home:
        cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        home = str(Path(cache) / "huggingface")
    return Path(home).expanduser() / "hf-custom" / "hub"


def _stored_token() -> str | None:
    path = os.environ.get("HF_TOKEN_PATH")
    if not path and os.environ.get("HF_HOME"):
        path = str(Path(os.environ["HF_HOME"]) / "token")
    if path and Path(path).is_file():
        text = Path(path).read_text(encoding="utf-8").strip()
        if text:
            return text
    from huggingface_hub import get_token

    return get_token()


def resolve_endpoint(endpoint: str | None, token: str | None) -> Endpoint:
    """Explicit values first, then ``HF_ENDPOINT`` / ``HF_TOKEN``, then ``hf auth login``'s token.

    ``"local"`` gives a pending endpoint (``Endpoint.pending``): no server is started here.

    Raises:
        InputError: the endpoint is neither ``local`` nor an http(s) URL.
    """
    url = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).strip()
    if url == LOCAL:
        return Endpoint(url=LOCAL, token=None, local=True)
    if not url.startswith(("http://", "https://")):
        raise InputError(
            f"endpoint {url!r} is not a URL",
            hint="pass --endpoint https://huggingface.co, another http(s) URL, or --endpoint local",
        )
    resolved = token or os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    return Endpoint(url=url.rstrip("/"), token=resolved or _stored_token())


def offline_error(endpoint: Endpoint, *, action: str, alternative: str = "") -> RemoteError:
    """The error for a request that huggingface_hub's offline mode (HF_HUB_OFFLINE) blocks.

    ``alternative``: what else the command could do, added to the hint.
    """
    if endpoint.local:
        message = (
            f"{action} needs the embedded Hub, but HF_HUB_OFFLINE is set: huggingface_hub "
            "sends no request then, not even to 127.0.0.1"
        )
        hint = "run the command with HF_HUB_OFFLINE=0 (the embedded Hub listens on 127.0.0.1 only)"
    else:
        message = f"{action} needs the network but HF_HUB_OFFLINE is set"
        hint = "unset HF_HUB_OFFLINE"
    return RemoteError(message, hint=f"{hint}, or {alternative}" if alternative else hint)


def require_online(endpoint: Endpoint, *, action: str, alternative: str = "") -> None:
    """Fail early, before any work, when huggingface_hub is in offline mode (it only reads).

    Raises:
        RemoteError: HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set.
    """
    from huggingface_hub import constants

    if constants.is_offline_mode():
        raise offline_error(endpoint, action=action, alternative=alternative)


def require_running(endpoint: Endpoint) -> Endpoint:
    """``endpoint`` itself, unless it is the embedded Hub not started (a caller's bug)."""
    if endpoint.pending:
        raise ValueError(
            "the embedded Hub is not running: open it with "
            "`with hf_custom.remote.connect(endpoint) as running: ...` and use `running`"
        )
    return endpoint
