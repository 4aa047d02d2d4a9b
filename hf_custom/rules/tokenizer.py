"""Rules for tokenizer files (HFC400-HFC449, owned by staging). Pure data."""

from __future__ import annotations

from hf_custom.findings import Rule, Severity, define

define(
    Rule(
        id="HFC400",
        name="special-tokens-map-misspelled",
        severity=Severity.WARNING,
        summary="special_token_map.json (misspelled) instead of special_tokens_map.json",
        fix="rename it special_tokens_map.json (publish does this)",
        explanation="""\
## What it does
Looks for `special_token_map.json`.

## Why is this bad?
transformers only reads `special_tokens_map.json`; the misspelled file is ignored and the
special tokens it declares are lost.

## Example
`special_token_map.json` beside `tokenizer.json`.

## How to fix
`mv special_token_map.json special_tokens_map.json`.
""",
    )
)

define(
    Rule(
        id="HFC401",
        name="tokenizer-auto-map-missing",
        severity=Severity.ERROR,
        summary="a custom tokenizer class is shipped but tokenizer_config.json has no auto_map.AutoTokenizer",
        fix='add "auto_map": {"AutoTokenizer": ["tokenization_x.XTokenizer", null]} to tokenizer_config.json',
        explanation="""\
## What it does
Checks that tokenizer classes defined in `tokenization_*.py` are registered in
`tokenizer_config.json` under `auto_map.AutoTokenizer` as `[slow, fast]`.

## Why is this bad?
`AutoTokenizer.from_pretrained(..., trust_remote_code=True)` does not find the custom class and
falls back to another tokenizer, or fails.

## Example
`tokenization_x.py` defines `XTokenizer(PreTrainedTokenizer)`; tokenizer_config.json has no
`auto_map`.

## How to fix
`"auto_map": {"AutoTokenizer": ["tokenization_x.XTokenizer", null]}` (publish writes it).
""",
    )
)

define(
    Rule(
        id="HFC402",
        name="special-token-id-mismatch",
        severity=Severity.ERROR,
        summary="a special-token id in config.json differs from the tokenizer's id for that token",
        fix="set the config's *_token_id to the tokenizer's id of the token",
        explanation="""\
## What it does
Looks up the pad/bos/eos/unk tokens of the tokenizer in `tokenizer.json` and compares their ids
with `pad_token_id`, `bos_token_id`, ... in config.json.

## Why is this bad?
Generation stops on the wrong token, padding is attended to, or the embedding row used for
padding is not the one trained as such.

## Example
`"eos_token_id": 2` in config.json while `</s>` is id 1 in tokenizer.json.

## How to fix
Use the tokenizer's ids in config.json.
""",
    )
)

define(
    Rule(
        id="HFC403",
        name="tokenizer-missing",
        severity=Severity.WARNING,
        summary="no tokenizer files: AutoTokenizer cannot load this model's tokenizer",
        fix="save the tokenizer into the folder (tokenizer.save_pretrained(folder))",
        explanation="""\
## What it does
Looks for tokenizer files (tokenizer.json, tokenizer_config.json, vocab files).

## Why is this bad?
Users of a text model need the exact tokenizer it was trained with.

## Example
A folder with config.json, code and weights only.

## How to fix
`tokenizer.save_pretrained(folder)`.
""",
    )
)

define(
    Rule(
        id="HFC404",
        name="tokenizer-file-malformed",
        severity=Severity.ERROR,
        summary="a tokenizer JSON file does not parse",
        fix="re-save the tokenizer with save_pretrained",
        explanation="""\
## What it does
Parses tokenizer.json, tokenizer_config.json and special_tokens_map.json.

## Why is this bad?
`AutoTokenizer.from_pretrained` fails on them.

## Example
A truncated tokenizer.json.

## How to fix
Re-save the tokenizer.
""",
    )
)

define(
    Rule(
        id="HFC405",
        name="tokenizer-auto-map-target-missing",
        severity=Severity.ERROR,
        summary="tokenizer_config.json's auto_map.AutoTokenizer names a module or class not shipped",
        fix="point it at a shipped tokenization_*.py class",
        explanation="""\
## What it does
Checks each entry of `auto_map.AutoTokenizer` in tokenizer_config.json.

## Why is this bad?
`AutoTokenizer.from_pretrained(..., trust_remote_code=True)` fails.

## Example
`["tokenization_x.XTok", null]` while the class is `XTokenizer`.

## How to fix
Correct the entry.
""",
    )
)

define(
    Rule(
        id="HFC406",
        name="special-token-id-unset",
        severity=Severity.INFO,
        summary="config.json lacks a special-token id the tokenizer defines",
        fix="set the *_token_id from the tokenizer (publish fills it)",
        explanation="""\
## What it does
Finds pad/bos/eos/unk tokens defined by the tokenizer whose id is not in config.json.

## Why is this bad?
transformers v5 no longer defaults `pad_token_id`, `bos_token_id`, `eos_token_id` on the base
config: code reading them fails, and `generate` cannot stop on EOS.

## Example
tokenizer has `[PAD]` = 0; config.json has no `pad_token_id`.

## How to fix
`"pad_token_id": 0`.
""",
    )
)
