"""read: classify the checkpoint's files, read config.json and the names of the weights."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from hf_custom import safejson
from hf_custom.errors import InputError
from hf_custom.findings import finding
from hf_custom.inventory import FileKind, Inventory, read_checkpoint, weight_names
from hf_custom.staging.context import Artefacts, JSONObject, StageContext


def read_config(src: Path) -> JSONObject:
    """config.json of ``src`` as a JSON object.

    Raises:
        InputError: config.json is missing, not JSON, or not a JSON object (finding HFC100).
    """
    path = src / "config.json"
    if not path.is_file():
        raise InputError(
            "no config.json in the checkpoint folder",
            path=str(path),
            hint="save the model config with config.save_pretrained(folder) first",
            findings=[finding("HFC100", "config.json is missing", path="config.json")],
        )
    try:
        doc = safejson.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            f"config.json is not valid JSON: {exc}",
            path=str(path),
            hint="fix the file (it may be truncated) or re-create it with config.save_pretrained",
            findings=[finding("HFC100", f"invalid JSON: {exc}", path="config.json")],
        ) from exc
    if not isinstance(doc, dict):
        raise InputError(
            "config.json is not a JSON object",
            path=str(path),
            hint="config.json must hold one JSON object",
            findings=[finding("HFC100", "not a JSON object", path="config.json")],
        )
    return doc


def read(ctx: StageContext, art: Artefacts) -> Artefacts:
    ctx.log(f"reading {ctx.src}")
    inventory = read_checkpoint(ctx.src)
    if may_be_tokenizer_only(ctx.src, inventory):
        # no config.json: the config step, which knows the code, refuses unless it is
        # tokenizer code only (AutoTokenizer reads tokenizer_config.json alone)
        return replace(art, inventory=inventory, has_config=False)
    config_in = read_config(ctx.src)
    found = weight_names(ctx.src, inventory)
    names = tuple(found) if found is not None else None
    return replace(art, inventory=inventory, config_in=config_in, weight_names=names)


def may_be_tokenizer_only(src: Path, inventory: Inventory) -> bool:
    """No config.json, no weights, a tokenizer_config.json and code at the top."""
    return (
        not (src / "config.json").exists()
        and inventory.has("tokenizer_config.json")
        and not inventory.of_kind(FileKind.WEIGHTS)
        and not inventory.of_kind(FileKind.WEIGHTS_INDEX)
        and any("/" not in e.path for e in inventory.of_kind(FileKind.CODE))
    )
