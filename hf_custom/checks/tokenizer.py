"""Tokenizer checks: what A2's pure :func:`~hf_custom.staging.tokenizer.plan_tokenizer` would change
or refuse in the repository's tokenizer files is what doctor reports.
"""

from __future__ import annotations

from collections.abc import Iterator

from hf_custom.checks import register
from hf_custom.checks.context import Context
from hf_custom.findings import Finding, all_rules, finding
from hf_custom.inventory import FileKind, classify

TEXT_FILES = ("vocab.txt",)


@register("tokenizer.files", rules=tuple(r.id for r in all_rules() if "HFC400" <= r.id < "HFC450"))
def tokenizer_files(ctx: Context) -> Iterator[Finding]:
    """Tokenizer files present, parseable, consistent with config.json; auto_map for custom classes."""
    from hf_custom.codeinfo import analyze_package
    from hf_custom.staging.tokenizer import SPECIAL_IDS, plan_tokenizer

    files: dict[str, str] = {}
    for path in ctx.top_level():
        if classify(path) is FileKind.TOKENIZER or path == "special_token_map.json":
            readable = path.endswith(".json") or path in TEXT_FILES
            files[path] = ctx.text(path) if readable else ""
    cfg = ctx.config or {}
    code = ctx.package if ctx.top_py_files else analyze_package({})
    plan = plan_tokenizer(files, config=cfg, code=code)
    yield from plan.findings
    seen = {f.id for f in plan.findings}
    ids = set(SPECIAL_IDS.values())
    for change in plan.changes:
        if change.key == "auto_map.AutoTokenizer" and change.old is None and "HFC401" not in seen:
            yield finding(
                "HFC401",
                f"tokenizer_config.json has no auto_map.AutoTokenizer for the shipped "
                f"tokenizer classes {change.new}",
                path="tokenizer_config.json",
            )
        elif change.key in ids and change.old is None and change.file == "config.json":
            yield finding(
                "HFC406",
                f"config.json has no {change.key} (the tokenizer's is {change.new})",
                path="config.json",
            )
