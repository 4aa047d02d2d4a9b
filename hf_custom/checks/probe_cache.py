"""What the static checks learn by importing transformers, kept on disk per installation.

Probing the installed transformers (does ``transformers.x`` define ``Y``? which attributes does
a base ``PreTrainedConfig`` have?) needs importing it, and with it torch: seconds per doctor
run. The answers depend only on the installation, so they are stored in
``$HF_HOME/hf-custom/transformers-probe-<version>-<digest>.json`` (the digest covers the
installation's folder and the modification time of its ``__init__.py``): a warm doctor imports
neither. The file is written atomically; a damaged or foreign file is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
_FORMAT = 1


def hf_home() -> Path:
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "huggingface"


@cache
def _installation() -> str | None:
    from hf_custom.staging.imports import transformers_source_dir, transformers_version

    version, src = transformers_version(), transformers_source_dir()
    if not version or src is None:
        return None
    try:
        stamp = (src / "__init__.py").stat().st_mtime_ns
    except OSError:
        return None
    digest = hashlib.sha256(f"{src}|{stamp}".encode()).hexdigest()[:12]
    return f"{version}-{digest}"


def cache_path() -> Path | None:
    """The cache file of the installed transformers (None: transformers is not installed)."""
    name = _installation()
    if name is None:
        return None
    return hf_home() / "hf-custom" / f"transformers-probe-{name}.json"


_entries: dict[Path, dict[str, object]] = {}


def _load(path: Path) -> dict[str, object]:
    if path not in _entries:
        try:
            doc = json.loads(path.read_text("utf-8"))
            ok = isinstance(doc, dict) and doc.get("format") == _FORMAT
            _entries[path] = (
                dict(doc["entries"]) if ok and isinstance(doc.get("entries"), dict) else {}
            )
        except (OSError, ValueError):
            _entries[path] = {}
    return _entries[path]


def _store(path: Path, entries: dict[str, object]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".probe-", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"format": _FORMAT, "entries": entries}, f, sort_keys=True)
        Path(tmp).replace(path)
    except OSError:
        pass  # a read-only cache only costs time


def cached(
    key: str,
    compute: Callable[[], T],
    *,
    encode: Callable[[T], object] = lambda v: v,
    decode: Callable[[object], T] | None = None,
) -> T:
    """The probe answer for ``key``, computed (and stored) only when the cache lacks it."""
    path = cache_path()
    if path is None:
        return compute()
    entries = _load(path)
    if key in entries:
        value = entries[key]
        return decode(value) if decode is not None else value  # type: ignore[return-value]
    result = compute()
    entries[key] = encode(result)
    _store(path, entries)
    return result


def clear_memory() -> None:
    """Forget what was read from disk (tests)."""
    _entries.clear()
    _installation.cache_clear()
