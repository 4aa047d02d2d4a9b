"""The model card: README.md with valid metadata, usage snippets and requirements.

:func:`plan_card` is pure: from the existing card (if any), the final auto_map and the code's
third-party requirements it returns the card text, the metadata changes and findings. An
existing card keeps its text; only its metadata is merged. Built with huggingface_hub's
ModelCard / ModelCardData, and parsed back before it is returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from hf_custom.findings import Finding, finding
from hf_custom.staging.automap import PIPELINE_PRIORITY, PIPELINE_TAGS, auto_class_for
from hf_custom.staging.config import Change
from hf_custom.textsafety import yaml_problem

CARD = "README.md"


@dataclass(frozen=True)
class CardPlan:
    text: str | None  # None: keep the existing card untouched (its metadata is broken)
    metadata: Mapping[str, Any]
    changes: tuple[Change, ...]
    findings: tuple[Finding, ...]
    created: bool

    def to_json(self) -> dict[str, object]:
        return {
            "created": self.created,
            "metadata": dict(self.metadata),
            "changes": [c.to_json() for c in self.changes],
            "findings": [f.to_json() for f in self.findings],
        }


def pipeline_tag_for(
    auto_classes: Sequence[str] | Mapping[str, Any], *, architecture: str | None = None
) -> str | None:
    """The Hub pipeline_tag of the ``architectures`` class (the AutoClass auto_map registers it
    under, else its naming convention), else of the most specific shipped AutoClass."""
    if architecture:
        registered = (
            [a for a, v in auto_classes.items() if str(v).rpartition(".")[2] == architecture]
            if isinstance(auto_classes, Mapping)
            else []
        )
        conventional = auto_class_for(architecture)
        for auto in [*sorted(registered), *([conventional] if conventional else [])]:
            if auto in PIPELINE_TAGS:
                return PIPELINE_TAGS[auto]
    for auto in PIPELINE_PRIORITY:
        if auto in auto_classes and auto in PIPELINE_TAGS:
            return PIPELINE_TAGS[auto]
    return None


def _model_autos(auto_map: Mapping[str, Any]) -> list[str]:
    return sorted(
        (k for k in auto_map if k.startswith("AutoModel")), key=lambda k: (k != "AutoModel", k)
    )


def usage_snippet(
    repo_id: str, auto_map: Mapping[str, Any], *, tokenizer: bool, tokenizer_only: bool = False
) -> str:
    """Python code loading the model through each AutoClass of ``auto_map`` (a tokenizer-only
    package: the tokenizer alone, there is no config.json for AutoConfig to read)."""
    if tokenizer_only:
        return "\n".join(
            [
                "from transformers import AutoTokenizer",
                "",
                f'tokenizer = AutoTokenizer.from_pretrained("{repo_id}", trust_remote_code=True)',
            ]
        )
    autos = _model_autos(auto_map)
    imports = (["AutoTokenizer"] if tokenizer else []) + autos
    lines = [f"from transformers import {', '.join(imports) or 'AutoConfig'}", ""]
    if tokenizer:
        lines.append(
            f'tokenizer = AutoTokenizer.from_pretrained("{repo_id}", trust_remote_code=True)'
        )
    if not autos:
        lines = ["from transformers import AutoConfig", ""]
        lines.append(f'config = AutoConfig.from_pretrained("{repo_id}", trust_remote_code=True)')
    for auto in autos:
        var = "model" if len(autos) == 1 else _var(auto)
        lines.append(f'{var} = {auto}.from_pretrained("{repo_id}", trust_remote_code=True)')
    return "\n".join(lines)


def _var(auto: str) -> str:
    task = auto.removeprefix("AutoModel").removeprefix("For") or "base"
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in task).strip("_")
    return f"model_{out}" if out != "base" else "model"


def _body(
    name: str,
    repo_id: str,
    auto_map: Mapping[str, Any],
    requirements: Sequence[str],
    *,
    tokenizer: bool,
    architecture: str | None,
    tokenizer_only: bool = False,
) -> str:
    parts = [f"# {name}", ""]
    what = f"`{architecture}`" if architecture else "a custom architecture"
    intro = (
        "This tokenizer ships its own code"
        if tokenizer_only
        else f"This model ({what}) ships its own modelling code"
    )
    parts += [
        f"{intro}: load it with `trust_remote_code=True`, after reading the code in this "
        "repository.",
        "",
        "## Usage",
        "",
        "```python",
        usage_snippet(repo_id, auto_map, tokenizer=tokenizer, tokenizer_only=tokenizer_only),
        "```",
        "",
    ]
    if requirements:
        parts += [
            "## Requirements",
            "",
            "Besides `transformers` and `torch`, the code imports:",
            "",
        ]
        parts += [f"- `{r}`" for r in requirements]
        parts.append("")
    entries = [f"| {k} | `{_refs_text(v)}` |" for k, v in auto_map.items()]
    if entries:
        parts += ["## Classes", "", "| AutoClass | module.Class |", "|---|---|", *entries, ""]
    parts += ["Staged and verified with [hf-custom](https://github.com/hf-custom/hf-custom).", ""]
    return "\n".join(parts)


def _refs_text(value: Any) -> str:
    """An auto_map value: "module.Class", or AutoTokenizer's [slow, fast] pair with nulls."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value if v)
    return str(value)


def plan_card(
    existing: str | None,
    *,
    auto_map: Mapping[str, Any],
    name: str,
    repo_id: str | None = None,
    requirements: Sequence[str] = (),
    tokenizer: bool = False,
    architecture: str | None = None,
    tokenizer_only: bool = False,
) -> CardPlan:
    """The staged README.md (PURE). ``tokenizer_only``: a package of tokenizer code alone
    (``auto_map`` is then tokenizer_config.json's)."""
    from huggingface_hub import ModelCard

    changes: list[Change] = []
    findings: list[Finding] = []
    target = repo_id or f"YOUR-NAMESPACE/{name}"
    tag = pipeline_tag_for(dict(auto_map), architecture=architecture)
    if existing is not None:
        if not existing.startswith("---"):
            existing = "---\n{}\n---\n" + existing
        try:
            card = ModelCard(existing, ignore_metadata_errors=False)
        except (yaml.YAMLError, ValueError) as exc:
            findings.append(
                finding(
                    "HFC605",
                    f"README.md metadata does not parse: {yaml_problem(exc)}",
                    path=CARD,
                )
            )
            return CardPlan(None, {}, (), tuple(findings), created=False)
        created = False
    else:
        card = ModelCard(
            "---\n{}\n---\n"
            + _body(
                name,
                target,
                auto_map,
                requirements,
                tokenizer=tokenizer,
                architecture=architecture,
                tokenizer_only=tokenizer_only,
            ),
        )
        created = True

    data = card.data
    if data.get("library_name") != "transformers":
        changes.append(
            Change(
                "library_name",
                data.get("library_name"),
                "transformers",
                "the Hub shows the transformers usage snippet",
                file=CARD,
            )
        )
        data["library_name"] = "transformers"
    tags = list(data.get("tags") or [])
    if isinstance(data.get("tags"), str):
        tags = [data.get("tags")]
    for t in ("custom_code",):
        if t not in tags:
            changes.append(
                Change("tags", list(tags), [*tags, t], "the model runs its own code", file=CARD)
            )
            tags.append(t)
    data["tags"] = tags
    if tag and not data.get("pipeline_tag"):
        changes.append(Change("pipeline_tag", None, tag, "from the shipped AutoClasses", file=CARD))
        data["pipeline_tag"] = tag
    text = str(card)
    if not text.endswith("\n"):
        text += "\n"
    metadata = parse_front_matter(text)
    if created:
        changes.insert(0, Change("(file)", None, CARD, "model card written", file=CARD))
    return CardPlan(text, metadata, tuple(changes), tuple(findings), created=created)


def parse_front_matter(text: str) -> dict[str, Any]:
    """The YAML metadata of a card (raises yaml.YAMLError / ValueError when invalid)."""
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        raise ValueError("the metadata block is not closed by a --- line")
    doc = yaml.safe_load(text[3:end])
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ValueError("the metadata block is not a mapping")
    return doc
