"""HFC701: calls of the v4 Cache API (``get_usable_length``, ``from_legacy_cache``, ...) routed
through hf_custom_compat's helpers, which use the cache's own method when it has one."""

from __future__ import annotations

from hf_custom.checks.v5code import CACHE_METHODS, cache_api_uses
from hf_custom.fixing.edits import Edit
from hf_custom.fixing.repairs import COMPAT_MODULE, FixContext, _add_import, _span, repair

HELPERS = {
    **CACHE_METHODS,
    "from_legacy_cache": "cache_from_legacy",
    "seen_tokens": "cache_seen_tokens",
}


@repair("HFC701")
def cache_api(ctx: FixContext) -> None:
    for path, fs in sorted(ctx.files.items()):
        uses = cache_api_uses(fs.tree)
        spans = [_span(fs, u.node) for u in uses]
        edits: list[Edit] = []
        used: set[str] = set()
        for use, (start, end) in zip(uses, spans, strict=True):
            if any(s <= start and end <= e and (s, e) != (start, end) for s, e in spans):
                ctx.cannot("HFC701", path, use.line, f"{use.what} inside another cache call")
                continue
            parts = [fs.src.data[slice(*_span(fs, x))].decode() for x in (use.owner, *use.args)]
            helper = HELPERS[use.what]
            used.add(helper)
            edits.append(Edit(start, end, f"{helper}({', '.join(parts)})".encode()))
            ctx.repaired(
                "HFC701",
                fs,
                use.line,
                f"{use.what} -> {COMPAT_MODULE}.{helper} (the cache's own method when it has one)",
            )
        if not edits:
            continue
        imp = _add_import(ctx, fs, f"from .{COMPAT_MODULE} import {', '.join(sorted(used))}")
        fs.edits.extend([*edits, *([imp] if imp else [])])
        ctx.needs_compat = True


REGISTERED = ("HFC701",)
