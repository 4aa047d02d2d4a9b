"""Per-repository defaults: ``hf-custom.toml`` or ``[tool.hf-custom]`` in ``pyproject.toml``.

The keys are the command-line option names (``transformers``, ``allow-fail``, ``select``,
``ignore``); a value given on the command line wins. The file is looked up in the folder given
and its parents, up to the first folder holding ``.git`` (the repository root), so the git hooks
find it too.

```toml
# hf-custom.toml
transformers = ["4.57", "latest"]   # publish, doctor --load, fix: the default matrix
allow-fail = ["4.57"]
select = ["HFC2", "HFC6"]           # doctor and the git hooks: the default rule selection
ignore = ["HFC604"]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tomllib

from hf_custom.errors import InputError

__all__ = ["Settings", "load_settings", "parse_settings"]

KEYS = ("transformers", "allow-fail", "select", "ignore")
FILE = "hf-custom.toml"


@dataclass(frozen=True)
class Settings:
    transformers: tuple[str, ...] = ()
    allow_fail: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    source: str = ""  # the file the settings came from ("" when none)

    def to_json(self) -> dict[str, object]:
        return {
            "transformers": list(self.transformers),
            "allow-fail": list(self.allow_fail),
            "select": list(self.select),
            "ignore": list(self.ignore),
            "source": self.source,
        }


def _parse(data: bytes, *, where: str) -> dict[str, object]:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not valid TOML: {exc}", path=where, hint="fix the file") from exc


def _read(path: Path) -> dict[str, object]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(path)) from exc
    return _parse(data, where=str(path))


def _tool_table(doc: dict[str, object]) -> dict[str, object] | None:
    tool = doc.get("tool")
    table = tool.get("hf-custom") if isinstance(tool, dict) else None
    return table if isinstance(table, dict) else None


def _table(path: Path) -> dict[str, object] | None:
    if path.name == FILE:
        return _read(path)
    return _tool_table(_read(path))


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
    return _settings(_table(path) or {}, path=path)


def parse_settings(data: bytes, *, name: str) -> Settings | None:
    """The settings in the contents of a file called ``name`` (``hf-custom.toml`` or
    ``pyproject.toml``, e.g. read from a git tree); None when a pyproject.toml has no
    [tool.hf-custom] table."""
    doc = _parse(data, where=name)
    table = doc if Path(name).name == FILE else _tool_table(doc)
    return None if table is None else _settings(table, path=Path(name))


def _settings(table: dict[str, object], *, path: Path) -> Settings:
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise InputError(
            f"unknown hf-custom setting(s): {', '.join(unknown)}",
            path=str(path),
            hint=f"the settings are: {', '.join(KEYS)}",
        )
    values = {k: _strings(table.get(k, []), key=k, path=path) for k in KEYS}
    return Settings(
        transformers=values["transformers"],
        allow_fail=values["allow-fail"],
        select=values["select"],
        ignore=values["ignore"],
        source=str(path),
    )
