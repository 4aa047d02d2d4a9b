"""Rules of the verification matrix (HFC590-HFC599, owned by matrix). Pure data."""

from __future__ import annotations

from hf_custom.findings import Rule, Severity, define

define(
    Rule(
        id="HFC590",
        name="fails-on-transformers-version",
        severity=Severity.ERROR,
        summary="the package fails to verify with a transformers version asked for by --transformers",
        fix="fix the cause named for that version (hf-custom fix handles the common v4/v5 breaks), "
        "or accept it with --allow-fail VERSION",
        explanation="""\
## What it does
Runs the whole verification (load, weights, forward, generate, save for every AutoClass) once per transformers version given to `--transformers` (or in `hf-custom.toml`), each in a cached environment with that version, and reports every version under which a step fails, with the first failure's cause.

## Why is this bad?
A custom-code repository is loaded by whatever transformers its users have installed. A package that only works with the author's version breaks everyone on the other line (v4 users after a v5-only change, v5 users of code written for v4).

## Example
`_tied_weights_keys = {"lm_head.weight": "model.embed.weight"}` (the dict form) loads on transformers 5 but fails on 4.57, whose loader expects a list.

## How to fix
Make the code work on both lines (feature-detect instead of importing removed names), or, when one line is knowingly unsupported, publish with `--allow-fail VERSION`: the model card's Compatibility section then lists that version as failing.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC591",
        name="allowed-failure-on-transformers-version",
        severity=Severity.WARNING,
        summary="the package fails with a transformers version that --allow-fail accepts",
        fix="nothing to do if that version is knowingly unsupported; the card says it fails",
        explanation="""\
## What it does
Reports a transformers version of the matrix under which verification fails while `--allow-fail` names it: publishing goes on.

## Why is this bad?
Users of that version cannot load the repository. It is a decision, not an accident, but it stays visible in the output and on the model card.

## Example
`hf-custom publish ./ckpt --transformers 4.57,latest --allow-fail 4.57` on code that imports a name transformers 4.57 does not have.

## How to fix
Drop `--allow-fail` once the code supports that version again.
""",
        needs="load",
    )
)
