"""Per-repository defaults: ``hf-custom.toml`` or ``[tool.hf-custom]`` in ``pyproject.toml``.

The keys are the command-line option names (``transformers``, ``allow-fail``); a value given on
the command line wins. The file is looked up in the folder given and its parents, up to the
first folder holding ``.git`` (the repository root), so the git hooks find it too.

```toml
# hf-custom.toml
transformers = ["4.57", "latest"]
allow-fail = ["4.57"]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tomllib

from hf_custom.errors import InputError

__all__ = ["Settings", "load_settings"]

KEYS = ("transformers", "allow-fail")
FILE = "hf-custom.toml"


@dataclass(frozen=True)
class Settings:
    transformers: tuple[str, ...] = ()
    allow_fail: tuple[str, ...] = ()
    source: str = ""  # the file the settings came from ("" when none)

    def to_json(self) -> dict[str, object]:
        return {
            "transformers": list(self.transformers),
            "allow-fail": list(self.allow_fail),
            "source": self.source,
        }


def _read(path: Path) -> dict[str, object]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", path=str(path), hint="fix the file") from exc
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from exc


def _table(path: Path) -> dict[str, object] | None:
    if path.name == FILE:
        return _read(path)
    tool = _read(path).get("tool")
    table = tool.get("hf-custom") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def _strings(value: object, *, key: str, path: Path) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise InputError(
        f"{key} must be a string or a list of strings, not {type(value).__name__}",
        path=str(path),
        hint=f'e.g. {key} = ["4.57", "latest"]',
    )


def find_settings_file(start: Path) -> Path | None:
    """The settings file for ``start``: hf-custom.toml, else a pyproject.toml with a
    [tool.hf-custom] table, in ``start`` or a parent up to the repository root."""
    here = Path(start).resolve()
    for folder in (here, *here.parents):
        own = folder / FILE
        if own.is_file():
            return own
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _table(pyproject) is not None:
            return pyproject
        if (folder / ".git").exists():
            break
    return None


def load_settings(start: Path) -> Settings:
    """The settings that apply to the folder ``start`` (empty Settings when there are none)."""
    path = find_settings_file(start)
    if path is None:
        return Settings()
    table = _table(path) or {}
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise InputError(
            f"unknown hf-custom setting(s): {', '.join(unknown)}",
            path=str(path),
            hint=f"the settings are: {', '.join(KEYS)}",
        )
    return Settings(
        transformers=_strings(table.get("transformers", []), key="transformers", path=path),
        allow_fail=_strings(table.get("allow-fail", []), key="allow-fail", path=path),
        source=str(path),
    )
