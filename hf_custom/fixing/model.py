"""Plain data of a fix run: repairs made, breaks left alone, files changed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Repair:
    """One change made: the rule it repairs (the doctor finding's id), where, and what changed."""

    path: str
    line: int
    rule: str
    change: str

    def to_json(self) -> dict[str, object]:
        return {"rule": self.rule, "path": self.path, "line": self.line, "change": self.change}


@dataclass(frozen=True, order=True)
class Unrepaired:
    """A detected break left alone, with the reason it cannot be repaired safely."""

    path: str
    line: int
    rule: str
    cause: str

    def to_json(self) -> dict[str, object]:
        return {"rule": self.rule, "path": self.path, "line": self.line, "cause": self.cause}


@dataclass(frozen=True)
class FileChange:
    path: str
    before: bytes  # b"" for a file fix adds
    after: bytes

    @property
    def added(self) -> bool:
        return not self.before

    def diff(self) -> str:
        """Unified diff (``a/path`` -> ``b/path``); line endings shown as they are."""
        old = self.before.decode("utf-8", "replace").splitlines(keepends=True)
        new = self.after.decode("utf-8", "replace").splitlines(keepends=True)
        lines = difflib.unified_diff(
            old,
            new,
            fromfile="/dev/null" if self.added else f"a/{self.path}",
            tofile=f"b/{self.path}",
        )
        out = []
        for line in lines:
            out.append(
                line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n"
            )
        return "".join(out)


@dataclass(frozen=True)
class FixPlan:
    """What ``plan_fixes`` would change in a package (nothing is written)."""

    changes: tuple[FileChange, ...]
    repairs: tuple[Repair, ...]
    unrepaired: tuple[Unrepaired, ...]

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def to_json(self) -> dict[str, object]:
        return {
            "repairs": [r.to_json() for r in self.repairs],
            "unrepaired": [u.to_json() for u in self.unrepaired],
            "files": [{"path": c.path, "added": c.added, "diff": c.diff()} for c in self.changes],
        }
