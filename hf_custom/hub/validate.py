"""The one validation layer for the local Hub's request bodies: 400 naming the field, never 500.

``Body.parse(raw, where="request body")`` accepts only a JSON object; its getters check types
(``str_``, ``int_``, ``bool_``, ``objects``, ``strings``) and raise :class:`HubError` 400 with
the field's full name (``files[2].size``). Routes read fields only through these getters.
"""

from __future__ import annotations

import json
from typing import Any

from hf_custom.hub.protocol import HubError
from hf_custom.hub.storage import validate_repo_id

REPO_TYPE_NAMES = ("model", "dataset", "space")


def _bad(field: str, what: str) -> HubError:
    return HubError(400, f"invalid request: field {field!r} {what}")


class Body:
    """A JSON object from a request, with typed getters that name the field on error."""

    def __init__(self, doc: dict[str, Any], *, where: str = "") -> None:
        self.doc = doc
        self.where = where  # prefix of field names: "" or "files[2]."

    @classmethod
    def parse(cls, raw: bytes, *, where: str = "request body", empty_ok: bool = True) -> Body:
        if not raw.strip() and empty_ok:
            return cls({})
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError):
            raise HubError(400, f"invalid JSON in the {where}") from None
        if not isinstance(doc, dict):
            raise HubError(400, f"invalid request: the {where} must be a JSON object")
        return cls(doc)

    def _name(self, key: str) -> str:
        return f"{self.where}{key}"

    def has(self, key: str) -> bool:
        return self.doc.get(key) is not None

    def str_(self, key: str, *, default: str | None = None, required: bool = False) -> str | None:
        value = self.doc.get(key)
        if value is None:
            if required:
                raise _bad(self._name(key), "is required")
            return default
        if not isinstance(value, str):
            raise _bad(self._name(key), "must be a string")
        return value

    def int_(self, key: str, *, default: int | None = None, required: bool = False) -> int | None:
        value = self.doc.get(key)
        if value is None:
            if required:
                raise _bad(self._name(key), "is required")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(self._name(key), "must be an integer")
        if value < 0:
            raise _bad(self._name(key), "must not be negative")
        return value

    def bool_(self, key: str, *, default: bool = False) -> bool:
        value = self.doc.get(key)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise _bad(self._name(key), "must be true or false")
        return value

    def object(self, key: str, *, required: bool = False) -> Body:
        value = self.doc.get(key)
        if value is None:
            if required:
                raise _bad(self._name(key), "is required")
            return Body({}, where=f"{self._name(key)}.")
        if not isinstance(value, dict):
            raise _bad(self._name(key), "must be an object")
        return Body(value, where=f"{self._name(key)}.")

    def objects(self, key: str) -> list[Body]:
        value = self.doc.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise _bad(self._name(key), "must be a list")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise _bad(f"{self._name(key)}[{i}]", "must be an object")
            out.append(Body(item, where=f"{self._name(key)}[{i}]."))
        return out

    def strings(self, key: str) -> list[str]:
        value = self.doc.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _bad(self._name(key), "must be a list of strings")
        return list(value)


def repo_type(value: str | None, *, field: str = "type") -> str:
    """A repository type from a body (``model`` when absent); anything else is a 400."""
    value = value or "model"
    if value not in REPO_TYPE_NAMES:
        raise _bad(field, f"must be one of {', '.join(REPO_TYPE_NAMES)}")
    return value


def repo_id(namespace: str, name: str, *, field: str = "name") -> str:
    """``namespace/name`` if both are valid Hub names, else a 400 naming ``field``."""
    rid = f"{namespace}/{name}"
    if not validate_repo_id(rid):
        raise _bad(field, f"is not a valid repository name: {rid!r}")
    return rid
