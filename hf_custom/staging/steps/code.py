"""code: the import closure of the model code, flattened; refused when it needs a secret file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from hf_custom.errors import Refusal
from hf_custom.staging.context import Artefacts, StageContext, need


def auto_map_modules(config: Mapping[str, object]) -> list[str]:
    """Modules named by ``auto_map`` values (``module.Class``), sorted; Hub references skipped."""
    auto_map = config.get("auto_map")
    out: set[str] = set()
    if isinstance(auto_map, dict):
        for value in auto_map.values():
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str) and "." in v and "--" not in v:
                    out.add(v.rpartition(".")[0])
    return sorted(out)


def code(ctx: StageContext, art: Artefacts) -> Artefacts:
    """Plan the code package (nothing written yet: the config step may still edit a file).

    Raises:
        Refusal: a code file the model needs is excluded as a secret.
    """
    from hf_custom.staging.code import plan_code

    inventory = need(art.inventory, "the inventory")
    ctx.log("packaging the code")
    plan = plan_code(
        ctx.src,
        code_root=ctx.options.code_root,
        entry=auto_map_modules(art.config_in),
        refuse=False,  # its errors join the others at the gate: every one is reported at once
        on_event=ctx.on_event,
    )
    excluded = {e.path for e in inventory.excluded}
    leaked = sorted(o for o in plan.origins.values() if o in excluded)
    if leaked:
        raise Refusal(
            "code files needed by the model are excluded as secrets: " + ", ".join(leaked),
            path=str(ctx.src),
            hint="remove the token or key from these files, then publish again",
            findings=[f for f in inventory.findings if f.path in leaked],
        )
    return replace(art, code=plan, package=plan.package).add(findings=plan.findings)
