"""Code another repository serves: ``auto_map`` values of the form ``"org/repo--module.Class"``.

A fine-tune often ships config.json and weights only, its auto_map pointing at the repository
that holds the code; transformers downloads those modules (and the modules they import
relatively) when a user loads it. :func:`code_references` lists them (pure);
:func:`fetch_references` downloads exactly those ``.py`` files, never weights, into a Hugging
Face cache folder that the offline verification child resolves them from, as users' transformers
does. A repository or file that cannot be fetched is an HFC537 finding naming it.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hf_custom.errors import RemoteError
from hf_custom.findings import Finding, finding

if TYPE_CHECKING:
    from hf_custom.remote import Endpoint

#: At most this many modules are fetched from one repository (an import cycle guard)
MAX_MODULES = 64


@dataclass(frozen=True)
class CodeReference:
    """One repository whose code the folder loads: the modules its auto_map names."""

    repo_id: str
    modules: tuple[str, ...]
    keys: tuple[str, ...]  # the auto_map keys (``AutoModel``, ``AutoTokenizer``, ...)


def _values(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str)]


def code_references(*auto_maps: Mapping[str, Any]) -> tuple[CodeReference, ...]:
    """The repositories named by ``org/repo--module.Class`` values of the auto_maps given
    (config.json's, tokenizer_config.json's), sorted by repo id."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for auto_map in auto_maps:
        for key, value in auto_map.items():
            for v in _values(value):
                repo, sep, local = v.partition("--")
                module = local.rpartition(".")[0]
                if not sep or "/" not in repo or not module:
                    continue
                modules, keys = found.setdefault(repo, (set(), set()))
                modules.add(module)
                keys.add(str(key))
    return tuple(
        CodeReference(repo, tuple(sorted(m)), tuple(sorted(k)))
        for repo, (m, k) in sorted(found.items())
    )


def relative_imports(source: str) -> list[str]:
    """Modules a file imports relatively (``from .x import y``): what transformers fetches
    beside it. Unparsable source: none (the child reports the syntax error when it loads it)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    out: set[str] = set()
    for node in ast.walk(tree):
        # as transformers' get_relative_imports: ``from .x import`` (not ``from . import x``)
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            out.add(node.module.split(".")[0])
    return sorted(out)


def folder_references(folder: Path) -> tuple[CodeReference, ...]:
    """:func:`code_references` of a folder's config.json and tokenizer_config.json."""
    maps = []
    for name in ("config.json", "tokenizer_config.json"):
        try:
            doc = json.loads((folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        auto_map = doc.get("auto_map") if isinstance(doc, dict) else None
        if isinstance(auto_map, dict):
            maps.append(auto_map)
    return code_references(*maps)


def fetch_references(
    refs: tuple[CodeReference, ...], *, endpoint: Endpoint, cache_dir: Path
) -> tuple[tuple[str, ...], list[Finding]]:
    """Download each reference's modules and their relative imports into ``cache_dir``.

    Returns the files fetched (``repo:file``) and one HFC537 error per repository that could
    not be read (missing, private, unreachable, a module it does not hold).
    """
    from hf_custom.remote.code import code_fetcher

    fetched: list[str] = []
    problems: list[Finding] = []
    with code_fetcher(endpoint, cache_dir) as fetch:
        for ref in refs:
            todo, seen = list(ref.modules), set[str]()
            try:
                while todo and len(seen) < MAX_MODULES:
                    module = todo.pop(0)
                    if module in seen:
                        continue
                    seen.add(module)
                    path = fetch(ref.repo_id, f"{module}.py")
                    fetched.append(f"{ref.repo_id}:{module}.py")
                    todo += relative_imports(path.read_text(encoding="utf-8", errors="replace"))
            except RemoteError as exc:
                problems.append(
                    finding(
                        "HFC537",
                        f"auto_map ({', '.join(ref.keys)}) loads its code from {ref.repo_id}, "
                        f"which cannot be downloaded: {exc.message}",
                        path="config.json",
                        fix=f"{exc.hint + '; ' if exc.hint else ''}or copy the modules of "
                        f"{ref.repo_id} into the folder (publish then points auto_map at them)",
                    )
                )
    return tuple(fetched), problems


__all__ = [
    "CodeReference",
    "code_references",
    "fetch_references",
    "folder_references",
    "relative_imports",
]
