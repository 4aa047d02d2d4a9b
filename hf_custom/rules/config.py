"""Rules for config.json (HFC100-HFC149, owned by staging). Pure data."""

from __future__ import annotations

from hf_custom.findings import Rule, Severity, define

define(
    Rule(
        id="HFC100",
        name="config-json-malformed",
        severity=Severity.ERROR,
        summary="config.json is missing, is not valid JSON, or is not a JSON object",
        fix="write config.json as a JSON object (config.to_json_file() or save_pretrained does this)",
        explanation="""\
## What it does
Reads `config.json` and checks that it parses as a JSON object. A tokenizer-only package
(tokenizer code and `tokenizer_config.json`, no config or model class, no weights) needs no
`config.json`: the check is skipped for it.

## Why is this bad?
`AutoConfig.from_pretrained` reads `config.json` first; without it nothing else loads.

## Example
A file truncated mid-write: `{"model_type": "ltgbert", "hidden_size": 6`

## How to fix
Re-create it from the config object: `config.save_pretrained(folder)`.
""",
    )
)

define(
    Rule(
        id="HFC101",
        name="model-type-missing",
        severity=Severity.ERROR,
        summary="config.json has no model_type",
        fix="set model_type in config.json to the config class's model_type (publish fills it)",
        explanation="""\
## What it does
Checks that `config.json` has a `model_type` key.

## Why is this bad?
`AutoConfig` dispatches on `model_type`; without it loading fails with
"Unrecognized model ... Should have a `model_type` key in its config.json".

## Example
`{"hidden_size": 64, "auto_map": {...}}` with no `model_type`.

## How to fix
Add `"model_type": "<the model_type class attribute of your config class>"`.
`hf-custom publish` fills it from the config class.
""",
    )
)

define(
    Rule(
        id="HFC102",
        name="model-type-mismatch",
        severity=Severity.ERROR,
        summary="config.json's model_type differs from the config class's model_type",
        fix="make model_type in config.json and the config class's model_type attribute equal",
        explanation="""\
## What it does
Compares `model_type` in `config.json` with the `model_type` class attribute of the
configuration class named in `auto_map.AutoConfig`.

## Why is this bad?
transformers checks them against each other when loading and warns or fails; the class that
loads may not be the one you meant.

## Example
`config.json`: `"model_type": "ltg-bert"`; `configuration_ltgbert.py`: `model_type = "ltgbert"`.

## How to fix
Change one of them so that both are equal (`--model-type` renames both when publishing).
""",
    )
)

define(
    Rule(
        id="HFC103",
        name="model-type-builtin",
        severity=Severity.ERROR,
        summary="model_type is the name of a model type built into transformers",
        fix="rename the model type (hf-custom publish --model-type NEW-NAME)",
        explanation="""\
## What it does
Checks that `model_type` is not a model type transformers already knows (`bert`, `llama`, ...).

## Why is this bad?
Without `trust_remote_code=True`, transformers loads its own built-in class for that type
silently: users get a different model with your weights partly random, and no error.
With `trust_remote_code=True` and `auto_map.AutoConfig` naming your config class, transformers
prefers your code (v4-era Hub packages whose type was built in later rely on this): then it is
a warning, and publish stages it. Without that AutoConfig entry the built-in config class loads
even with `trust_remote_code=True`: an error.

## Example
A custom encoder whose config says `"model_type": "bert"`.

## How to fix
Pick a new name, e.g. `"model_type": "ltgbert"`, in config.json and in the config class
(`hf-custom publish --model-type ltgbert` does both in the staged copy).
""",
    )
)

define(
    Rule(
        id="HFC104",
        name="auto-map-incomplete",
        severity=Severity.WARNING,
        summary="auto_map does not list every AutoClass the code supports",
        fix="add the missing auto_map entries (hf-custom publish completes auto_map)",
        explanation="""\
## What it does
Compares `auto_map` with the classes in the shipped code: AutoConfig for the config class and,
for every PreTrainedModel subclass, the AutoModel* class its name implies (`XForCausalLM` ->
`AutoModelForCausalLM`).

## Why is this bad?
`register_for_auto_class()` + `save_pretrained` write only the saved class's entry, so
`AutoModelForSequenceClassification.from_pretrained(...)` fails although the class is shipped.

## Example
`"auto_map": {"AutoConfig": "configuration_x.XConfig", "AutoModel": "modeling_x.XModel"}`
while `modeling_x.py` also defines `XForMaskedLM`.

## How to fix
Add `"AutoModelForMaskedLM": "modeling_x.XForMaskedLM"`.
""",
    )
)

define(
    Rule(
        id="HFC105",
        name="auto-map-target-missing",
        severity=Severity.ERROR,
        summary="an auto_map entry names a module or class that is not shipped",
        fix="point the entry at an existing module.Class, or ship the missing file",
        explanation="""\
## What it does
Checks that each `auto_map` value `module.Class` names a shipped `module.py` defining `Class`.

## Why is this bad?
`from_pretrained(..., trust_remote_code=True)` fails with a missing file or attribute error.

## Example
`"AutoModel": "modeling_x.XModel"` while the file is `modeling_ltgbert.py`.

## How to fix
Correct the entry or ship the file.
""",
    )
)

define(
    Rule(
        id="HFC106",
        name="auto-class-ambiguous",
        severity=Severity.ERROR,
        summary="an AutoClass cannot be chosen for a model class from its name alone",
        fix="settle it with --auto-class Class=AutoModelForX",
        explanation="""\
## What it does
Maps every model class to an AutoModel* class by transformers' naming conventions and reports
the classes whose name fits several (`XForConditionalGeneration`: Seq2SeqLM, ImageTextToText,
...) or two classes competing for the same AutoClass. A model class that another class of
the package builds as a layer (a `PreTrainedModel` block inside an encoder) is not loaded alone
and is not reported.

## Why is this bad?
A wrong guess registers the class under an AutoClass whose pipelines and generation setup do
not fit it.

## Example
`T5LikeForConditionalGeneration` (is it `AutoModelForSeq2SeqLM`?).

## How to fix
`hf-custom publish --auto-class T5LikeForConditionalGeneration=AutoModelForSeq2SeqLM`.
""",
    )
)

define(
    Rule(
        id="HFC107",
        name="architectures-mismatch",
        severity=Severity.WARNING,
        summary="architectures does not name the class whose parameters the weights fill",
        fix="set architectures to [the class the weights were saved from] (publish does this)",
        explanation="""\
## What it does
Compares the weight names with each model class's parameter names and checks that
`architectures` names the class they fit.

## Why is this bad?
Pipelines and the Hub widget instantiate `architectures[0]`; a wrong value means a head is
initialised at random, or the weights do not match at all.

## Example
Weights saved from `XForMaskedLM`, `"architectures": ["XModel"]`.

## How to fix
`"architectures": ["XForMaskedLM"]` (or `--architecture XForMaskedLM`).
""",
    )
)

define(
    Rule(
        id="HFC108",
        name="torch-dtype-deprecated",
        severity=Severity.WARNING,
        summary="config.json uses torch_dtype, renamed dtype in transformers v5",
        fix="rename torch_dtype to dtype (publish does this)",
        explanation="""\
## What it does
Looks for the `torch_dtype` key.

## Why is this bad?
transformers v5 renamed it `dtype`; the old key still loads but warns, and is dropped on save.

## Example
`"torch_dtype": "float32"`

## How to fix
`"dtype": "float32"`.
""",
    )
)

define(
    Rule(
        id="HFC109",
        name="transformers-version-missing",
        severity=Severity.INFO,
        summary="config.json does not say which transformers version wrote it",
        fix="set transformers_version (publish writes the installed version)",
        explanation="""\
## What it does
Looks for the `transformers_version` key.

## Why is this bad?
It tells users and tools which version the model was tested with; without it, version
problems are harder to diagnose.

## Example
A hand-written config.json without `transformers_version`.

## How to fix
Add `"transformers_version": "5.x.y"`.
""",
    )
)

define(
    Rule(
        id="HFC110",
        name="rope-scaling-legacy",
        severity=Severity.WARNING,
        summary="rope_scaling uses the legacy 'type' key (transformers v5: rope_parameters/rope_type)",
        fix="use rope_parameters with rope_type (and rope_theta)",
        explanation="""\
## What it does
Looks for `rope_scaling` with a `type` key.

## Why is this bad?
transformers v5 standardises RoPE settings as `rope_parameters` with `rope_type`; `rope_scaling`
is deprecated and the `type` spelling is legacy.

## Example
`"rope_scaling": {"type": "linear", "factor": 2.0}`

## How to fix
`"rope_parameters": {"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0}` and read
`config.rope_parameters` in the model code.
""",
    )
)

define(
    Rule(
        id="HFC111",
        name="generation-params-in-config",
        severity=Severity.WARNING,
        summary="config.json holds generation parameters that transformers v5 drops when loading",
        fix="move them to generation_config.json, or take them as explicit __init__ arguments",
        explanation="""\
## What it does
Looks for generation parameters (`max_length`, `num_beams`, `use_cache`, `do_sample`, ...) in
config.json. An error when the code reads one the config class does not declare, unguarded, at
the top level of `__init__` or `forward` (`use_cache if use_cache is not None else
self.config.use_cache` counts: the default call runs it): under v5 that read fails for certain.

## Why is this bad?
transformers v5 pops these keys in `PreTrainedConfig.__init__` unless the config class takes
them as arguments: code that reads `config.max_length` then fails with AttributeError.

## Example
`"max_length": 512` in config.json, read as `self.config.max_length` in the model.

## How to fix
Put generation settings in generation_config.json; declare the ones the model code reads as
`__init__` parameters of the config class.
""",
    )
)

define(
    Rule(
        id="HFC112",
        name="config-class-missing",
        severity=Severity.ERROR,
        summary="no PretrainedConfig subclass found in the shipped code",
        fix="add a configuration_*.py with a PretrainedConfig subclass that sets model_type",
        explanation="""\
## What it does
Looks for a subclass of `PretrainedConfig`/`PreTrainedConfig` in the code files.

## Why is this bad?
`AutoConfig` needs a class to instantiate for custom code: `auto_map.AutoConfig`.

## Example
A folder with `modeling_x.py` only.

## How to fix
Write `configuration_x.py` with `class XConfig(PretrainedConfig): model_type = "x"`.
""",
    )
)

define(
    Rule(
        id="HFC113",
        name="architecture-undetermined",
        severity=Severity.WARNING,
        summary="the weights fit no model class exactly, or several equally",
        fix="name the class with --architecture CLASS",
        explanation="""\
## What it does
Compares the weight names with the parameter names of every model class.

## Why is this bad?
`architectures` cannot be set with confidence; verification compares weights against that
class.

## Example
Weights of a research module whose names match no wrapper class.

## How to fix
`hf-custom publish --architecture XForMaskedLM` (and `--rename` for names).
""",
    )
)

define(
    Rule(
        id="HFC114",
        name="auto-class-option-invalid",
        severity=Severity.ERROR,
        summary="an --auto-class or --architecture option names an unknown class or AutoClass",
        fix="use a model class defined in the code and an AutoClass transformers has",
        explanation="""\
## What it does
Checks the `Class=AutoX` pairs and the `--architecture` given on the command line.

## Why is this bad?
They would write entries that cannot load.

## Example
`--auto-class XForMLM=AutoModelForMLM`

## How to fix
`--auto-class XForMaskedLM=AutoModelForMaskedLM`.
""",
    )
)

define(
    Rule(
        id="HFC115",
        name="base-config-default-removed",
        severity=Severity.WARNING,
        summary="the code reads a config attribute that transformers v5 no longer defaults",
        fix="set the attribute in config.json and as an __init__ argument of the config class",
        explanation="""\
## What it does
Finds reads of `config.use_cache`, `config.is_decoder`, `config.tie_word_embeddings`,
`config.pad_token_id`, ... in the model code when neither config.json nor the config class sets
the attribute. A warning, or an error when the read fails for certain under v5: unguarded (no
`try`, hasattr or getattr default) at the top level of `__init__` or `forward`, and not set by
config.json, by the config class (attribute, annotation, `__init__` parameter or assignment,
`attribute_map`, property) or by v5's base config, the config class deriving from the base
config alone. `hf-custom fix` (or `publish --fix`) restores v4's default in the config class.

## Why is this bad?
transformers v4's base config defined these for every model; v5 does not. The code fails with
AttributeError, or (`tie_word_embeddings`) the lm_head silently stays random.

## Example
`if self.config.use_cache:` with no `use_cache` in config.json or in `XConfig.__init__`.

## How to fix
Add `use_cache=True` to `XConfig.__init__` (stored as `self.use_cache`) and to config.json.
""",
    )
)

define(
    Rule(
        id="HFC116",
        name="auto-class-not-instantiable",
        severity=Severity.WARNING,
        summary="A model class the author did not register cannot be built from the config, so publish does not register it.",
        fix="fix the class if users should load it, or drop it explicitly with `--auto-class Class=none`",
        explanation="""\
## What it does
Before completing `auto_map` by transformers' naming conventions, publish instantiates every
model class of the code from the staged config (on the meta device, in a child process). A class
the author's `auto_map` does not name and that cannot be built is left out of `auto_map`, with
this warning naming why. Entries the author wrote are kept and must pass verification.

## Why is this bad?
Registering a class that cannot be built publishes an AutoClass that fails for every user, and
refusing the whole upload for a head nobody asked for is a false refusal. A common case: forks of
transformers' models whose generic heads (`GenericForQuestionAnswering`, ...) build their base
with `AutoModel.from_config(config)`, which needs `trust_remote_code` for a custom model type.

## Example
`modeling_x.py` defines `XForQuestionAnswering`, config.json's `auto_map` names only
`AutoModelForCausalLM`, and `XForQuestionAnswering(config)` raises.

## How to fix
Nothing to do if users should not load that class (pass `--auto-class XForQuestionAnswering=none`
to say so); otherwise fix the class and register it in `auto_map` yourself.
""",
    )
)

define(
    Rule(
        id="HFC117",
        name="auto-map-no-autoconfig",
        severity=Severity.ERROR,
        summary="config.json has no `auto_map.AutoConfig` while its model_type is not built into transformers.",
        fix='add `"AutoConfig": "configuration_x.XConfig"` to auto_map (hf-custom publish writes it)',
        explanation="""\
## What it does
Flags a config.json whose `model_type` is not one of transformers' built-in types (or is
missing) and whose `auto_map` has no `AutoConfig` entry, while the code defines the config class.

## Why is this bad?
Every AutoClass starts with `AutoConfig.from_pretrained`: with an unknown model_type and no
`auto_map.AutoConfig`, transformers cannot find a config class, so nothing loads, even with
`trust_remote_code=True`. A repository whose config.json lost its `auto_map` looks fine on the
Hub and fails for every user.

## Example
config.json: `{"model_type": "tinylm", "architectures": ["TinyLMForCausalLM"]}` next to
`configuration_tinylm.py` defining `TinyLMConfig`.

## How to fix
Add `"auto_map": {"AutoConfig": "configuration_tinylm.TinyLMConfig", ...}` to config.json, or
republish with `hf-custom publish`, which completes auto_map.
""",
    )
)

define(
    Rule(
        id="HFC118",
        name="publish-will-repair",
        severity=Severity.INFO,
        summary="Something publish repairs in its staged copy of a checkpoint folder.",
        fix="nothing to do for publish; to use the folder as it is, make the same change yourself",
        explanation="""\
## What it does
On a checkpoint folder, names what `hf-custom publish` would change in the copy it stages:
wrapper prefixes stripped from tensor names (`module.` from DDP, `_orig_mod.` from
torch.compile), pickle weights converted to safetensors, config.json keys written or renamed.
With `doctor --load` the folder is staged into a temporary folder exactly as
`publish --dry-run` stages it, and the staged copy is what gets loaded: this finding then says
so, and the verification judges what users would download.

## Why is this bad?
It is not: these are mechanical repairs publish proves (it re-reads converted tensors against
the source). The folder as it is would not load the same way, though, so the difference is
worth knowing before you load it yourself.

## Example
`pytorch_model.bin` saved from a `DistributedDataParallel` model: every name starts with
`module.`; publish writes `model.safetensors` with the prefix stripped.

## How to fix
Nothing to do when you publish with hf-custom. To load the folder without it, strip the prefix
(`hf-custom convert ./ckpt`) and make the listed config.json changes.
""",
    )
)

define(
    Rule(
        id="HFC119",
        name="auto-map-other-repository",
        severity=Severity.INFO,
        summary="An auto_map entry loads its code from another Hub repository (repo--module.Class).",
        fix="nothing to do if that repository stays public; to ship the code, copy the module "
        "into the folder (publish then points the entry at it)",
        explanation="""\
## What it does
Names each `auto_map` value of the Hub form `"org/repo--module.Class"` whose module is not in
the package: transformers downloads that module from `org/repo` when a user loads the model.

## Why is this bad?
It is not wrong, but the model then depends on another repository: if that repository moves,
changes or goes private, loading breaks. Verification downloads those modules (code
files only) from the same endpoint first; if it cannot, HFC537 says so.

## Example
`"AutoConfig": "nomic-ai/nomic-bert-2048--configuration_hf_nomic_bert.NomicBertConfig"` with
no `configuration_hf_nomic_bert.py` in the folder.

## How to fix
Copy the module into the folder: publish then rewrites the value to
`"configuration_hf_nomic_bert.NomicBertConfig"` (listed under Changes), as it does whenever the
module and class ship in the package.
""",
    )
)
