"""From source tensors to an output plan: final names, tied/shared tensors, dtypes, order."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from hf_custom.errors import InputError
from hf_custom.findings import Finding, finding
from hf_custom.weights.names import (
    Rename,
    apply_renames,
    duplicates,
    reconcile_names,
    strip_wrapper_prefixes,
)
from hf_custom.weights.safetensors_format import DTYPE_SIZES, FLOAT_DTYPES
from hf_custom.weights.sources import Source, TensorRec

CAST_TARGETS = {"float32": "F32", "float16": "F16", "bfloat16": "BF16"}


@dataclass
class OutTensor:
    name: str
    rec: TensorRec
    dtype: str  # output safetensors dtype

    @property
    def nbytes(self) -> int:
        return self.rec.nbytes // DTYPE_SIZES[self.rec.dtype] * DTYPE_SIZES[self.dtype]

    @property
    def cast(self) -> bool:
        return self.dtype != self.rec.dtype


@dataclass
class Plan:
    tensors: list[OutTensor]  # in source order
    renames: list[Rename] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)  # dropped name -> kept name
    findings: list[Finding] = field(default_factory=list)


def final_names(
    names: Sequence[str],
    *,
    renames: Sequence[tuple[str, str]],
    expected_keys: Collection[str] | None,
    base_model_prefix: str | None,
) -> tuple[dict[str, str], list[Rename]]:
    """source name -> final name, and the renames to report (one per changed name)."""
    current = {n: n for n in names}
    why: dict[str, list[str]] = {n: [] for n in names}
    for old, (new, reason) in strip_wrapper_prefixes(names).items():
        current[old] = new
        why[old].append(reason)
    if renames:
        for n in names:
            new = apply_renames(current[n], renames)
            if new != current[n]:
                current[n] = new
                why[n].append("rename-rule")
    if expected_keys is not None:
        by_now = {v: k for k, v in current.items()}
        mapping, unmatched, _missing = reconcile_names(
            list(by_now), expected_keys, base_model_prefix=base_model_prefix
        )
        if unmatched:
            shown = ", ".join(unmatched[:20]) + (" ..." if len(unmatched) > 20 else "")
            raise InputError(
                f"{len(unmatched)} tensor names match no parameter or buffer of the model: {shown}",
                hint="map them with --rename REGEX=REPLACEMENT (repeatable)",
            )
        for now, target in mapping.items():
            src = by_now[now]
            if target != now:
                current[src] = target
                why[src].append(
                    "base-model-prefix"
                    if base_model_prefix
                    and (
                        target.startswith(f"{base_model_prefix}.")
                        or now.startswith(f"{base_model_prefix}.")
                    )
                    else "wrapper-prefix"
                )
    clashes = duplicates(current)
    if clashes:
        shown = "; ".join(f"{k} <- {', '.join(v)}" for k, v in sorted(clashes.items())[:10])
        raise InputError(
            f"several tensors would get the same name: {shown}",
            hint="fix the --rename rules so that every tensor keeps a distinct name",
        )
    reported = [Rename(n, current[n], "+".join(why[n])) for n in names if current[n] != n]
    return current, reported


def build_plan(
    source: Source,
    *,
    dtype: str | None,
    renames: Sequence[tuple[str, str]],
    expected_keys: Collection[str] | None,
    base_model_prefix: str | None,
    tied: Mapping[str, str] | None,
) -> Plan:
    if dtype is not None and dtype not in CAST_TARGETS:
        raise InputError(f"--dtype {dtype!r} is not one of {', '.join(CAST_TARGETS)}")
    recs = sorted(source.tensors, key=lambda r: r.order)
    names, reported = final_names(
        [r.name for r in recs],
        renames=renames,
        expected_keys=expected_keys,
        base_model_prefix=base_model_prefix,
    )
    plan = Plan(tensors=[], renames=reported, findings=list(source.findings))
    groups: dict[tuple[object, ...], list[TensorRec]] = {}
    for r in recs:
        groups.setdefault((r.storage, r.view, r.shape, r.dtype), []).append(r)
    exp = set(expected_keys) if expected_keys is not None else None
    for members in groups.values():
        if len(members) < 2 or members[0].nbytes == 0:
            continue
        keep, drop = _choose_kept([names[m.name] for m in members], tied=tied, expected=exp)
        for d in drop:
            plan.dropped[d] = keep
    if plan.dropped:
        pairs = ", ".join(f"{d} (same storage as {k})" for d, k in sorted(plan.dropped.items()))
        unconfirmed = tied is None or any(tied.get(d) != k for d, k in plan.dropped.items())
        if unconfirmed:
            plan.findings.append(finding("HFC302", f"shared tensors written once: {pairs}"))
    target = CAST_TARGETS.get(dtype or "")
    f64 = []
    for r in recs:
        name = names[r.name]
        if name in plan.dropped:
            continue
        out = target if target and r.dtype in FLOAT_DTYPES else r.dtype
        if out == "F64":
            f64.append(name)
        plan.tensors.append(OutTensor(name=name, rec=r, dtype=out))
    if f64:
        plan.findings.append(
            finding("HFC301", f"{len(f64)} float64 tensors kept: {', '.join(f64[:8])}")
        )
    if exp is not None:
        present = {t.name for t in plan.tensors} | set(plan.dropped)
        missing = sorted(k for k in exp - present if not (tied and tied.get(k) in present))
        if missing:
            plan.findings.append(
                finding(
                    "HFC305",
                    f"{len(missing)} parameters/buffers of the model have no weight: "
                    + ", ".join(missing[:10]),
                )
            )
    _demote_overlaps(plan.tensors)
    return plan


def _choose_kept(
    names: list[str], *, tied: Mapping[str, str] | None, expected: set[str] | None
) -> tuple[str, list[str]]:
    """Which name of a shared-storage group to keep; the rest are dropped.

    With the model's tied mapping (target -> source), tied targets are dropped in favour of their
    source; names it does not tie are all kept (written as copies). Without it the first name
    in source order that the model expects is kept.
    """
    if tied is not None:
        group = set(names)
        drop = [n for n in names if tied.get(n) in group]
        kept = [n for n in names if n not in drop]
        return kept[0], drop if len(kept) == 1 else []
    ranked = [n for n in names if expected is None or n in expected] or names
    keep = ranked[0]
    return keep, [n for n in names if n != keep]


def _demote_overlaps(tensors: list[OutTensor]) -> None:
    """Direct copies must read ascending, disjoint byte ranges of each file: a tensor whose
    range overlaps an earlier one (a view, a shared storage written twice) is materialised."""
    last_end: dict[object, int] = {}
    for t in tensors:
        r = t.rec
        if not r.direct:
            continue
        key = r.file
        if r.start < last_end.get(key, -1):
            r.direct = False
        else:
            last_end[key] = r.start + r.nbytes
