"""Git hooks that run the static doctor on what is about to be pushed or committed.

Reversible the way pre-commit does it: the installed script carries :data:`MARKER`; a hook that
was already there is kept as ``<hook>.legacy`` and run first; ``uninstall`` puts it back; and
installing refuses when ``core.hooksPath`` is set (git would ignore a hook in .git/hooks).

Nothing heavy is imported: the hook starts in well under a second.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hf_custom.checks.gitview import git
from hf_custom.errors import InputError, Refusal

if TYPE_CHECKING:
    from hf_custom.checks.gitview import GitTreeView
    from hf_custom.diagnosis import DoctorReport
    from hf_custom.findings import Finding

HOOK_TYPES = ("pre-push", "pre-commit")
MARKER = "# hf-custom-hook: f6c1e7a2 (installed by `hf-custom hook install`)"
ZERO_SHA = "0" * 40

_SCRIPT = """\
#!/bin/sh
{marker}
# Runs `hf-custom doctor` (static checks) on the {what} and blocks it on errors.
# `hf-custom hook uninstall` removes this script and restores any previous hook ({hook}.legacy).
# Bypass once with `git {verb} --no-verify`.
INSTALL_PYTHON={python}
HOOK_DIR=$(dirname -- "$0")
if [ -x "$INSTALL_PYTHON" ]; then
    exec "$INSTALL_PYTHON" -m hf_custom hook run --hook-type {hook} --hook-dir "$HOOK_DIR" -- "$@"
elif command -v hf-custom >/dev/null 2>&1; then
    exec hf-custom hook run --hook-type {hook} --hook-dir "$HOOK_DIR" -- "$@"
else
    echo "hf-custom hook: hf-custom is not installed (it was, in $INSTALL_PYTHON)." >&2
    echo "Reinstall it, or remove this hook with \\`hf-custom hook uninstall\\`." >&2
    exit 1
fi
"""


@dataclass(frozen=True)
class HookChange:
    hook_type: str
    path: Path
    action: str  # "installed", "updated", "removed", "restored", "not-installed", "not-ours"
    legacy: Path | None = None  # the previous hook, kept and chained (install) or restored


def _check_hook_type(hook_type: str) -> None:
    if hook_type not in HOOK_TYPES:
        raise InputError(
            f"unknown hook type {hook_type!r}", hint=f"use one of: {', '.join(HOOK_TYPES)}"
        )


def repo_root(path: Path) -> Path:
    try:
        out = git(Path(path), "rev-parse", "--show-toplevel")
    except InputError:
        raise InputError(
            "not inside a git repository",
            path=str(path),
            hint="run this in a clone of the model repository (git clone https://huggingface.co/you/model)",
        ) from None
    return Path(out.decode().strip())


def hooks_dir(repo: Path) -> Path:
    out = git(repo, "rev-parse", "--git-path", "hooks").decode().strip()
    return (repo / out).resolve()


def _hooks_path_setting(repo: Path) -> str | None:
    import subprocess

    proc = subprocess.run(
        ["git", "config", "--get", "core.hooksPath"], cwd=repo, capture_output=True, text=True
    )
    value = proc.stdout.strip()
    return value or None


def is_ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(errors="replace")
    except OSError:
        return False


def script(hook_type: str, *, python: str | None = None) -> str:
    _check_hook_type(hook_type)
    what = "commits being pushed" if hook_type == "pre-push" else "staged files (the index)"
    verb = "push" if hook_type == "pre-push" else "commit"
    return _SCRIPT.format(
        marker=MARKER,
        what=what,
        verb=verb,
        hook=hook_type,
        python=shlex.quote(python or sys.executable),
    )


def install(path: Path, *, hook_type: str = "pre-push", python: str | None = None) -> HookChange:
    """Install the hook in the repository containing ``path``."""
    _check_hook_type(hook_type)
    repo = repo_root(path)
    setting = _hooks_path_setting(repo)
    if setting is not None:
        raise Refusal(
            f"core.hooksPath is set to {setting!r}: git would not run a hook installed in "
            ".git/hooks, so none was installed",
            path=str(repo),
            hint="unset it with `git config --unset-all core.hooksPath` (and check it is not "
            "another hook manager's), or call `hf-custom hook run` from your hooks there",
        )
    hdir = hooks_dir(repo)
    hdir.mkdir(parents=True, exist_ok=True)
    hook = hdir / hook_type
    legacy = hdir / f"{hook_type}.legacy"
    action = "installed"
    if hook.is_symlink() or hook.exists():
        if is_ours(hook):
            action = "updated"
        elif legacy.exists() or legacy.is_symlink():
            raise Refusal(
                f"both {hook.name} and {legacy.name} exist and {hook.name} is not ours",
                path=str(hdir),
                hint="merge or remove one of them by hand, then run `hf-custom hook install` again",
            )
        else:
            hook.replace(legacy)
    tmp = hdir / f".{hook_type}.hf-custom.tmp"
    tmp.write_text(script(hook_type, python=python))
    tmp.chmod(0o755)
    tmp.replace(hook)
    kept = legacy if legacy.exists() or legacy.is_symlink() else None
    return HookChange(hook_type, hook, action, kept)


def uninstall(path: Path, *, hook_types: Sequence[str] = HOOK_TYPES) -> list[HookChange]:
    """Remove our hooks and restore the ones they replaced, exactly as they were."""
    repo = repo_root(path)
    hdir = hooks_dir(repo)
    changes: list[HookChange] = []
    for hook_type in hook_types:
        _check_hook_type(hook_type)
        hook = hdir / hook_type
        legacy = hdir / f"{hook_type}.legacy"
        if not (hook.exists() or hook.is_symlink()):
            changes.append(HookChange(hook_type, hook, "not-installed"))
            continue
        if not is_ours(hook):
            changes.append(HookChange(hook_type, hook, "not-ours"))
            continue
        hook.unlink()
        if legacy.exists() or legacy.is_symlink():
            legacy.replace(hook)
            changes.append(HookChange(hook_type, hook, "restored", legacy))
        else:
            changes.append(HookChange(hook_type, hook, "removed"))
    return changes


# -- running ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PushTarget:
    local_ref: str
    local_sha: str
    remote_ref: str
    remote_sha: str = ZERO_SHA


def parse_pre_push(stdin: str) -> list[PushTarget]:
    """The refs being pushed, from pre-push's standard input (deletions left out)."""
    targets: list[PushTarget] = []
    for line in stdin.splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        local_ref, local_sha, remote_ref, remote_sha = parts
        if set(local_sha) == {"0"}:
            continue  # deleting a remote ref: nothing to check
        targets.append(PushTarget(local_ref, local_sha, remote_ref, remote_sha))
    return targets


def trees_to_check(
    repo: Path, *, hook_type: str, stdin: str = "", to_ref: str | None = None
) -> list[tuple[str, str | None]]:
    """``[(label, treeish or None for the index)]`` for this hook invocation."""
    if to_ref:
        return [(to_ref, to_ref)]
    if hook_type == "pre-commit":
        return [("staged changes", None)]
    seen: set[str] = set()
    out: list[tuple[str, str | None]] = []
    for t in parse_pre_push(stdin):
        if t.local_sha not in seen:
            seen.add(t.local_sha)
            out.append((f"{t.local_ref} -> {t.remote_ref}", t.local_sha))
    return out


@dataclass(frozen=True)
class HookRun:
    legacy_code: int | None  # exit code of the chained previous hook, None when there is none
    reports: tuple[tuple[str, DoctorReport], ...]  # (what was checked, its report)

    @property
    def ok(self) -> bool:
        return not self.legacy_code and all(r.ok for _, r in self.reports)


def run_legacy(hook_dir: Path, hook_type: str, args: Sequence[str], stdin: bytes) -> int | None:
    import subprocess

    legacy = hook_dir / f"{hook_type}.legacy"
    if not legacy.is_file():
        return None
    if not os.access(legacy, os.X_OK):
        return None  # git itself ignores a hook that is not executable
    return subprocess.run([str(legacy), *args], input=stdin).returncode


def run(
    path: Path,
    *,
    hook_type: str,
    args: Sequence[str] = (),
    stdin: bytes = b"",
    hook_dir: Path | None = None,
    to_ref: str | None = None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
) -> HookRun:
    """What the installed script runs: the previous hook, then the static doctor.

    ``select``/``ignore`` default to the repository's settings (``hf-custom.toml`` or
    ``[tool.hf-custom]`` at its root); the checks read its default matrix from the checked tree.
    """
    from hf_custom.checks.gitview import GitTreeView
    from hf_custom.diagnosis import diagnose_view
    from hf_custom.settings import load_settings

    _check_hook_type(hook_type)
    repo = repo_root(path)
    settings = load_settings(repo)
    select = tuple(select) or settings.select
    ignore = tuple(ignore) or settings.ignore
    legacy_code = run_legacy(hook_dir, hook_type, args, stdin) if hook_dir else None
    reports: list[tuple[str, DoctorReport]] = []
    stdin_text = stdin.decode(errors="replace")
    pushed = {t.local_sha: t for t in parse_pre_push(stdin_text)} if hook_type == "pre-push" else {}
    for label, treeish in trees_to_check(
        repo, hook_type=hook_type, stdin=stdin_text, to_ref=to_ref
    ):
        view = GitTreeView(repo, treeish)
        report = diagnose_view(
            view, kind="git", select=select, ignore=ignore, installed_transformers=False
        )
        target = pushed.get(treeish or "")
        if target is not None and not to_ref:
            report = _with_history(repo, target, view, report, select=select, ignore=ignore)
        reports.append((label, report))
    return HookRun(legacy_code, tuple(reports))


def _with_history(
    repo: Path,
    target: PushTarget,
    view: GitTreeView,
    report: DoctorReport,
    *,
    select: Sequence[str],
    ignore: Sequence[str],
) -> DoctorReport:
    from dataclasses import replace

    from hf_custom.checks import selected_rules
    from hf_custom.findings import sort_findings

    keep = selected_rules(select, ignore)
    if not keep & {"HFC601", "HFC602"}:
        return report
    tip = {e.path for e in view.files()}
    extra = [f for f in history_findings(repo, target, tip_paths=tip) if f.id in keep]
    if not extra:
        return report
    return replace(report, findings=tuple(sort_findings({*report.findings, *extra})))


def history_findings(repo: Path, target: PushTarget, *, tip_paths: set[str]) -> list[Finding]:
    """Secrets added by a pushed commit and gone from the pushed tree: the Hub keeps history.

    Files still in the pushed tree are the tree checks' business; this looks at the others.
    """
    from hf_custom.checks.gitview import stream_blob
    from hf_custom.findings import finding
    from hf_custom.inventory import FileKind, classify, scan_for_token

    if set(target.remote_sha) == {"0"}:
        revs = git(repo, "rev-list", target.local_sha, "--not", "--remotes").decode().split()
    else:
        revs = git(repo, "rev-list", f"{target.remote_sha}..{target.local_sha}").decode().split()
    found: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for commit in revs:
        out = git(
            repo, "diff-tree", "-r", "-z", "--root", "--no-commit-id", "--diff-filter=AM", commit
        )
        fields = out.split(b"\0")
        for meta, raw in zip(fields[0::2], fields[1::2], strict=False):
            if not meta.startswith(b":"):
                continue
            path = raw.decode(errors="replace")
            sha = meta.decode().split()[3]
            if path in tip_paths or (path, sha) in seen:
                continue
            seen.add((path, sha))
            where = f"added in commit {commit[:10]} and deleted since, but pushed with the history"
            if classify(path) is FileKind.SECRET:
                found.append(finding("HFC601", f"may hold credentials: {where}", path=path))
                continue
            with stream_blob(repo, sha) as fh:  # the staging/doctor scanner: any size, binary
                at = scan_for_token(fh)  # files and UTF-16 included, memory bounded
            if at is not None:
                found.append(
                    finding("HFC602", f"holds a Hugging Face token (not shown): {where}", path=path)
                )
    return found
