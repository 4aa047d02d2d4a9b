"""What a check sees: a :class:`RepoView` plus cached, lazily parsed views of its files.

Parsing is shared between checks (config.json is read once, the code package is analysed once)
and happens only when a check asks, so a remote run downloads only what the selected checks need.
Everything here is read-only; nothing executes the model's code.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hf_custom import safejson
from hf_custom.checks import Skip
from hf_custom.checks.view import FileEntry, RepoView
from hf_custom.events import EventSink

if TYPE_CHECKING:
    from hf_custom.checks.v5 import Probe
    from hf_custom.codeinfo import CodePackage
    from hf_custom.envs import Target

# Files above this size are not read whole by text checks (a "config" of 20 MB is not a config).
MAX_TEXT_BYTES = 20_000_000
# A safetensors header larger than this is treated as corrupt (the format caps it at 100 MB).
MAX_HEADER_BYTES = 100_000_000


class Context:
    def __init__(
        self,
        view: RepoView,
        *,
        load_dir: Path | None = None,
        python: str | None = None,
        installed_transformers: bool = True,
        targets: Sequence[Target] = (),
        allow_fail: Sequence[str] = (),
        on_event: EventSink | None = None,
        kind: str = "folder",
    ) -> None:
        self.view = view
        # "folder": a checkpoint folder, which publish stages (and repairs) before any user
        # sees it; "repo" / "git": files users load as they are.
        self.kind = kind
        # False in the git hook: probe v5 removals with the static list, never import transformers.
        self.installed_transformers = installed_transformers
        # For --load: a local folder holding the whole repository, and the interpreter to use.
        self.load_dir = load_dir
        self.python = python
        self.verify_report: Any = None  # the VerifyReport of --load, for the CLI's table
        # --load --transformers: one verification per resolved version (verification.matrix)
        self.targets = tuple(targets)
        self.allow_fail = tuple(allow_fail)
        self.on_event = on_event  # progress of building the matrix environments
        self.matrix_report: Any = None  # the MatrixReport of --load --transformers
        self._bytes: dict[str, bytes] = {}
        self._json: dict[str, tuple[Any, str | None]] = {}
        self._headers: dict[str, tuple[dict[str, Any] | None, str | None]] = {}

    # -- files -------------------------------------------------------------------------------
    @cached_property
    def entries(self) -> Mapping[str, FileEntry]:
        return {e.path: e for e in self.view.files()}

    @property
    def paths(self) -> list[str]:
        return sorted(self.entries)

    def has(self, path: str) -> bool:
        return path in self.entries

    def size(self, path: str) -> int:
        return self.entries[path].size

    def top_level(self) -> list[str]:
        return [p for p in self.paths if "/" not in p]

    # -- content -----------------------------------------------------------------------------
    def read_bytes(self, path: str) -> bytes:
        if path not in self._bytes:
            if self.size(path) > MAX_TEXT_BYTES:
                raise Skip(f"{path} is {self.size(path)} bytes: too large to read as text")
            self._bytes[path] = self.view.read_bytes(path)
        return self._bytes[path]

    def text(self, path: str) -> str:
        """The file decoded as UTF-8 (undecodable bytes replaced)."""
        return self.read_bytes(path).decode("utf-8", errors="replace")

    def json(self, path: str) -> tuple[Any, str | None]:
        """``(value, None)`` or ``(None, error message)`` for a JSON file."""
        if path not in self._json:
            try:
                self._json[path] = (safejson.loads(self.read_bytes(path)), None)
            except (ValueError, UnicodeDecodeError) as exc:
                self._json[path] = (None, f"not valid JSON: {exc}")
        return self._json[path]

    @cached_property
    def config(self) -> dict[str, Any] | None:
        """config.json as a dict, or None when it is missing or unreadable (a check reports it)."""
        if not self.has("config.json"):
            return None
        value, err = self.json("config.json")
        return value if err is None and isinstance(value, dict) else None

    def require_config(self) -> dict[str, Any]:
        cfg = self.config
        if cfg is None:
            raise Skip("no readable config.json")
        return cfg

    # -- code --------------------------------------------------------------------------------
    @cached_property
    def py_files(self) -> dict[str, str]:
        """Source of every .py file (path relative to the root)."""
        return {p: self.text(p) for p in self.paths if p.endswith(".py")}

    @cached_property
    def top_py_files(self) -> dict[str, str]:
        """The .py files at the root: the ones transformers' remote-code loader can see."""
        return {p: s for p, s in self.py_files.items() if "/" not in p}

    @cached_property
    def package(self) -> CodePackage:
        from hf_custom.codeinfo import analyze_package

        return analyze_package(self.top_py_files)

    @cached_property
    def probe(self) -> Probe:
        from hf_custom.checks.v5 import Probe

        return Probe(installed=self.installed_transformers)

    # -- weights -----------------------------------------------------------------------------
    def safetensors_header(self, path: str) -> tuple[dict[str, Any] | None, str | None]:
        """``(header, None)`` read with two range reads, or ``(None, error)``. Never the tensors."""
        if path not in self._headers:
            self._headers[path] = self._read_header(path)
        return self._headers[path]

    def _read_header(self, path: str) -> tuple[dict[str, Any] | None, str | None]:
        size = self.size(path)
        if size < 8:
            return None, f"{size} bytes: too short for a safetensors file"
        try:
            prefix = self.view.read_range(path, 0, 8)
            (n,) = struct.unpack("<Q", prefix)
            if n > MAX_HEADER_BYTES or 8 + n > size:
                return None, f"header length {n} does not fit in a {size}-byte file (truncated?)"
            raw = self.view.read_range(path, 8, 8 + n)
        except OSError as exc:  # e.g. a git-lfs object missing from the local store
            return None, f"cannot read it: {exc}"
        try:
            from hf_custom.weights.safetensors_format import read_safetensors_header

            header = read_safetensors_header(prefix + raw)
        except Exception as exc:  # the reader's own validation: report, don't crash the check
            return None, str(exc) or type(exc).__name__
        return dict(header), None
