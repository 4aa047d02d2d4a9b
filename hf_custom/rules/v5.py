"""Rules HFC257-HFC262: more transformers v5 breaks that ``hf-custom fix`` repairs.

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
the read that way. Code branching on `rope_scaling is None` is HFC700.
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

define(
    Rule(
        id="HFC259",
        name="layer-count-name",
        severity=Severity.WARNING,
        summary="The config of a generative model stores num_hidden_layers under another name.",
        fix='map it: `attribute_map = {"num_hidden_layers": "n_layer"}` (`hf-custom fix` does it)',
        explanation="""\
## What it does
Flags the config class of a package with a causal LM (or an `AutoModelForCausalLM` /
`AutoModelForSeq2SeqLM` entry) that defines none of `num_hidden_layers` (as an `__init__`
parameter, attribute, `attribute_map` key or config.json key) but stores the layer count as
`n_layer`, `n_layers`, `num_layers`, `nlayers` or `num_blocks`.

## Why is this bad?
`generate()` builds its KV cache from `config.num_hidden_layers` (transformers 4.5x and v5):
it fails with `AttributeError: ... has no attribute 'num_hidden_layers'` before the first token.

## Example
```python
class GPTConfig(PretrainedConfig):
    def __init__(self, n_layer=12, **kwargs):
        self.n_layer = n_layer
        super().__init__(**kwargs)
```

## How to fix
Map the standard name to the one the code uses:
`attribute_map = {"num_hidden_layers": "n_layer"}` on the config class. Reading and writing
either name then reaches the same value. `hf-custom fix` adds the entry.
""",
    )
)

define(
    Rule(
        id="HFC260",
        name="config-post-init",
        severity=Severity.ERROR,
        summary="A config class defines __post_init__, which transformers v5 calls with the load's kwargs.",
        fix="rename the method and call it from __init__ (`hf-custom fix` does it)",
        explanation="""\
## What it does
Flags config classes of the package that define `__post_init__` without calling
`super().__post_init__(**kwargs)`.

## Why is this bad?
transformers v5's `PreTrainedConfig` is a dataclass: its `__init__` calls
`self.__post_init__(**kwargs)` with every key of config.json it has no field for, and its own
`__post_init__` is what stores them. A v4-era `__post_init__(self)` (a helper the author called,
or never called) replaces it: loading fails with `TypeError: __post_init__() got an unexpected
keyword argument`, or the config silently loses its extra keys.

## Example
```python
class MyConfig(PretrainedConfig):
    def __init__(self, hidden_size=64, **kwargs):
        self.hidden_size = hidden_size
        super().__init__(**kwargs)
        self.__post_init__()

    def __post_init__(self):
        self.head_dim = self.hidden_size // 4
```

## How to fix
Give the helper another name (`_legacy_post_init`) and call it where the author called it.
v4 never called `__post_init__` itself, so behaviour under v4 is unchanged. `hf-custom fix`
renames the method and its `self.__post_init__()` calls.
""",
    )
)

define(
    Rule(
        id="HFC261",
        name="generation-param-dropped",
        severity=Severity.ERROR,
        summary="The code reads a generation parameter (max_length, use_cache, ...) that v5 drops from config.json.",
        fix="take it as a parameter of the config class's __init__ and store it (`hf-custom fix` does it)",
        explanation="""\
## What it does
Flags `config.max_length`, `config.use_cache`, `config.num_beams`, ... reads in the code when the
config class neither takes the attribute in `__init__` nor sets it as a class attribute.

## Why is this bad?
transformers v5 moves generation parameters to `generation_config.json`: its base config pops
them from the keyword arguments (config.json's keys) before storing the rest, so even a
config.json that holds `"use_cache": true` leaves `config.use_cache` undefined and the code
fails with `AttributeError`. v4 stored them (and defaulted `max_length` to 20).

## Example
```python
class ChatConfig(PretrainedConfig):
    def __init__(self, hidden_size=64, **kwargs):
        self.hidden_size = hidden_size
        super().__init__(**kwargs)
# modeling: self.max_len = config.max_length; use_cache = config.use_cache
```

## How to fix
Take it in the config class: `def __init__(self, hidden_size=64, max_length=20, **kwargs)` and
`self.max_length = max_length` after `super().__init__(**kwargs)`, with v4's default (`None`
for `use_cache`, which v4 did not default). `hf-custom fix` makes that edit.
""",
    )
)

define(
    Rule(
        id="HFC262",
        name="non-persistent-buffer-uninitialised",
        severity=Severity.ERROR,
        summary="A module computes non-persistent buffers in __init__, which transformers v5 leaves uninitialised after loading.",
        fix="recompute the buffers in the model's _init_weights (`hf-custom fix` does it)",
        explanation="""\
## What it does
Flags classes whose `__init__` calls `self.register_buffer(name, tensor, persistent=False)`
(rotary `inv_freq`, `cos_cached`/`sin_cached`, causal masks, `masked_bias`, position ids) when
no `_init_weights` of the package names the class.

## Why is this bad?
transformers v5 builds every model on the meta device; buffers that are not in the checkpoint
(non-persistent ones never are) are replaced with `torch.empty_like` memory, and only
`_init_weights` can fill them again. Rotary embeddings then hold garbage: NaN or random logits
with a clean loading report. v4 kept the values `__init__` computed.

## Example
```python
class RotaryEmbedding(nn.Module):
    def __init__(self, dim, base=10000):
        super().__init__()
        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))
        self.register_buffer("inv_freq", inv_freq, persistent=False)
```

## How to fix
Recompute the buffer in the PreTrainedModel's `_init_weights` for that module class. `hf-custom
fix` decorates the class with `hf_custom_compat.remember_init_args` (each instance keeps its
constructor arguments) and calls `restore_non_persistent_buffers(module)` from `_init_weights`,
which builds the module again on the CPU and copies its non-persistent buffers (v4: the same
values as before).
""",
    )
)

define(
    Rule(
        id="HFC700",
        name="rope-scaling-none-test",
        severity=Severity.WARNING,
        summary="The code tests `config.rope_scaling is None`, which transformers v5 never leaves None.",
        fix='also treat `rope_scaling.get("rope_type") == "default"` as no scaling (`hf-custom fix` does it)',
        explanation="""\
## What it does
Flags `X.rope_scaling is None` and `X.rope_scaling is not None` tests of a config attribute
(`self.config.rope_scaling`, `config.rope_scaling`, `self.rope_scaling` in the config class).

## Why is this bad?
transformers v5 standardises RoPE settings: a config saved or built without `rope_scaling` gets
`{"rope_theta": ..., "rope_type": "default"}` there. v4-era code then takes its scaling branch
for a model that has none: `KeyError: 'factor'` (DeepSeek-V2) or `ValueError: Unknown RoPE
scaling type default` (MiniCPM) while building the model, or a wrong rotary embedding.

## Example
```python
if self.config.rope_scaling is None:
    self.rotary_emb = RotaryEmbedding(self.head_dim, base=self.rope_theta)
else:
    scaling_factor = self.config.rope_scaling["factor"]
```

## How to fix
Treat v5's default entry as "no scaling":
`(self.config.rope_scaling is None or self.config.rope_scaling.get("rope_type") == "default")`
(and the negation for `is not None`). Under v4 the value stays None or the author's dict, so
the test means what it did. `hf-custom fix` rewrites the test that way.
""",
    )
)

define(
    Rule(
        id="HFC701",
        name="cache-api-removed",
        severity=Severity.ERROR,
        summary="The code calls Cache methods transformers removed (get_usable_length, from_legacy_cache, ...).",
        fix="use get_seq_length() / DynamicCache.update(); `hf-custom fix` routes the calls through hf_custom_compat",
        explanation="""\
## What it does
Flags, in a file that imports transformers' cache classes, calls of `get_usable_length(n,
layer)`, `to_legacy_cache()`, `DynamicCache.from_legacy_cache(past)` and reads of
`.seen_tokens` on a cache. `get_max_length()` is not flagged: v5's caches still define it.

## Why is this bad?
v4-era decoders (DeepSeek-V2, MiniCPM, ...) were written against the 4.36-4.40 Cache API.
transformers 4.56 removed `get_usable_length` and `seen_tokens`; v5 also removed
`from_legacy_cache` / `to_legacy_cache`. The forward fails with `AttributeError` on the first call.

## Example
```python
past_key_values = DynamicCache.from_legacy_cache(past_key_values)
past_key_values_length = past_key_values.get_usable_length(seq_length)
```

## How to fix
Use what every version has: `get_seq_length(layer_idx)`, `update(key, value, layer_idx)`.
`hf-custom fix` rewrites each call to a helper of `hf_custom_compat.py`
(`cache_get_usable_length(past, n)`, `cache_from_legacy(DynamicCache, past)`, ...), which calls
the cache's own method when it has one (v4, or the package's own Cache subclass) and computes the
v4 (4.39) result from v5's layers otherwise.
""",
    )
)
