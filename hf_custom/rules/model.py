"""Rules HFC240 and HFC263-HFC266: model-side v5 breaks of v4-era code that ``hf-custom fix`` repairs.

Found by :mod:`hf_custom.checks.v5model`; repaired by :mod:`hf_custom.fixing.repairs_model2`.
"""

from __future__ import annotations

from hf_custom.findings import Rule, Severity, define

define(
    Rule(
        id="HFC263",
        name="init-weights-overwrites-loaded",
        severity=Severity.ERROR,
        summary="_init_weights re-initialises a module's sub-parameters by name, which transformers v5 runs on loaded modules.",
        fix="skip modules whose tensors were all loaded in _init_weights (`hf-custom fix` does it)",
        explanation="""\
## What it does
Flags a `_init_weights(self, module)` of the package's `PreTrainedModel` that walks the
module's descendants (`module.named_parameters()`, `module.parameters()`, `module.modules()`,
`module.named_modules()`, `module.children()`) when a module of the package registers a
non-persistent buffer (`register_buffer(..., persistent=False)`).

## Why is this bad?
After loading, transformers v4 called `_init_weights` only on modules that still had a tensor
to initialise (a parameter or persistent buffer missing from the checkpoint). For custom code,
v5 decides module by module on the module's own tensors and counts non-persistent buffers too,
which a checkpoint never holds: it calls `_init_weights` on an attention module whose weights
were all loaded because it keeps a `masked_bias` or rotary buffer. A by-name loop there (the
GPT-2 style `c_proj.weight` scaling) overwrites loaded weights with random values. Nothing is
reported missing; the outputs are silently wrong (verification reports HFC508).

## Example
```python
def _init_weights(self, module):
    ...
    for name, p in module.named_parameters():
        if name == "c_proj.weight":
            p.data.normal_(mean=0.0, std=0.02 / math.sqrt(2 * self.config.n_layer))
```

## How to fix
Return early when every parameter and persistent buffer of the module was loaded, as v4 did:
`if loaded_from_checkpoint(module): return` (`hf-custom fix` adds it with a helper in
`hf_custom_compat.py`, after any `restore_non_persistent_buffers(module)`). A model built from
a config (nothing loaded) is initialised as before.
""",
    )
)

define(
    Rule(
        id="HFC264",
        name="generation-method-removed",
        severity=Severity.ERROR,
        summary="The code calls a private GenerationMixin method that the installed transformers no longer has.",
        fix="stop calling the method (see the explanation); `hf-custom fix` restores those it can",
        explanation="""\
## What it does
Flags calls on `self` of private `GenerationMixin` methods that transformers removed
(`_extract_past_from_model_output`, `_get_logits_warper`, `_get_cache`,
`_get_initial_cache_position`, `_prepare_encoder_decoder_kwargs_for_generation`, ...) when the
package does not define the method and the installed transformers' `GenerationMixin` (or,
without it, the known removals) does not have it.

## Why is this bad?
Custom chat models override `_update_model_kwargs_for_generation` or write their own sampling
loop with these helpers. The model loads and its forward works; `generate()` fails with
`AttributeError` on its first step.

## Example
```python
def _update_model_kwargs_for_generation(self, outputs, model_kwargs, **kwargs):
    model_kwargs["past_key_values"] = self._extract_past_from_model_output(
        outputs, standardize_cache_format=False
    )
```

## How to fix
Read `outputs.past_key_values` directly. `hf-custom fix` restores
`_extract_past_from_model_output` as a method of the model with transformers 4.41's behaviour
(the cache from `past_key_values`, `mems` or `past_buckets_states`; `_convert_to_standard_cache`
when asked to standardise) from `hf_custom_compat.py`; the other methods have no equivalent in
v5's generation loop and are named for a port by hand.
""",
    )
)

define(
    Rule(
        id="HFC265",
        name="tokenizer-attributes-after-super-init",
        severity=Severity.ERROR,
        summary="A tokenizer sets attributes its get_vocab() needs after super().__init__(), which already calls it.",
        fix="set those attributes before super().__init__() (`hf-custom fix` moves them)",
        explanation="""\
## What it does
Flags a slow tokenizer's `__init__` that assigns `self.<attr>` after `super().__init__(...)`
when the methods the base `__init__` calls (`get_vocab`, `vocab_size`, `_convert_id_to_token`,
`_tokenize`, ... and what they call on `self`) read that attribute. The base `__init__` reaches
them through `_add_tokens`: a class that overrides `_add_tokens` is judged by what its own reads.

## Why is this bad?
Since transformers 4.34 (and in v5), `PreTrainedTokenizer.__init__` registers the special tokens
and so calls `get_vocab()`. The tokenizer's own state (the SentencePiece model, the vocab) does
not exist yet: `AutoTokenizer.from_pretrained` fails with `AttributeError` (4.57 reports it as
a protobuf `ImportError`, v5 as `TypeError: 'property' object cannot be interpreted as an
integer`).

## Example
```python
def __init__(self, vocab_file, **kwargs):
    super().__init__(**kwargs)
    self.tokenizer = SPTokenizer(vocab_file)  # get_vocab() reads self.tokenizer
```

## How to fix
Set the attributes first, then call `super().__init__(...)`. `hf-custom fix` moves the
assignments that directly follow the call and read nothing it sets (parameters, globals and
the attributes moved with them only; never an attribute the base class sets, such as
`padding_side`), and leaves the rest with its cause.
""",
    )
)

define(
    Rule(
        id="HFC266",
        name="generation-attention-mask-dropped",
        severity=Severity.ERROR,
        summary="prepare_inputs_for_generation uses attention_mask unchecked, which transformers v5's generate() sets to None.",
        fix="rebuild the all-ones mask when it is None (`hf-custom fix` does it)",
        explanation="""\
## What it does
Flags a model's own `prepare_inputs_for_generation` that reads the attention mask
(`kwargs["attention_mask"]`, or `attention_mask.bool()` / `attention_mask[:, -1]` on its
parameter) and never tests it for `None` or presence.

## Why is this bad?
transformers v4's `generate()` always built a mask (all ones without padding) and extended it
at every step. v5 drops a mask that is all ones to `None` before the generation loop, even one
the user passed, to make attention faster. The v4 code then fails on the first step
(`TypeError: 'NoneType' object is not subscriptable` or `AttributeError`).

## Example
```python
def prepare_inputs_for_generation(self, input_ids, past_key_values=None, **kwargs):
    attention_mask = kwargs["attention_mask"].bool()
```

## How to fix
At the top of the method, rebuild the mask v4 passed when it is missing:
`if kwargs.get("attention_mask") is None and input_ids is not None:
kwargs["attention_mask"] = input_ids.new_ones(input_ids.shape[:2])` (or the same on the
named parameter). `input_ids` is the whole sequence there under v4 and v5, so the mask has
v4's length and dtype. `hf-custom fix` adds these lines.
""",
    )
)

define(
    Rule(
        id="HFC240",
        name="gpu-only-construction",
        severity=Severity.ERROR,
        summary="Building the model needs a CUDA GPU (an assert, .cuda() or device='cuda' in __init__ or at import).",
        fix="make the GPU optional: take the device from the inputs or guard with torch.cuda.is_available()",
        explanation="""\
## What it does
Flags, in a class's `__init__` and in a module's top-level statements (what `from_pretrained`
and the import run): `assert torch.cuda.is_available()` (any assert on `torch.cuda`), `.cuda()`
calls, `device="cuda"` / `torch.device("cuda")` / `.to("cuda")`, and `torch.cuda.*` calls other
than the probes (`is_available`, `device_count`, `is_bf16_supported`). Uses under a test that
mentions the device or CUDA (`if torch.cuda.is_available():`, `... if cuda else ...`,
`SUPPORT_CUDA and ...`) or in a `try` are guarded and not reported, and `device=x.device` is
not a CUDA requirement.

## Why is this bad?
The model cannot even be built without a GPU: CPU users, CI and hf-custom's verification (a
CPU child process) fail at `from_pretrained`, before any forward pass. `hf-custom fix` cannot
choose a device for the author, so it reports the cause and leaves the code alone.

## Example
```python
def __init__(self, config):
    super().__init__(config)
    assert torch.cuda.is_available(), "needs a GPU"
    self.freqs = torch.arange(config.dim, device="cuda")
```

## How to fix
Create tensors on the device of the module's parameters or inputs (`device=x.device`), let
users move the model with `.to(...)`, and guard GPU-only paths with
`if torch.cuda.is_available():` (or a config flag).
""",
    )
)
