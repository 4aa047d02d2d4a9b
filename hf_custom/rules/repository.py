"""Rules for repository hygiene and the model card (HFC600-HFC649, owned by staging)."""

from __future__ import annotations

from hf_custom.findings import Rule, Severity, define

define(
    Rule(
        id="HFC600",
        name="training-artefact",
        severity=Severity.WARNING,
        summary="a training artefact (optimizer, scheduler, RNG state, trainer state) is in the folder",
        fix="leave it out of the published repository (publish never stages it)",
        explanation="""\
## What it does
Finds `optimizer.pt`, `scheduler.pt`, `rng_state*.pth`, `training_args.bin`,
`trainer_state.json` and `checkpoint-*/` folders.

## Why is this bad?
They are large, useless for inference, and pickles: `training_args.bin` runs code when loaded
without `weights_only=True`.

## Example
`optimizer.pt` (2x the model size) uploaded with the weights.

## How to fix
Do not upload them; `hf-custom publish` excludes them and says so.
""",
    )
)

define(
    Rule(
        id="HFC601",
        name="secret-file",
        severity=Severity.ERROR,
        summary="a file that usually holds secrets (.env, *.pem, *.key, id_rsa) is in the folder",
        fix="remove it from the folder and rotate the secret if it was ever pushed",
        explanation="""\
## What it does
Finds `.env`, private keys and certificates by name.

## Why is this bad?
Once uploaded to a public repository a secret is compromised.

## Example
`.env` holding `WANDB_API_KEY=...`.

## How to fix
Remove it; publish never stages it. Rotate the secret if it was ever uploaded.
""",
    )
)

define(
    Rule(
        id="HFC602",
        name="hf-token-in-file",
        severity=Severity.ERROR,
        summary="a file contains what looks like a Hugging Face access token (hf_...)",
        fix="remove the token from the file and revoke it at https://huggingface.co/settings/tokens",
        explanation="""\
## What it does
Scans small text files for strings shaped like Hugging Face tokens (`hf_` + 30 or more letters).
The token itself is never printed: only the file is named.

## Why is this bad?
Anyone reading the repository can act as you on the Hub.

## Example
`notes.txt` with `HF_TOKEN=hf_...` pasted in.

## How to fix
Delete the line, revoke the token, and use `hf auth login` or the `HF_TOKEN` environment variable.
""",
    )
)

define(
    Rule(
        id="HFC603",
        name="vcs-or-cache-folder",
        severity=Severity.INFO,
        summary="a VCS or cache folder (.git, __pycache__, wandb, runs, ...) is in the folder",
        fix="nothing to do: these folders are never staged",
        explanation="""\
## What it does
Finds `.git`, `__pycache__`, `.ipynb_checkpoints`, `wandb`, `runs` and similar folders.

## Why is this bad?
They are noise on the Hub, can be large, and may hold private history or logs.

## Example
`wandb/` with run logs next to the weights.

## How to fix
Leave them out; publish excludes them.
""",
    )
)

define(
    Rule(
        id="HFC604",
        name="model-card-missing",
        severity=Severity.WARNING,
        summary="no README.md model card",
        fix="add a README.md (publish writes one)",
        explanation="""\
## What it does
Looks for README.md.

## Why is this bad?
The Hub shows nothing about the model; users do not know it needs trust_remote_code.

## Example
A repository with weights and code only.

## How to fix
Write a card; `hf-custom publish` generates one with usage snippets.
""",
    )
)

define(
    Rule(
        id="HFC605",
        name="model-card-metadata-invalid",
        severity=Severity.ERROR,
        summary="the model card's YAML metadata block does not parse",
        fix="fix the YAML between the leading --- lines of README.md",
        explanation="""\
## What it does
Parses the YAML front matter of README.md.

## Why is this bad?
The Hub rejects or ignores invalid metadata: no library, no tags, no widget.

## Example
`tags: [custom_code` (unclosed bracket).

## How to fix
Correct the YAML.
""",
    )
)

define(
    Rule(
        id="HFC606",
        name="model-card-metadata-incomplete",
        severity=Severity.WARNING,
        summary="the model card does not declare library_name: transformers and the custom_code tag",
        fix="add library_name: transformers and tags: [custom_code] (publish merges them)",
        explanation="""\
## What it does
Checks the card metadata for `library_name: transformers` and the `custom_code` tag.

## Why is this bad?
The Hub shows the wrong usage snippet and does not warn that the model runs remote code.

## Example
A card whose metadata is only `license: mit`.

## How to fix
Add `library_name: transformers` and `tags: [custom_code]`.
""",
    )
)

define(
    Rule(
        id="HFC607",
        name="file-not-staged",
        severity=Severity.INFO,
        summary="a file that transformers does not need is left out of the staged folder",
        fix="nothing to do, unless users need the file: then add it to the repository yourself",
        explanation="""\
## What it does
Lists files that are neither code, config, weights, tokenizer nor model card.

## Why is this bad?
It is not bad: it says what was not published so nothing goes missing silently.

## Example
`train.py`, `notes.txt`.

## How to fix
Nothing, or upload the file separately.
""",
    )
)
