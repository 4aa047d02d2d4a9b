"""publish: read -> stage (code, config, weights, tokenizer, card) -> check -> verify -> upload.

:func:`stage` builds the staged folder in a temporary sibling of ``out`` and renames it into
place only once it is complete; the source checkpoint is only ever read. :func:`publish` stages,
runs the static checks and the isolated verification, and uploads in one commit unless
``dry_run``. Both return plain frozen dataclasses and never print.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hf_custom import safejson
from hf_custom.codeinfo import CodePackage, analyze_package
from hf_custom.errors import HFCustomError, InputError, Refusal
from hf_custom.events import EventSink, Log, emit
from hf_custom.findings import Finding, Severity, finding, sort_findings
from hf_custom.inventory import Exclusion, FileKind, Inventory, read_checkpoint, weights_dtype
from hf_custom.inventory import weight_names as source_weight_names
from hf_custom.staging.card import CARD, CardPlan, plan_card
from hf_custom.staging.config import Change, ConfigResult, normalize_config
from hf_custom.staging.tokenizer import (
    TokenizerPlan,
    plan_tokenizer,
    read_tokenizer_files,
    write_json_atomic,
    write_tokenizer,
)

DEFAULT_MAX_SHARD_SIZE = 5_000_000_000
JSON_VERSION = 1


@dataclass(frozen=True)
class StageResult:
    out: Path
    source: Path
    files: tuple[str, ...]  # staged files, relative to out
    changes: tuple[Change, ...]  # config.json, tokenizer and card changes
    rewrites: tuple[Any, ...]  # code rewrites (hf_custom.staging.code.Rewrite)
    renames: tuple[Any, ...]  # weight renames (hf_custom.weights Rename)
    excluded: tuple[Any, ...]  # hf_custom.inventory.Exclusion
    requirements: tuple[str, ...]
    findings: tuple[Finding, ...]
    config: Mapping[str, Any]
    architecture: str | None
    weights: Any = None  # hf_custom.weights.ConvertResult
    checks_run: tuple[str, ...] = ()
    checks_skipped: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    def to_json(self) -> dict[str, Any]:
        return {
            "out": str(self.out),
            "source": str(self.source),
            "ok": self.ok,
            "files": list(self.files),
            "changes": [c.to_json() for c in self.changes],
            "code_rewrites": [_plain(r) for r in self.rewrites],
            "weight_renames": [_plain(r) for r in self.renames],
            "excluded": [e.to_json() for e in self.excluded],
            "requirements": list(self.requirements),
            "findings": [f.to_json() for f in self.findings],
            "architecture": self.architecture,
            "weights": _plain(self.weights) if self.weights is not None else None,
            "checks": {"run": list(self.checks_run), "skipped": list(self.checks_skipped)},
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class PublishResult:
    stage: StageResult
    repo_id: str | None
    dry_run: bool
    verified: bool  # verification ran and passed
    verify_skipped: bool
    verify: Any = None  # hf_custom.verification.VerifyReport
    upload: Any = None  # hf_custom.remote.UploadResult
    findings: tuple[Finding, ...] = ()
    refused: str | None = None  # why nothing was uploaded, when refused
    kept: bool = True  # whether the staged folder still exists
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.refused is None

    def to_json(self) -> dict[str, Any]:
        return {
            "version": JSON_VERSION,
            "ok": self.ok,
            "repo_id": self.repo_id,
            "dry_run": self.dry_run,
            "refused": self.refused,
            "stage": self.stage.to_json(),
            "staged_folder": str(self.stage.out) if self.kept else None,
            "verification": (
                {"skipped": True}
                if self.verify_skipped
                else (self.verify.to_json() if self.verify is not None else None)
            ),
            "upload": self.upload.to_json() if self.upload is not None else None,
            "findings": [f.to_json() for f in self.findings],
            "seconds": round(self.seconds, 3),
        }


def _plain(obj: Any) -> Any:
    if hasattr(obj, "to_json"):
        return obj.to_json()
    if hasattr(obj, "__dataclass_fields__"):
        from dataclasses import asdict

        return {k: _plain(v) for k, v in asdict(obj).items()}
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj


# -- steps ---------------------------------------------------------------------------------------


def _not_available(step: str, module: str, exc: Exception) -> HFCustomError:
    return HFCustomError(
        f"{step} is not available in this build of hf-custom ({module}: {exc})",
        hint="this step is still being implemented; nothing was written",
    )


def _read_config(src: Path) -> dict[str, Any]:
    path = src / "config.json"
    if not path.is_file():
        raise InputError(
            "no config.json in the checkpoint folder",
            path=str(path),
            hint="save the model config with config.save_pretrained(folder) first",
            findings=[finding("HFC100", "config.json is missing", path="config.json")],
        )
    try:
        doc = safejson.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            f"config.json is not valid JSON: {exc}",
            path=str(path),
            hint="fix the file (it may be truncated) or re-create it with config.save_pretrained",
            findings=[finding("HFC100", f"invalid JSON: {exc}", path="config.json")],
        ) from exc
    if not isinstance(doc, dict):
        raise InputError(
            "config.json is not a JSON object",
            path=str(path),
            hint="config.json must hold one JSON object",
            findings=[finding("HFC100", "not a JSON object", path="config.json")],
        )
    return doc


def _auto_map_modules(config: Mapping[str, Any]) -> list[str]:
    auto_map = config.get("auto_map")
    out: set[str] = set()
    if isinstance(auto_map, dict):
        for value in auto_map.values():
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str) and "." in v and "--" not in v:
                    out.add(v.rpartition(".")[0])
    return sorted(out)


def _transformers_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("transformers")
    except Exception:
        return None


def _prepare_out(out: Path, src: Path, *, force: bool) -> None:
    if out == src or src in out.parents:
        raise InputError(
            "the output folder is inside the checkpoint folder",
            path=str(out),
            hint="choose --out outside the checkpoint: the source is never modified",
        )
    if out in src.parents:
        raise InputError(
            "the output folder contains the checkpoint folder",
            path=str(out),
            hint="choose another --out",
        )
    if out.exists() and not out.is_dir():
        raise InputError("--out exists and is not a folder", path=str(out), hint="choose another")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(
            "the output folder is not empty",
            path=str(out),
            hint="choose an empty or new --out, or pass --force to replace it",
        )
    try:  # the staging folder is built next to ``out``: its parents must exist
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the folders above --out: {exc.strerror or exc}",
            path=str(out.parent),
            hint="choose an --out whose parent folder you can write to",
        ) from None


def _install(staging: Path, out: Path) -> None:
    """Move the complete ``staging`` folder to ``out`` (replacing it) with renames only."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        out.replace(old / "x")
    try:
        staging.replace(out)
    except BaseException:
        if old is not None:
            (old / "x").replace(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _model_refs(config: Mapping[str, Any], code: CodePackage) -> list[str]:
    refs: set[str] = set()
    auto_map = config.get("auto_map") or {}
    for key, value in auto_map.items():
        if key.startswith("AutoModel") and isinstance(value, str) and "--" not in value:
            refs.add(value)
    for cls in code.model_classes():
        if not cls.name.endswith(("PreTrainedModel", "PretrainedModel")):
            refs.add(f"{cls.module}.{cls.name}")
    return sorted(refs)


def _errors(findings: Sequence[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity is Severity.ERROR]


# -- stage ---------------------------------------------------------------------------------------


def stage(
    src: Path | str,
    *,
    out: Path | str,
    code_root: Path | str | None = None,
    model_type: str | None = None,
    auto_classes: Mapping[str, str] | None = None,
    architecture: str | None = None,
    renames: Sequence[tuple[str, str]] = (),
    dtype: str | None = None,
    max_shard_size: int = DEFAULT_MAX_SHARD_SIZE,
    python: str | None = None,
    repo_id: str | None = None,
    force: bool = False,
    on_event: EventSink | None = None,
) -> StageResult:
    """Stage checkpoint ``src`` into ``out`` (created atomically, only when complete).

    Raises :class:`InputError` for unreadable input and :class:`Refusal` (with the findings)
    when planning finds errors that would make the folder unloadable; nothing is written then.
    """
    start = time.perf_counter()
    src = Path(src).resolve()
    out = Path(out).resolve()
    _prepare_out(out, src, force=force)
    emit(on_event, Log(f"reading {src}"))
    inventory = read_checkpoint(src)
    config_in = _read_config(src)

    from hf_custom.staging.code import plan_code, write_code

    emit(on_event, Log("packaging the code"))
    code_plan = plan_code(
        src,
        code_root=Path(code_root) if code_root else None,
        entry=_auto_map_modules(config_in),
    )
    excluded = {e.path for e in inventory.excluded}
    leaked = sorted(o for o in code_plan.origins.values() if o in excluded)
    if leaked:
        raise Refusal(
            "code files needed by the model are excluded as secrets: " + ", ".join(leaked),
            path=str(src),
            hint="remove the token or key from these files, then publish again",
            findings=[f for f in inventory.findings if f.path in leaked],
        )
    files = dict(code_plan.files)
    code = code_plan.package

    # pass 1: config without weights knowledge (auto_map for the class list)
    tf_version = _transformers_version()
    first = normalize_config(
        config_in,
        code,
        model_type=model_type,
        auto_classes=auto_classes,
        architecture=architecture,
        transformers_version=tf_version,
    )
    if first.rename_model_type is not None and first.config_class:
        from hf_custom.staging.config import rename_model_type_in_source

        module, _, cls_name = first.config_class.rpartition(".")
        fname = f"{module}.py"
        new_src = rename_model_type_in_source(files[fname], cls_name, first.rename_model_type[1])
        if new_src is None:
            raise Refusal(
                f"cannot rename model_type in {fname}: {cls_name} has no literal model_type",
                path=fname,
                hint=f'set model_type = "{first.rename_model_type[1]}" in {cls_name} yourself',
            )
        files[fname] = new_src
        code = analyze_package(files)

    tok_names = [f.path for f in inventory.of_kind(FileKind.TOKENIZER) if "/" not in f.path]
    tok_plan = plan_tokenizer(read_tokenizer_files(src, tok_names), config=first.config, code=code)

    planning = [*code_plan.findings, *first.findings, *tok_plan.findings]
    if _errors(planning):
        raise Refusal(
            "the checkpoint cannot be staged as it is",
            path=str(src),
            hint="fix the errors above (hf-custom explain ID tells more), then run again",
            findings=sort_findings(planning),
        )

    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
    try:
        result = _build(
            src=src,
            out=out,
            staging=staging,
            inventory=inventory,
            config_in=config_in,
            code_plan=code_plan,
            files=files,
            code=code,
            first=first,
            tok_plan=tok_plan,
            tok_names=tok_names,
            planning=planning,
            write_code=write_code,
            options={
                "model_type": model_type,
                "auto_classes": auto_classes,
                "architecture": architecture,
                "transformers_version": tf_version,
                "renames": renames,
                "dtype": dtype,
                "max_shard_size": max_shard_size,
                "python": python,
                "repo_id": repo_id,
            },
            on_event=on_event,
            start=start,
        )
        _install(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result


def _build(
    *,
    src: Path,
    out: Path,
    staging: Path,
    inventory: Inventory,
    config_in: dict[str, Any],
    code_plan: Any,
    files: dict[str, str],
    code: CodePackage,
    first: ConfigResult,
    tok_plan: TokenizerPlan,
    tok_names: list[str],
    planning: list[Finding],
    write_code: Any,
    options: dict[str, Any],
    on_event: EventSink | None,
    start: float,
) -> StageResult:
    from dataclasses import replace

    write_code(replace(code_plan, files=files), staging)
    write_json_atomic(staging / "config.json", first.config)

    # expected parameter names of every model class (helper E, child process, meta device)
    emit(on_event, Log("listing the parameters of each model class"))
    try:
        from hf_custom.verification import expected_state_keys
    except ImportError as exc:
        raise _not_available("listing model parameters", "hf_custom.verification", exc) from exc
    refs = _model_refs(first.config, code)
    keys = expected_state_keys(staging, refs, python=options["python"], on_event=on_event)
    class_params = {ref.rpartition(".")[2]: ek.stored for ref, ek in keys.items() if ek.ok}
    authored = {v for v in (config_in.get("auto_map") or {}).values() if isinstance(v, str)}
    # classes the author did not register that cannot even be built: left out of auto_map
    unusable = {
        ref.rpartition(".")[2]: ek.error.splitlines()[0][:200]
        for ref, ek in keys.items()
        if not ek.ok and ref not in authored
    }

    weight_names = source_weight_names(src, inventory)
    final = normalize_config(
        config_in,
        code,
        weight_names=weight_names,
        class_params=class_params or None,
        model_type=options["model_type"],
        auto_classes=options["auto_classes"],
        architecture=options["architecture"],
        transformers_version=options["transformers_version"],
        unusable=unusable,
        class_aliases={
            ref.rpartition(".")[2]: frozenset(ek.tied) for ref, ek in keys.items() if ek.ok
        },
    )
    config = dict(final.config)
    # what instantiating the classes found, for the classes users can load (registered in
    # auto_map or named in architectures); a class nobody registers cannot break a user
    registered = {
        v.rpartition(".")[2] for v in (config.get("auto_map") or {}).values() if isinstance(v, str)
    } | set(config.get("architectures") or [])
    key_findings = [
        f for ref, ek in keys.items() if ref.rpartition(".")[2] in registered for f in ek.findings
    ]
    changes: list[Change] = list(final.changes)
    archs = config.get("architectures") or []
    arch = archs[0] if archs else None

    # weights (helper C)
    if not inventory.of_kind(FileKind.WEIGHTS):
        raise InputError(
            "no weights in the checkpoint folder",
            path=str(src),
            hint="save the state dict (pytorch_model.bin, *.pt or *.safetensors) into the folder",
        )
    try:
        import importlib

        convert = importlib.import_module("hf_custom.weights").convert
    except (ImportError, AttributeError) as exc:
        raise _not_available("weights conversion", "hf_custom.weights.convert", exc) from exc
    expected = next((ek for ref, ek in keys.items() if ref.rpartition(".")[2] == arch), None)
    emit(on_event, Log("converting the weights to safetensors"))
    converted = convert(
        src,
        staging,
        max_shard_size=options["max_shard_size"],
        dtype=options["dtype"],
        renames=options["renames"],
        expected_keys=expected.keys if expected is not None and expected.ok else None,
        base_model_prefix=(expected.base_model_prefix or None) if expected is not None else None,
        tied=dict(expected.tied) if expected is not None else None,
        on_event=on_event,
    )
    requested = getattr(converted, "dtype", None)
    wdtype = requested if requested and requested != "kept" else weights_dtype(staging)
    if wdtype and config.get("dtype") != wdtype:
        changes.append(Change("dtype", config.get("dtype"), wdtype, "the dtype of the weights"))
        config["dtype"] = wdtype

    # tokenizer
    tok_plan = plan_tokenizer(
        read_tokenizer_files(src, tok_names),
        config=config,
        code=code,
    )
    write_tokenizer(tok_plan, src, staging)
    for key, value in tok_plan.config_updates.items():
        config[key] = value
    changes.extend(tok_plan.changes)

    # other config files (generation_config.json, ...), copied as they are
    for entry in inventory.of_kind(FileKind.CONFIG):
        if "/" not in entry.path and entry.path != "config.json":
            shutil.copyfile(src / entry.path, staging / entry.path)

    write_json_atomic(staging / "config.json", config)

    # model card
    existing = (src / CARD).read_text(encoding="utf-8") if inventory.has(CARD) else None
    card: CardPlan = plan_card(
        existing,
        auto_map=config.get("auto_map") or {},
        name=options["repo_id"].split("/")[-1] if options["repo_id"] else out.name,
        repo_id=options["repo_id"],
        requirements=tuple(code_plan.requirements),
        tokenizer=bool(tok_plan.copies or tok_plan.writes),
        architecture=arch,
    )
    if card.text is not None:
        (staging / CARD).write_text(card.text, encoding="utf-8")
    elif existing is not None:
        shutil.copyfile(src / CARD, staging / CARD)
    changes.extend(card.changes)

    # static checks on the staged folder (helper F)
    emit(on_event, Log("checking the staged folder"))
    try:
        from hf_custom.diagnosis import doctor
    except ImportError as exc:
        raise _not_available("static checks", "hf_custom.diagnosis", exc) from exc
    report = doctor(staging, on_event=on_event)
    check_findings = [_relabel(f, staging) for f in report.findings]

    unused = _unused_files(inventory, set(code_plan.origins.values()))
    findings = sort_findings(
        {
            *planning,
            *final.findings,
            *key_findings,
            *getattr(converted, "findings", ()),
            *tok_plan.findings,
            *card.findings,
            *(_cap(f, Severity.WARNING) for f in inventory.findings),
            *check_findings,
            *(f for _, f in unused),
        }
    )
    staged_files = sorted(
        p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file()
    )
    return StageResult(
        out=out,
        source=src,
        files=tuple(staged_files),
        changes=tuple(changes),
        rewrites=tuple(code_plan.rewrites),
        renames=tuple(getattr(converted, "renames", ())),
        excluded=tuple(
            sorted([*inventory.excluded, *(e for e, _ in unused)], key=lambda e: e.path)
        ),
        requirements=tuple(code_plan.requirements),
        findings=tuple(findings),
        config=config,
        architecture=arch,
        weights=converted,
        checks_run=tuple(report.run),
        checks_skipped=tuple(f"{s.check}: {s.reason}" for s in report.skipped),
        seconds=time.perf_counter() - start,
    )


def _unused_files(inventory: Inventory, code_sources: set[str]) -> list[tuple[Exclusion, Finding]]:
    """Files no stage used: code outside the import closure, other files in subfolders."""
    out = []
    for entry in inventory.files:
        if entry.kind is FileKind.CODE:
            if entry.path in code_sources:
                continue
        elif "/" not in entry.path:
            continue
        reason = (
            "not part of the packaged code (no import reaches it)"
            if entry.kind is FileKind.CODE
            else "in a subfolder: only top-level files are staged"
        )
        out.append(
            (
                Exclusion(entry.path, entry.kind, reason, size=entry.size),
                finding("HFC607", f"{entry.path} not staged: {reason}", path=entry.path),
            )
        )
    return out


def _cap(f: Finding, severity: Severity) -> Finding:
    """An excluded file is not published: what it holds is worth a warning, not a refusal."""
    from dataclasses import replace

    return replace(f, severity=severity) if f.severity.rank < severity.rank else f


def _relabel(f: Finding, staging: Path) -> Finding:
    """Findings of the checks name staged paths relative to the folder, never the temp dir."""
    from dataclasses import replace

    prefix = str(staging) + os.sep
    if f.path.startswith(prefix):
        return replace(f, path=f.path[len(prefix) :])
    return f


# -- publish -------------------------------------------------------------------------------------


def publish(
    src: Path | str,
    *,
    repo_id: str | None = None,
    dry_run: bool = False,
    out: Path | str | None = None,
    force: bool = False,
    verify: bool = True,
    endpoint: str | None = None,
    token: str | None = None,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    create_pr: bool = False,
    python: str | None = None,
    code_root: Path | str | None = None,
    model_type: str | None = None,
    auto_classes: Mapping[str, str] | None = None,
    architecture: str | None = None,
    renames: Sequence[tuple[str, str]] = (),
    dtype: str | None = None,
    max_shard_size: int = DEFAULT_MAX_SHARD_SIZE,
    verify_timeout: float = 600,
    on_event: EventSink | None = None,
) -> PublishResult:
    """Stage ``src``, check and verify the result, and upload it to ``repo_id`` in one commit.

    With ``dry_run`` nothing is uploaded (``repo_id`` may be omitted). Without ``out`` the
    folder is staged in a temporary directory, kept for a dry run and removed after an upload.
    A failed check or verification refuses the upload: the result says why (``refused``).
    """
    start = time.perf_counter()
    if not dry_run and not repo_id:
        raise InputError(
            "publish needs --repo-id (or --dry-run to stage and verify only)",
            hint="hf-custom publish ./ckpt --repo-id you/model  (or add --dry-run)",
        )
    endpoint_obj = None
    if not dry_run:
        from hf_custom.remote import resolve_endpoint

        endpoint_obj = resolve_endpoint(endpoint, token)  # fail early, before any work
    tmp_parent: Path | None = None
    if out is None:
        tmp_parent = Path(tempfile.mkdtemp(prefix="hf-custom-"))
        out_path = tmp_parent / (repo_id.split("/")[-1] if repo_id else Path(src).name)
    else:
        out_path = Path(out)
    try:
        staged = stage(
            src,
            out=out_path,
            code_root=code_root,
            model_type=model_type,
            auto_classes=auto_classes,
            architecture=architecture,
            renames=renames,
            dtype=dtype,
            max_shard_size=max_shard_size,
            python=python,
            repo_id=repo_id,
            force=force,
            on_event=on_event,
        )
    except BaseException:
        if tmp_parent is not None:
            shutil.rmtree(tmp_parent, ignore_errors=True)
        raise

    findings: list[Finding] = list(staged.findings)
    refused: str | None = None
    report = None
    if not staged.ok:
        refused = "the staged folder has errors (see the findings)"
    elif verify:
        try:
            from hf_custom.verification import verify as run_verify
        except ImportError as exc:
            raise _not_available("verification", "hf_custom.verification", exc) from exc
        emit(on_event, Log("verifying: loading every AutoClass in a clean process"))
        try:
            report = run_verify(
                staged.out, python=python, timeout=verify_timeout, on_event=on_event
            )
        except BaseException:  # Ctrl-C mid-verification: never leave an unproven --out behind
            shutil.rmtree(tmp_parent or staged.out, ignore_errors=True)
            raise
        dropped = _drop_unverified_added(staged, report.findings)
        findings.extend(f for f in report.findings if f not in dropped.replaced)
        findings.extend(dropped.warnings)
        if dropped.warnings and not dropped.remaining_errors:
            report = replace(report, ok=True, findings=tuple(dropped.kept))
            staged = replace(staged, config=dropped.config)
        if not report.ok:
            refused = "verification failed: the staged folder does not load as it should"
    else:
        emit(
            on_event,
            Log(
                "verification SKIPPED (--no-verify): nothing proves the folder loads "
                "through its AutoClasses",
                level="warning",
            ),
        )
        findings.append(finding("HFC529", "verification was skipped (--no-verify)"))

    upload_result = None
    if refused is None and not dry_run:
        from hf_custom.remote import upload

        assert endpoint_obj is not None and repo_id is not None
        emit(on_event, Log(f"uploading to {repo_id}"))
        try:
            upload_result = upload(
                staged.out,
                repo_id=repo_id,
                endpoint=endpoint_obj,
                private=private,
                revision=revision,
                commit_message=commit_message,
                create_pr=create_pr,
                on_event=on_event,
            )
        except BaseException:
            if tmp_parent is not None:  # a temporary staging folder: nothing left behind
                shutil.rmtree(tmp_parent, ignore_errors=True)
            raise
    kept = True
    if tmp_parent is not None and not dry_run and refused is None:
        shutil.rmtree(tmp_parent, ignore_errors=True)
        kept = False
    return PublishResult(
        stage=staged,
        repo_id=repo_id,
        dry_run=dry_run,
        verified=report is not None and report.ok,
        verify_skipped=not verify,
        verify=report,
        upload=upload_result,
        findings=tuple(sort_findings(set(findings))),
        refused=refused,
        kept=kept,
        seconds=time.perf_counter() - start,
    )


@dataclass(frozen=True)
class _Dropped:
    config: Mapping[str, Any]
    replaced: frozenset[Finding]  # verification errors of dropped entries
    warnings: tuple[Finding, ...]  # one HFC116 per dropped entry
    kept: tuple[Finding, ...]  # the other verification findings
    remaining_errors: bool


def _drop_unverified_added(staged: StageResult, found: Sequence[Finding]) -> _Dropped:
    """Entries publish added to auto_map on its own (by naming convention) that fail
    verification are dropped from the staged config.json with a warning, not a refusal; the
    author's entries and the architectures class must verify."""
    config = dict(staged.config)
    auto_map = dict(config.get("auto_map") or {})
    added = {
        c.key.removeprefix("auto_map."): c.new
        for c in staged.changes
        if c.key.startswith("auto_map.AutoModel") and c.old is None and isinstance(c.new, str)
    }
    archs = set(config.get("architectures") or [])
    errors = [f for f in found if f.severity is Severity.ERROR]
    replaced: set[Finding] = set()
    warnings: list[Finding] = []
    for auto, ref in sorted(added.items()):
        name = ref.rpartition(".")[2]
        if name in archs or auto_map.get(auto) != ref:
            continue
        mine = [f for f in errors if f.message.startswith(f"{name}:")]
        if not mine:
            continue
        replaced.update(mine)
        del auto_map[auto]
        warnings.append(
            finding(
                "HFC116",
                f"{name} is not registered as {auto}: it fails verification "
                f"({mine[0].id}: {mine[0].message.removeprefix(name + ':').strip()[:160]})",
                path="config.json",
                severity=Severity.WARNING,
            )
        )
    if warnings:
        config["auto_map"] = auto_map
        write_json_atomic(staged.out / "config.json", config)
    return _Dropped(
        config=config,
        replaced=frozenset(replaced),
        warnings=tuple(warnings),
        kept=tuple(f for f in found if f not in replaced),
        remaining_errors=any(f not in replaced for f in errors),
    )


def parse_auto_classes(pairs: Collection[str]) -> dict[str, str]:
    """``["XForY=AutoModelForY", ...]`` -> mapping; InputError on a malformed pair."""
    out: dict[str, str] = {}
    for pair in pairs:
        cls, sep, auto = pair.partition("=")
        if not sep or not cls.strip() or not auto.strip():
            raise InputError(
                f"--auto-class {pair!r} is not of the form Class=AutoClass",
                hint="e.g. --auto-class MyT5ForConditionalGeneration=AutoModelForSeq2SeqLM",
            )
        out[cls.strip()] = auto.strip()
    return out


__all__ = [
    "DEFAULT_MAX_SHARD_SIZE",
    "PublishResult",
    "StageResult",
    "parse_auto_classes",
    "publish",
    "stage",
]
