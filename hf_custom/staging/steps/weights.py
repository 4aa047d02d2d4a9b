"""weights: convert to sharded safetensors with the names the chosen class expects."""

from __future__ import annotations

from dataclasses import replace

from hf_custom.errors import InputError
from hf_custom.staging.context import Artefacts, StageContext, need


def weights(ctx: StageContext, art: Artefacts) -> Artefacts:
    """Convert the weights; record their dtype in config.json.

    Raises:
        InputError: the checkpoint has no weights file.
    """
    from hf_custom.inventory import FileKind, weights_dtype
    from hf_custom.staging.config import Change
    from hf_custom.staging.steps.config import is_tokenizer_only
    from hf_custom.staging.tokenizer import write_json_atomic
    from hf_custom.weights import convert

    inventory = need(art.inventory, "the inventory")
    if not inventory.of_kind(FileKind.WEIGHTS) and is_tokenizer_only(art):
        return art  # a tokenizer has no weights
    if not inventory.of_kind(FileKind.WEIGHTS):
        raise InputError(
            "no weights in the checkpoint folder",
            path=str(ctx.src),
            hint="save the state dict (pytorch_model.bin, *.pt or *.safetensors) into the folder",
        )
    archs = art.config.get("architectures")
    arch = archs[0] if isinstance(archs, list) and archs else None
    expected = next(
        (ek for ref, ek in art.expected.items() if ref.rpartition(".")[2] == arch), None
    )
    opts = ctx.options
    ctx.log("converting the weights to safetensors")
    converted = convert(
        ctx.src,
        ctx.staging,
        max_shard_size=opts.max_shard_size,
        dtype=opts.dtype,
        renames=opts.renames,
        expected_keys=expected.keys if expected is not None and expected.ok else None,
        base_model_prefix=(expected.base_model_prefix or None) if expected is not None else None,
        tied=dict(expected.tied) if expected is not None else None,
        on_event=ctx.on_event,
    )
    config = dict(art.config)
    changes = []
    requested = converted.dtype
    wdtype = requested if requested and requested != "kept" else weights_dtype(ctx.staging)
    if wdtype and config.get("dtype") != wdtype:
        changes.append(Change("dtype", config.get("dtype"), wdtype, "the dtype of the weights"))
        config["dtype"] = wdtype
        write_json_atomic(ctx.staging / "config.json", config)
    return replace(art, weights=converted, config=config).add(
        findings=converted.findings, changes=changes
    )
