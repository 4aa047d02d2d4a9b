"""Rules HFC200-HFC249: packaging the custom code (owned by the code stage, hf_custom.staging.code).

A rule describes the problem as it would break a published repository (severity as doctor reports
it). When staging repairs the problem (flattening, vendoring, rewriting an import), the code stage
reports the same rule with a lower severity and says what it changed.
"""

from __future__ import annotations

from hf_custom.findings import Rule, Severity, define

define(
    Rule(
        id="HFC201",
        name="relative-import-missing",
        severity=Severity.ERROR,
        summary="A relative import names a module file that is not in the package.",
        fix="add the missing file next to the modeling code, or remove the import",
        explanation="""\
## What it does
Follows every relative import (`from .layers import Block`, `from . import utils`) of the
configuration, modeling and tokenization files and of the modules named in `auto_map`, and flags
those whose target file does not exist (or whose name is not defined by the package `__init__`).

## Why is this bad?
transformers copies the module and the files it imports relatively into its modules cache and
imports them from there. A missing file makes `from_pretrained(..., trust_remote_code=True)` fail
with `ModuleNotFoundError` on the user's machine, even if it worked on the author's.

## Example
`modeling_x.py` contains `from .layers import Block`, but `layers.py` was never copied into the
checkpoint folder.

## How to fix
Copy `layers.py` next to `modeling_x.py` (or point `--code-root` at the folder that holds it), or
remove the import.
""",
    )
)

define(
    Rule(
        id="HFC202",
        name="subpackage-import",
        severity=Severity.ERROR,
        summary="Code imports from a subpackage (`from .sub.mod import X`), which transformers' loader does not support.",
        fix="let `hf-custom publish` flatten it, or move the module next to the modeling file",
        explanation="""\
## What it does
Flags relative imports that reach into a subfolder (`from .sub.mod import X`,
`from .sub import mod`) or out of it (`from ..utils import f`).

## Why is this bad?
transformers' dynamic module loader only handles a flat folder of modules next to config.json
(see transformers issue 29714): it finds relative imports with a regular expression, copies the
files it finds as `<name>.py` next to the modeling file, and never creates subpackages. A
subpackage import fails with `ModuleNotFoundError` once the model is loaded from the Hub.

## Example
`modeling_x.py` contains `from .blocks.attention import Attention` with
`blocks/attention.py` in the checkpoint.

## How to fix
`hf-custom publish` copies `blocks/attention.py` into the staged folder as
`blocks_attention.py` and rewrites the import to `from .blocks_attention import Attention`; every
rewrite is reported. Flattening is refused when a subpackage `__init__.py` builds its contents
dynamically (`__getattr__`, `__path__`, importlib): move those modules next to the modeling
file by hand.
""",
    )
)

define(
    Rule(
        id="HFC203",
        name="own-package-absolute-import",
        severity=Severity.ERROR,
        summary="Code imports the author's own package absolutely (`from mypkg.layers import Block`); it will not resolve on the Hub.",
        fix="let `hf-custom publish` vendor it (use `--code-root` if the package is outside the checkpoint)",
        explanation="""\
## What it does
Flags absolute imports whose top-level name is a module or package in the checkpoint folder (or
under the root given with `--code-root`) rather than an installed distribution, and imports of
packages installed here from a local folder (`pip install -e .`, `pip install ./dir`: PEP 610
`direct_url.json` with `dir_info`) rather than from a package index.

## Why is this bad?
On the author's machine the import works because the package is on `sys.path` (the working
directory, an editable install). A user loading the model from the Hub has no such package:
`from_pretrained` fails with `ModuleNotFoundError`, and transformers' `check_imports` even asks
them to `pip install mypkg`, which does not exist or is someone else's project.

## Example
`modeling_x.py` contains `from mypkg.layers import Block` and `mypkg/layers.py` sits in the
checkpoint folder.

## How to fix
`hf-custom publish` copies the needed modules flat into the staged folder (`mypkg_layers.py`) and
rewrites the import as a relative one (`from .mypkg_layers import Block`); every rewrite is
reported. `import mypkg.layers` without `as` cannot be rewritten (the code then uses
`mypkg.layers.X`): write `from mypkg.layers import X` or `import mypkg.layers as layers`.
""",
    )
)

define(
    Rule(
        id="HFC204",
        name="third-party-import-not-installed",
        severity=Severity.ERROR,
        summary="A third-party package imported unguarded is not installed: transformers' check_imports refuses to load the code without it.",
        fix="install the package, or guard the import with `try: ... except ImportError:`",
        explanation="""\
## What it does
Lists the absolute imports of every packaged code file, as transformers' `check_imports` sees
them: an import counts unless it sits in a `try` block or in an `if` whose test calls an
availability function (`is_flash_attn_2_available()`, any `is_*_available` of
`transformers.utils.import_utils`). Imports inside functions and under `if TYPE_CHECKING:` DO
count. Flags those whose package cannot be found in this environment.

## Why is this bad?
Before importing remote code, transformers parses it and refuses to load it if any counted import
is missing, even an optional one used on one code path (the classic case: `import flash_attn` at
top level; DeepSeek-MoE issue 24, MiniCPM-V issue 754). Here it also means the staged model cannot
be verified.

## Example
```python
from flash_attn import flash_attn_func  # at module level
```

## How to fix
Install the package if the model needs it (it is listed in the model card's requirements), or make
it optional:
```python
try:
    from flash_attn import flash_attn_func
except ImportError:
    flash_attn_func = None
```
`hf-custom fix` puts a function-local import in `try: ... except ImportError: raise`, and does
the same for a module-level import in a helper file (a fused kernel, `flash_attn_triton.py`) when
every other file imports that helper optionally (in `try/except ImportError`, under
`if is_..._available():`, or inside a function): transformers reads every relatively imported
file, even one imported inside `try`, so the helper's import alone refuses the load. Nothing
changes at run time (the same ImportError reaches the same guard). An importer that requires the
helper (module level, outside `try`) is named and the import left. `import pkg_resources` (gone
from setuptools since 81) is rewritten to `importlib.metadata` / `packaging.version`
(`get_distribution(x).version`, `parse_version`, `DistributionNotFound`); other uses are named.
""",
    )
)

define(
    Rule(
        id="HFC205",
        name="optional-import-not-installed",
        severity=Severity.INFO,
        summary="An optional (guarded) third-party import is not installed here.",
        fix="nothing to do if the code works without it; install it to test that code path",
        explanation="""\
## What it does
Reports third-party imports that transformers' `check_imports` ignores (inside a `try` block or
an `if is_..._available():` block) whose package is not installed in this environment.

## Why is this bad?
It is not: transformers loads the code without the package. But the code path that uses it is
not exercised by verification here, and users may want to know the package is optional.

## Example
```python
try:
    import flash_attn
except ImportError:
    flash_attn = None
```

## How to fix
Nothing, if the model works without it. Install the package to exercise that path.
""",
    )
)

define(
    Rule(
        id="HFC206",
        name="code-syntax-error",
        severity=Severity.ERROR,
        summary="A packaged code file cannot be parsed by transformers: a syntax error, bytes that are not UTF-8, or a byte-order mark.",
        fix="fix the syntax error (`python -m py_compile FILE`); save the file as UTF-8 without BOM",
        explanation="""\
## What it does
Parses every code file that will be packaged the way transformers does (read as UTF-8, then
`ast.parse`) and reports syntax errors with their line, files that are not valid UTF-8, and files
that start with a UTF-8 byte-order mark (BOM).

## Why is this bad?
transformers parses remote code before importing it: a syntax error fails every load and hides
every other import the file would need. A file in another encoding raises `UnicodeDecodeError`,
and a BOM (which Python itself tolerates when importing) makes `ast.parse` fail with "invalid
non-printable character U+FEFF".

## Example
`def forward(self, x:` left unfinished in `modeling_x.py`; or the file saved by an editor as
Latin-1 or as "UTF-8 with BOM".

## How to fix
Fix the file; `python -m py_compile modeling_x.py` shows a syntax error. Re-save as UTF-8
without BOM (`iconv -f latin1 -t utf-8`, or your editor's encoding menu). `hf-custom publish`
removes a BOM from the staged copy itself.
""",
    )
)

define(
    Rule(
        id="HFC207",
        name="code-file-missing",
        severity=Severity.ERROR,
        summary="A module named by auto_map (or an explicit entry module) has no file.",
        fix="add the file, or correct the module name in config.json's auto_map",
        explanation="""\
## What it does
Checks that every module the packaging starts from (the `configuration_*`, `modeling_*` and
`tokenization_*` files, plus each module named in `auto_map`) exists as a `.py` file at the top of
the checkpoint folder.

## Why is this bad?
`auto_map` entries like `"AutoModel": "modeling_x.XModel"` make transformers download
`modeling_x.py`; if it is not there, every load fails.

## Example
`"AutoConfig": "configuration_xmodel.XConfig"` while the file is `configuration_x.py`.

## How to fix
Rename the file or fix the entry so that the module name matches a file next to config.json.
""",
    )
)

define(
    Rule(
        id="HFC208",
        name="import-invisible-to-loader",
        severity=Severity.ERROR,
        summary="`from . import mod` is not seen by transformers' loader, so `mod.py` is not copied.",
        fix="write `from .mod import name` (hf-custom publish rewrites it for you)",
        explanation="""\
## What it does
Flags `from . import mod` (and other imports of a module by name from a package) in packaged
code, and relative imports that share a line with other code (`x = 1; from .mod import f`,
`if flag: from .mod import f`).

## Why is this bad?
transformers finds the files to copy into its modules cache with a regular expression that only
matches `from .mod import ...` (and `import .mod`) at the START of a line. A module imported as
`from . import mod`, or imported after other code on the same line, is never copied, so the
import fails on the user's machine unless some other line of the same file imports the module
the visible way.

## Example
```python
from . import layers
block = layers.Block(config)
```

## How to fix
Write `from .layers import Block`, one import per line. `hf-custom publish` keeps your binding
and makes the file visible to the loader: `from .layers import __name__ as _hfc_layers; from .
import layers`, on a line of its own. An import sharing a line with other code must be moved to
its own line by hand.
""",
    )
)

define(
    Rule(
        id="HFC209",
        name="relative-import-escapes-package",
        severity=Severity.ERROR,
        summary="A relative import reaches above the checkpoint folder (or above the code root).",
        fix="move the imported module into the checkpoint folder, or pass `--code-root`",
        explanation="""\
## What it does
Flags relative imports with more leading dots than the file has enclosing folders in the
checkpoint (`from ..common import f` in a top-level modeling file).

## Why is this bad?
On the Hub the modeling files are the whole package: there is no parent package to import from,
and the import fails.

## Example
`modeling_x.py` at the top of the checkpoint contains `from ..shared.layers import Block`.

## How to fix
Copy the module into the checkpoint folder and import it relatively, or import it absolutely from
its package (`from shared.layers import Block`) and pass `--code-root` so that it is vendored.
""",
    )
)


define(
    Rule(
        id="HFC211",
        name="transformers-relative-import",
        severity=Severity.ERROR,
        summary="Code copied from transformers keeps its package-relative imports (`from ...modeling_utils import`).",
        fix="let `hf-custom publish` rewrite them to absolute `transformers.` imports, or write them so",
        explanation="""\
## What it does
Finds, in a top-level file copied from transformers' own models (a fork), the relative imports
that reach above the checkpoint folder and name a module of the installed transformers:
`from ...modeling_utils import PreTrainedModel` means `transformers.modeling_utils`,
`from ..llama.configuration_llama import LlamaConfig` means
`transformers.models.llama.configuration_llama`, and `from .configuration_llama import
LlamaConfig` (when that file was not copied) means the module of the forked model. The
transformers source folder is read, never imported. A target that does not exist in the
installed transformers is HFC209, naming the module and the version.

## Why is this bad?
On the Hub the checkpoint's files are the whole package: there is no `transformers/models/<name>/`
around them, so `from_pretrained(..., trust_remote_code=True)` fails on the first such import.

## Example
`modeling_mybert.py`, copied from `transformers/models/bert/modeling_bert.py` with its classes
renamed, still starts with `from ...modeling_utils import PreTrainedModel`.

## How to fix
`hf-custom publish` rewrites each import to `from transformers.modeling_utils import
PreTrainedModel` in the staged copy and lists every rewrite; make the same change in your source.
""",
    )
)

# --- HFC250-HFC299: transformers v5 breakage and risky code (doctor / checks registry) ---------

define(
    Rule(
        id="HFC250",
        name="transformers-import-removed",
        severity=Severity.ERROR,
        summary="The code imports a transformers module or name that transformers v5 no longer has.",
        fix="import the v5 replacement (see the explanation), or guard the import with try/except",
        explanation="""\
## What it does
Checks every unguarded `import transformers.X` / `from transformers.X import Y` against the
installed transformers (does the module exist, does it define the name?), or against a list of
known v5 removals when transformers is not installed or not imported (the git hook).

## Why is this bad?
`from_pretrained(..., trust_remote_code=True)` imports the modeling file: one missing name and
the model does not load at all, with an ImportError deep in the user's stack trace.

## Example
`from transformers.modeling_attn_mask_utils import _prepare_4d_causal_attention_mask`;
`from transformers.utils import is_torch_fx_available`; `from transformers import AutoModelForVision2Seq`;
`from transformers.models.bloom.modeling_bloom import _expand_mask` (a model module's private helper).

## How to fix
Use the v5 API: masks come from `transformers.masking_utils` (`create_causal_mask`),
`AutoModelForVision2Seq` is `AutoModelForImageTextToText`, `is_torch_fx_available` is gone (torch.fx
is always there: drop the test). For code that must run on v4 and v5, wrap the import in
`try/except ImportError`. `hf-custom fix` does that for the names it has a compatibility helper
for: v4 keeps its own import, v5 imports from `hf_custom_compat.py`, which fix adds to the package.
The helpers cover `modeling_attn_mask_utils` (`AttentionMaskConverter`, the `_prepare_4d_*`
functions, `_create_4d_causal_attention_mask`) and the `_expand_mask` / `_make_causal_mask` of
v4's model modules (bloom's bool masks; the bart, llama, opt, ... family's additive masks), each
equal to the v4 function it stands for.
""",
    )
)

define(
    Rule(
        id="HFC251",
        name="transformers-method-removed",
        severity=Severity.ERROR,
        summary="The code calls a PreTrainedModel method that transformers v5 removed.",
        fix="inline the helper in your own code (see the explanation)",
        explanation="""\
## What it does
Flags calls such as `self.get_head_mask(...)`, `self.get_extended_attention_mask(...)`,
`self.invert_attention_mask(...)` or `self._tie_or_clone_weights(...)` when the package does not
define the method itself and the installed transformers' `PreTrainedModel` (or, without it, the
known v5 removals) no longer has it.

## Why is this bad?
The model loads, then fails with `AttributeError` on its first forward pass.

## Example
`head_mask = self.get_head_mask(head_mask, self.config.num_hidden_layers)` (removed in v5).

## How to fix
Define the helper in your model class (a few lines) or drop it: head masks are not supported in
v5; build attention masks with `transformers.masking_utils`.
""",
    )
)

define(
    Rule(
        id="HFC252",
        name="post-init-missing",
        severity=Severity.ERROR,
        summary="A PreTrainedModel subclass defines __init__ without calling self.post_init().",
        fix="call `self.post_init()` at the end of the model's __init__",
        explanation="""\
## What it does
Flags model classes (subclasses of `PreTrainedModel`) whose `__init__`, and the package classes
it inherits from, never call `self.post_init()`.

## Why is this bad?
transformers v5 computes weight tying, initialisation and parallelism plans in `post_init()`;
without it `from_pretrained` fails with `AttributeError: ... has no attribute
'all_tied_weights_keys'` (v4 silently skipped weight initialisation and tying).

## Example
```python
class MyModel(MyPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.layers = nn.ModuleList(...)
        # no self.post_init()
```

## How to fix
Add `self.post_init()` as the last line of `__init__` (`hf-custom fix` adds it, unless
`__init__` returns early).
""",
    )
)

define(
    Rule(
        id="HFC253",
        name="tied-weights-keys-not-dict",
        severity=Severity.ERROR,
        summary="_tied_weights_keys is a list; transformers v5 needs a dict {target: source}.",
        fix='write `_tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}`',
        explanation="""\
## What it does
Flags a class-level `_tied_weights_keys` written as a list, tuple or set of names.

## Why is this bad?
transformers v5 reads `_tied_weights_keys` as a mapping from each tied parameter to the one it
shares storage with. A list fails while loading, or (in some versions) leaves the output layer
untied and randomly initialised.

## Example
`_tied_weights_keys = ["lm_head.weight"]`

## How to fix
Name the source of each tied parameter:
`_tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}`. `hf-custom fix` writes
the dict from the weights the code ties by hand (`self.cls.predictions.decoder.weight =
self.bert.embeddings.word_embeddings.weight` in `__init__` or `tie_weights()`, `self.decoder.bias
= self.bias` in a head it builds; a listed key is matched as v4 did, as a suffix of the
parameter path), else from the one word-embedding layer (`nn.Embedding`) the class builds. A
listed `.bias` that no code ties is dropped (v4 only silenced its missing-key warning). v5 ties
only when `config.tie_word_embeddings` is true.
""",
    )
)

define(
    Rule(
        id="HFC254",
        name="generation-mixin-missing",
        severity=Severity.ERROR,
        summary="A causal-LM class does not inherit GenerationMixin, so it has no generate().",
        fix="inherit it: `class MyForCausalLM(MyPreTrainedModel, GenerationMixin)`",
        explanation="""\
## What it does
Flags model classes named `*ForCausalLM` / `*LMHeadModel`, or registered for
`AutoModelForCausalLM` / `AutoModelForSeq2SeqLM` in `auto_map`, that do not inherit
`transformers.GenerationMixin`.

## Why is this bad?
Since transformers 4.50 `PreTrainedModel` no longer inherits `GenerationMixin`: such a model
loads but `model.generate(...)` raises `AttributeError`, and pipelines refuse it. A class that
defines its own `generate()` or `prepare_inputs_for_generation()` (or inherits one from the
package) is reported as info only: transformers' auto classes add the mixin to such remote
classes when loading them (`AutoModelForCausalLM.from_pretrained(..., trust_remote_code=True)`),
but loading the class directly still leaves it without `generate()`.

## Example
`class MyForCausalLM(MyPreTrainedModel):` with `from transformers import PreTrainedModel` only.

## How to fix
`from transformers import GenerationMixin` and
`class MyForCausalLM(MyPreTrainedModel, GenerationMixin):` (`hf-custom fix` makes both edits).
""",
    )
)

define(
    Rule(
        id="HFC255",
        name="config-attribute-undefined",
        severity=Severity.WARNING,
        summary="The code reads a config attribute that neither its config class nor v5's base config defines.",
        fix="define the attribute in the config class's __init__ (with a default) and in config.json",
        explanation="""\
## What it does
Collects every `config.X` / `self.config.X` read in the code and flags names that are not
parameters, class attributes or `self.X` assignments of the package's config classes, not keys
of config.json, and not attributes of the installed transformers' `PreTrainedConfig` (or of
v5's, when transformers is not importable).
Reads guarded by the code itself are not flagged: `config.x` inside
`if hasattr(config, "x"):` (or `if getattr(config, "x", None):`), in the else branch of
`if not hasattr(config, "x"):`, after `hasattr(config, "x") and`, or in
`config.x if hasattr(config, "x") else default`; `getattr(config, "x", default)` is not a read.

## Why is this bad?
transformers v5 stopped setting many defaults on the base config (`use_cache`, `is_decoder`,
`max_length`, `pad_token_id`, `tie_word_embeddings`, ...). Code that relied on them fails with
`AttributeError`, or silently behaves differently (an untied, random `lm_head`).

## Example
`if self.config.use_cache:` with a config class that never sets `use_cache`.

## How to fix
Give the attribute a default in your config class:
`def __init__(self, use_cache=True, **kwargs): self.use_cache = use_cache; super().__init__(**kwargs)`.
""",
    )
)

define(
    Rule(
        id="HFC256",
        name="dangerous-call",
        severity=Severity.WARNING,
        summary="The code runs commands, evaluates strings, opens sockets or downloads files.",
        fix="remove the call, or explain it in the model card so that users can review it",
        explanation="""\
## What it does
Lists calls that people reviewing remote code look for: `os.system`, `subprocess.*`,
`eval`/`exec`, `socket`, `urllib`/`requests`/`httpx` requests, `torch.hub.load`, Hub downloads,
`pickle.load`; each with its line.

## Why is this bad?
`trust_remote_code=True` runs this code with the user's rights. A model that shells out or
downloads more code at import or load time is indistinguishable from malware, and security
scanners flag it.

## Example
`os.system("pip install flash-attn")` at the top of `modeling_x.py`.

## How to fix
Remove it (declare dependencies in the model card instead), or keep it and document why.
""",
    )
)

define(
    Rule(
        id="HFC210",
        name="text-matches-loader-import-pattern",
        severity=Severity.ERROR,
        summary="A line in a string (e.g. a docstring example) looks like `from .name import` to transformers' loader, which then looks for a file that does not exist.",
        fix="reword the line (e.g. indent it as `>>> from .name import ...` or use an absolute import in the example)",
        explanation="""\
## What it does
Runs transformers' own relative-import patterns (`^\\s*from\\s+\\.(\\S+)\\s+import` and
`^\\s*import\\s+\\.(\\S+)\\s*$`, from `get_relative_imports`) over every packaged file and flags
matches that are not real import statements and name no packaged module.

## Why is this bad?
transformers finds the files a remote module needs with these regular expressions over the raw
text, not by parsing. A docstring line such as `from .utils import helper` makes it copy (or
download) `utils.py`; when that file does not exist, every load fails with `FileNotFoundError`
or an `EntryNotFoundError` that points at a file the code never imports.

## Example
```python
def build():
    \"\"\"Build the block. Usage:

    from .blocks import Block
    \"\"\"
```

## How to fix
Reword the line so that it does not start with `from .` (for example `>>> from mypkg.blocks import
Block`), or add the module it names.
""",
    )
)
