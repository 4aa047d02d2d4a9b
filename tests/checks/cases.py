"""Failing and passing cases for every static rule, as data (the registry test runs them all).

A :class:`Case` gives file overrides of the clean repository of ``repo.py`` that trigger the rule
(``fail``) and overrides that must not (``ok``, default: the clean repository itself). Rules that
only staging can report (they are about command-line options or need the model's parameter
names) have a :class:`CallCase` that calls the staging function directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from hf_custom.findings import Finding

from .repo import (
    CARD,
    CONFIG,
    CONFIGURATION,
    MODELING,
    TOKENIZER_CONFIG,
    WEIGHTS,
    Content,
    Sparse,
    config_with,
    safetensors_bytes,
)

MATRIX_TOML = 'transformers = ["4.57", "latest"]\n'


def _card_verified(*versions: str) -> str:
    from hf_custom.compatibility import Compatibility, VersionResult, render_section, with_section

    compat = Compatibility(
        "2026-12-01", "0.2.0", tuple(VersionResult(v, ok=True) for v in versions)
    )
    return with_section(CARD, render_section(compat))


@dataclass(frozen=True)
class Case:
    fail: Mapping[str, Content]
    ok: Mapping[str, Content] = field(default_factory=dict)


@dataclass(frozen=True)
class CallCase:
    fail: Callable[[], Iterable[Finding]]
    ok: Callable[[], Iterable[Finding]]


def modeling(old: str, new: str) -> str:
    assert old in MODELING, old
    return MODELING.replace(old, new, 1)


def _auto_map(**changes: str | None) -> str:
    amap = dict(CONFIG["auto_map"])
    for k, v in changes.items():
        if v is None:
            amap.pop(k, None)
        else:
            amap[k] = v
    return config_with(auto_map=amap)


def _normalize(**kw: object) -> Callable[[], Iterable[Finding]]:
    def run() -> Iterable[Finding]:
        from hf_custom.codeinfo import analyze_package
        from hf_custom.staging.config import normalize_config

        code = analyze_package({"configuration_toy.py": CONFIGURATION, "modeling_toy.py": MODELING})
        return normalize_config(CONFIG, code, **kw).findings  # type: ignore[arg-type]

    return run


def _with_head(**kw: object) -> Callable[[], Iterable[Finding]]:
    """normalize_config on the clean code plus a head class the auto_map does not name."""

    def run() -> Iterable[Finding]:
        from hf_custom.codeinfo import analyze_package
        from hf_custom.staging.config import normalize_config

        head = "\n\nclass ToyForSequenceClassification(ToyPreTrainedModel):\n    pass\n"
        code = analyze_package(
            {"configuration_toy.py": CONFIGURATION, "modeling_toy.py": MODELING + head}
        )
        return normalize_config(CONFIG, code, **kw).findings  # type: ignore[arg-type]

    return run


def _convert(
    build: Callable[[], dict[str, object]], **kw: object
) -> Callable[[], Iterable[Finding]]:
    """Findings of C's converter on a tiny torch checkpoint built by ``build`` (needs torch)."""

    def run() -> Iterable[Finding]:
        import tempfile
        from pathlib import Path

        import torch

        from hf_custom.weights import convert

        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "pytorch_model.bin"
            torch.save(build(), src)
            return convert(src, Path(tmp) / "out", **kw).findings  # type: ignore[arg-type]

    return run


def _plain() -> dict[str, object]:
    import torch

    return {"embed.weight": torch.ones(4, 2), "head.weight": torch.zeros(4, 2)}


def _shared() -> dict[str, object]:
    import torch

    w = torch.ones(4, 2)
    return {"embed.weight": w, "head.weight": w}


def _with_step() -> dict[str, object]:
    return {"state_dict": _plain(), "epoch": 3}


def _st(tensors: dict[str, tuple[str, list[int]]]) -> bytes:
    return safetensors_bytes(tensors)


def _index(weight_map: dict[str, str]) -> str:
    return json.dumps({"metadata": {"total_size": 0}, "weight_map": weight_map})


SHARDED = {
    "model.safetensors": None,
    "model-00001-of-00002.safetensors": _st({"model.embed.weight": ("F32", [8, 16])}),
    "model-00002-of-00002.safetensors": _st({"model.extra.weight": ("F32", [2, 2])}),
}
GOOD_INDEX = _index(
    {
        "model.embed.weight": "model-00001-of-00002.safetensors",
        "model.extra.weight": "model-00002-of-00002.safetensors",
    }
)
PICKLE_WITH_GLOBAL = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03."  # os.system("ls"), never loaded: only scanned
PLAIN_PICKLE = b"\x80\x02}q\x00."  # {}


def _torch_file() -> bytes:
    import io

    import torch

    buf = io.BytesIO()
    torch.save({"model.embed.weight": torch.ones(8, 16)}, buf)
    return buf.getvalue()


TORCH_FILE = _torch_file()

TOKEN = "hf_" + "Q7" * 17  # looks like a token; is not one
CUSTOM_TOKENIZER = """\
from transformers import PreTrainedTokenizerFast


class ToyTokenizer(PreTrainedTokenizerFast):
    pass
"""

CASES: dict[str, Case | CallCase] = {
    # -- config.json ---------------------------------------------------------------------------
    "HFC100": Case(fail={"config.json": "{not json"}),
    "HFC101": Case(fail={"config.json": config_with(model_type=None)}),
    "HFC102": Case(fail={"config.json": config_with(model_type="toyother")}),
    "HFC103": Case(
        fail={
            "config.json": config_with(model_type="bert"),
            "configuration_toy.py": CONFIGURATION.replace('"toyhfc"', '"bert"'),
        }
    ),
    "HFC104": Case(fail={"config.json": _auto_map(AutoModelForCausalLM=None)}),
    "HFC105": Case(fail={"config.json": _auto_map(AutoModel="modeling_toy.NoSuchModel")}),
    "HFC106": Case(
        fail={
            "modeling_toy.py": MODELING + "\n\nclass ToyLMHeadModel(ToyForCausalLM):\n    pass\n",
            "config.json": _auto_map(AutoModelForCausalLM=None),
        }
    ),
    "HFC117": Case(fail={"config.json": _auto_map(AutoConfig=None)}),
    "HFC119": Case(
        fail={"config.json": _auto_map(AutoModel="someone/elsewhere--modeling_other.OtherModel")},
        # the module ships here: the value is pointed at it (a change), no HFC119
        ok={"config.json": _auto_map(AutoModel="someone/elsewhere--modeling_toy.ToyModel")},
    ),
    "HFC107": Case(fail={"config.json": config_with(architectures=None)}),
    "HFC108": Case(fail={"config.json": config_with(torch_dtype="float32")}),
    "HFC109": Case(fail={"config.json": config_with(transformers_version=None)}),
    "HFC110": Case(
        fail={"config.json": config_with(rope_scaling={"type": "linear", "factor": 2.0})},
        ok={"config.json": config_with(rope_scaling={"rope_type": "linear", "factor": 2.0})},
    ),
    "HFC111": Case(fail={"config.json": config_with(temperature=0.7)}),
    "HFC112": Case(
        fail={
            "configuration_toy.py": "class ToyConfig:\n    model_type = 'toyhfc'\n",
            "config.json": _auto_map(AutoConfig=None),
        }
    ),
    "HFC113": CallCase(
        fail=_normalize(
            weight_names=["x.weight"],
            class_params={"ToyModel": ["embed.weight"], "ToyForCausalLM": ["lm_head.weight"]},
        ),
        ok=_normalize(
            weight_names=["embed.weight"],
            class_params={"ToyModel": ["embed.weight"], "ToyForCausalLM": ["lm_head.weight"]},
        ),
    ),
    "HFC114": CallCase(fail=_normalize(architecture="NoSuchClass"), ok=_normalize()),
    "HFC116": CallCase(
        fail=_with_head(unusable={"ToyForSequenceClassification": "ValueError: no"}),
        ok=_with_head(),
    ),
    "HFC115": Case(
        fail={
            "modeling_toy.py": modeling(
                "self.post_init()\n\n    def forward(self, input_ids=None, **kwargs)",
                "self.cache = config.use_cache\n        self.post_init()\n\n"
                "    def forward(self, input_ids=None, **kwargs)",
            )
        }
    ),
    # -- code ----------------------------------------------------------------------------------
    "HFC201": Case(
        fail={
            "modeling_toy.py": modeling(
                "import torch\n", "import torch\nfrom .layers import Block\n"
            )
        },
        ok={
            "modeling_toy.py": modeling(
                "import torch\n", "import torch\nfrom .layers import Block\n"
            ),
            "layers.py": "class Block:\n    pass\n",
        },
    ),
    "HFC202": Case(
        fail={
            "modeling_toy.py": modeling(
                "import torch\n", "import torch\nfrom .sub.layers import Block\n"
            ),
            "sub/__init__.py": "",
            "sub/layers.py": "class Block:\n    pass\n",
        }
    ),
    "HFC203": Case(
        fail={
            "modeling_toy.py": modeling(
                "import torch\n", "import torch\nfrom toypkg.layers import Block\n"
            ),
            "toypkg/__init__.py": "",
            "toypkg/layers.py": "class Block:\n    pass\n",
        }
    ),
    "HFC204": Case(
        fail={
            "modeling_toy.py": modeling(
                "import torch\n", "import torch\nimport hfc_not_installed_pkg\n"
            )
        },
        ok={"modeling_toy.py": modeling("import torch\n", "import torch\nimport json\n")},
    ),
    "HFC205": Case(
        fail={
            "modeling_toy.py": modeling(
                "import torch\n",
                "import torch\ntry:\n    import hfc_not_installed_pkg\nexcept ImportError:\n    pass\n",
            )
        },
    ),
    "HFC206": Case(fail={"modeling_toy.py": MODELING + "\ndef broken(:\n"}),
    "HFC207": Case(fail={"config.json": _auto_map(AutoModel="modeling_gone.ToyModel")}),
    "HFC208": Case(
        fail={
            "modeling_toy.py": modeling("import torch\n", "import torch\nfrom . import layers\n"),
            "layers.py": "class Block:\n    pass\n",
        },
        ok={
            "modeling_toy.py": modeling(
                "import torch\n", "import torch\nfrom .layers import Block\n"
            ),
            "layers.py": "class Block:\n    pass\n",
        },
    ),
    "HFC209": Case(
        fail={
            "modeling_toy.py": modeling("import torch\n", "import torch\nfrom ..shared import f\n")
        }
    ),
    "HFC211": Case(
        fail={
            "modeling_toy.py": modeling(
                "import torch\n", "import torch\nfrom ...activations import ACT2FN\n"
            )
        },
        ok={
            "modeling_toy.py": modeling(
                "import torch\n", "import torch\nfrom transformers.activations import ACT2FN\n"
            )
        },
    ),
    "HFC210": Case(
        fail={
            "modeling_toy.py": MODELING
            + '\n\ndef build():\n    """Usage:\n\n    from .blocks import Block\n    """\n'
        }
    ),
    "HFC250": Case(
        fail={
            "modeling_toy.py": modeling(
                "import torch\n",
                "import torch\nfrom transformers.modeling_attn_mask_utils import "
                "_prepare_4d_causal_attention_mask\n",
            )
        },
        ok={
            "modeling_toy.py": modeling(
                "import torch\n",
                "import torch\ntry:\n    from transformers.modeling_attn_mask_utils import "
                "_prepare_4d_causal_attention_mask\nexcept ImportError:\n    pass\n",
            )
        },
    ),
    "HFC251": Case(
        fail={
            "modeling_toy.py": modeling(
                "        hidden = self.model(input_ids)",
                "        self.get_head_mask(None, 2)\n        hidden = self.model(input_ids)",
            )
        }
    ),
    "HFC252": Case(
        fail={
            "modeling_toy.py": modeling(
                "self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n        self.post_init()",
                "self.embed = nn.Embedding(config.vocab_size, config.hidden_size)",
            )
        }
    ),
    "HFC253": Case(
        fail={
            "modeling_toy.py": modeling(
                '_tied_weights_keys = {"lm_head.weight": "model.embed.weight"}',
                '_tied_weights_keys = ["lm_head.weight"]',
            )
        }
    ),
    "HFC254": Case(
        fail={
            "modeling_toy.py": modeling(
                "class ToyForCausalLM(ToyPreTrainedModel, GenerationMixin):",
                "class ToyForCausalLM(ToyPreTrainedModel):",
            )
        }
    ),
    "HFC255": Case(
        fail={
            "modeling_toy.py": modeling(
                "        hidden = self.model(input_ids)",
                "        scale = self.config.hfc_undefined_scale\n        hidden = self.model(input_ids)",
            )
        },
        ok={
            "modeling_toy.py": modeling(
                "        hidden = self.model(input_ids)",
                "        size = self.config.hidden_size\n        hidden = self.model(input_ids)",
            )
        },
    ),
    "HFC256": Case(
        fail={
            "modeling_toy.py": modeling(
                "import torch\n", "import os\nimport torch\nos.system('ls')\n"
            )
        },
        ok={
            "modeling_toy.py": modeling(
                "import torch\n", "import os\nimport torch\nos.path.join('a')\n"
            )
        },
    ),
    "HFC257": Case(
        fail={
            "modeling_toy.py": modeling(
                "        hidden = self.model(input_ids)",
                '        kind = self.config.rope_scaling["type"]\n        hidden = self.model(input_ids)',
            )
        },
        ok={
            "modeling_toy.py": modeling(
                "        hidden = self.model(input_ids)",
                '        kind = self.config.rope_scaling["rope_type"]\n'
                "        hidden = self.model(input_ids)",
            )
        },
    ),
    "HFC700": Case(
        fail={
            "modeling_toy.py": modeling(
                "        hidden = self.model(input_ids)",
                "        if self.config.rope_scaling is not None:\n"
                '            factor = self.config.rope_scaling["factor"]\n'
                "        hidden = self.model(input_ids)",
            )
        },
        ok={
            "modeling_toy.py": modeling(
                "        hidden = self.model(input_ids)",
                "        rope_scaling = kwargs.get('rope_scaling')\n"
                "        if rope_scaling is not None:  # the caller's value: v5 leaves it\n"
                "            pass\n"
                "        hidden = self.model(input_ids)",
            )
        },
    ),
    "HFC701": Case(
        fail={
            "modeling_toy.py": modeling(
                "import torch\n",
                "import torch\nfrom transformers.cache_utils import DynamicCache\n",
            ).replace(
                "        hidden = self.model(input_ids)",
                "        past = DynamicCache.from_legacy_cache(kwargs.get('past'))\n"
                "        n = past.get_usable_length(input_ids.shape[1])\n"
                "        hidden = self.model(input_ids)",
                1,
            )
        },
        ok={
            "modeling_toy.py": modeling(
                "import torch\n",
                "import torch\nfrom transformers.cache_utils import DynamicCache\n",
            ).replace(
                "        hidden = self.model(input_ids)",
                "        past = DynamicCache()\n        n = past.get_seq_length()\n"
                "        m = past.get_max_length()\n"
                "        hidden = self.model(input_ids)",
                1,
            )
        },
    ),
    "HFC258": Case(
        fail={
            "modeling_toy.py": MODELING + "\n\nclass ToyTokenizer(PreTrainedTokenizer):\n"
            "    def _pad(self, encoded_inputs, max_length=None, return_attention_mask=None):\n"
            "        return encoded_inputs\n"
        },
        ok={
            "modeling_toy.py": MODELING + "\n\nclass ToyTokenizer(PreTrainedTokenizer):\n"
            "    def _pad(self, encoded_inputs, max_length=None, padding_side=None):\n"
            "        return encoded_inputs\n"
        },
    ),
    "HFC259": Case(
        fail={
            "configuration_toy.py": CONFIGURATION.replace(
                "vocab_size=8,", "vocab_size=8, n_layer=2,"
            ).replace("        super()", "        self.n_layer = n_layer\n        super()")
        },
        ok={
            "configuration_toy.py": CONFIGURATION.replace(
                '    model_type = "toyhfc"\n',
                '    model_type = "toyhfc"\n    attribute_map = {"num_hidden_layers": "n_layer"}\n',
            )
            .replace("vocab_size=8,", "vocab_size=8, n_layer=2,")
            .replace("        super()", "        self.n_layer = n_layer\n        super()")
        },
    ),
    "HFC260": Case(
        fail={
            "configuration_toy.py": CONFIGURATION
            + "\n    def __post_init__(self):\n        self.width = 2 * self.hidden_size\n"
        },
        ok={
            "configuration_toy.py": CONFIGURATION
            + "\n    def __post_init__(self, **kwargs):\n        self.width = 2 * self.hidden_size\n"
            "        super().__post_init__(**kwargs)\n"
        },
    ),
    "HFC261": Case(
        fail={
            "modeling_toy.py": modeling(
                "        hidden = self.model(input_ids)",
                "        cache = self.config.use_cache\n        hidden = self.model(input_ids)",
            )
        },
        ok={
            "modeling_toy.py": modeling(
                "        hidden = self.model(input_ids)",
                "        cache = self.config.use_cache\n        hidden = self.model(input_ids)",
            ),
            "configuration_toy.py": CONFIGURATION.replace(
                "tie_word_embeddings=True, **kwargs",
                "tie_word_embeddings=True, use_cache=True, **kwargs",
            ).replace("        super()", "        self.use_cache = use_cache\n        super()"),
        },
    ),
    "HFC262": Case(
        fail={
            "modeling_toy.py": modeling(
                "class ToyPreTrainedModel(",
                "class Rotary(nn.Module):\n    def __init__(self, dim):\n        super().__init__()\n"
                '        self.register_buffer("inv_freq", torch.arange(dim), persistent=False)\n\n\n'
                "class ToyPreTrainedModel(",
            )
        },
        ok={
            "modeling_toy.py": modeling(
                "class ToyPreTrainedModel(",
                "class Rotary(nn.Module):\n    def __init__(self, dim):\n        super().__init__()\n"
                '        self.register_buffer("inv_freq", torch.arange(dim), persistent=True)\n\n\n'
                "class ToyPreTrainedModel(",
            )
        },
    ),
    "HFC240": Case(
        fail={
            "modeling_toy.py": modeling(
                "        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n",
                "        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n"
                "        assert torch.cuda.is_available()\n",
            )
        },
        ok={
            "modeling_toy.py": modeling(
                "        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n",
                "        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n"
                "        if torch.cuda.is_available():\n            self.embed = self.embed.cuda()\n",
            )
        },
    ),
    "HFC263": Case(
        fail={
            "modeling_toy.py": modeling(
                "class ToyPreTrainedModel(",
                "class Attn(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                '        self.register_buffer("masked_bias", torch.tensor(-1e4), persistent=False)\n\n\n'
                "class ToyPreTrainedModel(",
            ).replace(
                '    base_model_prefix = "model"\n',
                '    base_model_prefix = "model"\n\n    def _init_weights(self, module):\n'
                "        for name, p in module.named_parameters():\n"
                '            if name == "c_proj.weight":\n                p.data.normal_()\n',
            )
        },
        ok={
            "modeling_toy.py": modeling(
                '    base_model_prefix = "model"\n',
                '    base_model_prefix = "model"\n\n    def _init_weights(self, module):\n'
                "        for name, p in module.named_parameters():\n"
                '            if name == "c_proj.weight":\n                p.data.normal_()\n',
            )
        },
    ),
    "HFC264": Case(
        fail={
            "modeling_toy.py": modeling(
                "        hidden = self.model(input_ids)",
                "        past = self._extract_past_from_model_output(None)\n"
                "        hidden = self.model(input_ids)",
            )
        },
    ),
    "HFC265": Case(
        fail={
            "tokenization_toy.py": "from transformers import PreTrainedTokenizer\n\n\n"
            "class ToyTokenizer(PreTrainedTokenizer):\n"
            "    def __init__(self, **kwargs):\n        super().__init__(unk_token='a', **kwargs)\n"
            '        self.vocab = {"a": 0}\n\n    def get_vocab(self):\n        return self.vocab\n'
        },
        ok={
            "tokenization_toy.py": "from transformers import PreTrainedTokenizer\n\n\n"
            "class ToyTokenizer(PreTrainedTokenizer):\n"
            '    def __init__(self, **kwargs):\n        self.vocab = {"a": 0}\n'
            "        super().__init__(unk_token='a', **kwargs)\n\n    def get_vocab(self):\n"
            "        return self.vocab\n"
        },
    ),
    "HFC266": Case(
        fail={
            "modeling_toy.py": modeling(
                "class ToyForCausalLM(ToyPreTrainedModel, GenerationMixin):\n",
                "class ToyForCausalLM(ToyPreTrainedModel, GenerationMixin):\n"
                "    def prepare_inputs_for_generation(self, input_ids, **kwargs):\n"
                '        return {"input_ids": input_ids, "mask": kwargs["attention_mask"]}\n\n',
            )
        },
        ok={
            "modeling_toy.py": MODELING.replace(
                "class ToyForCausalLM(ToyPreTrainedModel, GenerationMixin):\n",
                "class ToyForCausalLM(ToyPreTrainedModel, GenerationMixin):\n"
                "    def prepare_inputs_for_generation(self, input_ids, **kwargs):\n"
                '        return {"input_ids": input_ids, "mask": kwargs.get("attention_mask")}\n\n',
            )
        },
    ),
    # -- weights -------------------------------------------------------------------------------
    "HFC300": Case(
        fail={"training_args.bin": PICKLE_WITH_GLOBAL}, ok={"training_args.bin": PLAIN_PICKLE}
    ),
    "HFC301": Case(fail={"model.safetensors": _st({"model.embed.weight": ("F64", [8, 16])})}),
    "HFC302": CallCase(fail=_convert(_shared), ok=_convert(_plain)),
    "HFC303": CallCase(fail=_convert(_with_step), ok=_convert(_plain)),
    "HFC304": Case(
        fail={"model.safetensors": Sparse(21 * 10**9)}, ok={"model.safetensors": Sparse(10**9)}
    ),
    "HFC305": CallCase(
        fail=_convert(_plain, expected_keys=["embed.weight", "head.weight", "norm.weight"]),
        ok=_convert(_plain, expected_keys=["embed.weight", "head.weight"]),
    ),
    "HFC350": Case(
        fail={"model.safetensors": None, "pytorch_model.bin": PLAIN_PICKLE},
        ok={"pytorch_model.bin": PLAIN_PICKLE},
    ),
    "HFC360": Case(
        fail={"pytorch_model.bin": TORCH_FILE[: len(TORCH_FILE) // 2]},
        ok={"model.safetensors": None, "pytorch_model.bin": TORCH_FILE},
    ),
    "HFC351": Case(
        fail={**SHARDED, "model.safetensors.index.json": json.dumps({"metadata": {}})},
        ok={**SHARDED, "model.safetensors.index.json": GOOD_INDEX},
    ),
    "HFC352": Case(
        fail={
            **SHARDED,
            "model-00002-of-00002.safetensors": None,
            "model.safetensors.index.json": GOOD_INDEX,
        },
        ok={**SHARDED, "model.safetensors.index.json": GOOD_INDEX},
    ),
    "HFC353": Case(
        fail={
            **SHARDED,
            "model.safetensors.index.json": _index(
                {
                    "model.embed.weight": "model-00002-of-00002.safetensors",
                    "model.extra.weight": "model-00002-of-00002.safetensors",
                }
            ),
        },
        ok={**SHARDED, "model.safetensors.index.json": GOOD_INDEX},
    ),
    "HFC354": Case(
        fail={
            **SHARDED,
            "model-00002-of-00002.safetensors": _st(
                {"model.extra.weight": ("F32", [2, 2]), "model.embed.weight": ("F32", [8, 16])}
            ),
            "model.safetensors.index.json": GOOD_INDEX,
        },
        ok={**SHARDED, "model.safetensors.index.json": GOOD_INDEX},
    ),
    "HFC355": Case(
        fail={"model.safetensors": _st(WEIGHTS)[:-10]},
        ok={"model.safetensors": _st(WEIGHTS)},
    ),
    "HFC356": Case(
        fail={
            **SHARDED,
            "model-00003-of-00003.safetensors": _st({"old.weight": ("F32", [1])}),
            "model.safetensors.index.json": GOOD_INDEX,
        },
        ok={**SHARDED, "model.safetensors.index.json": GOOD_INDEX},
    ),
    "HFC357": Case(
        fail={"model.safetensors": _st({"module.model.embed.weight": ("F32", [8, 16])})}
    ),
    "HFC358": Case(fail={"model.safetensors": _st({"transformer.wte.weight": ("F32", [8, 16])})}),
    "HFC359": Case(fail={"model.safetensors": None}),
    # -- tokenizer -----------------------------------------------------------------------------
    "HFC400": Case(
        fail={
            "special_tokens_map.json": None,
            "special_token_map.json": json.dumps({"bos_token": "<s>"}),
        }
    ),
    "HFC401": Case(
        fail={"tokenization_toy.py": CUSTOM_TOKENIZER},
        ok={
            "tokenization_toy.py": CUSTOM_TOKENIZER,
            "tokenizer_config.json": json.dumps(
                {
                    **TOKENIZER_CONFIG,
                    "tokenizer_class": "ToyTokenizer",
                    "auto_map": {"AutoTokenizer": [None, "tokenization_toy.ToyTokenizer"]},
                }
            ),
        },
    ),
    "HFC402": Case(fail={"config.json": config_with(bos_token_id=5)}),
    "HFC403": Case(
        fail={
            "tokenizer.json": None,
            "tokenizer_config.json": None,
            "special_tokens_map.json": None,
        }
    ),
    "HFC404": Case(fail={"tokenizer.json": "{broken"}),
    "HFC405": Case(
        fail={
            "tokenization_toy.py": CUSTOM_TOKENIZER,
            "tokenizer_config.json": json.dumps(
                {**TOKENIZER_CONFIG, "auto_map": {"AutoTokenizer": [None, "tokenization_toy.Nope"]}}
            ),
        }
    ),
    "HFC406": Case(fail={"config.json": config_with(pad_token_id=None)}),
    # -- repository ----------------------------------------------------------------------------
    "HFC600": Case(fail={"optimizer.pt": b"\x80\x02}q\x00."}),
    "HFC601": Case(fail={".env": "API_KEY=x\n"}),
    "HFC602": Case(
        fail={"notes.md": f"login with {TOKEN}\n"}, ok={"notes.md": "login with `hf auth login`\n"}
    ),
    "HFC603": Case(fail={"__pycache__/modeling_toy.cpython-311.pyc": b"\x00\x01"}),
    "HFC604": Case(fail={"README.md": None}),
    "HFC605": Case(fail={"README.md": "---\nlibrary_name: [unclosed\n---\n# Toy\n"}),
    "HFC606": Case(fail={"README.md": CARD.replace("- custom_code\n", "- toy\n")}),
    "HFC607": Case(fail={"notes.txt": "todo\n"}),
    # -- matrix --------------------------------------------------------------------------------
    "HFC750": Case(
        fail={"hf-custom.toml": MATRIX_TOML, "README.md": _card_verified("5.24.0")},
        ok={"hf-custom.toml": MATRIX_TOML, "README.md": _card_verified("4.57.6", "5.24.0")},
    ),
    # -- hub -----------------------------------------------------------------------------------
    "HFC650": Case(fail={"data.tar": Sparse(51 * 10**9)}, ok={"data.tar": Sparse(10**9)}),
    "HFC651": Case(fail={"data.tar": Sparse(21 * 10**9)}, ok={"data.tar": Sparse(19 * 10**9)}),
}

# Rules whose cases are tests of their own (named here so the registry test can check they exist).
SPECIAL: dict[str, str] = {
    "HFC699": "tests/checks/test_registry.py::test_crashing_check_is_a_finding",
    # symlinks cannot be written by write_repo: the security suite makes real ones
    "HFC608": "tests/security/test_inputs.py::test_doctor_does_not_follow_links_out",
    # reported by doctor --load on a folder, from the staged copy (no static check)
    "HFC118": "tests/test_doctor_load_staged.py::test_load_verifies_the_staged_copy_and_names_the_repairs",
}
