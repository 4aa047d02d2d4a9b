"""huggingface_hub and transport errors as :class:`RemoteError`, saying what to do next.

Tokens never reach a message: the server's text is scrubbed of the endpoint's token.
"""

from __future__ import annotations

import re

from hf_custom.errors import RemoteError
from hf_custom.remote.endpoint import Endpoint, offline_error


def scrub(text: str, endpoint: Endpoint) -> str:
    return text.replace(endpoint.token, "***") if endpoint.token else text


def map_error(exc: BaseException, *, endpoint: Endpoint, repo_id: str, action: str) -> RemoteError:
    """A huggingface_hub / transport error as a RemoteError saying what to do next."""
    from huggingface_hub import errors as hf_errors

    login = "run `hf auth login` or pass --token"
    where = f"{repo_id} at {endpoint.url}"
    if isinstance(exc, hf_errors.OfflineModeIsEnabled):
        return offline_error(endpoint, action=action)
    if isinstance(exc, hf_errors.RepositoryNotFoundError):
        return RemoteError(
            f"repository {where} was not found, or this token cannot see it",
            hint=f"check the repo id; for a private repository {login}",
        )
    if isinstance(exc, hf_errors.RevisionNotFoundError):
        return RemoteError(f"{action}: revision not found in {where}", hint="check --revision")
    if isinstance(exc, hf_errors.HfHubHTTPError) and exc.response is not None:
        status = exc.response.status_code
        server_says = scrub(exc.server_message or "", endpoint).strip()
        detail = f" (the server says: {server_says})" if server_says else ""
        if status == 401:
            hint = login if endpoint.token is None else f"the token was refused: {login}"
            return RemoteError(
                f"{action} at {endpoint.url}: not authenticated (401){detail}", hint=hint
            )
        if status == 403:
            namespace = repo_id.split("/")[0]
            return RemoteError(
                f"{action}: this token may not write to {namespace!r} (403){detail}",
                hint=f"use a token with write access to {namespace}: {login}",
            )
        if status == 412:
            return RemoteError(
                f"{action}: {where} changed while publishing (412); nothing was committed{detail}",
                hint="re-run the command: it starts from the new state",
            )
        if status >= 500:
            return RemoteError(
                f"{action}: the server failed (HTTP {status}); nothing was committed{detail}",
                hint="re-run the command; files already uploaded are not sent again",
            )
        return RemoteError(f"{action} failed: HTTP {status}{detail}", hint=f"check {where}")
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, RuntimeError) and cause is not None:  # the LFS upload of one file
        match = re.search(r"uploading '(.+)' to the Hub", str(exc))
        what = f"uploading {match.group(1)}" if match else action
        inner = map_error(cause, endpoint=endpoint, repo_id=repo_id, action=what)
        return RemoteError(
            f"{inner.message.rstrip('.')}; nothing was committed",
            hint="re-run the command; files already uploaded are not sent again",
        )
    if _is_transport_error(exc):
        return RemoteError(
            f"cannot reach {endpoint.url}: {type(exc).__name__}: {scrub(str(exc), endpoint)}",
            hint="check --endpoint / HF_ENDPOINT and the network, or use --endpoint local",
        )
    return RemoteError(
        f"{action} failed: {type(exc).__name__}: {scrub(str(exc), endpoint)}",
        hint=f"check {where}",
    )


def _is_transport_error(exc: BaseException) -> bool:
    try:
        import httpx2

        if isinstance(exc, httpx2.TransportError):
            return True
    except ImportError:  # pragma: no cover - older huggingface_hub
        pass
    return isinstance(exc, (ConnectionError, TimeoutError))
