"""Findings and the rule catalog.

A *rule* is the stable description of one kind of problem: an id that is never reused
(``HFC101``), a kebab-case name, a severity, a one-line summary, a fix hint and a longer
explanation with fixed sections (what it does, why it is bad, example, how to fix).

A *finding* is one occurrence: plain data (rule id, message, path, line, fix). Staging,
weights conversion, verification, doctor and the hooks all report findings against the same
catalog, so ``hf-custom explain HFC101`` explains what any of them said.

Id blocks: 1xx config.json, 2xx code, 3xx weights, 4xx tokenizer, 5xx loading (verification),
6xx repository and hub hygiene. Rules are declared in ``hf_custom/rules/<area>.py`` with
:func:`define`; the modules are pure data and cheap to import.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, replace


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    summary: str
    fix: str
    explanation: str = ""
    # What the rule needs to be evaluated: "static" (files only), "torch" (reads pickles with
    # torch), "load" (executes the model code in the isolated child process).
    needs: str = "static"

    @property
    def area(self) -> str:
        return AREAS.get(self.id[3], "other")

    def to_json(self, *, full: bool = False) -> dict[str, str]:
        """The rule as JSON; ``full`` adds the fix hint and the explanation."""
        doc = {
            "id": self.id,
            "name": self.name,
            "severity": self.severity.value,
            "area": self.area,
            "needs": self.needs,
            "summary": self.summary,
        }
        if full:
            doc.update(fix=self.fix, explanation=self.explanation)
        return doc


AREAS = {
    "1": "config",
    "2": "code",
    "3": "weights",
    "4": "tokenizer",
    "5": "loading",
    "6": "repository",
}

_RULES: dict[str, Rule] = {}
_NAMES: dict[str, str] = {}
_LOADED = False


def define(rule: Rule) -> Rule:
    """Register ``rule``. Ids and names are unique and never reused."""
    if rule.id in _RULES and _RULES[rule.id] != rule:
        raise ValueError(f"rule id {rule.id} defined twice")
    if rule.name in _NAMES and _NAMES[rule.name] != rule.id:
        raise ValueError(f"rule name {rule.name} already used by {_NAMES[rule.name]}")
    if not (len(rule.id) == 6 and rule.id.startswith("HFC") and rule.id[3:].isdigit()):
        raise ValueError(f"rule id {rule.id!r} is not of the form HFCnnn")
    _RULES[rule.id] = rule
    _NAMES[rule.name] = rule.id
    return rule


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    import importlib
    import pkgutil

    import hf_custom.rules as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        importlib.import_module(f"hf_custom.rules.{info.name}")


def all_rules() -> list[Rule]:
    """Every rule, sorted by id."""
    _load()
    return [_RULES[k] for k in sorted(_RULES)]


def get_rule(key: str) -> Rule:
    """A rule by id (``HFC101``) or name (``model-type-missing``); KeyError if unknown."""
    _load()
    key_up = key.upper()
    if key_up in _RULES:
        return _RULES[key_up]
    if key in _NAMES:
        return _RULES[_NAMES[key]]
    raise KeyError(key)


@dataclass(frozen=True, order=True)
class Finding:
    """One problem found. Sorts by path, line, then id: deterministic output (house rule 10)."""

    path: str = field(default="", compare=True)
    line: int = field(default=0, compare=True)
    id: str = field(default="", compare=True)
    name: str = field(default="", compare=False)
    severity: Severity = field(default=Severity.ERROR, compare=False)
    message: str = field(default="", compare=True)
    fix: str = field(default="", compare=False)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.path or None,
            "line": self.line or None,
            "fix": self.fix or None,
        }


def finding(
    rule_id: str,
    message: str,
    *,
    path: str = "",
    line: int = 0,
    fix: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    """A finding of rule ``rule_id``; ``fix`` and ``severity`` default to the rule's."""
    rule = get_rule(rule_id)
    return Finding(
        path=path,
        line=line,
        id=rule.id,
        name=rule.name,
        severity=severity or rule.severity,
        message=message,
        fix=rule.fix if fix is None else fix,
    )


def errors(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings)


def with_path(f: Finding, path: str) -> Finding:
    return replace(f, path=path)
