"""keys: list each model class's parameters (a child process, meta device) and fit the weights.

The one step of staging that starts a process: transformers and the model code are imported in
a child, never in this one. Its result chooses ``architectures`` (the class the weights fill)
and tells the converter which names and prefix that class expects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from hf_custom.codeinfo import CodePackage
from hf_custom.staging.context import Artefacts, JSONObject, StageContext, need


def model_refs(config: JSONObject, code: CodePackage) -> list[str]:
    """``module.Class`` of every model class worth listing: auto_map's and the code's."""
    refs: set[str] = set()
    auto_map = config.get("auto_map")
    if isinstance(auto_map, Mapping):
        for key, value in auto_map.items():
            if key.startswith("AutoModel") and isinstance(value, str) and "--" not in value:
                refs.add(value)
    for cls in code.model_classes():
        if not cls.name.endswith(("PreTrainedModel", "PretrainedModel")):
            refs.add(f"{cls.module}.{cls.name}")
    return sorted(refs)


def keys(ctx: StageContext, art: Artefacts) -> Artefacts:
    """List each class's parameters, then plan config.json with them (auto_map, architectures).

    auto_map completion leaves out classes that cannot even be built, and ``architectures``
    is the class the weights fill: both need this step's child, which needs a staged
    config.json, so the config step's plan is provisional and this one is final: it replaces
    the provisional plan's findings (the gate has already refused on its errors).
    """
    from hf_custom.staging.config import normalize_config
    from hf_custom.staging.steps.config import is_tokenizer_only
    from hf_custom.staging.tokenizer import write_json_atomic
    from hf_custom.verification import expected_state_keys

    package = need(art.package, "the code package")
    tok = need(art.tokenizer, "the tokenizer plan")
    if is_tokenizer_only(art):
        return art  # no model class to list; config.json (if any) was written as planned
    refs = model_refs(art.config, package)
    ctx.log(f"listing the parameters of {len(refs)} model class(es) in a child process")
    expected = expected_state_keys(
        ctx.staging, refs, python=ctx.options.python, on_event=ctx.on_event
    )
    class_params = {ref.rpartition(".")[2]: ek.stored for ref, ek in expected.items() if ek.ok}
    authored_map = art.config_in.get("auto_map")
    authored = (
        {v for v in authored_map.values() if isinstance(v, str)}
        if isinstance(authored_map, Mapping)
        else set()
    )
    # classes the author did not register that cannot even be built: left out of auto_map
    unusable = {
        ref.rpartition(".")[2]: ek.error.splitlines()[0][:200]
        for ref, ek in expected.items()
        if not ek.ok and ref not in authored
    }
    opts = ctx.options
    final = normalize_config(
        art.config_in,
        package,
        weight_names=art.weight_names,
        class_params=class_params or None,
        model_type=opts.model_type,
        auto_classes=opts.auto_classes,
        architecture=opts.architecture,
        transformers_version=ctx.transformers_version,
        unusable=unusable,
        class_aliases={
            ref.rpartition(".")[2]: frozenset(ek.tied) for ref, ek in expected.items() if ek.ok
        },
    )
    config = {**final.config, **tok.config_updates}
    write_json_atomic(ctx.staging / "config.json", config)
    # what instantiating the classes found, for the classes users can load (registered in
    # auto_map or named in architectures); a class nobody registers cannot break a user
    auto_map = config.get("auto_map")
    archs = config.get("architectures")
    registered = {
        v.rpartition(".")[2]
        for v in (auto_map.values() if isinstance(auto_map, Mapping) else ())
        if isinstance(v, str)
    } | set(archs if isinstance(archs, list) else ())
    key_findings = [
        f
        for ref, ek in expected.items()
        if ref.rpartition(".")[2] in registered
        for f in ek.findings
    ]
    # One config plan is reported: this one. The config step's plan was provisional (it
    # staged config.json for the child); its findings are replaced, not repeated, so nothing
    # this plan settled (architectures named wrongly, then refitted from the weights) is
    # still reported, and nothing is reported twice.
    provisional = set(art.config_plan.findings) if art.config_plan is not None else set()
    earlier = [f for f in art.findings if f not in provisional]
    return replace(
        art,
        findings=(*earlier, *key_findings, *final.findings),
        expected=expected,
        config_plan=final,
        config=config,
    )
