"""The model card's "Compatibility" section: which transformers versions were verified.

Written into the staged README.md after verification (:func:`with_section`), read back by
``doctor`` on a repo id (:func:`read_compatibility`). The section is a table for people plus one
HTML comment holding the same facts as JSON, so reading it back never depends on Markdown
layout. Pure functions on text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Compatibility", "VersionResult", "read_compatibility", "render_section", "with_section"]

HEADING = "## Compatibility"
_COMMENT = "hf-custom-compatibility"
_COMMENT_RE = re.compile(r"<!--\s*" + _COMMENT + r"\s+(\{.*?\})\s*-->", re.S)
_SECTION_RE = re.compile(r"^## Compatibility[ \t]*\n.*?(?=^## |\Z)", re.S | re.M)


@dataclass(frozen=True)
class VersionResult:
    transformers: str
    ok: bool
    torch: str = ""
    huggingface_hub: str = ""
    failed: tuple[str, ...] = ()  # AutoClasses that failed under this version

    def to_json(self) -> dict[str, object]:
        return {
            "transformers": self.transformers,
            "ok": self.ok,
            "torch": self.torch,
            "huggingface_hub": self.huggingface_hub,
            "failed": list(self.failed),
        }


@dataclass(frozen=True)
class Compatibility:
    date: str
    hf_custom: str
    versions: tuple[VersionResult, ...]

    @property
    def passed(self) -> tuple[str, ...]:
        return tuple(v.transformers for v in self.versions if v.ok)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(v.transformers for v in self.versions if not v.ok)

    def to_json(self) -> dict[str, object]:
        return {
            "schema": 1,
            "date": self.date,
            "hf_custom": self.hf_custom,
            "versions": [v.to_json() for v in self.versions],
        }


def results_of(
    columns: Sequence[tuple[Mapping[str, object], bool, Sequence[str]]],
) -> tuple[VersionResult, ...]:
    """VersionResults from (child environment, ok, failed AutoClasses) triples."""
    out = []
    for env, ok, failed in columns:
        out.append(
            VersionResult(
                transformers=str(env.get("transformers", "")),
                ok=ok,
                torch=str(env.get("torch", "")),
                huggingface_hub=str(env.get("huggingface_hub", "")),
                failed=tuple(failed),
            )
        )
    return tuple(out)


def render_section(compat: Compatibility) -> str:
    """The Markdown section (heading, sentence, table, machine-readable comment)."""
    lines = [
        HEADING,
        "",
        f"Verified on {compat.date} by hf-custom {compat.hf_custom}: every AutoClass loaded "
        "with `trust_remote_code=True` in a clean process, weights compared with the source, "
        "forward, generate and save run, under each transformers version below.",
        "",
        "| transformers | huggingface_hub | torch | result |",
        "|---|---|---|---|",
    ]
    for v in compat.versions:
        result = "passed" if v.ok else "failed" + (f" ({', '.join(v.failed)})" if v.failed else "")
        lines.append(
            f"| {v.transformers} | {v.huggingface_hub or '-'} | {v.torch or '-'} | {result} |"
        )
    lines += ["", f"<!-- {_COMMENT} {json.dumps(compat.to_json(), sort_keys=True)} -->", ""]
    return "\n".join(lines)


def with_section(card: str, section: str) -> str:
    """``card`` with its Compatibility section replaced by ``section`` (appended when absent)."""
    if _SECTION_RE.search(card):
        return _SECTION_RE.sub(lambda _m: section + "\n", card, count=1).rstrip("\n") + "\n"
    return card.rstrip("\n") + "\n\n" + section


def read_compatibility(card: str) -> Compatibility | None:
    """The Compatibility section of ``card`` as data; None when there is none (or it is not
    hf-custom's)."""
    match = _COMMENT_RE.search(card)
    if match is None:
        return None
    try:
        doc = json.loads(match.group(1))
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("versions"), list):
        return None
    versions = []
    for v in doc["versions"]:
        if not isinstance(v, dict):
            continue
        versions.append(
            VersionResult(
                transformers=str(v.get("transformers", "")),
                ok=bool(v.get("ok")),
                torch=str(v.get("torch", "")),
                huggingface_hub=str(v.get("huggingface_hub", "")),
                failed=tuple(str(x) for x in v.get("failed") or ()),
            )
        )
    return Compatibility(
        date=str(doc.get("date", "")),
        hf_custom=str(doc.get("hf_custom", "")),
        versions=tuple(versions),
    )
