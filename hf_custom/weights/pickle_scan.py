"""Static scan of the globals a pickle would import, without torch and without unpickling.

:func:`pickle_verdict` is the verdict (doctor's and convert's: torch's weights_only rules, by the
symbolic walk of :mod:`hf_custom.weights.pickle_walk`); :func:`scan_pickle_globals` only names
the globals a refused pickle would import, for messages. Nothing in the pickle runs.
"""

from __future__ import annotations

import io
import pickletools
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hf_custom.errors import InputError

_STRING_OPS = {
    "SHORT_BINUNICODE",
    "BINUNICODE",
    "BINUNICODE8",
    "UNICODE",
    "SHORT_BINSTRING",
    "BINSTRING",
    "STRING",
}
_MEMO_PUT = {"PUT", "BINPUT", "LONG_BINPUT"}
_MEMO_GET = {"GET", "BINGET", "LONG_BINGET"}


def _scan_stream(stream: IO[bytes], *, max_pickles: int) -> list[str]:
    found: list[str] = []
    for _ in range(max_pickles):
        strings: list[str] = []
        memo: dict[object, str] = {}
        last: str | None = None
        try:
            for op, arg, _pos in pickletools.genops(stream):
                name = op.name
                if name in _STRING_OPS and isinstance(arg, (str, bytes)):
                    last = arg if isinstance(arg, str) else arg.decode("latin-1")
                    strings.append(last)
                elif name == "MEMOIZE" and last is not None:
                    memo[len(memo)] = last
                elif name in _MEMO_PUT and last is not None:
                    memo[arg] = last
                elif name in _MEMO_GET and arg in memo:
                    strings.append(memo[arg])
                    last = memo[arg]
                    continue
                elif name in ("GLOBAL", "INST") and isinstance(arg, str):
                    module, _, attr = arg.partition(" ")
                    found.append(f"{module}.{attr}")
                elif name == "STACK_GLOBAL" and len(strings) >= 2:
                    found.append(f"{strings[-2]}.{strings[-1]}")
                if name not in _STRING_OPS:
                    last = None if name not in ("MEMOIZE", *_MEMO_PUT) else last
        except ValueError:
            break  # not (or no longer) a pickle: legacy files have raw storage bytes after
        if not stream.read(1):
            break
        stream.seek(-1, io.SEEK_CUR)
    return sorted(set(found))


def scan_pickle_globals(path: str | Path | IO[bytes]) -> list[str]:
    """Every ``module.name`` global the pickle(s) in ``path`` name (for messages), sorted.

    Zip-format torch files: their ``data.pkl``; legacy torch files and plain pickles: the
    pickle stream(s) at the start of the file.
    """
    from hf_custom.weights.ranged import open_source

    try:
        with open_source(path) as (f, _size, name):
            if zipfile.is_zipfile(f):
                with zipfile.ZipFile(f) as zf:
                    names = [n for n in zf.namelist() if n.endswith("data.pkl")]
                    if not names:
                        raise InputError(
                            "zip file without data.pkl: not a torch checkpoint", path=name
                        )
                    found: set[str] = set()
                    for n in names:
                        found.update(_scan_stream(io.BytesIO(zf.read(n)), max_pickles=1))
                    return sorted(found)
            f.seek(0)
            return _scan_stream(f, max_pickles=4)
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"cannot read pickle: {e}", path=str(path)) from None


def unsafe_globals(names: list[str]) -> list[str]:
    """The globals outside torch's weights_only allow-list (exact: see ``pickle_walk``)."""
    from hf_custom.weights.pickle_walk import ALLOWED_GLOBALS, BLOCKED_MODULES

    return [n for n in names if n not in ALLOWED_GLOBALS or n.split(".")[0] in BLOCKED_MODULES]


@dataclass(frozen=True)
class PickleVerdict:
    """Would torch's ``weights_only`` loader accept the opcodes and globals of a file's
    pickle(s)? Nothing in them ran. ``malformed``: the walk stopped at broken data first."""

    accepted: bool
    reason: str = ""  # why not
    globals: tuple[str, ...] = ()  # every disallowed global the opcodes name (for messages)
    malformed: bool = False


def pickle_verdict(path: str | Path | IO[bytes]) -> PickleVerdict:
    """The weights_only verdict of a pickle file (zip torch file: its ``data.pkl``; legacy
    torch file: its five pickles; any other pickle: the pickle streams at its start), by the
    same symbolic walk convert reads with. ``path`` may be an open seekable file (a remote
    file read by ranges). Raises InputError when the file cannot be read or is not a pickle."""
    from hf_custom.weights.pickle_walk import LEGACY_MAGIC, Refused, walk, walk_legacy, walk_pickles
    from hf_custom.weights.ranged import open_source

    try:
        with open_source(path) as (f, _size, name):
            if zipfile.is_zipfile(f):
                with zipfile.ZipFile(f) as zf:
                    names = [n for n in zf.namelist() if n.endswith("data.pkl")]
                    if len(names) != 1:
                        raise InputError(
                            "zip file without one data.pkl: not a torch checkpoint", path=name
                        )
                    walk(zf.read(names[0]))
            else:
                f.seek(0)
                if f.read(1) != b"\x80":
                    raise InputError("not a pickle (no pickle protocol marker)", path=name)
                f.seek(0)
                if walk(f).obj == LEGACY_MAGIC:
                    f.seek(0)
                    walk_legacy(f)
                else:
                    walk_pickles(f, limit=4)
    except Refused as e:
        try:
            named = unsafe_globals(scan_pickle_globals(path))
        except InputError:
            named = []
        every = tuple(sorted(set(named) | set(e.globals)))
        return PickleVerdict(False, e.reason, every, malformed=e.malformed and not every)
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"cannot read pickle: {e}", path=str(path)) from None
    return PickleVerdict(True)
