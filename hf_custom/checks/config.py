"""config.json checks: what A2's pure :func:`~hf_custom.staging.config.normalize_config` would change
or refuse is exactly what doctor reports (a change means the published config is not normalised).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hf_custom.checks import Skip, register
from hf_custom.checks.context import Context
from hf_custom.findings import Finding, Severity, all_rules, finding

# HFC109 is config_json's; HFC113/HFC114 need staging's inputs (parameter names, options);
# HFC118 is checks/preview.py's.
CONFIG_RULES = tuple(
    r.id
    for r in all_rules()
    if "HFC101" <= r.id < "HFC150" and r.id not in ("HFC109", "HFC113", "HFC114", "HFC118")
)


@register("config.json", rules=("HFC100", "HFC109"))
def config_json(ctx: Context) -> Iterator[Finding]:
    """config.json exists, is valid JSON, is an object, and says which transformers wrote it."""
    if not ctx.has("config.json"):
        if tokenizer_only_without_config(ctx):
            raise Skip(
                "a tokenizer-only package: AutoTokenizer reads tokenizer_config.json, "
                "no config.json is needed"
            )
        yield finding("HFC100", "config.json is missing", path="config.json")
        return
    value, err = ctx.json("config.json")
    if err is not None:
        yield finding("HFC100", f"config.json is {err}", path="config.json")
        return
    if not isinstance(value, dict):
        yield finding(
            "HFC100",
            f"config.json holds a {type(value).__name__}, not an object",
            path="config.json",
        )
        return
    if not value.get("transformers_version"):
        yield finding("HFC109", "config.json has no transformers_version", path="config.json")


def tokenizer_only_without_config(ctx: Context) -> bool:
    """No config.json, no weights, and code that defines tokenizer classes only: what
    ``AutoTokenizer.from_pretrained(dir, trust_remote_code=True)`` loads from
    tokenizer_config.json alone (a model's folder without config.json stays HFC100)."""
    from hf_custom.inventory import FileKind, classify

    if ctx.has("config.json") or not ctx.has("tokenizer_config.json"):
        return False
    if any(classify(p) in (FileKind.WEIGHTS, FileKind.WEIGHTS_INDEX) for p in ctx.paths):
        return False
    return ctx.package.is_tokenizer_only()


@register("config.normalize", rules=CONFIG_RULES)
def normalize(ctx: Context) -> Iterator[Finding]:
    """model_type, auto_map, architectures and v5 keys, as staging would normalise them."""
    from hf_custom.staging.config import normalize_config

    cfg = ctx.require_config()
    if not ctx.top_py_files:
        raise Skip("no Python files at the top of the repository (not a custom-code model)")
    pkg = ctx.package
    if (
        not pkg.config_classes()
        and not pkg.model_classes()
        and any(pkg.is_tokenizer_class(c) for c in pkg.classes())
        and not cfg.get("model_type")
    ):
        raise Skip("a tokenizer-only package: no config or model class for config.json to name")
    result = normalize_config(cfg, ctx.package)
    seen = {(f.id, f.message) for f in result.findings}
    yield from (_as_found(f, cfg, kind=ctx.kind) for f in result.findings)
    for change in result.changes:
        f = _change_finding(
            change.key, change.old, change.new, change.reason, model_type=cfg.get("model_type")
        )
        if f is not None and (f.id, f.message) not in seen:
            yield f
    arch_changed = any(c.key == "architectures" for c in result.changes)
    if not cfg.get("architectures") and not arch_changed and ctx.package.model_classes():
        yield finding(
            "HFC107",
            "config.json has no architectures: pipelines and verification cannot tell which "
            "class the weights belong to",
            path="config.json",
        )


def _as_found(f: Finding, cfg: dict[str, Any], *, kind: str) -> Finding:
    """normalize_config judges the config as publish would stage it; a repository users load
    as it is (a repo id, a git tree) lacks what publish would add. A built-in model_type without
    auto_map.AutoConfig loads transformers' own config class even with trust_remote_code."""
    auto_map = cfg.get("auto_map")
    has_autoconfig = isinstance(auto_map, dict) and bool(auto_map.get("AutoConfig"))
    if f.id != "HFC103" or f.severity is Severity.ERROR or has_autoconfig or kind == "folder":
        return f
    return finding(
        "HFC103",
        f"model_type {cfg.get('model_type')!r} is built into transformers and auto_map has no "
        "AutoConfig entry: even with trust_remote_code transformers loads its own config class",
        path=f.path,
    )


def _change_finding(
    key: str, old: object, new: object, reason: str, *, model_type: object = None
) -> Finding | None:
    from hf_custom.staging.automap import is_builtin_model_type

    where = "config.json"
    if key == "auto_map.AutoConfig" and old is None:
        custom = isinstance(model_type, str) and not is_builtin_model_type(model_type)
        if custom or not model_type:
            return finding(
                "HFC117",
                f"auto_map has no AutoConfig entry: with model_type {model_type!r}, which "
                "transformers does not build in, AutoConfig.from_pretrained(..., "
                "trust_remote_code=True) finds no config class and nothing loads",
                path=where,
                fix=f'add "AutoConfig": "{new}" to auto_map in config.json',
            )
    if key == "model_type" and not old:
        return finding("HFC101", f"config.json has no model_type ({reason}: {new!r})", path=where)
    if key.startswith("auto_map.") and old is None:
        auto = key.removeprefix("auto_map.")
        return finding(
            "HFC104",
            f"auto_map has no {auto} entry, though the code provides {new}",
            path=where,
            fix=f'add "{auto}": "{new}" to auto_map in config.json',
        )
    if key == "architectures" and not old:
        return finding("HFC107", f"config.json has no architectures ({reason}: {new})", path=where)
    if key == "torch_dtype":
        return finding(
            "HFC108", f"config.json uses torch_dtype ({old!r}); v5 calls it dtype", path=where
        )
    return None
