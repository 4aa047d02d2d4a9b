"""Rules of the verification matrix (HFC590-HFC599, HFC750-HFC769, owned by matrix). Pure data."""

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

define(
    Rule(
        id="HFC592",
        name="outputs-differ-across-versions",
        severity=Severity.ERROR,
        summary="the repaired package's forward under transformers v5 differs from the original's under v4",
        fix="find what the repair or v5 changed in the computation (often a weight left random: "
        "tie_word_embeddings, a base-config attribute v5 no longer sets) and fix it in the code",
        explanation="""\
## What it does
`hf-custom fix --transformers 4.57,5.24` (any v4 and v5 versions) runs the ORIGINAL package's forward under the v4 version and the REPAIRED copy's forward under the v5 version, on the same inputs built from the config and the same weights, and compares every output tensor (relative tolerance 1e-4, absolute 1e-5). It reports each AutoClass whose outputs differ.

## Why is this bad?
A repair is meant to keep the model's behaviour. A copy that loads on v5 but computes something else silently breaks every user who upgrades: the v4 users had a working model.

## Example
The original relies on v4 defaulting `tie_word_embeddings` to true; under v5 the repaired copy loads with `lm_head` randomly initialised, so its logits differ from the v4 ones.

## How to fix
Read the AutoClass and the output field named, compare the loading reports of both versions (`hf-custom doctor --load --transformers 4.57,5.24`), and make the code set what v5 no longer sets for it.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC593",
        name="outputs-not-compared-across-versions",
        severity=Severity.WARNING,
        summary="the cross-version output comparison of fix could not be made for an AutoClass",
        fix="make the original verify under the v4 version (or drop that version) and the forward "
        "run on both sides; the comparison is otherwise not proof",
        explanation="""\
## What it does
Reports an AutoClass whose forward outputs `hf-custom fix` could not compare across transformers versions: the original does not verify under the v4 version (no baseline), the forward did not pass on one side, or the two runs built different inputs from their configs.

## Why is this bad?
Nothing was proven about that AutoClass's outputs: a comparison that did not run must not read as one that passed.

## Example
The original package already fails on transformers 4.57, so there is no v4 output to compare the repaired copy with.

## How to fix
Check the original under the v4 version with `hf-custom doctor ORIGINAL --load --transformers 4.57`, or compare with another v4 version.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC750",
        name="matrix-not-on-card",
        severity=Severity.WARNING,
        summary="a transformers version of the repository's default matrix is not shown as verified on the model card",
        fix="publish again (hf-custom publish runs the matrix of hf-custom.toml and rewrites the "
        "card's Compatibility section), or drop the version from the settings",
        explanation="""\
## What it does
Reads the default matrix of the repository (`transformers` in `hf-custom.toml`, or in `[tool.hf-custom]` of `pyproject.toml`) and the Compatibility section hf-custom writes into the model card (README.md), and reports every version of the matrix the card does not show as verified and passing. A failing version that `allow-fail` accepts is not reported. `latest` and `installed` are answered by any verified version (which version they mean is only known to the package registry). The git hooks run it on the tree being pushed, so a push of code changed since the last publish is flagged. Without a matrix in the settings, or without a card (HFC604), there is nothing to compare.

## Why is this bad?
The settings say which transformers versions the repository supports; the card is what its users read. A card that does not show those versions verified (an old card, a push of code that was never published through hf-custom) promises what nothing proved.

## Example
`hf-custom.toml` says `transformers = ["4.57", "latest"]`, and README.md has no `## Compatibility` section, or one listing only 5.24.0.

## How to fix
Run `hf-custom publish` (its matrix step verifies each version and rewrites the section), or remove the version from the settings if it is no longer supported.
""",
    )
)
