"""What transformers' remote-code loader sees in a file, and where imported packages come from.

transformers 5.24 (``dynamic_module_utils.py``) decides two things by reading source text, not by
importing it: which files a module needs (``get_relative_imports``: two regular expressions over
the raw text) and which packages must be installed (``get_imports``/``check_imports``: an AST walk
that skips ``try`` blocks and ``if is_..._available():`` blocks). The functions here mirror those
rules exactly (tests compare them with transformers' own functions) without importing
transformers, and look up installed distributions without importing them.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import re
from collections.abc import Collection, Mapping
from pathlib import Path

from hf_custom.codeinfo import ImportInfo

# Import name -> distribution name, where they differ (the rest is looked up in the installed
# distributions' metadata, else the import name is used).
DISTRIBUTIONS = {
    "PIL": "pillow",
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "cv2": "opencv-python",
    "yaml": "pyyaml",
    "bs4": "beautifulsoup4",
    "attr": "attrs",
    "dateutil": "python-dateutil",
    "Crypto": "pycryptodome",
    "fitz": "pymupdf",
    "faiss": "faiss-cpu",
    "flash_attn": "flash-attn",
    "mamba_ssm": "mamba-ssm",
    "causal_conv1d": "causal-conv1d",
    "google": "protobuf",
    "jwt": "pyjwt",
    "magic": "python-magic",
    "docx": "python-docx",
    "serial": "pyserial",
    "zmq": "pyzmq",
}


def transformers_source_dir() -> Path | None:
    """The installed transformers package folder, found without importing it; None if absent."""
    try:
        spec = importlib.util.find_spec("transformers")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def transformers_version() -> str | None:
    """The installed transformers version, read from its metadata (not imported)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("transformers")
    except PackageNotFoundError:
        return None


def transformers_module_exists(dotted: str) -> bool:
    """Whether ``dotted`` (``transformers.x.y``) is a module or package of the installed
    transformers, looked up in its source folder (nothing is imported)."""
    root = transformers_source_dir()
    parts = dotted.split(".")
    if root is None or parts[0] != "transformers":
        return False
    path = root.joinpath(*parts[1:])
    return (path / "__init__.py").is_file() or (
        len(parts) > 1 and path.with_name(path.name + ".py").is_file()
    )


@functools.lru_cache(maxsize=256)
def transformers_model_dirs_with(module: str) -> tuple[str, ...]:
    """The model folders ``transformers/models/<d>/`` that hold ``<module>.py``."""
    root = transformers_source_dir()
    if root is None or not module.isidentifier():
        return ()
    return tuple(sorted(p.parent.name for p in (root / "models").glob(f"*/{module}.py")))


@functools.lru_cache(maxsize=1)
def loader_guard_names() -> frozenset[str] | None:
    """Names defined in the installed ``transformers.utils.import_utils`` (read, not imported).

    ``get_imports`` skips an ``if`` block whose test calls a function that
    ``hasattr(transformers.utils.import_utils, name)``; None when transformers is not installed.
    """
    root = transformers_source_dir()
    path = None if root is None else root / "utils" / "import_utils.py"
    if path is None or not path.is_file():
        return None
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return frozenset(top_level_names(tree))


def counted_by_check_imports(imp: ImportInfo, guard_names: frozenset[str] | None) -> bool:
    """Whether transformers' ``check_imports`` requires this import to be installed.

    Mirrors ``get_imports`` in transformers/dynamic_module_utils.py (5.24): it does not recurse
    into ``ast.Try`` nodes (body, handlers, else, finally: whatever the except clause catches),
    nor into an ``ast.If`` (with its else branch) whose test calls a bare-name function that
    starts with ``is_flash_attn`` and ends with ``available`` or that exists in
    ``transformers.utils.import_utils``. Everything else counts, including imports inside
    functions and under ``if TYPE_CHECKING:``.
    """
    if imp.in_try:
        return False
    for name in imp.if_calls:
        if name.startswith("is_flash_attn") and name.endswith("available"):
            return False
        if guard_names is None:
            if name.startswith("is_") and name.endswith("_available"):
                return False
        elif name in guard_names:
            return False
    return True


def installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@functools.lru_cache(maxsize=1)
def _packages_distributions() -> Mapping[str, list[str]]:
    from importlib.metadata import packages_distributions

    return packages_distributions()


def local_install(module: str) -> str | None:
    """The local folder an installed top-level ``module`` comes from (editable or ``pip install
    ./dir``, per PEP 610 ``direct_url.json``), or None when it came from an index."""
    from importlib.metadata import distributions

    for dist_name in sorted(set(_packages_distributions().get(module, []))):
        for dist in distributions(name=dist_name):  # every copy on sys.path, e.g. an egg-info
            raw = dist.read_text("direct_url.json")
            try:
                info = json.loads(raw) if raw else None
            except ValueError:
                continue
            if isinstance(info, dict) and "dir_info" in info:
                url = str(info.get("url", ""))
                return url.removeprefix("file://") or dist_name
    return None


def distribution_name(module: str) -> str:
    """The PyPI distribution providing top-level import ``module`` (best effort)."""
    if module in DISTRIBUTIONS:
        return DISTRIBUTIONS[module]
    dists = _packages_distributions().get(module)
    return sorted(dists)[0] if dists else module


# The patterns of get_relative_imports in transformers/dynamic_module_utils.py (5.24): the loader
# copies `<name>.py` for every match, wherever the line is (code, docstring or other string).
_LOADER_PATTERNS = (
    re.compile(r"^\s*import\s+\.(\S+)\s*$", re.MULTILINE),
    re.compile(r"^\s*from\s+\.(\S+)\s+import", re.MULTILINE),
)


def loader_pattern_matches(
    text: str, files: Collection[str], *, include_imports: bool = False
) -> list[tuple[int, str]]:
    """(line, name) of the loader's pattern matches whose ``name.py`` is not in ``files``.

    Matches inside real import statements are left out (they are resolved by parsing) unless
    ``include_imports``; what remains are lines in strings and docstrings that the loader reads
    as imports.
    """
    import_lines: set[int] = set()
    if not include_imports:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return []
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                import_lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    out = []
    for pattern in _LOADER_PATTERNS:
        for m in pattern.finditer(text):
            line = text.count("\n", 0, m.start(1)) + 1
            if line not in import_lines and f"{m.group(1)}.py" not in files:
                out.append((line, m.group(1)))
    return sorted(out)


def top_level_names(tree: ast.Module) -> set[str]:
    """Names a module defines at its top level (classes, functions, assignments, imports)."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names
