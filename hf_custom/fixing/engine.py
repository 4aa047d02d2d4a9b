"""Plan repairs for a package's files (pure: bytes in, a FixPlan out)."""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from hf_custom.checks.v5 import Probe
from hf_custom.codeinfo import CodePackage, parse_module
from hf_custom.fixing.edits import Source, apply
from hf_custom.fixing.model import FileChange, FixPlan
from hf_custom.fixing.repairs import COMPAT_MODULE, REPAIRS, FileState, FixContext
from hf_custom.fixing.repairs_cache import REGISTERED as _CACHE_REPAIRS  # noqa: F401
from hf_custom.fixing.repairs_config import REGISTERED as _CONFIG_REPAIRS  # noqa: F401
from hf_custom.fixing.repairs_model import REGISTERED as _MODEL_REPAIRS  # noqa: F401
from hf_custom.fixing.repairs_model2 import REGISTERED as _MODEL2_REPAIRS  # noqa: F401

COMPAT_SOURCE = Path(__file__).with_name("hf_custom_compat.py")


def repair_rules() -> tuple[str, ...]:
    """Ids of the rules ``fix`` repairs (the doctor findings they answer)."""
    return tuple(sorted(REPAIRS))


def plan_fixes(
    files: Mapping[str, bytes],
    *,
    config: Mapping[str, Any] | None = None,
    rules: Collection[str] | None = None,
    probe: Probe | None = None,
) -> FixPlan:
    """Repairs for the top-level ``.py`` files of a package (relpath -> bytes).

    ``rules`` limits the repairs to those ids (default: all). Files that do not parse are left
    alone (doctor reports them). Nothing is written.
    """
    states: dict[str, FileState] = {}
    for path, data in sorted(files.items()):
        if not path.endswith(".py") or "/" in path:
            continue
        try:
            tree = ast.parse(data)
            text = data.decode("utf-8")
        except (SyntaxError, ValueError):
            continue
        states[path] = FileState(
            path=path, src=Source(data), tree=tree, mod=parse_module(path, text)
        )
    ctx = FixContext(
        files=states,
        pkg=CodePackage(modules={p: s.mod for p, s in states.items()}),
        config=config,
        probe=probe or Probe(installed=True),
    )
    for rule_id, fn in sorted(REPAIRS.items()):
        if rules is None or rule_id in rules:
            fn(ctx)
    changes = [
        FileChange(path=p, before=s.src.data, after=apply(s.src.data, s.edits))
        for p, s in sorted(states.items())
        if s.edits
    ]
    compat = f"{COMPAT_MODULE}.py"
    if ctx.needs_compat and compat not in files:
        changes.append(FileChange(path=compat, before=b"", after=COMPAT_SOURCE.read_bytes()))
    return FixPlan(
        changes=tuple(sorted(changes, key=lambda c: c.path)),
        repairs=tuple(sorted(ctx.repairs)),
        unrepaired=tuple(sorted(set(ctx.unrepaired))),
    )
