"""Rules for loading and verification (HFC500-HFC569, owned by verification). Pure data.

Every rule here needs the model code executed in the isolated child process (needs="load").
"""

from __future__ import annotations

from hf_custom.findings import Rule, Severity, define

define(
    Rule(
        id="HFC500",
        name="load-failed",
        severity=Severity.ERROR,
        summary="an AutoClass failed to load (config, model or tokenizer) in the clean child process",
        fix="read the message: it names the exception and the line of the model's code that raised it",
        explanation="""\
## What it does
Loads AutoConfig, every AutoModel* entry of `auto_map` and AutoTokenizer with `trust_remote_code=True` in a fresh process, and reports any exception that no more specific rule explains.

## Why is this bad?
Users' `from_pretrained` would fail the same way: the repository is unusable through that AutoClass.

## Example
`AutoModelForMaskedLM.from_pretrained(repo, trust_remote_code=True)` raises `TypeError: __init__() missing 1 required positional argument`.

## How to fix
Fix the code at the file and line shown; re-run `hf-custom doctor --load` on the staged folder.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC501",
        name="post-init-not-called",
        severity=Severity.ERROR,
        summary="a model class never calls self.post_init(): transformers v5 fails with 'no attribute all_tied_weights_keys'",
        fix="add `self.post_init()` as the last line of the model class's __init__",
        explanation="""\
## What it does
Diagnoses the `AttributeError: ... has no attribute 'all_tied_weights_keys'` raised while loading.

## Why is this bad?
transformers v5 computes the tied-weights mapping and other static properties in `post_init()`; without it `from_pretrained` crashes (transformers PR 43951).

## Example
```python
class XForMaskedLM(XPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.model = XModel(config)
        # no self.post_init()
```

## How to fix
End every model `__init__` with `self.post_init()`.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC502",
        name="tied-weights-keys-rejected",
        severity=Severity.ERROR,
        summary="_tied_weights_keys is a list: transformers v5 needs a dict {target: source}",
        fix='write `_tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}`',
        explanation="""\
## What it does
Inspects the loaded model classes (and diagnoses `'list' object has no attribute 'keys'` raised while tying).

## Why is this bad?
v5 reads `_tied_weights_keys` as a mapping of target to source; a list crashes as soon as the config ties embeddings (transformers issue 44861).

## Example
`_tied_weights_keys = ["lm_head.weight"]`

## How to fix
`_tied_weights_keys = {"lm_head.weight": "model.embed.weight"}` (target: source).
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC503",
        name="dependency-missing-at-load",
        severity=Severity.ERROR,
        summary="the model code imports a package that is not installed: transformers refuses to load",
        fix="add the package to the requirements, or import it inside try/except or inside the function that uses it",
        explanation="""\
## What it does
Diagnoses transformers' `check_imports` refusal and `ModuleNotFoundError` raised by the model's code.

## Why is this bad?
`check_imports` refuses every module-level import it cannot resolve, even an optional one such as `flash_attn` (DeepSeek-MoE issue 24).

## Example
`import flash_attn` at the top of modeling_x.py.

## How to fix
Guard optional imports (`try: import flash_attn` / `except ImportError: flash_attn = None`) or list the package in the model card's requirements.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC504",
        name="config-attribute-missing-at-runtime",
        severity=Severity.ERROR,
        summary="the code (or transformers) reads a config attribute that transformers v5 no longer sets on the base config",
        fix="define the attribute in the config class __init__ with a default",
        explanation="""\
## What it does
Diagnoses `AttributeError: 'XConfig' object has no attribute 'use_cache'` raised while loading, running forward or generating, and names who read it.

## Why is this bad?
v5 removed defaults such as `use_cache`, `is_decoder`, `pad_token_id` from the base config (transformers issue 43572); `generate` also reads `num_hidden_layers`.

## Example
`if self.config.use_cache:` in forward, with `XConfig.__init__` not setting `use_cache`.

## How to fix
Add `use_cache=True` to the config `__init__` parameters and `self.use_cache = use_cache` before `super().__init__(**kwargs)`.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC505",
        name="forward-exception",
        severity=Severity.ERROR,
        summary="an exception in forward (or generate), located at the file and line of the model's code",
        fix="fix the code at the file and line shown",
        explanation="""\
## What it does
Runs forward on inputs built from the config (vocab_size, max_position_embeddings, num_labels, pad token) in eval mode and walks the traceback to the frame in the model's own files.

## Why is this bad?
Users' first call fails.

## Example
`RuntimeError: mat1 and mat2 shapes cannot be multiplied` at modeling_x.py:88.

## How to fix
Fix the line shown; reproduce with the same tiny inputs.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC506",
        name="weight-shape-mismatch",
        severity=Severity.ERROR,
        summary="a tensor in the weights file has a different shape than the model's parameter",
        fix="make config.json describe the checkpoint's sizes (vocab_size, hidden_size, ...) or re-export the weights",
        explanation="""\
## What it does
Reads the mismatched keys of `from_pretrained(..., output_loading_info=True)`.

## Why is this bad?
transformers re-initialises mismatched tensors randomly.

## Example
`embed.weight` is [1000, 64] in the file but the config says vocab_size=1024.

## How to fix
Correct config.json.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC507",
        name="unexpected-weights",
        severity=Severity.ERROR,
        summary="the class in `architectures` does not use some tensors of the weights file",
        fix="rename the tensors to the model's parameter names (publish reconciles prefixes) or remove them",
        explanation="""\
## What it does
Reads the unexpected keys when loading the class named in `architectures`.

## Why is this bad?
Unused tensors usually mean a naming mismatch: the parameters they were meant for stay random.

## Example
The file has `encoder.layer.0.weight`; the model expects `model.encoder.layer.0.weight`.

## How to fix
Rename the keys (hf-custom convert does it from the expected names).
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC508",
        name="weights-differ",
        severity=Severity.ERROR,
        summary="a loaded parameter or buffer is not equal to its tensor in the weights file",
        fix="look for code that re-initialises or overwrites weights after loading (_init_weights, tie_weights, __init__)",
        explanation="""\
## What it does
Compares every loaded parameter and buffer bitwise with the staged file. When tensors differ,
it replays the model's own `_init_weights` on the modules transformers calls it on after
loading (those holding a tensor the file lacks: a missing parameter, a non-persistent buffer),
from the module owning each tensor up to a few ancestors, and names the `_init_weights` (file
and line), the tensors it overwrites and the module it was called on.

## Why is this bad?
The model loads without a warning but computes with other weights than the ones published.

## Example
Qwen v1's `_init_weights` ends with
`for name, p in module.named_parameters(): if name == "c_proj.weight": p.data.normal_(...)`:
called on an attention module that holds a non-persistent buffer, it re-randomises that
module's loaded `c_proj.weight`.

## How to fix
Make `_init_weights` initialise only the module it is given, through
`transformers.initialization` (`init.normal_`, `init.zeros_`), which skips loaded tensors; do
not reach into submodules' parameters by name.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC509",
        name="weight-not-loaded",
        severity=Severity.ERROR,
        summary="a tensor of the class in `architectures` is not in the weights file and is not a declared tie: it stays random",
        fix="save the tensor in the weights file, or declare the tie (_tied_weights_keys dict and tie_word_embeddings=True)",
        explanation="""\
## What it does
Lists the state-dict entries of the architectures class that were neither loaded from the file nor tied to a loaded tensor.

## Why is this bad?
The silent failure: e.g. an `lm_head` left untied because v5 no longer defaults `tie_word_embeddings` (transformers PRs 45857, 43429), random output with no error.

## Example
config.json without `tie_word_embeddings`, weights without `lm_head.weight`.

## How to fix
Set `tie_word_embeddings=True` in config.json and the config class default, or save the tensor.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC510",
        name="newly-initialised-weights",
        severity=Severity.INFO,
        summary="a head other than the architectures class starts with freshly initialised weights (expected)",
        fix="nothing to do: a task head is trained on the downstream task",
        explanation="""\
## What it does
Lists, for AutoClasses other than the one in `architectures`, the weights that are not in the file.

## Why is this bad?
It is expected (a classifier on top of a pretrained encoder) but worth knowing.

## Example
`AutoModelForSequenceClassification` gets a new `score.weight`.

## How to fix
Nothing, unless the head was meant to be trained already.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC511",
        name="wrong-output-type",
        severity=Severity.ERROR,
        summary="forward does not return the ModelOutput an AutoClass's users expect",
        fix="return the matching transformers.modeling_outputs class (MaskedLMOutput, CausalLMOutput, ...)",
        explanation="""\
## What it does
Checks that forward returns a `ModelOutput` of the family of its AutoClass with the expected field (`logits`, `last_hidden_state`).

## Why is this bad?
Pipelines, Trainer and user code access `outputs.logits`; a tuple or a dict breaks them.

## Example
`return logits` from `XForMaskedLM.forward`.

## How to fix
`return MaskedLMOutput(loss=loss, logits=logits)`.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC512",
        name="wrong-output-shape",
        severity=Severity.ERROR,
        summary="an output has another shape than its AutoClass implies ([b, s, vocab] for LM heads, [b, num_labels] for sequence classification)",
        fix="check the head's output size against the config (vocab_size, num_labels) and the pooling",
        explanation="""\
## What it does
Compares the main output's shape with the shape implied by the AutoClass and the config.

## Why is this bad?
Downstream code (pipelines, loss, generate) assumes these shapes.

## Example
Sequence classification returning per-token logits [b, s, num_labels].

## How to fix
Pool (first or last token) before the classifier.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC513",
        name="non-finite-output",
        severity=Severity.ERROR,
        summary="forward produced NaN or infinite values",
        fix="look for divisions, log/exp and masking with -inf in the model's code",
        explanation="""\
## What it does
Checks every floating output tensor with `torch.isfinite`.

## Why is this bad?
Non-finite outputs on plain inputs mean broken numerics or uninitialised weights.

## Example
Attention masking that fills a full row with -inf.

## How to fix
Use a large negative finite value (`torch.finfo(dtype).min`).
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC514",
        name="round-trip-mismatch",
        severity=Severity.ERROR,
        summary="a model built from the config with the staged state dict loaded gives other outputs than from_pretrained",
        fix="compute buffers in __init__ deterministically and register them persistent, or recompute them in _init_weights",
        explanation="""\
## What it does
Instantiates the class from its config, loads the staged tensors with `load_state_dict` and compares outputs with the `from_pretrained` model on the same inputs.

## Why is this bad?
`from_pretrained` builds the model on the meta device: non-persistent buffers computed in `__init__` (rotary frequencies, masks) can end up different or uninitialised.

## Example
`self.register_buffer("inv_freq", ..., persistent=False)` never re-computed after meta initialisation.

## How to fix
Re-create such buffers in `_init_weights`, or make them persistent and save them.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC515",
        name="cannot-generate",
        severity=Severity.ERROR,
        summary="a generative head (CausalLM) has no generate(): it does not inherit GenerationMixin",
        fix="declare `class XForCausalLM(XPreTrainedModel, GenerationMixin)` with `from transformers import GenerationMixin`",
        explanation="""\
## What it does
Checks `can_generate()` and `generate` on CausalLM / Seq2SeqLM heads.

## Why is this bad?
Since v4.50 `PreTrainedModel` no longer inherits `GenerationMixin` (transformers PR 33150, issue 38050): `model.generate` raises AttributeError.

## Example
`class XForCausalLM(XPreTrainedModel):`

## How to fix
`class XForCausalLM(XPreTrainedModel, GenerationMixin):`
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC516",
        name="generate-malformed",
        severity=Severity.ERROR,
        summary="greedy generate returned a malformed sequence (wrong length, prompt changed, ids out of range)",
        fix="check prepare_inputs_for_generation and the logits of the head",
        explanation="""\
## What it does
Runs a greedy `generate` of a few tokens on a prompt built from the config.

## Why is this bad?
Users' generation would produce garbage or crash.

## Example
Generated ids >= vocab_size because the head is larger than the tokenizer.

## How to fix
Fix the head size or the generation inputs preparation.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC517",
        name="generate-cache-inconsistent",
        severity=Severity.ERROR,
        summary="generate (with its cache) disagrees with greedy decoding by full forwards",
        fix="implement the cache in forward, or write use_cache: false in generation_config.json when the model has none",
        explanation="""\
## What it does
Compares `generate(do_sample=False)` with a greedy loop that re-runs forward on the whole sequence.

## Why is this bad?
A model that ignores `past_key_values` sees only the last token at each step: generation silently degrades.

## Example
forward accepts `**kwargs` and drops `past_key_values`.

## How to fix
Implement the cache, or set `use_cache: false` in generation_config.json.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC518",
        name="tokenizer-round-trip-lossy",
        severity=Severity.WARNING,
        summary="decode(encode(text)) does not give the sample text back",
        fix="check the normaliser, unknown-token handling and the decoder of the tokenizer",
        explanation="""\
## What it does
Encodes and decodes a sample sentence (ignoring whitespace and, for lower-casing tokenizers, case).

## Why is this bad?
A lossy tokenizer can be intended (byte fallback off, normalisation) but often means a missing decoder or vocabulary.

## Example
A WordLevel tokenizer without `[UNK]` handling mapping most words to unknown.

## How to fix
Add the decoder or the missing vocabulary; ignore if the loss is intended.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC519",
        name="tokenizer-config-token-mismatch",
        severity=Severity.ERROR,
        summary="a special-token id in config.json disagrees with the loaded tokenizer",
        fix="make config.json's pad/bos/eos token ids equal to the tokenizer's (publish writes them from the tokenizer)",
        explanation="""\
## What it does
Compares `pad_token_id`, `bos_token_id`, `eos_token_id`, ... of config.json with the loaded tokenizer.

## Why is this bad?
Generation stops on the wrong token and padding is masked wrongly.

## Example
config.json `pad_token_id: 0`, tokenizer `[PAD]` has id 3.

## How to fix
Set config.json `pad_token_id: 3`.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC520",
        name="save-round-trip-mismatch",
        severity=Severity.ERROR,
        summary="save_pretrained then from_pretrained does not give the same tensors (or encodings)",
        fix="check custom save logic, _keys_to_ignore_on_save and tied weights",
        explanation="""\
## What it does
Saves the loaded model (and tokenizer) to a temporary folder, loads it again and compares every tensor.

## Why is this bad?
Users who fine-tune and re-save would lose or change weights.

## Example
A parameter listed in `_keys_to_ignore_on_save` that is not tied.

## How to fix
Save every tensor that is not a declared tie.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC521",
        name="vocab-exceeds-embeddings",
        severity=Severity.ERROR,
        summary="the tokenizer produces ids beyond the embedding matrix",
        fix="resize the embeddings to len(tokenizer) and re-save, or remove the added tokens",
        explanation="""\
## What it does
Compares `len(tokenizer)` and its highest id with the config's `vocab_size`.

## Why is this bad?
An id >= vocab_size crashes the embedding lookup (index out of range).

## Example
Added special tokens after training without `resize_token_embeddings`.

## How to fix
`model.resize_token_embeddings(len(tokenizer))`, then re-save.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC522",
        name="verify-timeout",
        severity=Severity.ERROR,
        summary="the verification child did not finish within the timeout",
        fix="raise --timeout, or look for an endless loop in the step named",
        explanation="""\
## What it does
Kills the verification process group after the timeout and names the step that was running.

## Why is this bad?
A hang in loading or forward would hang users' code too.

## Example
`while True` in a generation loop.

## How to fix
Fix the step, or raise the timeout for a big model.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC523",
        name="auto-class-unknown",
        severity=Severity.ERROR,
        summary="auto_map names an AutoClass the installed transformers does not have",
        fix="use the current AutoClass name (e.g. AutoModelForImageTextToText instead of AutoModelForVision2Seq)",
        explanation="""\
## What it does
Resolves every `auto_map` key on the installed transformers.

## Why is this bad?
transformers v5 removed some AutoClasses; that entry cannot be used.

## Example
`"AutoModelForVision2Seq": "modeling_x.XForVision"`

## How to fix
Rename the key to the current AutoClass.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC524",
        name="auto-class-wrong-class",
        severity=Severity.ERROR,
        summary="an AutoClass loads another class than the one auto_map names",
        fix="check model_type and that the config is registered for the class",
        explanation="""\
## What it does
Compares the loaded class name with the `auto_map` entry.

## Why is this bad?
Users get a different model than the author intended, often a built-in one.

## Example
`model_type: bert` loads transformers' BertModel instead of the custom class.

## How to fix
Give the config a unique model_type and correct auto_map.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC525",
        name="no-weights-to-compare",
        severity=Severity.WARNING,
        summary="the folder has no weights file: loaded weights were not compared",
        fix="stage the weights (model.safetensors) before verifying",
        explanation="""\
## What it does
Looks for `*.safetensors` (or `pytorch_model*.bin`) in the verified folder.

## Why is this bad?
Without weights every parameter is random: verification cannot prove anything about them.

## Example
A folder with config.json and code only.

## How to fix
Add the weights.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC526",
        name="no-model-in-auto-map",
        severity=Severity.WARNING,
        summary="auto_map has no AutoModel entry: no model class was verified",
        fix="add AutoModel / AutoModelFor* entries to auto_map (publish writes them)",
        explanation="""\
## What it does
Counts the AutoModel* entries of `auto_map`.

## Why is this bad?
With `trust_remote_code=True` users can only load what auto_map names.

## Example
`auto_map` with `AutoConfig` only.

## How to fix
Add `"AutoModelForMaskedLM": "modeling_x.XForMaskedLM"`.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC527",
        name="verify-child-crashed",
        severity=Severity.ERROR,
        summary="the verification process died (segfault, out of memory, killed) before it finished",
        fix="re-run with more memory; if it segfaults, check native extensions the model code imports",
        explanation="""\
## What it does
Reports how the child process ended and the step that was running.

## Why is this bad?
A crash in loading or forward would crash users' processes too.

## Example
Exit by SIGKILL from the OOM killer while loading a big model.

## How to fix
Free memory, or verify on a bigger machine.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC528",
        name="verify-environment-incomplete",
        severity=Severity.ERROR,
        summary="the interpreter used for verification cannot import torch or transformers",
        fix="install torch and transformers in that environment, or pass --python pointing at one that has them",
        explanation="""\
## What it does
Checks the imports the child needs before running any check.

## Why is this bad?
Nothing can be verified: the result would be a false pass.

## Example
`--python /usr/bin/python3` without torch.

## How to fix
`pip install torch transformers safetensors` in that environment.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC529",
        name="verification-skipped",
        severity=Severity.WARNING,
        summary="verification was skipped (--no-verify): nothing proves the repository loads",
        fix="drop --no-verify, or run hf-custom doctor --load on the repository",
        explanation="""\
## What it does
Recorded when publish runs with `--no-verify`.

## Why is this bad?
The upload may not load for its users.

## Example
`hf-custom publish ./ckpt --repo-id me/x --no-verify`.

## How to fix
Run the verification.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC530",
        name="forward-not-checked",
        severity=Severity.INFO,
        summary="forward was not run for an AutoClass: no text inputs could be built from the config",
        fix="nothing to do for non-text models; for text models set vocab_size in the config",
        explanation="""\
## What it does
Records AutoClasses whose forward takes no `input_ids` or whose config has no `vocab_size`.

## Why is this bad?
Those outputs were not checked; the report says so rather than passing them.

## Example
A vision model whose forward takes `pixel_values`.

## How to fix
Nothing, or set `vocab_size`.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC531",
        name="transformers-name-removed-at-load",
        severity=Severity.ERROR,
        summary="the model code imports a name that the installed transformers no longer has",
        fix="import it from its new location, or copy the small helper into the model code",
        explanation="""\
## What it does
Diagnoses `ImportError: cannot import name ... from 'transformers...'` and missing transformers modules.

## Why is this bad?
transformers v5 removed or moved symbols (`is_torch_fx_available`, `transformers.modeling_attn_mask_utils`, ...): the code does not import.

## Example
`from transformers.utils import is_torch_fx_available`

## How to fix
Remove the import or vendor the helper.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC532",
        name="architectures-not-verified",
        severity=Severity.WARNING,
        summary="no AutoModel entry of auto_map loads the class named in `architectures`: its weights were not checked strictly",
        fix="set `architectures` to the class the weights belong to and map an AutoClass to it in auto_map",
        explanation="""\
## What it does
Looks for the class named in `architectures` among the AutoModel entries of `auto_map`.

## Why is this bad?
Verification compares every tensor strictly (nothing missing, nothing unexpected, everything
equal to the file) only for that class. Without it, a weight left random would go unnoticed,
and users do not know which head the weights were trained for.

## Example
`"architectures": ["XForPreTraining"]` while auto_map only names `XModel` and `XForMaskedLM`.

## How to fix
`"architectures": ["XForMaskedLM"]` (publish picks it from the weight names).
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC533",
        name="backbone-from-config-untrusted",
        severity=Severity.WARNING,
        summary="a head builds its backbone with AutoModel.from_config(config): loaded on its own, transformers asks again to trust the code and fails without a terminal",
        fix="give the head its own __init__ that builds the backbone directly (`self.model = XModel(config)`)",
        explanation="""\
## What it does
Loads each AutoClass in its own fresh process, as a user's script does, and notices when the
model's `__init__` calls `AutoModel.from_config(config)` (transformers' generic heads
`GenericForSequenceClassification`, `GenericForTokenClassification` and
`GenericForQuestionAnswering` do; forks of Llama, Qwen2, Mistral... inherit them). That call does
not pass `trust_remote_code` on, so for a custom config transformers asks
"Do you wish to run the custom code? [y/N]" although the user passed `trust_remote_code=True`.
Verification reports it, then goes on as a user who answers "y".

## Why is this bad?
On a terminal the user is asked a second time (and the prompt times out after 15 s); in a script
without a terminal, in CI or on a server the load fails with
"Please pass the argument `trust_remote_code=True`". It only works when something else registered
the backbone first (loading `AutoModel` earlier in the same process).

## Example
`class XForSequenceClassification(GenericForSequenceClassification, XPreTrainedModel): ...`
with `auto_map` `{"AutoModel": "modeling_x.XModel", ...}`.

## How to fix
Give the head its own `__init__` that builds the backbone directly:
`XPreTrainedModel.__init__(self, config)`, `self.model = XModel(config)`, the head's layers,
`self.post_init()`. Registering the backbone (`AutoModel.register(XConfig, XModel)`) in the
modeling file does not help: transformers imports the configuration module once for AutoConfig
and once for the modeling file, and the registration is keyed by the second copy.
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC534",
        name="backbone-auto-class-unmapped",
        severity=Severity.ERROR,
        summary="a head builds its backbone with AutoModel.from_config(config) but auto_map has no AutoModel entry: no user can load it",
        fix='add "AutoModel": "<module>.<backbone class>" to auto_map in config.json',
        explanation="""\
## What it does
Notices when the model's `__init__` calls `AutoX.from_config(config)` for an AutoClass that
`auto_map` does not name, so transformers cannot find a class for the custom config.

## Why is this bad?
Every load fails with "Unrecognized configuration class ... for this kind of AutoModel".

## Example
A fork's `XForQuestionAnswering(GenericForQuestionAnswering, XPreTrainedModel)` with an
`auto_map` that lists only `AutoConfig` and `AutoModelForQuestionAnswering`.

## How to fix
Add the backbone to `auto_map` (`"AutoModel": "modeling_x.XModel"`), or register it in the
modeling file (`AutoModel.register(XConfig, XModel, exist_ok=True)`).
""",
        needs="load",
    )
)

define(
    Rule(
        id="HFC535",
        name="backbone-not-loaded",
        severity=Severity.ERROR,
        summary="a head loads none of the backbone's weights: its base_model_prefix does not match the prefix of the weights file",
        fix="give the head the base_model_prefix of the weights (or name its backbone attribute after it)",
        explanation="""\
## What it does
For every AutoClass, looks at the tensors transformers newly initialised: when they include the
backbone's own tensors (those under the module named by `base_model_prefix`) and the weights file
holds the same tensors under another prefix, the head never loaded its backbone.

## Why is this bad?
The head runs a randomly initialised network: fine-tuning starts from scratch and predictions
are noise, while transformers only reports "newly initialised" weights, as for a fresh head.

## Example
The weights file holds `model.layers.0...` (written by `XForCausalLM`, prefix `model`), and
`XForQuestionAnswering` sets `base_model_prefix = "transformer"` and keeps its backbone as
`self.transformer`.

## How to fix
Use the prefix of the weights: `base_model_prefix = "model"` and `self.model = XModel(config)`
(or rename the tensors in the weights file to the head's prefix).
""",
        needs="load",
    )
)


define(
    Rule(
        id="HFC536",
        name="buffer-uninitialised-after-load",
        severity=Severity.ERROR,
        summary="a non-persistent buffer computed in __init__ is uninitialised memory after from_pretrained",
        fix="recompute the buffer in _init_weights, or compute it in forward, or save it as a persistent buffer",
        explanation="""\
## What it does
Builds each model class from its config on the CPU (as `cls(config)` does), loads the staged
tensors into it, and compares every non-persistent buffer with the one `from_pretrained` left.
A buffer whose values differ is reported, even when the outputs of the forward agree.

## Why is this bad?
transformers v5 builds the model on the meta device and only fills what the weights file holds
and what `_init_weights` initialises. A buffer created in `__init__` from a Python value
(`torch.tensor(-1e4)`, `torch.tensor(list_of_floats)`) and registered with `persistent=False`
is in neither: it comes out as uninitialised memory, with a different value at every load. The
code path that reads it (a longer input, another attention mode) then silently gives wrong
results.

## Example
```python
self.register_buffer("masked_bias", torch.tensor(-1e4), persistent=False)
```

## How to fix
Recompute it in `_init_weights` (`module.masked_bias.fill_(-1e4)`), keep a plain Python float
instead of a tensor, compute it in `forward`, or register it as a persistent buffer so that it
is saved with the weights.
""",
        needs="load",
    )
)


define(
    Rule(
        id="HFC537",
        name="referenced-code-unavailable",
        severity=Severity.ERROR,
        summary="auto_map loads code from another repository that cannot be downloaded",
        fix="make the repository reachable (its id, --endpoint, --token), or copy its modules "
        "into the folder",
        explanation="""\
## What it does
For each `auto_map` value of the form `"org/repo--module.Class"` (config.json or
tokenizer_config.json) whose module is not in the folder, downloads that module, and the
modules it imports relatively, from the same endpoint (code files only, never weights) before
verifying, so that the clean child resolves them offline as a user's transformers does. A
repository, revision or file that cannot be downloaded is reported here, naming it.

## Why is this bad?
A user's `from_pretrained` downloads the same files: if verification cannot, neither can they
(the repository is missing, private, or no longer holds the module), and nothing loads.

## Example
`"AutoModel": "someone/base-code--modeling_base.BaseModel"` where `someone/base-code` does not
exist on the endpoint, or has no `modeling_base.py`.

## How to fix
Check the repository id and that it is public (or pass a `--token` that can read it, and the
`--endpoint` it lives on). To stop depending on it, copy its modules into the folder: publish
then rewrites the values to the local `module.Class` form.
""",
        needs="load",
    )
)


define(
    Rule(
        id="HFC538",
        name="attention-mask-changes-outputs",
        severity=Severity.ERROR,
        summary="an all-ones attention_mask changes a causal LM's logits (the causal mask is lost with a mask)",
        fix="combine the causal mask with attention_mask (and keep the result: `m = m.masked_fill(...)`)",
        explanation="""\
## What it does
When the logits generate computes step by step differ from a full forward on the same tokens
with an all-ones `attention_mask`, runs the full forward again without the mask. If that one
matches generate, the cache is consistent (HFC517 does not apply) and the mask is what changes
the outputs: reported here, with the first position that differs.

## Why is this bad?
An all-ones mask means "attend to every real token", so it must not change anything. A model
that loses its causal mask when given one lets each position see the tokens after it: padded
batches, perplexity scoring, classification and fine-tuning compute with the future, while
generate (which only reads the last position) looks fine.

## Example
Qwen v1 (torch 2 path):
```python
attention_mask = attention_mask.expand(-1, -1, causal_mask.size(2), -1)
if causal_mask is not None:
    attention_mask.masked_fill(~causal_mask, torch.finfo(query.dtype).min)  # result dropped
```

## How to fix
Keep the combined mask (`attention_mask = attention_mask.masked_fill(~causal_mask, ...)`), or
build the attention mask with transformers' mask utilities, which combine both.
""",
        needs="load",
    )
)
