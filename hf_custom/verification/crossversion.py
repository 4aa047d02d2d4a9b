"""The same outputs on both lines: the original package's forward under transformers v4
against the repaired package's forward under v5, on the same inputs and weights.

``hf-custom fix`` repairs code written for v4 so that it loads on v5. Loading is not enough: a
repair (or v5 itself: ``tie_word_embeddings`` no longer defaulted, a base-config attribute no
longer set) can change what the model computes. The verification child keeps each AutoClass's
forward inputs and outputs (``<AutoClass>.safetensors``, see
:func:`hf_custom.verification.verify`); this module compares two such folders, tensor by
tensor, within a tolerance. A difference is an error (HFC592); a comparison that cannot be made
(no v4 baseline, a forward that did not run on one side, inputs that differ) is a warning
(HFC593), never a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hf_custom.envs import Target
from hf_custom.events import EventSink, Log, emit
from hf_custom.findings import Finding, finding, sort_findings

__all__ = ["ATOL", "RTOL", "CrossVersion", "OutputDiff", "compare_outputs", "cross_version"]

RTOL = 1e-4
ATOL = 1e-5


@dataclass(frozen=True)
class OutputDiff:
    """One AutoClass's forward, compared: ``same``, ``differs`` or ``not-compared``."""

    auto_class: str
    status: str
    fields: tuple[str, ...] = ()  # the output tensors compared (or the ones that differ)
    max_abs_diff: float | None = None
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        return {
            "auto_class": self.auto_class,
            "status": self.status,
            "fields": list(self.fields),
            "max_abs_diff": self.max_abs_diff,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class CrossVersion:
    """The original under ``base`` against the repaired copy under ``other``."""

    base: str  # transformers version of the original's run
    other: str  # transformers version of the repaired copy's run
    diffs: tuple[OutputDiff, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """Every AutoClass compared gave the same outputs, and at least one was compared."""
        return bool(self.diffs) and all(d.status == "same" for d in self.diffs)

    @property
    def differs(self) -> tuple[OutputDiff, ...]:
        return tuple(d for d in self.diffs if d.status == "differs")

    def to_json(self) -> dict[str, object]:
        return {
            "base": self.base,
            "other": self.other,
            "ok": self.ok,
            "rtol": RTOL,
            "atol": ATOL,
            "diffs": [d.to_json() for d in self.diffs],
            "findings": [f.to_json() for f in self.findings],
        }


def _load(path: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return dict(load_file(str(path)))


def _split(tensors: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {k.removeprefix(prefix): v for k, v in tensors.items() if k.startswith(prefix)}


def _compare_one(auto_class: str, a: dict[str, Any], b: dict[str, Any]) -> OutputDiff:
    import torch

    ins_a, ins_b = _split(a, "input."), _split(b, "input.")
    if ins_a.keys() != ins_b.keys() or any(
        ins_a[k].shape != ins_b[k].shape or not torch.equal(ins_a[k], ins_b[k]) for k in ins_a
    ):
        return OutputDiff(auto_class, "not-compared", detail="the two runs built different inputs")
    out_a, out_b = _split(a, "output."), _split(b, "output.")
    common = sorted(out_a.keys() & out_b.keys())
    if not common:
        return OutputDiff(auto_class, "not-compared", detail="no output tensor in common")
    bad: list[str] = []
    worst = 0.0
    for name in common:
        x, y = out_a[name], out_b[name]
        if x.shape != y.shape:
            bad.append(name)
            continue
        if not (x.is_floating_point() or x.is_complex()):
            if not torch.equal(x, y):
                bad.append(name)
            continue
        x64, y64 = x.double(), y.double()
        if x64.numel():
            diff = (x64 - y64).abs()
            diff = torch.where(torch.isnan(x64) & torch.isnan(y64), 0.0, diff)
            worst = max(worst, float(diff.max()))
        if not torch.allclose(x64, y64, rtol=RTOL, atol=ATOL, equal_nan=True):
            bad.append(name)
    if bad:
        shapes = [n for n in bad if out_a[n].shape != out_b[n].shape]
        detail = (
            f"shape {tuple(out_a[shapes[0]].shape)} against {tuple(out_b[shapes[0]].shape)}"
            if shapes
            else f"max abs difference {worst:.3g}"
        )
        return OutputDiff(auto_class, "differs", tuple(bad), worst, detail)
    return OutputDiff(auto_class, "same", tuple(common), worst)


def compare_outputs(base: Path, other: Path) -> tuple[OutputDiff, ...]:
    """Compare the ``<AutoClass>.safetensors`` files of two verification runs."""
    names = sorted({p.stem for d in (base, other) if d.is_dir() for p in d.glob("*.safetensors")})
    out = []
    for name in names:
        a, b = base / f"{name}.safetensors", other / f"{name}.safetensors"
        if not (a.is_file() and b.is_file()):
            side = "original" if not a.is_file() else "repaired copy"
            out.append(
                OutputDiff(name, "not-compared", detail=f"the {side}'s forward did not pass")
            )
            continue
        out.append(_compare_one(name, _load(a), _load(b)))
    return tuple(out)


def _major(version: str) -> int:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


def pick_lines(targets: Sequence[Target]) -> tuple[Target, Target] | None:
    """The first v4 target and the first v5 (or later) target of the matrix (None: not both)."""
    v4 = next((t for t in targets if _major(t.version) == 4), None)
    v5 = next((t for t in targets if _major(t.version) >= 5), None)
    return (v4, v5) if v4 is not None and v5 is not None else None


def cross_version(
    original: Path,
    *,
    base: Target,
    other: Target,
    other_outputs: Path,
    work: Path,
    timeout: float = 600,
    on_event: EventSink | None = None,
) -> CrossVersion:
    """Verify ``original`` under ``base`` (keeping its outputs in ``work``) and compare them
    with the repaired copy's outputs under ``other`` (``other_outputs``, from the matrix)."""
    from hf_custom.verification import verify

    emit(
        on_event,
        Log(
            f"comparing outputs: the original under transformers {base.version}, "
            f"the repaired copy under {other.version}"
        ),
    )
    baseline = work / f"original-{base.version}"
    report = verify(original, python=base.python, timeout=timeout, on_event=on_event,
                    outputs=baseline)  # fmt: skip
    diffs = compare_outputs(baseline, other_outputs)
    where = f"the original under transformers {base.version}"
    there = f"the repaired copy under {other.version}"
    found: list[Finding] = []
    for d in diffs:
        if d.status == "differs":
            found.append(
                finding(
                    "HFC592",
                    f"{d.auto_class}: forward outputs differ between {where} and {there} "
                    f"({', '.join(d.fields[:3])}: {d.detail})",
                )
            )
        elif d.status == "not-compared":
            why = f"{d.auto_class}: outputs not compared across versions ({d.detail})"
            found.append(finding("HFC593", why))
    if not diffs:
        why = (
            f"the original does not verify under transformers {base.version}"
            if not report.ok
            else "no forward ran on either side"
        )
        found.append(finding("HFC593", f"outputs not compared across versions ({why})"))
    return CrossVersion(
        base=base.version,
        other=other.version,
        diffs=diffs,
        findings=tuple(sort_findings(found)),
    )
