"""write: put the planned code, config.json, tokenizer and other config files into staging."""

from __future__ import annotations

import shutil

from hf_custom.staging.context import Artefacts, StageContext, need


def write(ctx: StageContext, art: Artefacts) -> Artefacts:
    from hf_custom.inventory import FileKind
    from hf_custom.staging.code import write_code
    from hf_custom.staging.tokenizer import write_json_atomic, write_tokenizer

    inventory = need(art.inventory, "the inventory")
    write_code(need(art.code, "the code plan"), ctx.staging)
    write_tokenizer(need(art.tokenizer, "the tokenizer plan"), ctx.src, ctx.staging)
    # other config files (generation_config.json, ...), copied as they are
    for entry in inventory.of_kind(FileKind.CONFIG):
        if "/" not in entry.path and entry.path != "config.json":
            shutil.copyfile(ctx.src / entry.path, ctx.staging / entry.path)
    if art.has_config:  # a tokenizer-only package without config.json gets none invented
        write_json_atomic(ctx.staging / "config.json", art.config)
    return art
