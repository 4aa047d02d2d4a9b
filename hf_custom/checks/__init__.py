"""The checks registry shared by doctor, publish and the git hooks.

A *check* is a pure function over a read-only :class:`~hf_custom.checks.context.Context` (which
wraps a :class:`~hf_custom.checks.view.RepoView`) returning findings. It is registered with the
rule ids it can report, so ``--select``/``--ignore`` (by id, id prefix, rule name or area) decide
which checks run. A check that cannot run raises :class:`Skip` and is reported as skipped, never
as passed; a check that crashes is itself a finding (HFC699).

Check modules (``hf_custom/checks/<area>.py``) are imported lazily by :func:`all_checks`; none of
them imports torch or transformers at module level.
"""

from __future__ import annotations

import importlib
import importlib.util
import traceback
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from hf_custom.errors import InputError
from hf_custom.events import EventSink, Log, Progress, emit
from hf_custom.findings import Finding, Rule, all_rules, finding, get_rule, sort_findings

if TYPE_CHECKING:
    from hf_custom.checks.context import Context

Needs = Literal["static", "torch", "load"]
CheckFunc = Callable[["Context"], Iterable[Finding]]

CHECK_MODULES = (
    "config",
    "code",
    "v5code",
    "v5model",
    "gpuonly",
    "weights",
    "pickle_contents",
    "tokenizer",
    "hygiene",
    "matrix",
    "loading",
)
CRASH_RULE = "HFC699"


class Skip(Exception):
    """Raised by a check that cannot run here (missing input, remote view, missing package).

    ``findings``: what the check found before it had to stop (a partial run is still reported
    as skipped, with the reason).
    """

    def __init__(self, reason: str, *, findings: Iterable[Finding] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.findings = tuple(findings)


@dataclass(frozen=True)
class Check:
    name: str  # "<area>.<what>", e.g. "config.model-type"
    rules: tuple[str, ...]
    func: CheckFunc
    needs: Needs = "static"
    summary: str = ""


@dataclass(frozen=True)
class Skipped:
    check: str
    rules: tuple[str, ...]
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"check": self.check, "rules": list(self.rules), "reason": self.reason}


@dataclass(frozen=True)
class CheckRun:
    findings: tuple[Finding, ...]
    run: tuple[str, ...]
    skipped: tuple[Skipped, ...]


_CHECKS: dict[str, Check] = {}
_LOADED = False


def register(
    name: str, *, rules: Sequence[str], needs: Needs = "static", summary: str = ""
) -> Callable[[CheckFunc], CheckFunc]:
    """Decorator: register ``func`` as the check ``name`` reporting ``rules``."""

    def deco(func: CheckFunc) -> CheckFunc:
        if name in _CHECKS and _CHECKS[name].func is not func:
            raise ValueError(f"check {name} registered twice")
        doc = (func.__doc__ or "").strip().splitlines()
        _CHECKS[name] = Check(name, tuple(rules), func, needs, summary or (doc[0] if doc else ""))
        return func

    return deco


def all_checks() -> list[Check]:
    """Every registered check, sorted by name (imports the check modules on first use)."""
    global _LOADED
    if not _LOADED:
        _LOADED = True
        for mod in CHECK_MODULES:
            importlib.import_module(f"hf_custom.checks.{mod}")
    return [_CHECKS[k] for k in sorted(_CHECKS)]


def _matches(rule: Rule, pattern: str) -> bool:
    p = pattern.strip()
    return rule.id.startswith(p.upper()) or rule.name == p or rule.area == p.lower()


def _validate(patterns: Iterable[str], rules: list[Rule]) -> None:
    for p in patterns:
        if not any(_matches(r, p) for r in rules):
            raise InputError(
                f"{p!r} matches no rule",
                hint="use a rule id (HFC101), an id prefix (HFC1), a rule name or an area "
                "(config, code, weights, tokenizer, loading, repository); "
                "see `hf-custom doctor --list-checks`",
            )


def selected_rules(select: Collection[str] = (), ignore: Collection[str] = ()) -> set[str]:
    """Rule ids kept by ``select`` (all when empty) minus ``ignore``. Unknown patterns: InputError."""
    rules = all_rules()
    _validate(select, rules)
    _validate(ignore, rules)
    return {
        r.id
        for r in rules
        if (not select or any(_matches(r, p) for p in select))
        and not any(_matches(r, p) for p in ignore)
    }


def _unavailable(check: Check, ctx: Context, load: bool) -> str | None:
    if check.needs == "load" and not load:
        return "executes the model's code: run with --load"
    if check.needs in ("torch", "load") and importlib.util.find_spec("torch") is None:
        return "needs torch, which is not installed"
    return None


def run_checks(
    ctx: Context,
    *,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    load: bool = False,
    on_event: EventSink | None = None,
) -> CheckRun:
    """Run every selected check on ``ctx``; findings of unselected rules are dropped."""
    keep = selected_rules(select, ignore)
    checks = [c for c in all_checks() if keep.intersection(c.rules)]
    found: list[Finding] = []
    ran: list[str] = []
    skipped: list[Skipped] = []
    for i, check in enumerate(checks):
        emit(on_event, Progress("checks", i, len(checks), unit="steps"))
        reason = _unavailable(check, ctx, load)
        if reason is not None:
            skipped.append(Skipped(check.name, check.rules, reason))
            continue
        try:
            results = list(check.func(ctx))
            undeclared = sorted({f.id for f in results} - set(check.rules))
            if undeclared:
                raise RuntimeError(f"reported undeclared rules {', '.join(undeclared)}")
        except Skip as skip:
            skipped.append(Skipped(check.name, check.rules, skip.reason))
            emit(on_event, Log(f"skipped {check.name}: {skip.reason}"))
            found.extend(f for f in skip.findings if f.id in keep and f.id in check.rules)
            continue
        except Exception as exc:  # a crashing check must not read as a passing one
            where = traceback.extract_tb(exc.__traceback__)[-1]
            results = [
                finding(
                    CRASH_RULE,
                    f"check {check.name} crashed: {type(exc).__name__}: {exc} "
                    f"(at {where.filename.rsplit('/', 1)[-1]}:{where.lineno})",
                )
            ]
        ran.append(check.name)
        found.extend(f for f in results if f.id in keep or f.id == CRASH_RULE)
    emit(on_event, Progress("checks", len(checks), len(checks), unit="steps"))
    return CheckRun(tuple(sort_findings(set(found))), tuple(ran), tuple(skipped))


def checks_for_rule(rule_id: str) -> list[Check]:
    rule = get_rule(rule_id)
    return [c for c in all_checks() if rule.id in c.rules]
