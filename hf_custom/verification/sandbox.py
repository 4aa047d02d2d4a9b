"""Confine the verification child: no network, and a filesystem it can barely see.

The child runs the model's own code (``trust_remote_code``), so it is treated as hostile:

- **Network and processes**: a fresh, empty network namespace (``unshare --net``; with
  ``--map-root-user`` when not root, where unprivileged user namespaces are allowed): only
  loopback, and it is down. Where permitted also a PID namespace with its own ``/proc``, so
  ``/proc/<pid>/environ`` of hf-custom (which may hold tokens) is not even visible.
- **Filesystem** (Landlock, through the optional ``landlock`` package, Linux 5.13 and later):
  read-only access to the staged folder, the interpreter's installation (its prefixes and
  ``sys.path``) and the system's libraries; read-write access to the child's own temporary
  folder only. ``$HF_HOME/token``, ``~/.ssh`` or the source checkpoint are out of reach.

Landlock is applied by :mod:`hf_custom.verification.sandbox_exec` (run by this interpreter, which
has ``landlock`` installed) just before it ``exec``s the target interpreter: the restriction is
inherited across ``exec`` and by every process the child starts. What is in force is reported
in :class:`Sandbox` (and so in the verification report); what is missing comes with a warning.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_HERE = Path(__file__).parent
# Read-only for everyone: shared libraries, executables, device and process information.
SYSTEM_READ = (
    "/usr",
    "/lib",
    "/lib64",
    "/lib32",
    "/bin",
    "/sbin",
    "/opt/conda",
    "/proc",
    "/sys",
    "/dev",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/alternatives",
)
# Writable device files (opened for writing by ordinary programs).
DEVICE_WRITE = ("/dev/null", "/dev/shm", "/dev/zero", "/dev/tty")


@dataclass(frozen=True)
class Sandbox:
    """What confines one child: the mechanisms in force and what could not be applied."""

    mechanisms: tuple[str, ...]
    warnings: tuple[str, ...]
    prefix: tuple[str, ...] = ()  # argv in front of the interpreter's own

    @property
    def summary(self) -> str:
        return " + ".join(self.mechanisms) if self.mechanisms else "none"

    def to_json(self) -> dict[str, object]:
        return {"mechanisms": list(self.mechanisms), "warnings": list(self.warnings)}


def _run_ok(argv: Sequence[str]) -> bool:
    try:
        done = subprocess.run(
            list(argv), stdin=subprocess.DEVNULL, capture_output=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


# An empty network namespace; with a PID namespace and its own /proc as well where permitted,
# so the child cannot read /proc/<pid>/environ of hf-custom or of anything else of the user's.
_NAMESPACES = (
    (("--net", "--pid", "--fork", "--mount-proc"), "network and PID namespaces (unshare)"),
    (("--net",), "network namespace (unshare)"),
)


@functools.cache
def namespaces() -> tuple[tuple[str, ...], str] | None:
    """The ``unshare`` argv that isolates a process here, and its description; or None."""
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return None
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    for flags, name in _NAMESPACES:
        prefixes = [(unshare, *flags)] if root else []
        prefixes.append((unshare, "--map-root-user", *flags))
        for argv in prefixes:
            if _run_ok([*argv, "--", "true"]):
                return argv, name
    return None


def network_namespace() -> tuple[str, ...] | None:
    """The ``unshare`` argv in use (None: no namespaces here)."""
    found = namespaces()
    return found[0] if found else None


@functools.cache
def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: not available, or the package is not installed)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        import landlock

        return int(landlock.landlock_abi_version())
    except Exception:  # not installed, old kernel, Landlock disabled at boot
        return 0


@functools.lru_cache(maxsize=32)
def interpreter_paths(interpreter: str, env_key: str = "") -> tuple[str, ...]:
    """Folders the interpreter reads from: its prefixes and ``sys.path`` (asked, not guessed)."""
    del env_key  # part of the cache key only
    code = (
        "import json, sys; print(json.dumps([sys.prefix, sys.base_prefix, sys.exec_prefix, "
        "sys.base_exec_prefix, sys.executable] + sys.path))"
    )
    try:
        done = subprocess.run(
            [interpreter, "-c", code],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=60,
            check=False,
            env={k: v for k, v in os.environ.items() if k == "PATH"},
        )
        found = [str(p) for p in json.loads(done.stdout.decode() or "[]")]
    except (OSError, ValueError, subprocess.SubprocessError):
        found = []
    paths = {str(Path(interpreter).parent), str(Path(os.path.realpath(interpreter)).parent)}
    for p in found:
        if p:
            paths.add(p)
            paths.add(os.path.realpath(p))
    return tuple(sorted(paths))


def plan(
    interpreter: str,
    *,
    read: Sequence[Path],
    write: Sequence[Path],
    policy_file: Path,
    enabled: bool = True,
) -> Sandbox:
    """Decide how to confine ``interpreter``; write the Landlock policy to ``policy_file``."""
    if not enabled:
        return Sandbox((), ("the sandbox was turned off (HF_CUSTOM_NO_SANDBOX=1)",))
    mechanisms: list[str] = []
    warnings: list[str] = []
    prefix: list[str] = []
    found = namespaces()
    if found is not None:
        prefix += [*found[0], "--"]
        mechanisms.append(found[1])
    else:
        warnings.append(
            "the model code runs with network access: unshare --net is not permitted here"
        )
    abi = landlock_abi()
    if abi > 0:
        readable = [*SYSTEM_READ, *interpreter_paths(interpreter), *map(str, read)]
        policy = {
            "read": sorted({p for p in readable if Path(p).exists()}),
            "write": sorted(
                {str(p) for p in write} | {p for p in DEVICE_WRITE if Path(p).exists()}
            ),
        }
        policy_file.write_text(json.dumps(policy), encoding="utf-8")
        prefix += [sys.executable, str(_HERE / "sandbox_exec.py"), str(policy_file), "--"]
        mechanisms.append(f"landlock (ABI {abi})")
    else:
        hint = (
            "install hf-custom[sandbox] (the landlock package)"
            if sys.platform.startswith("linux")
            else "Landlock exists on Linux only"
        )
        warnings.append("the model code can read every file your user can (no Landlock): " + hint)
    return Sandbox(tuple(mechanisms), tuple(warnings), tuple(prefix))
