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
Walks every pickle (`pytorch_model.bin`, `*.pt`, `*.ckpt`, `training_args.bin`) opcode by
opcode without running it, by the rules of torch's `weights_only` loader: the globals it allows,
the opcodes it accepts (no `STACK_GLOBAL`, `INST`, `OBJ`...), calls and builds only of allowed
things. The converter reads `data.pkl` with the same walk, so what doctor accepts is what
`hf-custom convert` accepts; names computed at load time (e.g. behind `_codecs.encode` with
rot13) cannot hide a global from it.

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


# --- HFC350-HFC399: weights as found in a repository (doctor / checks registry) ---------------


def _rule(id: str, name: str, severity: Severity, summary: str, fix: str, body: str) -> None:
    define(Rule(id=id, name=name, severity=severity, summary=summary, fix=fix, explanation=body))


_rule(
    "HFC350",
    "weights-pickle-only",
    Severity.WARNING,
    "The weights exist only as pickles (.bin/.pt/.pth/.ckpt), with no safetensors copy.",
    "convert them: `hf-custom convert ./ckpt` (or publish, which converts)",
    """\
## What it does
Flags repositories whose weights are only in pickle-based files.

## Why is this bad?
Loading a pickle can run code; transformers v5 refuses pickles that need more than tensors
(`weights_only=True`), the Hub marks them as unsafe, and they cannot be memory-mapped or read
partially (no header to inspect, slower loads).

## Example
`pytorch_model.bin` and no `model.safetensors`.

## How to fix
Convert to safetensors: `hf-custom convert ./ckpt ./out` (publish does it for you).
""",
)
_rule(
    "HFC351",
    "weights-index-invalid",
    Severity.ERROR,
    "A weights index (*.index.json) is not valid JSON or has no weight_map object.",
    "regenerate the index (`hf-custom convert` writes shards and index together)",
    """\
## What it does
Reads `model.safetensors.index.json` / `pytorch_model.bin.index.json` and checks it is a JSON
object with a `weight_map` object mapping tensor names to file names.

## Why is this bad?
transformers reads the index to know which shard holds which tensor: a broken index means the
model does not load.

## Example
`{"metadata": {}}` with no `weight_map`; a truncated file.

## How to fix
Write shards and index together with one tool (`hf-custom convert`, `save_pretrained`).
""",
)
_rule(
    "HFC352",
    "weights-shard-missing",
    Severity.ERROR,
    "The weights index names a shard file that is not in the repository.",
    "upload the missing shard, or regenerate shards and index together",
    """\
## What it does
Checks that every file named in the index's `weight_map` exists.

## Why is this bad?
`from_pretrained` downloads every shard the index names: one missing shard and loading fails
(after downloading all the others).

## Example
The index names `model-00003-of-00003.safetensors`; the upload stopped after two shards.

## How to fix
Upload the missing file, or re-shard and rewrite the index in one step.
""",
)
_rule(
    "HFC353",
    "weights-index-mismatch",
    Severity.ERROR,
    "The weights index and the shards' headers disagree about which tensors each shard holds.",
    "regenerate the index from the shards (or convert again)",
    """\
## What it does
Compares the index's `weight_map` with the tensor names in each safetensors shard's header
(read by range requests only): a tensor mapped to a shard that lacks it, or a shard holding a
tensor the index does not list.

## Why is this bad?
transformers looks tensors up through the index: a tensor the index does not list is never
loaded (it stays randomly initialised), and one mapped to the wrong shard fails to load.

## Example
After re-sharding by hand, `lm_head.weight` moved to shard 2 but the index still says shard 1.

## How to fix
Rewrite the index from the shards' headers, or convert again (`hf-custom convert`).
""",
)
_rule(
    "HFC354",
    "weights-tensor-duplicated",
    Severity.ERROR,
    "A tensor name appears in more than one weights file.",
    "keep one copy: re-shard, or delete the stale file",
    """\
## What it does
Collects tensor names over all safetensors files of one weights set (the shards of an index, or
the single file) and flags names stored more than once.

## Why is this bad?
Which copy wins depends on load order: two copies that differ make loading silently
non-deterministic, and a stale file left from an older save doubles the download.

## Example
`model.safetensors` from an old save next to `model-00001-of-00002.safetensors` shards that hold
the same tensors, all listed by the index.

## How to fix
Keep one weights set: delete stale files and re-shard if needed.
""",
)
_rule(
    "HFC355",
    "safetensors-header-invalid",
    Severity.ERROR,
    "A safetensors file's header is unreadable, or its tensors do not fit in the file.",
    "the file is truncated or corrupt: upload it again (or convert again)",
    """\
## What it does
Reads each safetensors header (8-byte length, then JSON) and checks the tensors' byte ranges
against the file size.

## Why is this bad?
An interrupted upload or copy leaves a truncated file that fails at load time, often only on the
user's machine.

## Example
A 4 GB shard of which only 3.2 GB reached the Hub.

## How to fix
Upload the file again; check its sha256 against the local copy.
""",
)
_rule(
    "HFC356",
    "weights-shard-unreferenced",
    Severity.WARNING,
    "A safetensors shard is not referenced by the weights index.",
    "delete the stale shard, or regenerate the index",
    """\
## What it does
Flags `*.safetensors` files next to an index that does not mention them (e.g. a shard left over
from an earlier save with more shards).

## Why is this bad?
transformers ignores them, so users download data that is never used; if they hold tensors the
index should list, those tensors stay randomly initialised.

## Example
`model-00003-of-00003.safetensors` next to an index for `...-of-00002` shards.

## How to fix
Delete the stale file, or regenerate shards and index together.
""",
)
_rule(
    "HFC357",
    "weights-key-prefix",
    Severity.ERROR,
    "Every tensor name starts with a wrapper prefix (module. from DDP, _orig_mod. from torch.compile).",
    "strip the prefix: `hf-custom convert` does it (`--rename 'module.='`)",
    """\
## What it does
Flags weights whose tensor names all start with `module.` (DistributedDataParallel) or
`_orig_mod.` (torch.compile).

## Why is this bad?
None of the names match the model's parameters: transformers reports every weight as missing
and the whole model is randomly initialised.

## Example
`module.model.layers.0.attn.q_proj.weight`.

## How to fix
Save `model.module.state_dict()` (DDP) or `model._orig_mod.state_dict()` (compile), or convert
with `hf-custom convert`, which strips these prefixes.
""",
)
_rule(
    "HFC358",
    "weights-tied-source-missing",
    Severity.ERROR,
    "Neither a tied parameter nor the one it is tied to (per _tied_weights_keys) is in the weights.",
    "save the weights from the model class that declares the tie (or fix _tied_weights_keys)",
    """\
## What it does
Reads the literal `_tied_weights_keys = {target: source}` of the model classes named in
`architectures` and checks that the weights hold the source or the target (prefix-insensitive).

## Why is this bad?
The tie copies the source into the target: if neither exists, both stay randomly initialised
while the load report can look clean.

## Example
`{"lm_head.weight": "model.embed_tokens.weight"}` but the weights call it
`transformer.wte.weight`.

## How to fix
Make `_tied_weights_keys` name the parameters as the model class defines them, and save the
weights from that class.
""",
)
_rule(
    "HFC359",
    "weights-missing",
    Severity.WARNING,
    "There is a model configuration but no weights file.",
    "add the weights (publish converts and uploads them)",
    """\
## What it does
Flags a repository with a config.json and model classes but no `*.safetensors`, `*.bin`,
`*.pt`, `*.pth` or `*.ckpt` weights.

## Why is this bad?
`from_pretrained` fails with "no file named model.safetensors"; only `from_config` works.

## Example
A repository with only the code and config.json.

## How to fix
Upload the weights, or say in the model card that the repository holds code only.
""",
)
_rule(
    "HFC360",
    "weights-pickle-broken",
    Severity.ERROR,
    "A pickle weights file (pytorch_model.bin, *.pt) is empty, text, or damaged/truncated.",
    "copy the file again from where it was saved (or `git lfs pull` for a pointer)",
    """\
## What it does
Reads the structure of every top-level pickle weights file without torch and without reading
the tensors: a zip archive with one `data.pkl` whose storages are all present and of the right
size, or a legacy torch file whose storages fit in the file.

## Why is this bad?
transformers cannot load it, and the converter refuses it: the repository does not work.
Typical causes are an interrupted copy or download, a git-lfs pointer committed in place of the
file, or an HTML error page saved under the file's name.

## Example
A zero-byte `pytorch_model.bin`; one cut in half by a failed upload; a text file.

## How to fix
Copy or download the file again from where it was saved and check its size.
""",
)
