"""Table-driven tests of hf_custom.codeinfo on plain source strings."""

from __future__ import annotations

import textwrap

import pytest

from hf_custom.codeinfo import NonLiteral, Ref, analyze_package, parse_module


def _mod(src: str, path: str = "modeling_x.py"):
    return parse_module(path, textwrap.dedent(src))


# (source, expected [(module, level, names, guarded, in_function, in_try)])
IMPORT_CASES = [
    ("import torch\n", [("torch", 0, (), False, False, False)]),
    ("import a.b as c\n", [("a.b", 0, (), False, False, False)]),
    ("import os, sys\n", [("os", 0, (), False, False, False), ("sys", 0, (), False, False, False)]),
    ("from . import x\n", [("", 1, ("x",), False, False, False)]),
    ("from .x import (a,\n    b)\n", [("x", 1, ("a", "b"), False, False, False)]),
    ("from ..pkg.mod import y\n", [("pkg.mod", 2, ("y",), False, False, False)]),
    ("from .x import *\n", [("x", 1, ("*",), False, False, False)]),
    (
        "try:\n    import flash_attn\nexcept ImportError:\n    flash_attn = None\n",
        [("flash_attn", 0, (), True, False, True)],
    ),
    (
        "try:\n    import a\nexcept ModuleNotFoundError:\n    pass\n",
        [("a", 0, (), True, False, True)],
    ),
    ("try:\n    import a\nexcept Exception:\n    pass\n", [("a", 0, (), True, False, True)]),
    (
        "try:\n    import a\nexcept:\n    import b\n",
        [("a", 0, (), True, False, True), ("b", 0, (), True, False, True)],
    ),
    (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import foo\n",
        [
            ("typing", 0, ("TYPE_CHECKING",), False, False, False),
            ("foo", 0, (), True, False, False),
        ],
    ),
    (
        "if is_flash_attn_available():\n    import flash_attn\n",
        [("flash_attn", 0, (), True, False, False)],
    ),
    ("def f():\n    import scipy\n", [("scipy", 0, (), False, True, False)]),
    (
        "class A:\n    def g(self):\n        from .y import z\n",
        [("y", 1, ("z",), False, True, False)],
    ),
]


@pytest.mark.parametrize(("src", "expected"), IMPORT_CASES)
def test_imports(src, expected):
    m = parse_module("m.py", src)
    assert m.syntax_error is None
    got = [(i.module, i.level, i.names, i.guarded, i.in_function, i.in_try) for i in m.imports]
    assert got == expected


def test_import_details():
    m = _mod(
        """\
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            import foo
        if is_flash_attn_available() and other():
            from flash_attn import f as g
        import a.b as c
        """
    )
    foo, fa, ab = m.imports[1], m.imports[2], m.imports[3]
    assert foo.in_type_checking and foo.if_calls == ()
    assert fa.if_calls == ("is_flash_attn_available", "other") and not fa.in_type_checking
    assert fa.aliases == (("f", "g"),) and fa.top == "flash_attn"
    assert (ab.is_from, ab.aliases, ab.line, ab.col, ab.end_line, ab.end_col) == (
        False,
        (("a.b", "c"),),
        6,
        0,
        6,
        len("import a.b as c"),
    )
    assert m.bindings["c"] == "a.b" and m.bindings["g"] == "flash_attn.f"


def test_multiline_span():
    m = _mod("x = 1\nif True:\n    from .mod import (\n        a,  # c\n        b,\n    )\n")
    (i,) = m.imports
    assert (i.line, i.col, i.end_line, i.end_col) == (3, 4, 6, 5)


@pytest.mark.parametrize(
    ("src", "line"),
    [("def f(:\n    pass\n", 1), ("x = 1\nclass A\n", 2), ("x = (\n", 1)],
)
def test_syntax_error_reported_not_raised(src, line):
    m = parse_module("bad.py", src)
    assert m.syntax_error and m.syntax_error_line == line
    assert m.imports == () and m.classes == ()


def test_null_bytes_reported():
    m = parse_module("bad.py", "x = 1\0\n")
    assert m.syntax_error


BASES_CASES = [
    (
        "import transformers\nclass A(transformers.PreTrainedModel): pass\n",
        "transformers.PreTrainedModel",
    ),
    (
        "from transformers import PreTrainedModel\nclass A(PreTrainedModel): pass\n",
        "transformers.PreTrainedModel",
    ),
    (
        "from transformers import PreTrainedModel as PTM\nclass A(PTM): pass\n",
        "transformers.PreTrainedModel",
    ),
    ("import torch.nn as nn\nclass A(nn.Module): pass\n", "torch.nn.Module"),
    ("from torch import nn\nclass A(nn.Module): pass\n", "torch.nn.Module"),
    ("from .base import B\nclass A(B): pass\n", ".base.B"),
    ("class B: pass\nclass A(B): pass\n", "B"),
    ("from typing import Generic\nclass A(Generic[int]): pass\n", "typing.Generic"),
]


@pytest.mark.parametrize(("src", "resolved"), BASES_CASES)
def test_bases_resolved(src, resolved):
    m = parse_module("m.py", src)
    a = next(c for c in m.classes if c.name == "A")
    assert a.resolved_bases == (resolved,)


def test_class_attrs_methods_post_init():
    m = _mod(
        """\
        from transformers import PreTrainedModel
        from .configuration_x import XConfig
        KEYS = ["a"]
        class XPreTrained(PreTrainedModel):
            config_class = XConfig
            base_model_prefix = "model"
            supports_gradient_checkpointing = True
            _no_split_modules = ["Block"]
            _tied_weights_keys = {"lm_head.weight": "embed.weight"}
            _keys: list = KEYS
            _other = make_keys()

        class XModel(XPreTrained):
            def __init__(self, config, extra=1, *args, flag=False, **kwargs):
                super().__init__(config)
                self.h = config.hidden_size
                self.n = self.config.num_layers
                self.post_init()
            def forward(self, x):
                return x
            class Inner:
                pass
        """
    )
    pre, model = m.classes
    assert [c.name for c in m.classes] == ["XPreTrained", "XModel"]
    assert pre.attrs["config_class"] == "XConfig"
    assert pre.attrs["base_model_prefix"] == "model"
    assert pre.attrs["supports_gradient_checkpointing"] is True
    assert pre.attrs["_no_split_modules"] == ["Block"]
    assert pre.attrs["_tied_weights_keys"] == {"lm_head.weight": "embed.weight"}
    assert pre.attrs["_keys"] == Ref("KEYS")
    assert pre.attrs["_other"] == NonLiteral("make_keys()")
    assert not pre.calls_post_init
    assert model.calls_post_init and model.methods == ("__init__", "forward")
    assert model.init_params == ("config", "extra", "flag") and model.init_has_kwargs
    assert ("hidden_size", 16) in m.config_reads and ("num_layers", 17) in m.config_reads


def test_calls_resolved_through_imports():
    m = _mod(
        """\
        import os
        import subprocess as sp
        from urllib.request import urlretrieve
        def f():
            os.system("ls")
            sp.run(["ls"])
            urlretrieve("http://x", "y")
            eval("1")
        """
    )
    assert [c for c, _ in m.calls] == [
        "os.system",
        "subprocess.run",
        "urllib.request.urlretrieve",
        "eval",
    ]
    assert m.calls[0][1] == 5


def test_defined_names():
    m = _mod(
        """\
        import torch.nn as nn
        from .a import b as c
        X = 1
        try:
            import y
        except ImportError:
            y = None
        def f(): pass
        class K: pass
        """
    )
    assert {"nn", "c", "X", "y", "f", "K"} <= m.defined
    assert m.functions == ("f",)


PACKAGE = {
    "configuration_x.py": """\
from transformers import PretrainedConfig
class BaseXConfig(PretrainedConfig):
    model_type = "x-base"
class XConfig(BaseXConfig):
    model_type = "my-x"
class OtherConfig(BaseXConfig):
    pass
""",
    "configuration_v5.py": """\
from transformers.configuration_utils import PreTrainedConfig
class V5Config(PreTrainedConfig):
    pass
""",
    "modeling_base.py": """\
from transformers import PreTrainedModel as PTM
from .configuration_x import XConfig
class XPreTrainedModel(PTM):
    config_class = XConfig
""",
    "modeling_x.py": """\
import torch.nn as nn
from transformers import GenerationMixin
from .modeling_base import XPreTrainedModel
from . import modeling_base
class Block(nn.Module):
    pass
class XModel(XPreTrainedModel):
    pass
class XForCausalLM(modeling_base.XPreTrainedModel, GenerationMixin):
    config_class = "OverrideConfig"
class Deeper(XModel):
    pass
""",
    "tokenization_x.py": """\
from transformers import PreTrainedTokenizer, PreTrainedTokenizerFast
from transformers.tokenization_utils_tokenizers import TokenizersBackend
class XTokenizer(PreTrainedTokenizer):
    pass
class XTokenizerFast(PreTrainedTokenizerFast):
    pass
class V5Tok(TokenizersBackend):
    pass
""",
    "broken.py": "def f(:\n",
    "README.md": "not python",
}


@pytest.fixture(scope="module")
def pkg():
    return analyze_package(PACKAGE)


def test_package_kinds(pkg):
    assert sorted(c.name for c in pkg.config_classes()) == [
        "BaseXConfig",
        "OtherConfig",
        "V5Config",
        "XConfig",
    ]
    assert sorted(c.name for c in pkg.model_classes()) == [
        "Deeper",
        "XForCausalLM",
        "XModel",
        "XPreTrainedModel",
    ]
    assert sorted(c.name for c in pkg.tokenizer_classes()) == [
        "V5Tok",
        "XTokenizer",
        "XTokenizerFast",
    ]
    assert [m.path for m in pkg.syntax_errors()] == ["broken.py"]
    assert "README.md" not in pkg.modules


def test_package_resolution(pkg):
    deeper = pkg.find_class("Deeper")
    assert pkg.mro_names(deeper) == ["Deeper", "XModel", "XPreTrainedModel", "PreTrainedModel"]
    causal = pkg.find_class("modeling_x.XForCausalLM")
    assert pkg.has_generation_mixin(causal) and not pkg.has_generation_mixin(deeper)
    assert pkg.find_class("modeling_base.XForCausalLM") is None
    assert pkg.config_class_of(deeper).name == "XConfig"
    assert pkg.config_class_of(causal) is None  # names a class that is not in the package
    assert pkg.model_type_of(pkg.find_class("XConfig")) == "my-x"
    assert pkg.model_type_of(pkg.find_class("OtherConfig")) == "x-base"  # inherited
    assert pkg.model_type_of(pkg.find_class("V5Config")) is None
    assert pkg.is_fast_tokenizer_class(pkg.find_class("V5Tok"))
    assert not pkg.is_fast_tokenizer_class(pkg.find_class("XTokenizer"))
    assert not pkg.is_model_class(pkg.find_class("Block"))


def test_inheritance_cycle_terminates():
    pkg = analyze_package(
        {
            "a.py": "from .b import B\nclass A(B): pass\n",
            "b.py": "from .a import A\nclass B(A): pass\n",
        }
    )
    a = pkg.find_class("A")
    assert pkg.mro_names(a) == ["A", "B"]
    assert not pkg.is_model_class(a)


def test_absolute_own_package_base():
    pkg = analyze_package(
        {
            "mypkg/base.py": "from transformers import PreTrainedModel\nclass Base(PreTrainedModel): pass\n",
            "modeling_y.py": "from mypkg.base import Base\nclass Y(Base): pass\n",
        }
    )
    assert pkg.is_model_class(pkg.find_class("Y"))
