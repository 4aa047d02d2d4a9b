"""``fix SRC --out DIR``: a repaired copy of a checkpoint folder, proven by the verifier."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hf_custom.errors import HFCustomError, InputError
from hf_custom.events import EventSink, Log, emit
from hf_custom.findings import Finding, Severity
from hf_custom.fixing.engine import plan_fixes, repair_rules
from hf_custom.fixing.model import FileChange, FixPlan

JSON_VERSION = 1
SKIP_DIRS = frozenset({".git", "__pycache__", ".ipynb_checkpoints"})


@dataclass(frozen=True)
class FixResult:
    src: str
    out: str | None  # None with --diff (nothing written)
    plan: FixPlan
    remaining: tuple[Finding, ...] = ()  # errors doctor still finds in the repaired copy
    verified: bool | None = None  # None: verification not run
    verify_problem: str = ""  # why verification failed
    # the errors that failed it (blocking findings: rule id, file:line, message)
    verify_findings: tuple[Finding, ...] = field(default=(), compare=False)
    # --transformers: the repaired copy's matrix, and the original's forward under the v4
    # version against the copy's under the v5 version (verification.crossversion)
    matrix: Any = field(default=None, compare=False)
    cross_version: Any = field(default=None, compare=False)

    @property
    def ok(self) -> bool:
        """Every detected break repaired, and the repaired copy verifies."""
        return not self.plan.unrepaired and not self.remaining and self.verified is not False

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"version": JSON_VERSION, "ok": self.ok, "src": self.src}
        doc["out"] = self.out
        doc.update(self.plan.to_json())
        doc["remaining"] = [f.to_json() for f in self.remaining]
        doc["verification"] = {
            "ran": self.verified is not None,
            "ok": self.verified,
            "problem": self.verify_problem or None,
            "findings": [f.to_json() for f in self.verify_findings],
            "matrix": self.matrix.to_json() if self.matrix is not None else None,
            "cross_version": (
                self.cross_version.to_json() if self.cross_version is not None else None
            ),
        }
        return doc


def _read_sources(src: Path) -> tuple[dict[str, bytes], dict[str, Any] | None]:
    files = {p.name: p.read_bytes() for p in sorted(src.glob("*.py")) if p.is_file()}
    config = None
    cfg = src / "config.json"
    if cfg.is_file():
        try:
            loaded = json.loads(cfg.read_text(encoding="utf-8"))
            config = loaded if isinstance(loaded, dict) else None
        except (ValueError, UnicodeDecodeError):
            config = None
    return files, config


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(
        src,
        dst,
        symlinks=True,
        ignore=lambda _d, names: [n for n in names if n in SKIP_DIRS],
    )


def _check_out(src: Path, out: Path, *, force: bool) -> None:
    if out.resolve() == src.resolve() or out.resolve().is_relative_to(src.resolve()):
        raise InputError(
            "--out must be outside SRC: fix never modifies the source folder",
            path=str(out),
            hint="pick a new folder, e.g. --out ../model-fixed",
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise InputError(
            "the output folder exists and is not empty",
            path=str(out),
            hint="pick a new folder, or pass --force to replace it",
        )


@dataclass(frozen=True)
class _Verified:
    ok: bool
    problem: str = ""
    findings: tuple[Finding, ...] = ()
    matrix: Any = None
    cross_version: Any = None


def _verify_copy(
    copy: Path,
    work: Path,
    *,
    src: Path,
    python: str | None,
    transformers: tuple[str, ...],
    allow_fail: tuple[str, ...],
    on_event: EventSink | None,
) -> _Verified:
    from hf_custom.publishing import publish

    emit(on_event, Log("verifying the repaired copy (publish --dry-run into a temporary folder)"))
    outputs = work / "outputs" if transformers else None
    try:
        res = publish(
            copy,
            dry_run=True,
            out=work / "staged",
            python=python,
            transformers=transformers,
            allow_fail=allow_fail,
            matrix_outputs=outputs,
            on_event=on_event,
        )
    except HFCustomError as exc:  # the message names the temporary copy: say what, not where
        blocking = tuple(f for f in exc.findings if f.severity is Severity.ERROR)
        return _Verified(False, f"the repaired copy cannot be staged: {exc.message}", blocking)
    errors = tuple(f for f in res.findings if f.severity is Severity.ERROR)
    done = _Verified(res.verified, res.refused or "", errors, matrix=res.matrix)
    if outputs is None or res.matrix is None or not res.verified:
        return done
    from hf_custom.verification.crossversion import cross_version, pick_lines

    lines = pick_lines([c.target for c in res.matrix.columns])
    if lines is None:
        emit(on_event, Log("outputs not compared across versions: the matrix needs a v4 "
                           "and a v5 version (e.g. --transformers 4.57,latest)"))  # fmt: skip
        return done
    cross = cross_version(
        src,
        base=lines[0],
        other=lines[1],
        other_outputs=outputs / lines[1].version,
        work=work,
        on_event=on_event,
    )
    bad = tuple(f for f in cross.findings if f.severity is Severity.ERROR)
    problem = (
        f"the outputs differ from the original's under transformers {cross.base}" if bad else ""
    )
    return replace(
        done,
        ok=not bad,
        problem=problem,
        findings=done.findings + bad,
        cross_version=cross,
    )


def plan_folder(
    src: Path,
    files: Mapping[str, bytes],
    *,
    config: Mapping[str, Any] | None,
    selected: Collection[str],
) -> FixPlan:
    """Every change fix makes in ``src``: staging's import rewrites, then the repairs on the
    rewritten code, then the config.json normalisation doctor reports (pure but for reading
    ``src`` through the code planner)."""
    from hf_custom.codeinfo import analyze_package
    from hf_custom.fixing.config_json import CONFIG, plan_config
    from hf_custom.fixing.rewrites import code_rewrites

    rewritten, rewrites = code_rewrites(src, sources=files, config=config, rules=selected)
    staged = {**files, **rewritten}
    plan = plan_fixes(staged, config=config, rules=set(selected) & set(repair_rules()))
    after = {**rewritten, **{c.path: c.after for c in plan.changes}}
    repairs = [*rewrites, *plan.repairs]
    cfg_path = src / CONFIG
    if cfg_path.is_file():
        final = {**staged, **after}
        package = analyze_package(
            {p: d.decode("utf-8", "surrogateescape") for p, d in final.items() if p.endswith(".py")}
        )
        data = cfg_path.read_bytes()
        new_cfg, cfg_repairs = plan_config(data, package, rules=selected)
        if new_cfg is not None:
            after[CONFIG] = new_cfg
            files = {**files, CONFIG: data}
            repairs += cfg_repairs
    changes = [
        FileChange(path=p, before=files.get(p, b""), after=data)
        for p, data in sorted(after.items())
        if data != files.get(p, b"")
    ]
    return FixPlan(
        changes=tuple(changes), repairs=tuple(sorted(repairs)), unrepaired=plan.unrepaired
    )


def fix_folder(
    src: Path | str,
    *,
    out: Path | str | None = None,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    verify: bool = True,
    force: bool = False,
    python: str | None = None,
    transformers: Collection[str] = (),
    allow_fail: Collection[str] = (),
    on_event: EventSink | None = None,
) -> FixResult:
    """Repair a copy of ``src`` into ``out`` (``out`` None: plan and verify only, write nothing).

    ``src`` is only read. The repaired copy is checked again by doctor (every error it still
    finds is in ``remaining``) and,
    with ``verify``, staged and verified through the publish pipeline (dry run). With
    ``transformers`` (``--transformers`` specs) the copy is verified once per version, and when
    the matrix holds a v4 and a v5 version, the original's forward under the v4 one is compared
    with the copy's under the v5 one (a difference fails the verification, HFC592).
    """
    from hf_custom.checks import selected_rules
    from hf_custom.diagnosis import doctor

    src_path = Path(src)
    if not src_path.is_dir():
        raise InputError(
            "fix needs a checkpoint folder",
            path=str(src_path),
            hint="pass the folder holding config.json",
        )
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        _check_out(src_path, out_path, force=force)
    selected = selected_rules(select, ignore)
    files, config = _read_sources(src_path)
    plan = plan_folder(src_path, files, config=config, selected=selected)
    work = Path(tempfile.mkdtemp(prefix="hf-custom-fix-"))
    try:
        copy = work / src_path.resolve().name
        _copy_tree(src_path, copy)
        for change in plan.changes:
            target = copy / change.path
            tmp = target.with_name(f".{target.name}.hfc-tmp")
            tmp.write_bytes(change.after)
            tmp.replace(target)
        # every error doctor still finds in the copy (a repair rule's, or a break no repair
        # answers: a module file missing, a GPU-only construction, ...), named with its cause
        report = doctor(copy, select=tuple(select), ignore=tuple(ignore))
        remaining = tuple(f for f in report.findings if f.severity is Severity.ERROR)
        checked: _Verified | None = None
        if verify:
            checked = _verify_copy(
                copy,
                work,
                src=src_path,
                python=python,
                transformers=tuple(transformers),
                allow_fail=tuple(allow_fail),
                on_event=on_event,
            )
        if out_path is not None:
            if out_path.exists():
                shutil.rmtree(out_path) if out_path.is_dir() else out_path.unlink()
            out_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(copy), str(out_path))
        return FixResult(
            src=str(src_path),
            out=str(out_path) if out_path is not None else None,
            plan=plan,
            remaining=remaining,
            verified=checked.ok if checked is not None else None,
            verify_problem=checked.problem if checked is not None else "",
            verify_findings=checked.findings if checked is not None else (),
            matrix=checked.matrix if checked is not None else None,
            cross_version=checked.cross_version if checked is not None else None,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
