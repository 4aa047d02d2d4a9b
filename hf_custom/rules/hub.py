"""Rules HFC650-HFC699: the repository as the Hub sees it (owned by doctor and the checks registry)."""

from __future__ import annotations

from hf_custom.findings import Rule, Severity, define

define(
    Rule(
        id="HFC650",
        name="file-above-hub-limit",
        severity=Severity.ERROR,
        summary="A file is larger than the Hub's hard per-file limit (50 GB).",
        fix="split the file: shard weights with `hf-custom convert --max-shard-size 5GB`",
        explanation="""\
## What it does
Flags any file larger than 50 GB, the Hub's hard limit for one file.

## Why is this bad?
The upload is refused by the Hub, usually after hours of transfer. transformers v5 raised
`save_pretrained`'s default shard size to 50 GB, so a large model saved with defaults can
produce shards right at the limit.

## Example
`model.safetensors` of 60 GB in one file.

## How to fix
Shard the weights (`hf-custom convert --max-shard-size 5GB`, or
`save_pretrained(..., max_shard_size="5GB")`); split other data into chunks.
""",
    )
)

define(
    Rule(
        id="HFC651",
        name="file-above-recommended-size",
        severity=Severity.WARNING,
        summary="A file is larger than the Hub's recommended per-file size (20 GB).",
        fix="re-shard the weights into smaller files, e.g. `--max-shard-size 5GB`",
        explanation="""\
## What it does
Flags files between 20 GB (the Hub's recommended maximum) and 50 GB (its hard limit).

## Why is this bad?
Very large files upload and download slowly, cannot resume well, and make partial loading
(`device_map`, tensor parallelism) less efficient. Most loaders expect shards of a few GB.

## Example
`model-00001-of-00002.safetensors` of 30 GB.

## How to fix
Re-shard: `hf-custom convert ./ckpt --max-shard-size 5GB` (or `save_pretrained` with
`max_shard_size="5GB"`).
""",
    )
)

define(
    Rule(
        id="HFC699",
        name="check-crashed",
        severity=Severity.ERROR,
        summary="A check crashed: its rules were not evaluated (this is a bug in hf-custom).",
        fix="report the bug with the message; run with --ignore for this check's rules meanwhile",
        explanation="""\
## What it does
Reports a check that raised an unexpected exception instead of returning its findings.

## Why is this bad?
The problems that check looks for were not looked for. Reporting the crash as a finding keeps
the run from reading as clean: an empty run must never pass for a clean one.

## Example
A check reading an unusual `config.json` hits a case its author did not foresee.

## How to fix
Report the message to hf-custom's issue tracker. To go on meanwhile, `--ignore` the rules of
the crashed check (listed by `hf-custom doctor --list-checks`) and check that part by hand.
""",
    )
)
