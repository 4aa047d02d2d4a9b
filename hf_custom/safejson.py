"""JSON from files inside a checkpoint: bounded nesting, so a hostile file is an input error.

``json.loads`` raises RecursionError on a document nested ~100,000 deep, and code that walks a
merely deep one recurses just the same. :func:`loads` refuses anything nested deeper than
:data:`MAX_DEPTH` with :class:`JSONTooDeep`, a ``ValueError`` (callers already turn those into an
InputError or a finding).
"""

from __future__ import annotations

import json
from typing import Any

#: Deeper than any real config, tokenizer or index file (transformers' own nest under 10).
MAX_DEPTH = 100


class JSONTooDeep(ValueError):
    """A JSON document nested deeper than allowed."""


def depth(doc: Any) -> int:
    """Nesting depth of a parsed document (a scalar is 0), computed without recursion."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def loads(data: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``data``; :class:`JSONTooDeep` if nested deeper than ``max_depth``."""
    try:
        doc = json.loads(data)
    except RecursionError:
        raise JSONTooDeep(f"nested more than {max_depth} levels deep") from None
    if depth(doc) > max_depth:
        raise JSONTooDeep(f"nested more than {max_depth} levels deep")
    return doc
