"""Text that reaches a report: nothing of a file's contents, nothing that fakes report lines.

:func:`yaml_problem` describes a YAML error without the snippet PyYAML quotes (it may hold a
secret). :func:`printable` escapes control and bidirectional-override characters in a name
(a file called ``"x\\n  ok: config.json"`` or one holding U+202E must not forge report lines).
"""

from __future__ import annotations

import unicodedata

# Bidirectional controls (Trojan Source, CVE-2021-42574) and other invisible format characters.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str) -> str:
    """``text`` with control, bidi and other format characters as visible escapes (``\\n``,
    ``\\u202e``); a backslash is doubled only when it would be ambiguous. Plain text is
    returned unchanged."""
    if text.isprintable() and not any(c in _BIDI for c in text):
        return text
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char in _BIDI or not char.isprintable() or unicodedata.category(char) == "Cf":
            code = ord(char)
            named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char)
            out.append(named or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"))
        else:
            out.append(char)
    return "".join(out)


def yaml_problem(exc: Exception) -> str:
    """What is wrong with a YAML document, without the snippet of it PyYAML quotes.

    ``str(exc)`` echoes the offending lines, which may hold a secret: never show those.
    """
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None)
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}" if problem else f"{type(exc).__name__}{where}"
