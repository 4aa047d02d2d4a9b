"""Importing the research module named on the command line (``MODULE:CLASS``).

``MODULE`` is a path to a ``.py`` file or a dotted module importable from ``code_root`` (default:
the current directory). A file is imported as a member of a throwaway package rooted at its
folder, so its relative imports (``from .layers import Block``) resolve exactly as they will in
the flat folder transformers loads remote code from. Everything imported is removed from
``sys.modules`` again by :func:`imported`.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hf_custom.errors import InputError


@dataclass(frozen=True)
class Target:
    """Where the research class lives."""

    cls: type
    module: types.ModuleType
    source: Path  # the .py file defining the class's module
    src_dir: Path  # the folder holding that file
    code_root: Path | None  # the folder the author's package is imported from (dotted form)


def split_target(target: str) -> tuple[str, str]:
    module, sep, name = target.rpartition(":")
    if not sep or not module or not name or not name.isidentifier():
        raise InputError(
            f"expected MODULE:CLASS, got {target!r}",
            hint="name the class after a colon: hf-custom wrap model.py:Encoder "
            "(or a dotted module: mypkg.model:Encoder)",
        )
    return module, name


@contextmanager
def imported(target: str, *, code_root: Path | None = None) -> Iterator[Target]:
    """Import ``MODULE:CLASS``; modules imported meanwhile leave ``sys.modules`` on exit."""
    module_ref, class_name = split_target(target)
    before = set(sys.modules)
    saved_path = list(sys.path)
    roots: list[Path] = []
    try:
        if module_ref.endswith(".py") or "/" in module_ref or Path(module_ref).is_file():
            root = code_root.resolve() if code_root is not None else None
            roots.append(Path(module_ref).resolve().parent)
            if root is not None:
                sys.path.insert(0, str(root))
                roots.append(root)
            module = _import_file(Path(module_ref))
        else:
            root = (code_root or Path.cwd()).resolve()
            roots.append(root)
            sys.path.insert(0, str(root))
            module = _import_dotted(module_ref, root)
        cls = getattr(module, class_name, None)
        if not isinstance(cls, type):
            found = sorted(
                n
                for n, v in vars(module).items()
                if isinstance(v, type) and getattr(v, "__module__", None) == module.__name__
            )
            raise InputError(
                f"no class {class_name!r} in {module_ref}",
                path=getattr(module, "__file__", None),
                hint=f"classes defined there: {', '.join(found) or 'none'}",
            )
        source = Path(inspect.getfile(cls)).resolve()
        yield Target(
            cls=cls,
            module=sys.modules[cls.__module__],
            source=source,
            src_dir=source.parent,
            code_root=root,
        )
    finally:
        sys.path[:] = saved_path
        _forget(set(sys.modules) - before, roots)


def _forget(names: set[str], roots: list[Path]) -> None:
    """Drop the research modules from ``sys.modules`` (never a library such as torch)."""
    for name in names:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if name.startswith("_hfc_wrap_") or (
            file and any(Path(file).resolve().is_relative_to(r) for r in roots)
        ):
            del sys.modules[name]


def _import_file(path: Path) -> types.ModuleType:
    path = path.resolve()
    if not path.is_file():
        raise InputError("no such file", path=str(path), hint="pass the research module's .py file")
    digest = hashlib.sha1(str(path.parent).encode()).hexdigest()[:10]
    package = f"_hfc_wrap_{digest}"
    if package not in sys.modules:
        spec = importlib.util.spec_from_loader(package, loader=None, is_package=True)
        assert spec is not None
        pkg = importlib.util.module_from_spec(spec)
        pkg.__path__ = [str(path.parent)]
        sys.modules[package] = pkg
    sys.path.insert(0, str(path.parent))  # sibling absolute imports (import layers)
    return _import_dotted(f"{package}.{path.stem}", path.parent)


def _import_dotted(name: str, root: Path) -> types.ModuleType:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise InputError(
                f"cannot import {name!r} from {root}",
                hint="pass a path to the .py file, or the folder your package is imported from "
                "with --code-root",
            ) from exc
        hint = f"install {exc.name!r} or make it importable"
        if (exc.name or "").split(".")[0] in ("lightning", "pytorch_lightning"):
            hint = (
                "a LightningModule is training code around a network: wrap the plain nn.Module "
                f"it trains instead (MODULE:CLASS), or install {exc.name!r}"
            )
        raise InputError(f"importing {name!r} failed: {exc}", hint=hint) from exc
    except SyntaxError as exc:
        raise InputError(
            f"syntax error: {exc.msg}", path=exc.filename, hint="fix the research module"
        ) from exc
