"""Byte-span edits: the only way a repair changes a file (comments, formatting, CRLF survive).

Positions come from :mod:`ast` (``lineno``/``col_offset``/``end_lineno``/``end_col_offset``,
columns in UTF-8 bytes), so a file is parsed from its bytes and edited as bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Edit:
    """Replace ``source[start:end]`` with ``text`` (an insertion when start == end)."""

    start: int
    end: int
    text: bytes


class Source:
    """A file's bytes with line offsets, its newline convention and ast positions as offsets."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.lines = data.splitlines(keepends=True)  # bytes.splitlines: \n, \r\n, \r only
        self.starts: list[int] = []
        pos = 0
        for line in self.lines:
            self.starts.append(pos)
            pos += len(line)
        self.starts.append(pos)
        self.newline = b"\r\n" if b"\r\n" in data else b"\n"

    def offset(self, line: int, col: int) -> int:
        """Byte offset of 1-based ``line`` and 0-based byte ``col``."""
        return self.starts[line - 1] + col

    def line_start(self, line: int) -> int:
        return self.starts[line - 1]

    def line_end(self, line: int) -> int:
        """Offset just after ``line``'s newline (end of file if it has none)."""
        return self.starts[line]

    def line_text(self, line: int) -> bytes:
        return self.lines[line - 1].rstrip(b"\r\n")

    def indent(self, line: int) -> bytes:
        text = self.line_text(line)
        return text[: len(text) - len(text.lstrip(b" \t"))]

    def ends_with_newline(self) -> bool:
        return not self.data or self.data.endswith((b"\n", b"\r"))

    def alone_on_lines(self, line: int, col: int, end_line: int, end_col: int) -> bool:
        """True when the span is the only code on its lines (a trailing comment is allowed)."""
        before = self.line_text(line)[:col]
        after = self.line_text(end_line)[end_col:].strip()
        return not before.strip() and (not after or after.startswith(b"#"))


def apply(data: bytes, edits: Iterable[Edit]) -> bytes:
    """Apply non-overlapping ``edits``; insertions at one offset keep their given order."""
    ordered = sorted(enumerate(edits), key=lambda p: (p[1].start, p[1].end, p[0]))
    out: list[bytes] = []
    pos = 0
    for _, e in ordered:
        if e.start < pos or e.end < e.start:
            raise ValueError(f"overlapping edits at byte {e.start}")
        out.append(data[pos : e.start])
        out.append(e.text)
        pos = e.end
    out.append(data[pos:])
    return b"".join(out)
