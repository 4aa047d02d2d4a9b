"""``fix REPO_ID [--create-pr]``: repair a Hub repository's code and config, never its weights.

Reads the code, config and tokenizer files of one commit (``RemoteRepo``: the weights are never
requested), repairs them as ``fix SRC`` does, and verifies the copy with placeholder weights of
the shapes the config gives (random values: loading, forward, generate and the tokenizer are
proven; the repository's own weights are not compared). With ``create_pr`` the repaired files
are proposed in one pull request based on the commit that was read; if the revision moved since,
nothing is opened (:class:`StaleRead`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hf_custom.errors import InputError
from hf_custom.events import EventSink, Log, emit
from hf_custom.fixing.folder import JSON_VERSION, fix_folder

if TYPE_CHECKING:  # pragma: no cover
    from hf_custom.fixing.folder import FixResult
    from hf_custom.remote import Endpoint

#: What fix reads from a repository (inventory kinds); weights and their index never.
READ_KINDS = frozenset({"code", "config", "tokenizer"})
WEIGHTS_NOT_COMPARED = (
    "weights not compared: the repository's weights were not downloaded; the repaired code was "
    "verified with random weights of the shapes its config gives"
)


class StaleRead(InputError):
    """The revision moved after fix read it: the repairs may not apply to the new state."""


@dataclass(frozen=True)
class PullRequest:
    url: str
    commit: str
    parent: str  # the commit the repairs were made on

    def to_json(self) -> dict[str, object]:
        return {"url": self.url, "commit": self.commit, "parent": self.parent}


@dataclass(frozen=True)
class RepoFixResult:
    repo_id: str
    revision: str
    read_commit: str  # the commit whose files were read (and the PR's parent)
    read_files: tuple[str, ...]  # the files read: code, config, tokenizer
    fix: FixResult  # the repairs and the verification of the copy
    pull_request: PullRequest | None = None
    pull_request_skipped: str = ""  # why no pull request was opened ("" when not asked for)
    description: str = field(default="", compare=False)  # the PR description (or would-be)

    @property
    def changed(self) -> bool:
        return self.fix.plan.changed

    @property
    def ok(self) -> bool:
        """Nothing to repair, or everything repaired and the copy verifies."""
        if not self.changed:
            return not self.fix.plan.unrepaired and not self.fix.remaining
        return self.fix.ok and self.fix.verified is True

    def to_json(self) -> dict[str, Any]:
        doc = self.fix.to_json()
        doc.pop("src", None)
        doc.pop("out", None)
        doc["version"] = JSON_VERSION
        doc["ok"] = self.ok
        doc["repo_id"] = self.repo_id
        doc["revision"] = self.revision
        doc["read_commit"] = self.read_commit
        doc["read_files"] = list(self.read_files)
        doc["verification"]["weights_compared"] = False
        doc["pull_request"] = self.pull_request.to_json() if self.pull_request else None
        doc["pull_request_skipped"] = self.pull_request_skipped or None
        doc["description"] = self.description
        return doc


def _wanted(path: str) -> bool:
    from hf_custom.inventory import classify

    return "/" not in path and classify(path).value in READ_KINDS


def _download(repo: Any, dest: Path) -> tuple[str, ...]:
    """Write the repo's top-level code, config and tokenizer files into ``dest``."""
    names = []
    for f in repo.files():
        if _wanted(f.path):
            target = dest / f.path
            tmp = target.with_name(f".{target.name}.hfc-tmp")
            tmp.write_bytes(repo.read_bytes(f.path))
            tmp.replace(target)
            names.append(f.path)
    if "config.json" not in names:
        raise InputError(
            "the repository has no config.json at its top level",
            path=repo.repo_id,
            hint="fix repairs custom-code model repositories (config.json and *.py files)",
        )
    return tuple(sorted(names))


def _model_class(config: Mapping[str, Any]) -> str | None:
    archs = config.get("architectures")
    if isinstance(archs, list) and archs and isinstance(archs[0], str):
        return archs[0]
    auto_map = config.get("auto_map")
    if isinstance(auto_map, dict):
        for auto, ref in sorted(auto_map.items()):
            if auto.startswith("AutoModel") and isinstance(ref, str):
                return ref.rsplit(".", 1)[-1]
    return None


#: safetensors metadata key marking placeholder weights (verification/child_model.py reads it)
PLACEHOLDER_KEY = "hf_custom_placeholder"


def write_placeholder_weights(folder: Path, *, python: str | None = None) -> str | None:
    """Random weights for the config's model class into ``folder`` (model.safetensors).

    Returns why none could be written ("" on success; None when there is no model class).
    """
    import json

    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    cls = _model_class(config) if isinstance(config, dict) else None
    if cls is None:
        return None
    from hf_custom.verification import expected_state_keys

    keys = expected_state_keys(folder, [cls], python=python)[cls]
    if not keys.ok:
        return f"{cls} cannot be built from config.json: {keys.error}"
    import torch
    from safetensors.torch import save_file

    gen = torch.Generator().manual_seed(0)
    tensors = {}
    for name in sorted(keys.stored):
        shape = keys.shapes.get(name, ())
        dtype = getattr(torch, keys.dtypes.get(name, "float32").replace("torch.", ""), None)
        if not isinstance(dtype, torch.dtype):
            dtype = torch.float32
        if dtype.is_floating_point:
            tensors[name] = (torch.randn(shape, generator=gen) * 0.02).to(dtype)
        else:
            tensors[name] = torch.zeros(shape, dtype=dtype)
    # the metadata mark makes the verification child report weights "not compared"
    meta = {"format": "pt", PLACEHOLDER_KEY: "random weights of the config's shapes"}
    save_file(tensors, str(folder / "model.safetensors"), metadata=meta)
    return ""


def describe(result: FixResult, *, read_commit: str, weights_note: str) -> str:
    """The pull request's description: every repair, what is left, the verification result."""
    from hf_custom.staging.pipeline import _transformers_version

    version = _transformers_version() or "the installed transformers"
    lines = [
        f"Repairs made by `hf-custom fix` for transformers {version}, on commit "
        f"{read_commit[:12]}:",
        "",
    ]
    lines += [f"- {r.rule} `{r.path}:{r.line}`: {r.change}" for r in result.plan.repairs]
    added = [c.path for c in result.plan.changes if c.added]
    if added:
        lines += ["", "Added: " + ", ".join(f"`{p}` (written by hf-custom)" for p in added)]
    left = [f"- {u.rule} `{u.path}:{u.line}`: {u.cause}" for u in result.plan.unrepaired]
    left += [f"- {f.id} `{f.path}:{f.line}`: {f.message}" for f in result.remaining]
    if left:
        lines += ["", "Not repaired:", *left]
    lines.append("")
    if result.verified is None:
        lines.append("Verification: not run (--no-verify).")
    elif result.verified:
        lines.append(
            "Verification: the repaired repository loads through every AutoClass of its "
            "auto_map in a clean process (forward, generate for generative heads, tokenizer, "
            "save round trip)."
        )
    else:
        lines.append(f"Verification FAILED: {result.verify_problem}")
    lines += ["", weights_note[0].upper() + weights_note[1:] + "."]
    return "\n".join(lines) + "\n"


def fix_repo(
    repo_id: str,
    *,
    endpoint: Endpoint,
    revision: str | None = None,
    select: Collection[str] = (),
    ignore: Collection[str] = (),
    verify: bool = True,
    create_pr: bool = False,
    commit_message: str | None = None,
    python: str | None = None,
    on_event: EventSink | None = None,
) -> RepoFixResult:
    """Repair ``repo_id`` at ``revision`` (code and config files only) and, with ``create_pr``,
    open one pull request with the repaired files (only when something changed and the copy
    verifies, or ``verify`` is off).

    Raises:
        InputError: the repository holds no config.json.
        StaleRead: the revision moved after it was read (exit 2); no pull request is opened.
        RemoteError: the Hub refused or could not be reached.
    """
    import shutil

    from hf_custom.remote import RemoteRepo

    repo = RemoteRepo(repo_id, endpoint=endpoint, revision=revision)
    rev = revision or "main"
    work = Path(tempfile.mkdtemp(prefix="hf-custom-fixrepo-"))
    try:
        src = work / repo_id.split("/")[-1]
        src.mkdir()
        sha = repo.sha
        emit(on_event, Log(f"reading the code and config files of {repo_id} at {sha[:12]}"))
        read = _download(repo, src)
        result = fix_folder(
            src, out=work / "fixed", select=select, ignore=ignore, verify=False, on_event=on_event
        )
        note = WEIGHTS_NOT_COMPARED
        if verify and result.plan.changed:
            result = _verify_remote(result, work / "fixed", work, python=python, on_event=on_event)
        desc = describe(result, read_commit=sha, weights_note=note)
        out = RepoFixResult(
            repo_id=repo_id, revision=rev, read_commit=sha, read_files=read, fix=result,
            description=desc,
        )  # fmt: skip
        if not create_pr:
            return out
        from dataclasses import replace

        skipped = ""
        if not result.plan.changed:
            skipped = "nothing to repair"
        elif result.verified is False:
            skipped = (
                "the repaired copy does not verify (see the findings above; --no-verify "
                "opens the pull request without verifying)"
            )
        if skipped:
            emit(on_event, Log(f"no pull request opened: {skipped}"))
            return replace(out, pull_request_skipped=skipped)
        pr = _open_pr(
            repo_id, endpoint=endpoint, revision=rev, parent=sha, result=result,
            description=desc, message=commit_message, on_event=on_event,
        )  # fmt: skip
        return replace(out, pull_request=pr)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _verify_remote(
    result: FixResult, fixed: Path, work: Path, *, python: str | None, on_event: EventSink | None
) -> FixResult:
    from dataclasses import replace

    from hf_custom.fixing.folder import _verify_copy

    emit(on_event, Log("building placeholder weights from the repaired config (no download)"))
    why = write_placeholder_weights(fixed, python=python)
    if why is None or why:
        problem = why or "no model class in config.json (architectures or auto_map)"
        return replace(result, verified=False, verify_problem=problem)
    checked = _verify_copy(
        fixed, work, src=fixed, python=python, transformers=(), allow_fail=(), on_event=on_event
    )
    return replace(
        result,
        verified=checked.ok,
        verify_problem=checked.problem,
        verify_findings=checked.findings,
    )


def _open_pr(
    repo_id: str,
    *,
    endpoint: Endpoint,
    revision: str,
    parent: str,
    result: FixResult,
    description: str,
    message: str | None,
    on_event: EventSink | None,
) -> PullRequest:
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import HfHubHTTPError

    from hf_custom.remote import map_error
    from hf_custom.remote.client import hf_api

    stale = StaleRead(
        f"{revision} of {repo_id} moved since fix read it at {parent[:12]}: the repairs were "
        "made on the old files; no pull request was opened",
        path=repo_id,
        hint=f"run hf-custom fix {repo_id} --create-pr again: it reads the new state",
    )
    ops = [CommitOperationAdd(c.path, c.after) for c in result.plan.changes]
    n = len(result.plan.repairs)
    title = message or f"Repair custom code for transformers v5 ({n} repair(s), hf-custom fix)"
    try:
        api = hf_api(endpoint)
        if api.repo_info(repo_id, revision=revision).sha != parent:
            raise stale
        emit(on_event, Log(f"opening a pull request on {repo_id} ({len(ops)} file(s))"))
        info = api.create_commit(
            repo_id,
            operations=ops,
            commit_message=title,
            commit_description=description,
            revision=revision,
            create_pr=True,
            parent_commit=parent,
        )
    except StaleRead:
        raise
    except HfHubHTTPError as exc:
        if exc.response is not None and exc.response.status_code == 412:
            raise stale from None
        raise map_error(exc, endpoint=endpoint, repo_id=repo_id, action="opening a PR") from exc
    except Exception as exc:
        raise map_error(exc, endpoint=endpoint, repo_id=repo_id, action="opening a PR") from exc
    return PullRequest(url=str(info.pr_url or info.commit_url), commit=info.oid, parent=parent)


__all__ = [
    "WEIGHTS_NOT_COMPARED",
    "PullRequest",
    "RepoFixResult",
    "StaleRead",
    "describe",
    "fix_repo",
    "write_placeholder_weights",
]
