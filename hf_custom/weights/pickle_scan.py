"""Static scan of the globals a pickle would import, without torch and without unpickling.

Used by doctor (no torch needed) and by convert to name what a refused pickle needed.
Nothing in the pickle runs: the opcodes are only disassembled with :mod:`pickletools`.
"""

from __future__ import annotations

import io
import pickletools
import zipfile
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

# Globals torch's weights_only unpickler allows by default (the common ones); everything else
# is reported as unsafe by :func:`unsafe_globals`. Approximate on purpose (torch-free): convert
# itself relies on torch's own restricted unpickler, not on this list.
_SAFE_EXACT = {
    "collections.OrderedDict",
    "collections.Counter",
    "builtins.set",
    "builtins.frozenset",
    "builtins.bytearray",
    "builtins.slice",
    "builtins.complex",
    "torch.Size",
    "torch.device",
    "torch.nn.parameter.Parameter",
    "torch._tensor._rebuild_from_type_v2",
    "_codecs.encode",
}
_SAFE_PREFIXES = ("torch._utils._rebuild_",)
_SAFE_SUFFIXES = ("Storage",)


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


def scan_pickle_globals(path: str | Path) -> list[str]:
    """Every ``module.name`` global the pickle(s) in ``path`` would import, sorted.

    Zip-format torch files: their ``data.pkl``; legacy torch files and plain pickles: the
    pickle stream(s) at the start of the file.
    """
    p = Path(path)
    try:
        if zipfile.is_zipfile(p):
            with zipfile.ZipFile(p) as zf:
                names = [n for n in zf.namelist() if n.endswith("data.pkl")]
                if not names:
                    raise InputError(
                        "zip file without data.pkl: not a torch checkpoint", path=str(p)
                    )
                found: set[str] = set()
                for n in names:
                    found.update(_scan_stream(io.BytesIO(zf.read(n)), max_pickles=1))
                return sorted(found)
        with p.open("rb") as f:
            return _scan_stream(f, max_pickles=4)
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise InputError(f"cannot read pickle: {e}", path=str(p)) from None


def unsafe_globals(names: list[str]) -> list[str]:
    """The globals outside the (approximate) weights_only allow-list."""
    out = []
    for n in names:
        if n in _SAFE_EXACT or n.startswith(_SAFE_PREFIXES):
            continue
        if n.startswith("torch.") and (n.endswith(_SAFE_SUFFIXES) or n.count(".") == 1):
            continue  # torch.FloatStorage, torch.float32, torch.bfloat16, ...
        out.append(n)
    return out
