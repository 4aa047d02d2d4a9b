"""v4-era custom-code packages, written the way they are found on the Hub (tiny sizes).

Each package is given in its v5-clean form (``clean``) plus the edits that turn it into the
v4-era code people published (``v4``: missing post_init, list-form _tied_weights_keys, no
GenerationMixin, imports transformers v5 removed, optional imports inside functions). The clean
form only builds the weights; the corpus tests run ``fix`` on the v4 form.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Package:
    name: str
    config_class: str  # module.Class
    model_class: str  # module.Class whose state dict is the checkpoint
    auto_map: dict[str, str]
    clean: dict[str, str]
    v4_edits: dict[str, list[tuple[str, str]]]  # file -> [(clean text, v4 text)]
    style: str

    def v4(self) -> dict[str, str]:
        files = dict(self.clean)
        for path, edits in self.v4_edits.items():
            for old, new in edits:
                assert old in files[path], (self.name, path, old)
                files[path] = files[path].replace(old, new)
        return files


def _config(name: str, cls: str, fields: dict[str, object]) -> str:
    params = ", ".join(f"{k}={v!r}" for k, v in fields.items())
    sets = "".join(f"        self.{k} = {k}\n" for k in fields)
    return (
        "from transformers import PretrainedConfig\n\n\n"
        f"class {cls}(PretrainedConfig):\n"
        f'    model_type = "{name}"\n\n'
        f"    def __init__(self, {params}, tie_word_embeddings=True, **kwargs):\n"
        f"{sets}"
        "        super().__init__(tie_word_embeddings=tie_word_embeddings, **kwargs)\n"
    )


# --- 1. multi-file decoder (layers in their own file), masks from modeling_attn_mask_utils ----
DEC_LAYERS = """\
import torch
from torch import nn
from transformers.masking_utils import create_causal_mask  # noqa: F401  (the v5 way, unused)


def causal_mask(attention_mask, shape, embeds):
    bsz, q = shape
    mask = torch.full((q, q), torch.finfo(embeds.dtype).min).triu(1)
    mask = mask[None, None].expand(bsz, 1, q, q).clone()
    if attention_mask is not None:
        mask = mask.masked_fill(attention_mask[:, None, None, :] == 0, torch.finfo(embeds.dtype).min)
    return mask


class Rotary(nn.Module):
    def __init__(self, dim, base=10000.0):
        super().__init__()
        self.dim, self.base = dim, base
        self.register_buffer("inv_freq", self.frequencies(), persistent=False)

    def frequencies(self):
        return 1.0 / (self.base ** (torch.arange(0, self.dim, 2).float() / self.dim))

    def forward(self, pos):
        return torch.sin(pos[..., None].float() * self.inv_freq.repeat(2))


class DecoderBlock(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.norm = nn.LayerNorm(config.hidden_size)
        self.attn = nn.MultiheadAttention(config.hidden_size, config.num_heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(config.hidden_size, 2 * config.hidden_size), nn.GELU(),
                                 nn.Linear(2 * config.hidden_size, config.hidden_size))

    def forward(self, x, mask):
        h = self.norm(x)
        a, _ = self.attn(h, h, h, attn_mask=mask[:, 0].repeat_interleave(self.attn.num_heads, 0))
        x = x + a
        return x + self.mlp(x)
"""
DEC_MODELING = """\
import torch
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput, CausalLMOutput

from .configuration_tinydec import TinyDecConfig
from .layers_tinydec import DecoderBlock, Rotary, causal_mask


class TinyDecPreTrainedModel(PreTrainedModel):
    config_class = TinyDecConfig
    base_model_prefix = "model"

    def _init_weights(self, module):
        if isinstance(module, Rotary):  # v5 leaves non-persistent buffers empty on load
            module.inv_freq.copy_(module.frequencies())
        else:
            super()._init_weights(module)


class TinyDecModel(TinyDecPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.embed_positions = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.layers = nn.ModuleList(DecoderBlock(config) for _ in range(config.num_hidden_layers))
        self.norm = nn.LayerNorm(config.hidden_size)
        self.rotary = Rotary(config.hidden_size)
        self.post_init()

    def get_input_embeddings(self):
        return self.embed_tokens

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        bsz, q = input_ids.shape
        pos = torch.arange(q, device=input_ids.device)[None]
        x = self.embed_tokens(input_ids) + self.embed_positions(pos) + self.rotary(pos)
        mask = causal_mask(attention_mask, (bsz, q), x)
        for layer in self.layers:
            x = layer(x, mask)
        return BaseModelOutput(last_hidden_state=self.norm(x))


class TinyDecForCausalLM(TinyDecPreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "model.embed_tokens.weight"}

    def __init__(self, config):
        super().__init__(config)
        self.model = TinyDecModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.model.embed_tokens

    def get_output_embeddings(self):
        return self.lm_head

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        hidden = self.model(input_ids, attention_mask=attention_mask).last_hidden_state
        logits = self.lm_head(hidden)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(logits[:, :-1].flatten(0, 1), labels[:, 1:].flatten())
        return CausalLMOutput(loss=loss, logits=logits)
"""
TINYDEC = Package(
    name="tinydec",
    style="multi-file decoder, layers in their own module",
    config_class="configuration_tinydec.TinyDecConfig",
    model_class="modeling_tinydec.TinyDecForCausalLM",
    auto_map={
        "AutoConfig": "configuration_tinydec.TinyDecConfig",
        "AutoModel": "modeling_tinydec.TinyDecModel",
        "AutoModelForCausalLM": "modeling_tinydec.TinyDecForCausalLM",
    },
    clean={
        "configuration_tinydec.py": _config(
            "tinydec",
            "TinyDecConfig",
            {
                "vocab_size": 16,
                "hidden_size": 16,
                "num_heads": 2,
                "num_hidden_layers": 2,
                "max_position_embeddings": 32,
            },
        ),
        "layers_tinydec.py": DEC_LAYERS,
        "modeling_tinydec.py": DEC_MODELING,
    },
    v4_edits={
        "layers_tinydec.py": [
            (
                "from transformers.masking_utils import create_causal_mask  # noqa: F401  (the v5 way, unused)\n",
                "from transformers.modeling_attn_mask_utils import _prepare_4d_causal_attention_mask  # noqa: F401\n",
            ),
        ],
        "modeling_tinydec.py": [
            (
                "        self.rotary = Rotary(config.hidden_size)\n        self.post_init()\n",
                "        self.rotary = Rotary(config.hidden_size)\n",
            ),
            (
                "\n    def _init_weights(self, module):\n"
                "        if isinstance(module, Rotary):  # v5 leaves non-persistent buffers empty on load\n"
                "            module.inv_freq.copy_(module.frequencies())\n"
                "        else:\n            super()._init_weights(module)\n",
                "",
            ),
            ("(TinyDecPreTrainedModel, GenerationMixin)", "(TinyDecPreTrainedModel)"),
            (
                "from transformers import GenerationMixin, PreTrainedModel",
                "from transformers import PreTrainedModel",
            ),
            ('{"lm_head.weight": "model.embed_tokens.weight"}', '["lm_head.weight"]'),
            (
                "        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)\n        self.post_init()\n",
                "        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)\n",
            ),
        ],
    },
)

# --- 2. encoder with its own attention, fx/sdpa probes, an optional fused kernel -----------
ENC_MODELING = '''\
import math

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput, MaskedLMOutput

from .configuration_tinyenc import TinyEncConfig

USE_FX = True


class SelfAttention(nn.Module):
    """Custom attention (the reason the model is custom code)."""

    def __init__(self, config):
        super().__init__()
        self.heads = config.num_heads
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.out = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, x, mask):
        b, n, d = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, d // self.heads).unbind(2)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // self.heads) + mask
        return self.out((scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d))

    def fused(self, x):
        if self.heads > 64:
            import xformers_hfc_absent.ops as xops  # only for huge models
            return xops.memory_efficient_attention(x, x, x)
        return x


def padding_mask(mask, dtype):
    return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


class TinyEncPreTrainedModel(PreTrainedModel):
    config_class = TinyEncConfig
    base_model_prefix = "encoder"


class TinyEncModel(TinyEncPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(SelfAttention(config) for _ in range(config.num_hidden_layers))
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        x = self.word_embeddings(input_ids)
        mask = padding_mask(attention_mask, x.dtype)
        for layer in self.layers:
            x = x + layer(x, mask)
        return BaseModelOutput(last_hidden_state=x)


class TinyEncForMaskedLM(TinyEncPreTrainedModel):
    _tied_weights_keys = {"decoder.weight": "encoder.word_embeddings.weight"}

    def __init__(self, config):
        super().__init__(config)
        self.encoder = TinyEncModel(config)
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self):
        return self.decoder

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        x = self.encoder(input_ids, attention_mask=attention_mask).last_hidden_state
        return MaskedLMOutput(logits=self.decoder(x))
'''
TINYENC = Package(
    name="tinyenc",
    style="encoder with custom attention",
    config_class="configuration_tinyenc.TinyEncConfig",
    model_class="modeling_tinyenc.TinyEncForMaskedLM",
    auto_map={
        "AutoConfig": "configuration_tinyenc.TinyEncConfig",
        "AutoModel": "modeling_tinyenc.TinyEncModel",
        "AutoModelForMaskedLM": "modeling_tinyenc.TinyEncForMaskedLM",
    },
    clean={
        "configuration_tinyenc.py": _config(
            "tinyenc",
            "TinyEncConfig",
            {"vocab_size": 16, "hidden_size": 16, "num_heads": 2, "num_hidden_layers": 2},
        ),
        "modeling_tinyenc.py": ENC_MODELING.replace(
            "            import xformers_hfc_absent.ops as xops  # only for huge models\n",
            "            try:\n                import xformers_hfc_absent.ops as xops\n"
            "            except ImportError:\n                raise\n",
        ),
    },
    v4_edits={
        "modeling_tinyenc.py": [
            (
                "            try:\n                import xformers_hfc_absent.ops as xops\n"
                "            except ImportError:\n                raise\n",
                "            import xformers_hfc_absent.ops as xops  # only for huge models\n",
            ),
            (
                "from transformers import PreTrainedModel\n",
                "from transformers import PreTrainedModel\nfrom transformers.utils import is_torch_fx_available\n",
            ),
            ("USE_FX = True", "USE_FX = is_torch_fx_available()"),
            ('{"decoder.weight": "encoder.word_embeddings.weight"}', '["decoder.weight"]'),
            (
                "        self.decoder = nn.Linear(config.hidden_size, config.vocab_size, bias=False)\n        self.post_init()\n",
                "        self.decoder = nn.Linear(config.hidden_size, config.vocab_size, bias=False)\n",
            ),
        ],
    },
)

# --- 3. recurrent LM (GRU) ------------------------------------------------------------------
RNN_MODELING = """\
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import CausalLMOutput

from .configuration_tinyrnn import TinyRnnConfig


class TinyRnnPreTrainedModel(PreTrainedModel):
    config_class = TinyRnnConfig
    base_model_prefix = "rnn"


class TinyRnnForCausalLM(TinyRnnPreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"head.weight": "embedding.weight"}

    def __init__(self, config):
        super().__init__(config)
        self.embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.rnn = nn.GRU(config.hidden_size, config.hidden_size, config.num_hidden_layers,
                          batch_first=True)
        self.head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.embedding

    def get_output_embeddings(self):
        return self.head

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        out, _ = self.rnn(self.embedding(input_ids))
        return CausalLMOutput(logits=self.head(out))
"""
TINYRNN = Package(
    name="tinyrnn",
    style="recurrent model",
    config_class="configuration_tinyrnn.TinyRnnConfig",
    model_class="modeling_tinyrnn.TinyRnnForCausalLM",
    auto_map={
        "AutoConfig": "configuration_tinyrnn.TinyRnnConfig",
        "AutoModelForCausalLM": "modeling_tinyrnn.TinyRnnForCausalLM",
    },
    clean={
        "configuration_tinyrnn.py": _config(
            "tinyrnn",
            "TinyRnnConfig",
            {"vocab_size": 16, "hidden_size": 16, "num_hidden_layers": 1},
        ),
        "modeling_tinyrnn.py": RNN_MODELING,
    },
    v4_edits={
        "modeling_tinyrnn.py": [
            ("(TinyRnnPreTrainedModel, GenerationMixin)", "(TinyRnnPreTrainedModel)"),
            (
                "from transformers import GenerationMixin, PreTrainedModel",
                "from transformers import PreTrainedModel",
            ),
            ('{"head.weight": "embedding.weight"}', '["head.weight"]'),
            ("        self.post_init()\n", ""),
        ],
    },
)

# --- 4. mixture-of-experts decoder --------------------------------------------------------
MOE_MODELING = """\
import torch
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput, CausalLMOutput

from .configuration_tinymoe import TinyMoeConfig


class Experts(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.router = nn.Linear(config.hidden_size, config.num_experts, bias=False)
        self.experts = nn.ModuleList(
            nn.Linear(config.hidden_size, config.hidden_size) for _ in range(config.num_experts)
        )
        self.top_k = config.experts_per_token

    def forward(self, x):
        weights, chosen = self.router(x).softmax(-1).topk(self.top_k, dim=-1)
        out = torch.zeros_like(x)
        for k in range(self.top_k):
            for e, expert in enumerate(self.experts):
                sel = (chosen[..., k] == e).unsqueeze(-1)
                out = out + sel * weights[..., k : k + 1] * expert(x)
        return out

    def quantize(self):
        import bitsandbytes_hfc_absent as bnb
        return bnb


class TinyMoePreTrainedModel(PreTrainedModel):
    config_class = TinyMoeConfig
    base_model_prefix = "model"


class TinyMoeModel(TinyMoePreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.tok_embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.blocks = nn.ModuleList(Experts(config) for _ in range(config.num_hidden_layers))
        self.post_init()

    def forward(self, input_ids=None, **kwargs):
        x = self.tok_embeddings(input_ids)
        for block in self.blocks:
            x = x + block(x).cumsum(1) / torch.arange(1, x.shape[1] + 1)[None, :, None]
        return BaseModelOutput(last_hidden_state=x)


class TinyMoeForCausalLM(TinyMoePreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"output.weight": "model.tok_embeddings.weight"}

    def __init__(self, config):
        super().__init__(config)
        self.model = TinyMoeModel(config)
        self.output = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self):
        return self.output

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        hidden = self.model(input_ids).last_hidden_state
        return CausalLMOutput(logits=self.output(hidden))
"""
TINYMOE = Package(
    name="tinymoe",
    style="mixture-of-experts decoder",
    config_class="configuration_tinymoe.TinyMoeConfig",
    model_class="modeling_tinymoe.TinyMoeForCausalLM",
    auto_map={
        "AutoConfig": "configuration_tinymoe.TinyMoeConfig",
        "AutoModelForCausalLM": "modeling_tinymoe.TinyMoeForCausalLM",
    },
    clean={
        "configuration_tinymoe.py": _config(
            "tinymoe",
            "TinyMoeConfig",
            {
                "vocab_size": 16,
                "hidden_size": 8,
                "num_experts": 4,
                "experts_per_token": 2,
                "num_hidden_layers": 1,
            },
        ),
        "modeling_tinymoe.py": MOE_MODELING.replace(
            "        import bitsandbytes_hfc_absent as bnb\n",
            "        try:\n            import bitsandbytes_hfc_absent as bnb\n"
            "        except ImportError:\n            raise\n",
        ),
    },
    v4_edits={
        "modeling_tinymoe.py": [
            (
                "        try:\n            import bitsandbytes_hfc_absent as bnb\n"
                "        except ImportError:\n            raise\n",
                "        import bitsandbytes_hfc_absent as bnb\n",
            ),
            ("(TinyMoePreTrainedModel, GenerationMixin)", "(TinyMoePreTrainedModel)"),
            (
                "from transformers import GenerationMixin, PreTrainedModel",
                "from transformers import PreTrainedModel",
            ),
            ('{"output.weight": "model.tok_embeddings.weight"}', '["output.weight"]'),
            ("        self.post_init()\n", ""),
        ],
    },
)

# --- 5. chat decoder in the ChatGLM style: explicit config args + **kwargs, num_layers --------
CHAT_CONFIG = """\
from transformers import PretrainedConfig


class TinyChatConfig(PretrainedConfig):
    model_type = "tinychat"
    attribute_map = {"num_hidden_layers": "num_layers"}
    max_length: object = 20  # a declared field: v5's generate() refuses undeclared ones

    def __init__(
        self,
        vocab_size=16,
        hidden_size=16,
        num_layers=2,
        ffn_hidden_size=32,
        max_length=20,
        use_cache=None,
        tie_word_embeddings=False,
        **kwargs,
    ):
        self.vocab_size = vocab_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.ffn_hidden_size = ffn_hidden_size
        super().__init__(tie_word_embeddings=tie_word_embeddings, **kwargs)
        self.max_length = max_length
        self.use_cache = use_cache
        self._legacy_post_init()

    def _legacy_post_init(self):
        self.kv_channels = self.hidden_size // 2
"""
CHAT_MODELING = """\
import torch
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import (
    BaseModelOutput,
    CausalLMOutputWithPast,
)

from .configuration_tinychat import TinyChatConfig


class GLMBlock(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.query_key_value = nn.Linear(config.hidden_size, 3 * config.kv_channels)
        self.dense = nn.Linear(config.kv_channels, config.hidden_size)
        self.mlp = nn.Sequential(
            nn.Linear(config.hidden_size, config.ffn_hidden_size), nn.GELU(),
            nn.Linear(config.ffn_hidden_size, config.hidden_size),
        )

    def forward(self, x):
        q, k, v = self.query_key_value(x).chunk(3, dim=-1)
        n = x.shape[1]
        mask = torch.full((n, n), float("-inf")).triu(1)
        attn = ((q @ k.transpose(-1, -2)) / q.shape[-1] ** 0.5 + mask).softmax(-1) @ v
        x = x + self.dense(attn)
        return x + self.mlp(x)


class TinyChatPreTrainedModel(PreTrainedModel):
    config_class = TinyChatConfig
    base_model_prefix = "transformer"


class TinyChatModel(TinyChatPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(GLMBlock(config) for _ in range(config.num_layers))
        self.seq_length = config.max_length
        self.post_init()

    def forward(self, input_ids=None, use_cache=None, **kwargs):
        use_cache = use_cache if use_cache is not None else self.config.use_cache
        x = self.embedding(input_ids[:, -self.seq_length :])
        for layer in self.layers:
            x = layer(x)
        return BaseModelOutput(last_hidden_state=x)


class TinyChatForConditionalGeneration(TinyChatPreTrainedModel, GenerationMixin):
    def __init__(self, config):
        super().__init__(config)
        self.transformer = TinyChatModel(config)
        self.output_layer = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, labels=None, use_cache=None, **kwargs):
        hidden = self.transformer(input_ids, use_cache=use_cache).last_hidden_state
        return CausalLMOutputWithPast(logits=self.output_layer(hidden))
"""
TINYCHAT = Package(
    name="tinychat",
    style="chat decoder (ChatGLM style): config args + **kwargs, num_layers, reads max_length "
    "and use_cache",
    config_class="configuration_tinychat.TinyChatConfig",
    model_class="modeling_tinychat.TinyChatForConditionalGeneration",
    auto_map={
        "AutoConfig": "configuration_tinychat.TinyChatConfig",
        "AutoModel": "modeling_tinychat.TinyChatModel",
        "AutoModelForCausalLM": "modeling_tinychat.TinyChatForConditionalGeneration",
    },
    clean={"configuration_tinychat.py": CHAT_CONFIG, "modeling_tinychat.py": CHAT_MODELING},
    v4_edits={
        "configuration_tinychat.py": [
            ('    attribute_map = {"num_hidden_layers": "num_layers"}\n', ""),
            (
                "    max_length: object = 20  # a declared field: v5's generate() refuses undeclared ones\n",
                "",
            ),
            ("        max_length=20,\n        use_cache=None,\n", ""),
            ("        self.max_length = max_length\n        self.use_cache = use_cache\n", ""),
            ("_legacy_post_init", "__post_init__"),
        ],
        "modeling_tinychat.py": [
            ("(TinyChatPreTrainedModel, GenerationMixin)", "(TinyChatPreTrainedModel)"),
            (
                "from transformers import GenerationMixin, PreTrainedModel",
                "from transformers import PreTrainedModel",
            ),
        ],
    },
)

# --- 6. GPT-2/Qwen-v1 style decoder: by-name c_proj init, masked_bias, own generate hook ------
QWEN_MODELING = """\
import math

import torch
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput, CausalLMOutputWithPast

from .configuration_tinyqwen import TinyQwenConfig


class OutProj(nn.Linear):
    \"\"\"The residual projection (GPT-2's c_proj), initialised with a depth-scaled std.\"\"\"


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_attn = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.c_proj = OutProj(config.hidden_size, config.hidden_size, bias=False)
        self.register_buffer("masked_bias", torch.tensor(-1e4), persistent=False)

    def forward(self, x):
        q, k, v = self.c_attn(x).chunk(3, dim=-1)
        n = x.shape[1]
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])
        causal = torch.ones(n, n, dtype=torch.bool, device=x.device).tril()
        scores = torch.where(causal, scores, self.masked_bias.to(scores.dtype))
        return self.c_proj(scores.softmax(-1) @ v)


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln = nn.LayerNorm(config.hidden_size)
        self.attn = Attention(config)

    def forward(self, x):
        return x + self.attn(self.ln(x))


class TinyQwenPreTrainedModel(PreTrainedModel):
    config_class = TinyQwenConfig
    base_model_prefix = "transformer"

    def _init_weights(self, module):
        std = self.config.initializer_range
        if isinstance(module, Attention):  # v5 leaves non-persistent buffers empty on load
            module.masked_bias.fill_(-1e4)
        if isinstance(module, OutProj):
            module.weight.data.normal_(mean=0.0, std=std / math.sqrt(2 * self.config.num_hidden_layers))
        elif isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=std)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=std)


class TinyQwenModel(TinyQwenPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.wte = nn.Embedding(config.vocab_size, config.hidden_size)
        self.h = nn.ModuleList(Block(config) for _ in range(config.num_hidden_layers))
        self.ln_f = nn.LayerNorm(config.hidden_size)
        self.post_init()

    def forward(self, input_ids=None, **kwargs):
        x = self.wte(input_ids)
        for block in self.h:
            x = block(x)
        return BaseModelOutput(last_hidden_state=self.ln_f(x))


class TinyQwenLMHeadModel(TinyQwenPreTrainedModel, GenerationMixin):
    def __init__(self, config):
        super().__init__(config)
        self.transformer = TinyQwenModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        hidden = self.transformer(input_ids).last_hidden_state
        return CausalLMOutputWithPast(logits=self.lm_head(hidden))

    def _update_model_kwargs_for_generation(self, outputs, model_kwargs, **kwargs):
        model_kwargs = super()._update_model_kwargs_for_generation(outputs, model_kwargs, **kwargs)
        model_kwargs["past_key_values"] = outputs.get("past_key_values")
        return model_kwargs

    def prepare_inputs_for_generation(self, input_ids, past_key_values=None, **kwargs):
        attention_mask = kwargs.get("attention_mask")
        if attention_mask is None:  # v5's generate() drops an all-ones mask
            attention_mask = input_ids.new_ones(input_ids.shape)
        return {"input_ids": input_ids, "attention_mask": attention_mask.bool()}
"""
TINYQWEN = Package(
    name="tinyqwen",
    style="GPT-2/Qwen-v1 decoder: _init_weights re-initialises c_proj.weight by name, a "
    "masked_bias buffer, its own _update_model_kwargs_for_generation and "
    "prepare_inputs_for_generation",
    config_class="configuration_tinyqwen.TinyQwenConfig",
    model_class="modeling_tinyqwen.TinyQwenLMHeadModel",
    auto_map={
        "AutoConfig": "configuration_tinyqwen.TinyQwenConfig",
        "AutoModel": "modeling_tinyqwen.TinyQwenModel",
        "AutoModelForCausalLM": "modeling_tinyqwen.TinyQwenLMHeadModel",
    },
    clean={
        "configuration_tinyqwen.py": _config(
            "tinyqwen",
            "TinyQwenConfig",
            {
                "vocab_size": 16,
                "hidden_size": 16,
                "num_hidden_layers": 2,
                "initializer_range": 0.02,
            },
        ),
        "modeling_tinyqwen.py": QWEN_MODELING,
    },
    v4_edits={
        "modeling_tinyqwen.py": [
            (
                "        if isinstance(module, Attention):  # v5 leaves non-persistent buffers empty on load\n"
                "            module.masked_bias.fill_(-1e4)\n"
                "        if isinstance(module, OutProj):\n"
                "            module.weight.data.normal_(mean=0.0, std=std / math.sqrt(2 * self.config.num_hidden_layers))\n"
                "        elif isinstance(module, nn.Linear):\n",
                "        if isinstance(module, nn.Linear):\n",
            ),
            (
                "            module.weight.data.normal_(mean=0.0, std=std)\n\n\n"
                "class TinyQwenModel(",
                "            module.weight.data.normal_(mean=0.0, std=std)\n"
                "        for name, p in module.named_parameters():\n"
                '            if name == "c_proj.weight":\n'
                "                p.data.normal_(mean=0.0, std=std / math.sqrt(2 * self.config.num_hidden_layers))\n\n\n"
                "class TinyQwenModel(",
            ),
            (
                'outputs.get("past_key_values")',
                "self._extract_past_from_model_output(\n            outputs, standardize_cache_format=False\n        )",
            ),
            (
                '        attention_mask = kwargs.get("attention_mask")\n'
                "        if attention_mask is None:  # v5's generate() drops an all-ones mask\n"
                "            attention_mask = input_ids.new_ones(input_ids.shape)\n",
                '        attention_mask = kwargs["attention_mask"]\n',
            ),
            ("(TinyQwenPreTrainedModel, GenerationMixin)", "(TinyQwenPreTrainedModel)"),
            (
                "from transformers import GenerationMixin, PreTrainedModel",
                "from transformers import PreTrainedModel",
            ),
            (
                "        self.ln_f = nn.LayerNorm(config.hidden_size)\n        self.post_init()\n",
                "        self.ln_f = nn.LayerNorm(config.hidden_size)\n",
            ),
        ],
    },
)

from .packages_masks import MASK_PACKAGES  # noqa: E402  (they build on Package)

PACKAGES = (TINYDEC, TINYENC, TINYRNN, TINYMOE, TINYCHAT, TINYQWEN, *MASK_PACKAGES)
