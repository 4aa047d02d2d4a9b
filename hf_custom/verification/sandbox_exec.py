"""Apply a Landlock policy to this process, then ``exec`` the real command (see sandbox.py).

Usage: ``python sandbox_exec.py POLICY.json -- COMMAND...``. POLICY is ``{"read": [...],
"write": [...]}``. The restriction survives ``exec`` and reaches every descendant. If it cannot
be applied the command is not run (exit 126): the sandbox fails closed.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def _apply(policy: dict[str, list[str]]) -> None:
    from landlock import FSAccess, Ruleset

    read_dir = FSAccess.READ_FILE | FSAccess.READ_DIR | FSAccess.EXECUTE
    read_file = FSAccess.READ_FILE | FSAccess.EXECUTE
    ruleset = Ruleset()  # handles every access right the kernel knows: all denied by default
    for path in policy.get("read", []):
        ruleset.allow(path, rules=read_dir if Path(path).is_dir() else read_file)
    for path in policy.get("write", []):
        ruleset.allow(path, rules=FSAccess.all() if Path(path).is_dir() else FSAccess.all_file())
    ruleset.apply()


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: sandbox_exec.py POLICY.json -- COMMAND...", file=sys.stderr)
        return 2
    try:
        with open(argv[0], encoding="utf-8") as fh:
            policy = json.load(fh)
        _apply(policy)
    except Exception as exc:
        print(f"hf-custom sandbox: cannot apply the Landlock policy: {exc}", file=sys.stderr)
        return 126
    command = argv[2:]
    try:
        os.execv(command[0], command)
    except OSError as exc:
        print(f"hf-custom sandbox: cannot run {command[0]}: {exc}", file=sys.stderr)
        return 127
    return 0  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
