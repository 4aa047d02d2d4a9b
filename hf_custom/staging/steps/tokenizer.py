"""tokenizer: plan the tokenizer files once (names, auto_map, special-token ids vs config.json)."""

from __future__ import annotations

from dataclasses import replace

from hf_custom.staging.context import Artefacts, StageContext, need


def tokenizer(ctx: StageContext, art: Artefacts) -> Artefacts:
    """Plan the tokenizer files (written by ``write``); set the ids config.json lacks."""
    from hf_custom.inventory import FileKind
    from hf_custom.staging.tokenizer import plan_tokenizer, read_tokenizer_files

    inventory = need(art.inventory, "the inventory")
    names = [f.path for f in inventory.of_kind(FileKind.TOKENIZER) if "/" not in f.path]
    plan = plan_tokenizer(
        read_tokenizer_files(ctx.src, names),
        config=art.config,
        code=need(art.package, "the code package"),
    )
    if not art.has_config:  # tokenizer-only: no config.json is invented for the token ids
        plan = replace(
            plan,
            config_updates={},
            changes=tuple(c for c in plan.changes if c.file != "config.json"),
        )
    config = {**art.config, **plan.config_updates}
    return replace(art, tokenizer=plan, config=config).add(
        findings=plan.findings, changes=plan.changes
    )
