"""The code stage on real folders in tmp dirs: closure, flattening, vendoring, third-party imports."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hf_custom.errors import InputError
from hf_custom.staging.code import plan_code, write_code
from hf_custom.staging.imports import counted_by_check_imports, loader_guard_names

CONFIG = """\
from transformers import PretrainedConfig


class XConfig(PretrainedConfig):
    model_type = "x-test"

    def __init__(self, hidden_size=16, **kwargs):
        self.hidden_size = hidden_size
        super().__init__(**kwargs)
"""


def make(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(textwrap.dedent(text).encode("utf-8"))
    return root


def snapshot(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def ckpt(tmp_path):
    """A function building a checkpoint folder; asserts afterwards that no source file changed."""
    made: list[tuple[Path, dict[str, str]]] = []

    def build(files: dict[str, str], name: str = "ck") -> Path:
        root = make(tmp_path / name, files)
        made.append((root, snapshot(root)))
        return root

    yield build
    for root, before in made:
        assert snapshot(root) == before, f"{root} was modified"


def ids(plan_or_exc) -> set[str]:
    return {f.id for f in plan_or_exc.findings}


def test_flat_package(ckpt):
    src = ckpt(
        {
            "configuration_x.py": CONFIG,
            "modeling_x.py": """\
                from transformers import PreTrainedModel
                from .configuration_x import XConfig
                from .helpers import act
                class XModel(PreTrainedModel):
                    config_class = XConfig
            """,
            "helpers.py": "import math\ndef act(x):\n    return x\n",
            "train.py": "import wandb\n",  # not reachable: not packaged
            "tokenization_x.py": "from transformers import PreTrainedTokenizer\nclass XTok(PreTrainedTokenizer): pass\n",
        }
    )
    plan = plan_code(src)
    assert sorted(plan.files) == [
        "configuration_x.py",
        "helpers.py",
        "modeling_x.py",
        "tokenization_x.py",
    ]
    assert plan.origins["helpers.py"] == "helpers.py"
    assert plan.rewrites == () and plan.findings == () and plan.requirements == ()
    assert plan.core_imports == ("transformers",)
    for name, text in plan.files.items():
        assert text == (src / name).read_text()
    assert [c.name for c in plan.package.model_classes()] == ["XModel"]
    assert [c.name for c in plan.package.tokenizer_classes()] == ["XTok"]
    out = src.parent / "out"
    write_code(plan, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(plan.files)


def test_entry_from_auto_map_and_missing_entry(ckpt):
    src = ckpt({"my_model.py": "from .parts import P\n", "parts.py": "P = 1\n"})
    plan = plan_code(src, entry=["my_model", "absent_module.py", "org/repo--modeling_y"])
    assert sorted(plan.files) == ["my_model.py", "parts.py"]
    assert [(f.id, f.path) for f in plan.findings] == [("HFC207", "absent_module.py")]


def test_subpackage_flattened_byte_for_byte(ckpt):
    modeling = (
        "# -*- coding: utf-8 -*-\r\n"
        '"""Modèle: docstring with non-ASCII."""\r\n'
        "from .blocks.attention import (  # keep me\r\n"
        "    Attention,\r\n"
        "    scale as s,\r\n"
        ")\r\n"
        "from .blocks import ffn\r\n"
        "from .blocks import helper_fn\r\n"
        "x = 'é'  ;  from .configuration_x import XConfig\r\n"
    )
    src = ckpt(
        {
            "configuration_x.py": CONFIG,
            "modeling_x.py": modeling,
            "blocks/__init__.py": "from .ffn import helper_fn\n",
            "blocks/attention.py": "from ..configuration_x import XConfig\nfrom .ffn import FFN\nclass Attention: pass\nscale = 2\n",
            "blocks/ffn.py": "class FFN: pass\ndef helper_fn(): pass\n",
            "blocks_attention.py": "# a top-level module with the flat name: must not be overwritten\n",
        }
    )
    plan = plan_code(src)
    assert plan.origins == {
        "blocks.py": "blocks/__init__.py",
        "blocks_attention_2.py": "blocks/attention.py",
        "blocks_ffn.py": "blocks/ffn.py",
        "configuration_x.py": "configuration_x.py",
        "modeling_x.py": "modeling_x.py",
    }
    expected = (
        "# -*- coding: utf-8 -*-\r\n"
        '"""Modèle: docstring with non-ASCII."""\r\n'
        "from .blocks_attention_2 import (  # keep me\r\n"
        "    Attention,\r\n"
        "    scale as s,\r\n"
        ")\r\n"
        "from .blocks_ffn import __name__ as _hfc_blocks_ffn; from . import blocks_ffn as ffn\r\n"
        "from .blocks import helper_fn\r\n"
        "x = 'é'  ;  from .configuration_x import XConfig\r\n"
    )
    assert plan.files["modeling_x.py"] == expected
    assert plan.files["blocks_attention_2.py"].startswith(
        "from .configuration_x import XConfig\nfrom .blocks_ffn import FFN\n"
    )
    assert plan.files["blocks.py"] == "from .blocks_ffn import helper_fn\n"
    assert {(r.path, r.line) for r in plan.rewrites} == {
        ("modeling_x.py", 3),
        ("modeling_x.py", 7),
        ("modeling_x.py", 8),
        ("blocks/attention.py", 1),
        ("blocks/attention.py", 2),
        ("blocks/__init__.py", 1),
    }
    assert {(f.id, f.severity.value) for f in plan.findings} == {
        ("HFC202", "warning"),
        # `x = ...; from .configuration_x import` is not at a line start: the loader misses it
        ("HFC208", "error"),
    }
    assert [f.line for f in plan.findings if f.id == "HFC208"] == [9]


AUTHOR_PKG = {
    "mypkg/__init__.py": "",
    "mypkg/layers.py": "import torch\nfrom .util import ident\nclass Block(torch.nn.Module):\n    pass\n",
    "mypkg/util.py": "def ident(x):\n    return x\n",
}
MODELING_ABS = """\
from transformers import PreTrainedModel
from mypkg.layers import Block
import mypkg.util as U
from configuration_x import XConfig
class XModel(PreTrainedModel):
    config_class = XConfig
"""


def test_vendor_author_package_with_code_root(ckpt, tmp_path):
    src = ckpt({"configuration_x.py": CONFIG, "modeling_x.py": MODELING_ABS})
    lib = ckpt(AUTHOR_PKG, name="lib")
    plan = plan_code(src, code_root=lib)
    assert plan.origins["mypkg_layers.py"] == "../lib/mypkg/layers.py"
    assert plan.files["modeling_x.py"].splitlines()[1:4] == [
        "from .mypkg_layers import Block",
        "from .mypkg_util import __name__ as _hfc_mypkg_util; from . import mypkg_util as U",
        "from .configuration_x import XConfig",
    ]
    assert plan.files["mypkg_layers.py"].startswith("import torch\nfrom .mypkg_util import ident\n")
    assert {f.id for f in plan.findings} == {
        "HFC203",
        "HFC202",
    }  # util via relative import in mypkg
    assert (
        next(r.new for r in plan.rewrites if r.path == "modeling_x.py")
        == "from .mypkg_layers import Block"
    )
    # a code root that IS the package folder works too
    plan2 = plan_code(src, code_root=lib / "mypkg")
    assert plan2.files == plan.files
    # without --code-root the package is an unknown third-party import
    plan3 = plan_code(src)
    assert [(t.module, t.installed, t.guarded) for t in plan3.third_party] == [
        ("mypkg", False, False),
        ("mypkg", False, False),
    ]
    assert "HFC204" in ids(plan3) and plan3.requirements == ("mypkg",)


def test_vendor_author_package_inside_checkpoint(ckpt):
    src = ckpt({"configuration_x.py": CONFIG, "modeling_x.py": MODELING_ABS, **AUTHOR_PKG})
    plan = plan_code(src)
    assert sorted(plan.files) == [
        "configuration_x.py",
        "modeling_x.py",
        "mypkg_layers.py",
        "mypkg_util.py",
    ]
    assert "HFC204" not in ids(plan)


@pytest.mark.parametrize(
    ("files", "rule", "where"),
    [
        (  # subpackage __init__ built dynamically
            {
                "modeling_x.py": "from .sub import Thing\n",
                "sub/__init__.py": "def __getattr__(name):\n    return 1\n",
            },
            "HFC202",
            ("modeling_x.py", 1),
        ),
        ({"modeling_x.py": "x = 1\nfrom ..shared import f\n"}, "HFC209", ("modeling_x.py", 2)),
        (
            {
                "modeling_x.py": "import mypkg.layers\n",
                "mypkg/__init__.py": "",
                "mypkg/layers.py": "",
            },
            "HFC203",
            ("modeling_x.py", 1),
        ),
    ],
)
def test_refusals(ckpt, files, rule, where):
    src = ckpt(files)
    with pytest.raises(InputError) as exc:
        plan_code(src)
    err = exc.value
    assert [(f.id, f.path, f.line) for f in err.findings] == [(rule, *where)]
    assert err.path == where[0] and f"line {where[1]}" in err.message and err.hint


def test_third_party_classification(ckpt):
    src = ckpt(
        {
            "modeling_x.py": """\
                import os, json
                import numpy as np
                import torch.nn as nn
                from PIL import Image
                from typing import TYPE_CHECKING
                from transformers.utils import is_flash_attn_2_available, is_torch_available
                try:
                    import flash_attn
                except Exception:
                    pass
                if is_flash_attn_2_available():
                    from flash_attn_interface import f
                if is_torch_available():
                    import not_a_real_pkg_zz
                if TYPE_CHECKING:
                    import typing_only_pkg_zz
                def g():
                    import lazy_pkg_zz
                    import sklearn.linear_model
            """,
        }
    )
    plan = plan_code(src)
    got = {(t.module, t.guarded, t.in_function) for t in plan.third_party}
    assert got == {
        ("numpy", False, False),
        ("PIL", False, False),
        ("flash_attn", True, False),
        ("flash_attn_interface", True, False),
        ("not_a_real_pkg_zz", True, False),
        ("typing_only_pkg_zz", False, False),
        ("lazy_pkg_zz", False, True),
        ("sklearn", False, True),
    }
    errors = sorted((f.line, f.id) for f in plan.findings)
    assert (16, "HFC204") in errors and (18, "HFC204") in errors
    assert (8, "HFC205") in errors and (14, "HFC205") in errors
    assert "pillow" in plan.requirements and "scikit-learn" in plan.requirements
    assert "numpy" in plan.requirements and "flash-attn" in plan.optional_requirements
    assert "torch" not in plan.requirements and plan.core_imports == ("torch", "transformers")


LOADER_CASES = [
    "import a_zz\n",
    "try:\n    import a_zz\nexcept ImportError:\n    import b_zz\nfinally:\n    import c_zz\n",
    "if is_flash_attn_greater_or_equal_2_10_available():\n    import a_zz\nelse:\n    import b_zz\n",
    "if is_torch_available() and x:\n    import a_zz\nelif y:\n    import b_zz\n",
    "if x:\n    import a_zz\nelif is_torch_available():\n    import b_zz\n",
    "if utils.is_torch_available():\n    import a_zz\n",
    "if not_a_guard():\n    import a_zz\n",
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a_zz\n",
    "def f():\n    try:\n        import a_zz\n    except ImportError:\n        pass\n    import b_zz\n",
    "class A:\n    if is_vision_available():\n        import a_zz\n",
    "with ctx():\n    import a_zz\n",
    pytest.param(
        "try:\n    import a_zz\nexcept* ImportError:\n    pass\n",
        marks=pytest.mark.skipif(sys.version_info < (3, 11), reason="except* is Python 3.11+"),
    ),
]


@pytest.mark.parametrize("source", LOADER_CASES)
def test_guard_rule_matches_transformers(tmp_path, source):
    """Our reading of which imports count agrees with transformers' own get_imports."""
    from transformers.dynamic_module_utils import get_imports

    from hf_custom.codeinfo import parse_module

    path = tmp_path / "m.py"
    path.write_text(source)
    theirs = {m for m in get_imports(path) if m.endswith("_zz")}
    guards = loader_guard_names()
    assert guards is not None and "is_torch_available" in guards
    ours = {
        i.top for i in parse_module("m.py", source).imports if counted_by_check_imports(i, guards)
    }
    assert {m for m in ours if m.endswith("_zz")} == theirs


def test_syntax_error_and_missing_relative(ckpt):
    src = ckpt(
        {
            "modeling_x.py": "from .gone import G\ntry:\n    from .optional import O\nexcept ImportError:\n    O = None\nfrom . import absent\n",
            "configuration_x.py": "def broken(:\n",
        }
    )
    plan = plan_code(src)
    got = sorted((f.path, f.line, f.id, f.severity.value) for f in plan.findings)
    assert got == [
        ("configuration_x.py", 1, "HFC206", "error"),
        ("modeling_x.py", 1, "HFC201", "error"),
        ("modeling_x.py", 3, "HFC201", "error"),  # the loader copies it even inside try
        ("modeling_x.py", 6, "HFC201", "error"),
    ]
    assert plan.files["configuration_x.py"] == "def broken(:\n"  # copied as is, reported


# Rule cases as data (failing files, passing files) so a registry-driven test can reuse them.
RULE_CASES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "HFC201": (
        {"modeling_x.py": "from .gone import G\n"},
        {"modeling_x.py": "from .here import G\n", "here.py": "G = 1\n"},
    ),
    "HFC202": (
        {"modeling_x.py": "from .sub.mod import G\n", "sub/mod.py": "G = 1\n"},
        {"modeling_x.py": "from .sub_mod import G\n", "sub_mod.py": "G = 1\n"},
    ),
    "HFC203": (
        {
            "modeling_x.py": "from mypkg.mod import G\n",
            "mypkg/__init__.py": "",
            "mypkg/mod.py": "G = 1\n",
        },
        {"modeling_x.py": "from .mod import G\n", "mod.py": "G = 1\n"},
    ),
    "HFC204": (
        {"modeling_x.py": "import not_installed_pkg_zz\n"},
        {"modeling_x.py": "import json\n"},
    ),
    "HFC205": (
        {"modeling_x.py": "try:\n    import not_installed_pkg_zz\nexcept ImportError:\n    pass\n"},
        {"modeling_x.py": "try:\n    import json\nexcept ImportError:\n    pass\n"},
    ),
    "HFC206": ({"modeling_x.py": "def f(:\n"}, {"modeling_x.py": "def f():\n    pass\n"}),
    "HFC207": ({"modeling_y.py": ""}, {"modeling_x.py": ""}),  # entry "modeling_x"
    "HFC208": (
        {"modeling_x.py": "from . import mod\n", "mod.py": ""},
        {"modeling_x.py": "from .mod import G\n", "mod.py": "G = 1\n"},
    ),
    "HFC210": (
        {"modeling_x.py": 'def f():\n    """Usage:\n\n    from .blocks import Block\n    """\n'},
        {
            "modeling_x.py": 'def f():\n    """Usage:\n\n    >>> from .blocks import Block\n    """\n'
        },
    ),
    "HFC211": (
        {"modeling_x.py": "from ...activations import ACT2FN\n"},
        {"modeling_x.py": "from transformers.activations import ACT2FN\n"},
    ),
    "HFC209": (
        {"modeling_x.py": "from ..up import G\n"},
        {"modeling_x.py": "from .up import G\n", "up.py": "G = 1\n"},
    ),
}


def _rule_ids(src: Path) -> set[str]:
    try:
        return ids(plan_code(src, entry=["modeling_x"]))
    except InputError as exc:
        return ids(exc)


@pytest.mark.parametrize("rule", sorted(RULE_CASES))
def test_rule_cases(ckpt, rule):
    failing, passing = RULE_CASES[rule]
    assert rule in _rule_ids(ckpt(failing, name="failing"))
    assert _rule_ids(ckpt(passing, name="passing")) == set()


def test_every_code_rule_has_cases():
    from hf_custom.findings import all_rules

    # HFC200-HFC239 are the code step's (plan_code); HFC240 and up are doctor's code checks
    assert {r.id for r in all_rules() if r.area == "code" and int(r.id[3:]) < 240} == set(
        RULE_CASES
    )


LOAD_SCRIPT = """
import json, sys, torch
from transformers import AutoConfig, AutoModel
config = AutoConfig.from_pretrained(sys.argv[1], trust_remote_code=True)
model = AutoModel.from_config(config, trust_remote_code=True)
out = model(torch.ones(1, 3, config.hidden_size))
print(json.dumps({"config": type(config).__name__, "model": type(model).__name__,
                  "module": type(model).__module__, "shape": list(out.shape)}))
"""


@pytest.mark.slow
def test_staged_package_loads_with_transformers(ckpt, tmp_path):
    src = ckpt(
        {
            "configuration_x.py": CONFIG,
            "modeling_x.py": """\
                from transformers import PreTrainedModel
                from configuration_x import XConfig
                from .blocks.attention import Mixer
                from . import helpers
                import mypkg.layers as L
                class XModel(PreTrainedModel):
                    config_class = XConfig
                    def __init__(self, config):
                        super().__init__(config)
                        self.mixer = Mixer(config.hidden_size)
                        self.block = L.Block(config.hidden_size)
                        self.post_init()
                    def forward(self, x):
                        return helpers.double(self.block(self.mixer(x)))
            """,
            "helpers.py": "def double(x):\n    return 2 * x\n",
            "blocks/attention.py": """\
                import torch
                from ..configuration_x import XConfig
                class Mixer(torch.nn.Module):
                    def __init__(self, n):
                        super().__init__()
                        self.lin = torch.nn.Linear(n, n)
                    def forward(self, x):
                        return self.lin(x)
            """,
        }
    )
    lib = ckpt(
        {
            "mypkg/__init__.py": "",
            "mypkg/layers.py": """\
                import torch
                class Block(torch.nn.Module):
                    def __init__(self, n):
                        super().__init__()
                        self.lin = torch.nn.Linear(n, n)
                    def forward(self, x):
                        return self.lin(x)
            """,
        },
        name="lib",
    )
    plan = plan_code(src, code_root=lib)
    staged = tmp_path / "staged"
    write_code(plan, staged)
    config = {
        "model_type": "x-test",
        "hidden_size": 8,
        "auto_map": {"AutoConfig": "configuration_x.XConfig", "AutoModel": "modeling_x.XModel"},
    }
    (staged / "config.json").write_text(json.dumps(config))
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", LOAD_SCRIPT, str(staged)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,  # not the source folder: nothing importable by accident
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["config"] == "XConfig" and result["model"] == "XModel"
    assert result["module"].startswith("transformers_modules.")
    assert result["shape"] == [1, 3, 8]
    # helpers.py is reached only through `from . import helpers`: the rewrite made it visible
    assert "from .helpers import __name__" in plan.files["modeling_x.py"]


def test_multi_import_statement_and_line_mapping(ckpt):
    src = ckpt(
        {
            "modeling_x.py": (
                "import os, helpers as h, json\n"
                "from .sub.mod import (\n"
                "    A,\n"
                "    B,\n"
                ")\n"
                'DOC = """\n'
                "from .nowhere import thing\n"
                '"""\n'
            ),
            "helpers.py": "",
            "sub/mod.py": "A = B = 1\n",
        }
    )
    plan = plan_code(src)
    lines = plan.files["modeling_x.py"].splitlines()
    # one statement per line: the loader's pattern only matches at the start of a line
    assert lines[:3] == [
        "import os",
        "from .helpers import __name__ as _hfc_helpers; from . import helpers as h",
        "import json",
    ]
    assert lines[3] == "from .sub_mod import (" and lines[7] == 'DOC = """'
    phantom = [f for f in plan.findings if f.id == "HFC210"]
    assert [(f.path, f.line) for f in phantom] == [("modeling_x.py", 7)]
    assert {f.id for f in plan.findings} == {"HFC203", "HFC202", "HFC210"}


def test_collapsed_rewrite_maps_lines_back(ckpt):
    src = ckpt(
        {
            "modeling_x.py": 'from .sub import (\n    a,\n    b,\n)\nX = """\nfrom .zz import q\n"""\n',
            "sub/a.py": "",
            "sub/b.py": "",
        }
    )
    plan = plan_code(src)
    assert plan.files["modeling_x.py"].count("\n") == 5  # the 4-line import became two lines
    assert [(f.id, f.line) for f in plan.findings if f.id == "HFC210"] == [("HFC210", 6)]


def test_encoding_bom_removed_and_latin1_kept_byte_for_byte(tmp_path):
    src = tmp_path / "ck"
    src.mkdir()
    (src / "modeling_x.py").write_bytes(b"\xef\xbb\xbffrom .sub.m import A\n")
    (src / "configuration_x.py").write_bytes(b"# caf\xe9\nX = 1\n")
    (src / "sub").mkdir()
    (src / "sub" / "m.py").write_bytes(b"A = 1\n")
    plan = plan_code(src)
    got = sorted((f.path, f.id, f.severity.value) for f in plan.findings)
    assert got == [
        ("configuration_x.py", "HFC206", "error"),
        ("modeling_x.py", "HFC202", "warning"),
        ("modeling_x.py", "HFC206", "warning"),
    ]
    out = tmp_path / "out"
    write_code(plan, out)
    assert (out / "modeling_x.py").read_bytes() == b"from .sub_m import A\n"
    assert (out / "configuration_x.py").read_bytes() == b"# caf\xe9\nX = 1\n"


def test_symlinked_module_counts_where_it_sits(tmp_path):
    shared = make(tmp_path / "shared", {"layers.py": "L = 1\n"})
    src = make(
        tmp_path / "ck",
        {
            "modeling_x.py": "from .layers import L\nfrom .sub.more import M\n",
            "modeling_y.py": "from .sub.link import L\n",
            "sub/more.py": "M = 1\n",
        },
    )
    (src / "layers.py").symlink_to(shared / "layers.py")
    (src / "sub" / "link.py").symlink_to(shared / "layers.py")
    before = snapshot(src)
    plan = plan_code(src)
    assert plan.origins == {
        "layers.py": "layers.py",
        "modeling_x.py": "modeling_x.py",
        "modeling_y.py": "modeling_y.py",
        "sub_link.py": "sub/link.py",
        "sub_more.py": "sub/more.py",
    }
    assert plan.files["layers.py"] == "L = 1\n"
    assert snapshot(src) == before


def test_package_installed_from_a_local_folder_is_flagged(ckpt):
    """hf_custom itself is installed editable in the test environment: a real local install."""
    src = ckpt({"modeling_x.py": "import hf_custom\nfrom hf_custom import errors\nimport numpy\n"})
    plan = plan_code(src)
    flagged = [f for f in plan.findings if f.id == "HFC203"]
    assert [(f.line, f.severity.value) for f in flagged] == [(1, "error")]  # once per file
    assert "local folder" in flagged[0].message and "--code-root" in flagged[0].fix
    assert {(t.module, t.installed) for t in plan.third_party} == {
        ("hf_custom", True),
        ("numpy", True),
    }


def test_loader_patterns_match_transformers(tmp_path):
    """Our copy of the loader's relative-import patterns finds what transformers finds."""
    from transformers.dynamic_module_utils import get_relative_imports

    from hf_custom.staging.imports import loader_pattern_matches

    text = (
        "from .a import x\n"
        "from .b.c import (\n    y,\n)\n"
        "if t:\n    from .d import z\n"
        'DOC = """\n  from .e import w\n"""\n'
        "from . import f\n"
        "import json\n"
    )
    path = tmp_path / "m.py"
    path.write_text(text)
    theirs = set(get_relative_imports(path))
    every = {name for _, name in loader_pattern_matches(text, (), include_imports=True)}
    assert every == theirs == {"a", "b.c", "d", "e"}
    assert loader_pattern_matches(text, ()) == [(8, "e")]  # only the docstring line
    assert loader_pattern_matches(text, ("e.py",)) == []


def test_carriage_return_only_line_ends(ckpt):
    src = ckpt({"modeling_x.py": "x = 1\rfrom .sub.m import A\ry = 2\r", "sub/m.py": "A = 1\n"})
    plan = plan_code(src)
    assert plan.files["modeling_x.py"] == "x = 1\rfrom .sub_m import A\ry = 2\r"


def test_staged_output_is_a_fixpoint(ckpt, tmp_path):
    """Planning the staged folder again changes nothing and finds nothing (doctor runs on it)."""
    src = ckpt(
        {
            "configuration_x.py": CONFIG,
            "modeling_x.py": MODELING_ABS
            + "from .sub import a, b as bee\nfrom . import helpers\nimport helpers as hh\n",
            "helpers.py": "",
            "sub/a.py": "from ..helpers import *\n",
            "sub/b.py": "from . import a\n",
        }
    )
    lib = ckpt(AUTHOR_PKG, name="lib")
    first = plan_code(src, code_root=lib)
    assert first.rewrites
    staged = tmp_path / "staged"
    write_code(first, staged)
    again = plan_code(staged)
    assert again.rewrites == () and again.findings == ()
    assert again.files == first.files


def test_rewrites_keep_indentation_and_line_ends(ckpt):
    src = ckpt(
        {
            "modeling_x.py": "def f():\r\n    from .sub import a, b\r\n    return a\r\nif 1: from .sub import a, b\r\n",
            "sub/a.py": "",
            "sub/b.py": "",
        }
    )
    plan = plan_code(src)
    text = plan.files["modeling_x.py"]
    assert not [f for f in plan.findings if f.severity.value == "error"]  # line 2 makes b visible
    assert text.splitlines(keepends=True)[1:3] == [
        "    from .sub_a import __name__ as _hfc_sub_a; from . import sub_a as a\r\n",
        "    from .sub_b import __name__ as _hfc_sub_b; from . import sub_b as b\r\n",
    ]
    assert text.splitlines()[4].startswith("if 1: from .sub_a import __name__ as _hfc_sub_a; ")


def test_one_liner_import_the_loader_cannot_see_is_an_error(ckpt):
    src = ckpt({"modeling_x.py": "if 1: from .sub import a, b\n", "sub/a.py": "", "sub/b.py": ""})
    plan = plan_code(src)
    errors = [(f.id, f.line) for f in plan.findings if f.severity.value == "error"]
    assert errors == [("HFC208", 1), ("HFC208", 1)]  # the line starts with `if`: nothing is seen
    assert {m for f in plan.findings for m in ("sub_a", "sub_b") if m in f.message} == {
        "sub_a",
        "sub_b",
    }
