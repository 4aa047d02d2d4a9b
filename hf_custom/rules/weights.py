"""Rules for weights (HFC300-HFC349, owned by the weights converter). Pure data."""

from __future__ import annotations

from hf_custom.findings import Rule, Severity, define

define(
    Rule(
        id="HFC300",
        name="pickle-unsafe-globals",
        severity=Severity.ERROR,
        summary="a pickle needs globals outside torch's weights_only allow-list (it can run code)",
        fix="re-save only the state dict from a trusted environment, as safetensors",
        explanation="""\
## What it does
Disassembles every pickle (`pytorch_model.bin`, `*.pt`, `*.ckpt`, `training_args.bin`) without
running it and lists the globals it would import.

## Why is this bad?
Unpickling calls those globals: a checkpoint with `posix.system` in it runs a shell command on
every machine that loads it. `torch.load(weights_only=True)` refuses such files, so users cannot
load them safely either.

## Example
`torch.save({"model": model.state_dict(), "args": argparse.Namespace(...)}, "model.pt")`
stores `argparse.Namespace`.

## How to fix
`torch.save(model.state_dict(), "pytorch_model.bin")`, or better `hf-custom convert` it to
safetensors; do not ship optimizer states or `training_args.bin`.
""",
    )
)

define(
    Rule(
        id="HFC301",
        name="weights-float64",
        severity=Severity.WARNING,
        summary="float64 tensors in the weights (twice the size, rarely intended)",
        fix="convert with --dtype float32 (or bfloat16)",
        explanation="""\
## What it does
Reports tensors stored as float64.

## Why is this bad?
Models train and run in 32 bits or less; float64 doubles download size and memory and usually
comes from a `numpy` array turned into a tensor by accident.

## Example
`model.pos = torch.tensor(np.arange(10) / 10)` (numpy defaults to float64).

## How to fix
`hf-custom convert SRC OUT --dtype float32`, and fix the code creating the tensor.
""",
    )
)

define(
    Rule(
        id="HFC302",
        name="weights-shared-tensors",
        severity=Severity.INFO,
        summary="tensors sharing storage were written once; the model must tie them when loading",
        fix="declare the tie (_tied_weights_keys / tie_word_embeddings) so the dropped name is restored",
        explanation="""\
## What it does
Detects tensors that share storage (tied embeddings, aliases) and writes the data once,
recording the dropped names in the safetensors metadata.

## Why is this bad?
safetensors refuses shared tensors. If the model does not tie the dropped name back when it
loads, that weight stays randomly initialised without any error.

## Example
`lm_head.weight` is `model.embed_tokens.weight`; only the embedding is written.

## How to fix
Make sure the model ties them: `_tied_weights_keys = {"lm_head.weight":
"model.embed_tokens.weight"}` and `tie_word_embeddings: true` in config.json.
""",
    )
)

define(
    Rule(
        id="HFC303",
        name="weights-non-tensor-entries",
        severity=Severity.INFO,
        summary="the checkpoint holds non-tensor entries (epoch counters, hyper-parameters); they were ignored",
        fix="nothing to do; save model.state_dict() alone to avoid it",
        explanation="""\
## What it does
Lists entries of a checkpoint that are not tensors (Lightning's `epoch`, `global_step`,
`optimizer_states`, hyper-parameters).

## Why is this bad?
They are not weights: they are dropped from the safetensors output. Reported so that nothing is
dropped silently.

## Example
A Lightning `.ckpt`: `{"epoch": 3, "global_step": 1200, "state_dict": {...}}`.

## How to fix
Nothing; or save `model.state_dict()` alone.
""",
    )
)

define(
    Rule(
        id="HFC304",
        name="weights-file-too-large",
        severity=Severity.WARNING,
        summary="a weights file is larger than the Hub recommends (20 GB; 50 GB is refused)",
        fix="shard with --max-shard-size 5GB",
        explanation="""\
## What it does
Checks the size of each weights file and the requested shard size.

## Why is this bad?
The Hub recommends files under 20 GB and refuses files over 50 GB; large files also make
downloads fragile and prevent parallel loading.

## Example
`--max-shard-size 50GB` (transformers v5's default).

## How to fix
`hf-custom convert SRC OUT --max-shard-size 5GB`.
""",
    )
)

define(
    Rule(
        id="HFC305",
        name="weights-missing-keys",
        severity=Severity.WARNING,
        summary="parameters or buffers of the model have no weight in the checkpoint",
        fix="check the checkpoint and the --rename rules; missing weights are randomly initialised",
        explanation="""\
## What it does
Compares the converted names with the parameters and buffers of the target class (instantiated
on the meta device).

## Why is this bad?
`from_pretrained` initialises missing weights randomly; the model loads and produces garbage.

## Example
The checkpoint of the research module lacks `classifier.weight` of the wrapper head.

## How to fix
Add the missing weights, or map them with `--rename` if they are present under another name.
""",
    )
)
