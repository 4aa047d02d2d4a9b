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
    from hf_custom.doctor import DoctorReport

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


def parse_pre_push(stdin: str) -> list[PushTarget]:
    """The refs being pushed, from pre-push's standard input (deletions left out)."""
    targets: list[PushTarget] = []
    for line in stdin.splitlines():
        parts = line.split()
        if len(parts) != 4:
            continue
        local_ref, local_sha, remote_ref, _remote_sha = parts
        if set(local_sha) == {"0"}:
            continue  # deleting a remote ref: nothing to check
        targets.append(PushTarget(local_ref, local_sha, remote_ref))
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
    """What the installed script runs: the previous hook, then the static doctor."""
    from hf_custom.checks.gitview import GitTreeView
    from hf_custom.doctor import diagnose_view

    _check_hook_type(hook_type)
    repo = repo_root(path)
    legacy_code = run_legacy(hook_dir, hook_type, args, stdin) if hook_dir else None
    reports: list[tuple[str, DoctorReport]] = []
    stdin_text = stdin.decode(errors="replace")
    for label, treeish in trees_to_check(
        repo, hook_type=hook_type, stdin=stdin_text, to_ref=to_ref
    ):
        view = GitTreeView(repo, treeish)
        report = diagnose_view(
            view, kind="git", select=select, ignore=ignore, installed_transformers=False
        )
        reports.append((label, report))
    return HookRun(legacy_code, tuple(reports))
