"""What publish would do to a checkpoint folder: ``doctor --load`` verifies that copy.

:func:`staged_copy` stages the folder into a temporary folder through the same steps as
``publish --dry-run`` (without the final checks step: doctor has just run them on the folder),
so the verification judges what users would download, and the defects behind the first repair
are found in one run. A folder without weights is staged without the weights step (the
verification then instantiates the classes from the config: weights "not compared", HFC525).
:func:`repair_findings` turns the staging result into HFC118 findings naming each repair.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hf_custom.errors import InputError, Refusal
from hf_custom.events import EventSink, Log, emit
from hf_custom.findings import Finding, finding
from hf_custom.staging.result import StageResult

#: How the converter names each kind of rename (weights/names.py ``Rename.reason``).
_RENAME_WHY = {
    "ddp-prefix": "the `module.` prefix of DistributedDataParallel",
    "compile-prefix": "the `_orig_mod.` prefix of torch.compile",
    "base-model-prefix": "names matched to the model's base_model_prefix",
    "rename-rule": "--rename rules",
}


@contextmanager
def staged_copy(
    src: Path, *, on_event: EventSink | None = None
) -> Iterator[tuple[Path, list[Finding]]]:
    """``(folder to load, findings)``: the staged copy and what publish changed in it, or ``src``
    itself (with a finding saying why) when publish would refuse to stage it. The temporary
    folder is removed on exit."""
    from hf_custom.inventory import FileKind, read_checkpoint
    from hf_custom.staging.pipeline import STAGE_STEPS, stage

    has_weights = bool(read_checkpoint(src).of_kind(FileKind.WEIGHTS))
    skip = {"checks"} if has_weights else {"checks", "weights"}
    steps = tuple((n, s) for n, s in STAGE_STEPS if n not in skip)
    tmp = Path(tempfile.mkdtemp(prefix="hf-custom-doctor-"))
    try:
        emit(on_event, Log("--load: staging the folder as publish --dry-run would, to load that"))
        try:
            result = stage(src, out=tmp / "staged", steps=steps, on_event=on_event)
        except (Refusal, InputError) as exc:
            emit(on_event, Log(f"publish would not stage it ({exc.message}): loading it as it is"))
            note = finding(
                "HFC118",
                f"--load verified the folder as it is: publish would refuse to stage it "
                f"({exc.message})",
                path="",
            )
            yield src, [note]
            return
        notes = repair_findings(result, weights=has_weights)
        # a tokenizer-only package (no config.json staged) has no model to give weights to
        if not has_weights and (tmp / "staged" / "config.json").is_file():
            from hf_custom.fixing.remote import write_placeholder_weights

            emit(on_event, Log("no weights: placeholder weights of the config's shapes"))
            why = write_placeholder_weights(tmp / "staged")
            notes.append(
                finding(
                    "HFC118",
                    "no weights in the folder: the classes were loaded with placeholder "
                    "(random) weights of the config's shapes, so weights were not compared"
                    if not why
                    else f"no weights in the folder, and no placeholder weights: {why or 'no model class'}",
                    path="",
                )
            )
        yield tmp / "staged", notes
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def repair_findings(result: StageResult, *, weights: bool = True) -> list[Finding]:
    """One HFC118 finding per kind of repair publish made in ``result``'s staged copy."""
    found = [
        finding(
            "HFC118",
            "--load verified the copy publish would stage (a temporary folder), not the folder "
            "as it is" + ("" if weights else " (staged without its weights step)"),
            path="",
        )
    ]
    by_reason: dict[str, list[tuple[str, str]]] = {}
    for r in result.renames:
        by_reason.setdefault(r.reason, []).append((r.old, r.new))
    for reason, pairs in sorted(by_reason.items()):
        old, new = pairs[0]
        more = f" and {len(pairs) - 1} more" if len(pairs) > 1 else ""
        found.append(
            finding(
                "HFC118",
                f"publish strips {_RENAME_WHY.get(reason, reason)} from {len(pairs)} tensor "
                f"name(s): {old} -> {new}{more}",
                path=result.weights.files[0].name
                if result.weights and result.weights.files
                else "",
            )
        )
    conv = result.weights
    if conv is not None and conv.source_format and conv.source_format != "safetensors":
        found.append(
            finding(
                "HFC118",
                f"publish converts the {conv.source_format} weights to safetensors "
                f"({conv.tensors} tensors, each re-read against the source)",
                path="",
            )
        )
    keys = sorted({c.key for c in result.changes if c.file == "config.json"})
    if keys:
        shown = ", ".join(keys[:8]) + (f" and {len(keys) - 8} more" if len(keys) > 8 else "")
        found.append(
            finding("HFC118", f"publish writes config.json keys: {shown}", path="config.json")
        )
    return found


__all__ = ["repair_findings", "staged_copy"]
