"""card: the model card (README.md), with valid metadata and a usage snippet per AutoClass."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import replace

from hf_custom.staging.context import Artefacts, StageContext, need


def card(ctx: StageContext, art: Artefacts) -> Artefacts:
    from hf_custom.staging.card import CARD, plan_card

    inventory = need(art.inventory, "the inventory")
    code = need(art.code, "the code plan")
    tok = need(art.tokenizer, "the tokenizer plan")
    existing = (ctx.src / CARD).read_text(encoding="utf-8") if inventory.has(CARD) else None
    from hf_custom.staging.steps.config import is_tokenizer_only

    tokenizer_only = is_tokenizer_only(art)
    auto_map = art.config.get("auto_map")
    if tokenizer_only:
        auto_map = {"AutoTokenizer": tok.tokenizer_classes}
    archs = art.config.get("architectures")
    repo_id = ctx.options.repo_id
    plan = plan_card(
        existing,
        auto_map=auto_map if isinstance(auto_map, Mapping) else {},
        name=repo_id.split("/")[-1] if repo_id else ctx.out.name,
        repo_id=repo_id,
        requirements=tuple(code.requirements),
        tokenizer=bool(tok.copies or tok.writes),
        architecture=archs[0] if isinstance(archs, list) and archs else None,
        tokenizer_only=tokenizer_only,
    )
    if plan.text is not None:
        (ctx.staging / CARD).write_text(plan.text, encoding="utf-8")
    elif existing is not None:
        shutil.copyfile(ctx.src / CARD, ctx.staging / CARD)
    return replace(art, card=plan).add(findings=plan.findings, changes=plan.changes)
