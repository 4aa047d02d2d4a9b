"""Git hooks with real repositories: install/uninstall like pre-commit, pushes and commits blocked
or allowed by what is being pushed/committed (not the working tree)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from checks.repo import config_with, write_repo

from hf_custom import hooks
from hf_custom.errors import InputError, Refusal


@pytest.fixture(autouse=True)
def _git_env(git_identity: None) -> None:
    """Every test here runs git: the shared isolated git config and identity."""


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture
def model_repo(tmp_path: Path) -> Path:
    repo = write_repo(tmp_path / "model")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "model")
    return repo


@pytest.fixture
def with_remote(model_repo: Path, tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    git(model_repo, "remote", "add", "origin", str(bare))
    return bare


def hook_path(repo: Path, name: str = "pre-push") -> Path:
    return repo / ".git" / "hooks" / name


# -- install / uninstall -----------------------------------------------------------------------
def test_install_marks_and_uninstall_removes(model_repo: Path) -> None:
    change = hooks.install(model_repo)
    path = hook_path(model_repo)
    assert change.action == "installed" and change.path == path and change.legacy is None
    assert hooks.MARKER in path.read_text()
    assert path.stat().st_mode & stat.S_IXUSR
    assert hooks.install(model_repo).action == "updated"
    assert not (path.parent / "pre-push.legacy").exists()
    changes = hooks.uninstall(model_repo)
    assert [c.action for c in changes] == ["removed", "not-installed"]
    assert not path.exists()


def test_existing_hook_is_kept_chained_and_restored(model_repo: Path, with_remote: Path) -> None:
    path = hook_path(model_repo)
    ran = model_repo.parent / "legacy-ran"
    original = f'#!/bin/sh\ncat > {ran}\necho legacy "$@" >> {ran}\nexit 0\n'
    path.write_text(original)
    path.chmod(0o750)
    change = hooks.install(model_repo)
    assert change.legacy == path.parent / "pre-push.legacy"
    assert (path.parent / "pre-push.legacy").read_text() == original

    proc = git(model_repo, "push", "-q", "origin", "main")
    text = ran.read_text()
    assert "refs/heads/main" in text  # the legacy hook got git's stdin ...
    assert "legacy origin" in text  # ... and its arguments
    assert proc.returncode == 0

    [change, _] = hooks.uninstall(model_repo)
    assert change.action == "restored"
    assert path.read_text() == original
    assert stat.S_IMODE(path.stat().st_mode) == 0o750
    assert not (path.parent / "pre-push.legacy").exists()


def test_failing_legacy_hook_blocks(model_repo: Path, with_remote: Path) -> None:
    path = hook_path(model_repo)
    path.write_text("#!/bin/sh\necho 'legacy says no' >&2\nexit 3\n")
    path.chmod(0o755)
    hooks.install(model_repo)
    proc = git(model_repo, "push", "origin", "main", check=False)
    assert proc.returncode != 0 and "legacy says no" in proc.stderr
    assert git(with_remote, "branch", "--list").stdout == ""


def test_refuses_with_core_hooks_path(model_repo: Path) -> None:
    git(model_repo, "config", "core.hooksPath", ".githooks")
    with pytest.raises(Refusal) as info:
        hooks.install(model_repo)
    assert "core.hooksPath" in str(info.value) and "--unset-all" in (info.value.hint or "")
    assert not hook_path(model_repo).exists()


def test_uninstall_leaves_foreign_hooks(model_repo: Path) -> None:
    path = hook_path(model_repo)
    path.write_text("#!/bin/sh\nexit 0\n")
    assert hooks.uninstall(model_repo, hook_types=["pre-push"])[0].action == "not-ours"
    assert path.read_text() == "#!/bin/sh\nexit 0\n"


def test_not_a_git_repo(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        hooks.install(tmp_path)


def test_both_hook_and_legacy_present_refuses(model_repo: Path) -> None:
    for name in ("pre-push", "pre-push.legacy"):
        hook_path(model_repo, name).write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(Refusal):
        hooks.install(model_repo)


# -- pre-push ----------------------------------------------------------------------------------
def test_push_allowed_then_blocked_naming_errors(model_repo: Path, with_remote: Path) -> None:
    hooks.install(model_repo)
    ok = git(model_repo, "push", "origin", "main", check=False)
    assert ok.returncode == 0, ok.stderr
    assert "ok" in ok.stderr
    good = git(with_remote, "rev-parse", "main").stdout.strip()

    (model_repo / "config.json").write_text(config_with(model_type=None, architectures=None))
    (model_repo / ".env").write_text("SECRET=1\n")
    git(model_repo, "add", "-A")
    git(model_repo, "commit", "-qm", "break it")
    blocked = git(model_repo, "push", "origin", "main", check=False)
    assert blocked.returncode != 0
    assert "push blocked" in blocked.stderr
    assert "HFC101" in blocked.stderr and "HFC601" in blocked.stderr
    assert git(with_remote, "rev-parse", "main").stdout.strip() == good  # nothing uploaded

    bypass = git(model_repo, "push", "--no-verify", "origin", "main", check=False)
    assert bypass.returncode == 0


def test_push_checks_the_pushed_commit_not_the_working_tree(
    model_repo: Path, with_remote: Path
) -> None:
    hooks.install(model_repo)
    (model_repo / "config.json").write_text("{broken")  # not committed
    proc = git(model_repo, "push", "origin", "main", check=False)
    assert proc.returncode == 0, proc.stderr
    # and the reverse: a broken commit with a repaired working tree is still blocked
    git(model_repo, "commit", "-qam", "broken config")
    (model_repo / "config.json").write_text(config_with())
    proc = git(model_repo, "push", "origin", "main", check=False)
    assert proc.returncode != 0 and "HFC100" in proc.stderr


def test_deleting_a_remote_branch_is_not_checked(model_repo: Path, with_remote: Path) -> None:
    git(model_repo, "push", "-q", "origin", "main:other")
    hooks.install(model_repo)
    (model_repo / "config.json").write_text("{broken")
    git(model_repo, "commit", "-qam", "broken")
    proc = git(model_repo, "push", "origin", ":other", check=False)
    assert proc.returncode == 0, proc.stderr


# -- pre-commit --------------------------------------------------------------------------------
def test_pre_commit_checks_the_index(model_repo: Path) -> None:
    hooks.install(model_repo, hook_type="pre-commit")
    (model_repo / "notes.txt").write_text("x\n")
    (model_repo / "config.json").write_text("{broken")  # in the working tree, not staged
    git(model_repo, "add", "notes.txt")
    ok = git(model_repo, "commit", "-m", "notes", check=False)
    assert ok.returncode == 0, ok.stderr
    git(model_repo, "add", "config.json")
    blocked = git(model_repo, "commit", "-m", "config", check=False)
    assert blocked.returncode != 0 and "commit blocked" in blocked.stderr
    assert "HFC100" in blocked.stderr


def test_git_view_reads_lfs_objects(model_repo: Path) -> None:
    """A git-lfs file is a pointer in git; its content lies in .git/lfs/objects (where `git add`
    through the lfs filter puts it). Built here with the same layout, without git-lfs."""
    import hashlib

    from checks.repo import safetensors_bytes

    from hf_custom.checks.gitview import GitTreeView
    from hf_custom.diagnosis import diagnose_view

    data = safetensors_bytes({"model.embed.weight": ("F64", [8, 16])})
    oid = hashlib.sha256(data).hexdigest()
    store = model_repo / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4]
    store.mkdir(parents=True)
    (store / oid).write_bytes(data)
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {len(data)}\n"
    (model_repo / "model.safetensors").write_text(pointer)
    git(model_repo, "add", "-A")
    view = GitTreeView(model_repo)
    assert {e.path: e.size for e in view.files()}["model.safetensors"] == len(data)
    report = diagnose_view(view, kind="git", select=["HFC301", "HFC355"])
    assert [f.id for f in report.findings] == ["HFC301"]
    git(model_repo, "commit", "-qm", "lfs")
    tree = GitTreeView(model_repo, "HEAD")
    assert tree.read_range("model.safetensors", 0, 8) == data[:8]


# -- start-up ----------------------------------------------------------------------------------
def test_hook_is_fast_and_imports_nothing_heavy(model_repo: Path) -> None:
    code = (
        "import sys, time, io, contextlib\n"
        "t = time.perf_counter()\n"
        "from hf_custom.cli.main import main\n"
        "with contextlib.redirect_stderr(io.StringIO()):\n"
        "    rc = main(['hook', 'run', '--hook-type', 'pre-commit'])\n"
        "heavy = sorted(m for m in ('torch', 'transformers', 'numpy') if m in sys.modules)\n"
        "print(rc, heavy, round(time.perf_counter() - t, 3))\n"
    )
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=model_repo, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - start
    rc, heavy, _ = out.stdout.strip().split(" ", 2)
    assert rc == "0", out
    assert heavy == "[]", out.stdout
    assert wall < 5.0  # about a second on an idle machine; generous for a loaded CI box


def test_cli_install_and_uninstall(model_repo: Path) -> None:
    env = {**os.environ}
    run = [sys.executable, "-m", "hf_custom", "hook"]
    proc = subprocess.run(
        [*run, "install"], cwd=model_repo, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0 and "installed" in proc.stdout
    proc = subprocess.run(
        [*run, "install", "--hook-type", "pre-commit"],
        cwd=model_repo,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0
    proc = subprocess.run([*run, "uninstall"], cwd=model_repo, capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.count("removed") == 2
    git(model_repo, "config", "core.hooksPath", "x")
    proc = subprocess.run([*run, "install"], cwd=model_repo, capture_output=True, text=True)
    assert proc.returncode == 1 and "core.hooksPath" in proc.stderr


def test_push_blocks_secrets_left_in_the_pushed_history(
    model_repo: Path, with_remote: Path
) -> None:
    git(model_repo, "push", "-q", "origin", "main")
    hooks.install(model_repo)
    token = "hf_" + "Zq" * 17  # token-shaped, not a token
    (model_repo / ".env").write_text("X=1\n")
    (model_repo / "notes.md").write_text(f"token {token}\n")
    git(model_repo, "add", "-A")
    git(model_repo, "commit", "-qm", "oops")
    git(model_repo, "rm", "-q", ".env", "notes.md")
    git(model_repo, "commit", "-qm", "remove them again")
    proc = git(model_repo, "push", "origin", "main", check=False)
    assert proc.returncode != 0, proc.stderr
    assert "HFC601" in proc.stderr and "HFC602" in proc.stderr
    assert "deleted since" in proc.stderr and token not in proc.stderr
    # history already on the remote is not checked again: a clean commit on top pushes
    git(model_repo, "push", "-q", "--no-verify", "origin", "main")
    (model_repo / "extra.md").write_text("fine\n")
    git(model_repo, "add", "-A")
    git(model_repo, "commit", "-qm", "clean")
    assert git(model_repo, "push", "origin", "main", check=False).returncode == 0


def test_missing_lfs_object_is_a_finding_not_a_crash(model_repo: Path) -> None:
    from hf_custom.checks.gitview import GitTreeView
    from hf_custom.diagnosis import diagnose_view

    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "ab" * 32 + "\nsize 600\n"
    (model_repo / "model.safetensors").write_text(pointer)
    git(model_repo, "add", "-A")
    report = diagnose_view(GitTreeView(model_repo), kind="git", select=["weights"])
    ids = {f.id for f in report.findings}
    assert "HFC699" not in ids and "HFC355" in ids, report.findings


def test_both_hooks_block_a_config_that_lost_its_auto_map(
    model_repo: Path, with_remote: Path
) -> None:
    hooks.install(model_repo)
    hooks.install(model_repo, hook_type="pre-commit")
    (model_repo / "config.json").write_text(config_with(auto_map=None))
    git(model_repo, "add", "config.json")
    blocked = git(model_repo, "commit", "-m", "lost auto_map", check=False)
    assert blocked.returncode != 0 and "HFC117" in blocked.stderr
    git(model_repo, "commit", "-qm", "lost auto_map", "--no-verify")
    pushed = git(model_repo, "push", "origin", "main", check=False)
    assert pushed.returncode != 0 and "HFC117" in pushed.stderr


def test_hooks_scan_binary_and_utf16_files_like_doctor(model_repo: Path, with_remote: Path) -> None:
    """The staged/doctor scanner (streamed, binary files and UTF-16 included): a token in a
    pickle-like binary or a UTF-16 note is found in the pushed tree and in the pushed history
    (the old scan read text only and skipped files with a NUL byte)."""
    from hf_custom.checks.gitview import GitTreeView
    from hf_custom.diagnosis import diagnose_view

    git(model_repo, "push", "-q", "origin", "main")
    token = "hf_" + "Zq" * 17  # token-shaped, not a token
    (model_repo / "extra.bin").write_bytes(b"\x80\x02\x00\x00" * 64 + token.encode() + b"\x00")
    (model_repo / "note.txt").write_bytes(f"x\ntoken {token}\n".encode("utf-16"))
    git(model_repo, "add", "-A")
    report = diagnose_view(GitTreeView(model_repo, None), kind="git", select=["HFC602"])
    assert {f.path for f in report.findings if f.id == "HFC602"} == {"extra.bin", "note.txt"}
    git(model_repo, "commit", "-qm", "binary")
    git(model_repo, "rm", "-q", "extra.bin", "note.txt")
    git(model_repo, "commit", "-qm", "removed again")
    hooks.install(model_repo)
    proc = git(model_repo, "push", "origin", "main", check=False)
    assert proc.returncode != 0 and proc.stderr.count("HFC602") >= 2, proc.stderr
    assert token not in proc.stderr
