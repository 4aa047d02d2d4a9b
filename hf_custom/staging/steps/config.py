"""config: normalise config.json once (model_type, auto_map, v5 keys); rename model_type in code."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hf_custom.errors import Refusal
from hf_custom.staging.context import Artefacts, StageContext, need


def config(ctx: StageContext, art: Artefacts) -> Artefacts:
    """Plan config.json from the code's static facts; ``architectures`` is refitted by ``keys``.

    Raises:
        Refusal: ``--model-type`` must rename a config class that has no literal model_type.
        InputError: no config.json, and the code is not tokenizer code only (HFC100).
    """
    from hf_custom.codeinfo import analyze_package
    from hf_custom.staging.config import (
        ConfigResult,
        normalize_config,
        rename_model_type_in_source,
    )

    plan = need(art.code, "the code plan")
    package = need(art.package, "the code package")
    if is_tokenizer_only(art):
        # AutoTokenizer reads tokenizer_config.json: no model for config.json to describe
        ctx.log("a tokenizer-only package: config.json is not normalised")
        plan_ = ConfigResult(config=dict(art.config_in), changes=(), findings=())
        return replace(art, config_plan=plan_, config=dict(art.config_in))
    if not art.has_config:
        from hf_custom.staging.steps.read import read_config

        read_config(ctx.src)  # raises the HFC100 InputError: this code needs a config.json
    opts = ctx.options
    result = normalize_config(
        art.config_in,
        package,
        model_type=opts.model_type,
        auto_classes=opts.auto_classes,
        architecture=opts.architecture,
        transformers_version=ctx.transformers_version,
    )
    if result.rename_model_type is not None and result.config_class:
        module, _, cls_name = result.config_class.rpartition(".")
        fname = f"{module}.py"
        new_name = result.rename_model_type[1]
        new_src = rename_model_type_in_source(plan.files[fname], cls_name, new_name)
        if new_src is None:
            raise Refusal(
                f"cannot rename model_type in {fname}: {cls_name} has no literal model_type",
                path=fname,
                hint=f'set model_type = "{new_name}" in {cls_name} yourself',
            )
        files = {**plan.files, fname: new_src}
        plan = replace(
            plan, files=files, rewrites=(*plan.rewrites, _source_rename(plan, fname, new_src))
        )
        package = analyze_package(files)
    return replace(
        art, code=plan, package=package, config_plan=result, config=dict(result.config)
    ).add(findings=result.findings)


def is_tokenizer_only(art: Artefacts) -> bool:
    """Tokenizer code only, and a config.json that is missing or names no model_type (the
    same packages doctor's config checks skip)."""
    package = need(art.package, "the code package")
    return package.is_tokenizer_only() and not art.config_in.get("model_type")


def _source_rename(plan: Any, fname: str, new_src: str) -> Any:
    """The --model-type rename of the config class's source, as a listed code rewrite."""
    from hf_custom.staging.code import Rewrite

    old_lines, new_lines = plan.files[fname].splitlines(), new_src.splitlines()
    line = next(
        (i for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=False), 1) if a != b), 1
    )
    return Rewrite(
        path=plan.origins.get(fname, fname),
        line=line,
        old=old_lines[line - 1].strip(),
        new=new_lines[line - 1].strip(),
        reason="--model-type: the config class's model_type renamed to match config.json",
    )
