"""Rules HFC257-HFC258: more transformers v5 breaks that ``hf-custom fix`` repairs.

Found by :mod:`hf_custom.checks.v5code`; repaired by :mod:`hf_custom.fixing.repairs`.
"""

from __future__ import annotations

from hf_custom.findings import Rule, Severity, define

define(
    Rule(
        id="HFC257",
        name="rope-scaling-type-read",
        severity=Severity.ERROR,
        summary='The code reads rope_scaling["type"], which transformers v5 renamed to "rope_type".',
        fix='read `rope_scaling.get("type", rope_scaling.get("rope_type"))` (`hf-custom fix` does it)',
        explanation="""\
## What it does
Flags `rope_scaling["type"]` and `rope_scaling.get("type")` reads of a config's `rope_scaling`
(`config.rope_scaling`, `self.config.rope_scaling`, or a local named `rope_scaling`).

## Why is this bad?
transformers v5 standardises RoPE settings: the dict holds `rope_type` (and v5 fills a
`{"rope_type": "default"}` for configs that had none). Code indexing `"type"` fails with
`KeyError` (or takes the wrong branch with `.get`) as soon as the config is loaded by v5.

## Example
```python
scaling_type = config.rope_scaling["type"]
```

## How to fix
Read both keys, the v4 one first:
`config.rope_scaling.get("type", config.rope_scaling.get("rope_type"))`. `hf-custom fix` rewrites
the read that way. Code branching on `rope_scaling is None` must be reviewed by hand: v5 no longer
leaves it None.
""",
    )
)

define(
    Rule(
        id="HFC258",
        name="tokenizer-pad-signature",
        severity=Severity.ERROR,
        summary="A tokenizer overrides _pad() without the padding_side argument v5 passes.",
        fix="add `padding_side=None` to the override's parameters (`hf-custom fix` does it)",
        explanation="""\
## What it does
Flags tokenizer classes of the package that define `_pad()` with neither a `padding_side`
parameter nor `**kwargs`.

## Why is this bad?
Since transformers 4.45 `pad()` calls `self._pad(..., padding_side=...)`; an override written
for older versions fails with `TypeError: _pad() got an unexpected keyword argument
'padding_side'` on the first padded batch.

## Example
```python
def _pad(self, encoded_inputs, max_length=None, padding_strategy=PaddingStrategy.DO_NOT_PAD,
         pad_to_multiple_of=None, return_attention_mask=None):
```

## How to fix
Accept the argument: `..., return_attention_mask=None, padding_side=None):`. The override keeps
its own padding behaviour (as it had under v4). `hf-custom fix` adds the parameter.
""",
    )
)
