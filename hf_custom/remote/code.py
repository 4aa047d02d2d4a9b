"""Download another repository's code files into a Hugging Face cache folder.

A fine-tune whose ``auto_map`` points at another repository (``"org/repo--module.Class"``)
carries no ``.py`` files: transformers downloads the module from ``org/repo`` when a user loads
it. Verification runs offline, so the parent fetches those files first with
:func:`code_fetcher` into a cache folder laid out as huggingface_hub's own (``models--org--repo``
with ``refs/main``), which the child then resolves with ``HF_HUB_OFFLINE=1`` exactly as
transformers does for users. Only the files asked for are downloaded, never weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hf_custom.errors import RemoteError
from hf_custom.remote.endpoint import Endpoint
from hf_custom.remote.failures import map_error
from hf_custom.remote.localhub import connect

#: ``fetch(repo_id, filename) -> local path`` (raises :class:`RemoteError`)
Fetch = Callable[[str, str], Path]


@contextmanager
def code_fetcher(endpoint: Endpoint, cache_dir: Path) -> Iterator[Fetch]:
    """A function downloading one file of a repository's main branch into ``cache_dir`` (a
    Hugging Face hub cache), valid for the block (the embedded Hub runs for a pending one)."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    with connect(endpoint) as ep:

        def fetch(repo_id: str, filename: str) -> Path:
            if not filename.endswith(".py") or "/" in filename or filename.startswith("."):
                raise RemoteError(f"{filename}: only top-level .py code files are fetched")
            try:
                path = hf_hub_download(
                    repo_id,
                    filename,
                    endpoint=ep.url,
                    token=ep.token or False,
                    cache_dir=str(cache_dir),
                )
            except EntryNotFoundError:
                raise RemoteError(
                    f"{repo_id} at {ep.url} has no file {filename}",
                    hint=f"check that {repo_id} still holds the module its auto_map names",
                ) from None
            except Exception as exc:
                raise map_error(
                    exc, endpoint=ep, repo_id=repo_id, action=f"downloading {filename}"
                ) from exc
            return Path(path)

        yield fetch


__all__ = ["Fetch", "code_fetcher"]
