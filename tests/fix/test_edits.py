from __future__ import annotations

import pytest

from hf_custom.fixing.edits import Edit, Source, apply


def test_apply_keeps_everything_outside_the_spans() -> None:
    data = b"a = 1  # one\r\nb = 2\r\n"
    out = apply(data, [Edit(4, 5, b"10"), Edit(len(data), len(data), b"c = 3\r\n")])
    assert out == b"a = 10  # one\r\nb = 2\r\nc = 3\r\n"


def test_insertions_at_one_offset_keep_their_order() -> None:
    assert apply(b"xy", [Edit(1, 1, b"1"), Edit(1, 1, b"2")]) == b"x12y"


def test_overlapping_edits_are_refused() -> None:
    with pytest.raises(ValueError, match="overlapping"):
        apply(b"abcdef", [Edit(0, 3, b""), Edit(2, 4, b"")])


def test_source_offsets_are_bytes_and_newline_is_detected() -> None:
    src = Source("é = 1\r\nx = 2\r\n".encode())
    assert src.newline == b"\r\n"
    assert src.offset(2, 0) == len("é = 1\r\n".encode())
    assert src.line_text(1) == "é = 1".encode()
    assert Source(b"a\nb").newline == b"\n" and not Source(b"a\nb").ends_with_newline()
    assert src.alone_on_lines(2, 0, 2, 5) and not src.alone_on_lines(1, 4, 1, 5)
