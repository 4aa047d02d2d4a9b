"""v4-era corpus packages for the mask helpers v5 removed (import them through
``packages.PACKAGES``, which adds them: this module builds on its Package).

``tinympt``: an MPT-like multi-file decoder. Its attention file builds bloom-style bool masks
with ``_expand_mask`` / ``_make_causal_mask`` imported from transformers' bloom module (as MPT's
prefix-LM converter does), its model builds a sliding-window mask with v4's
``AttentionMaskConverter`` (and ``_unmask_unattended`` for left padding), an optional fused
kernel lives in a helper module that imports an absent compiler at module level (imported only
inside ``try`` by the attention file), and the config's ``rope_scaling is None`` branch is the
one v5 flips.
"""

from __future__ import annotations

from .packages import Package, _config

MPT_KERNEL = """\
import torch

try:
    import hfc_absent_triton as triton  # the fused kernel's compiler (optional)
except ImportError:
    raise


def fused_attention(q, k, v, mask):
    return triton.attention(q, k, v, mask)
"""
MPT_ATTENTION = """\
import math

import torch
from torch import nn

try:
    from .kernels_tinympt import fused_attention
except:  # noqa: E722  (MPT's bare except)
    fused_attention = None


def _expand_mask_bloom(mask, tgt_length):
    bsz, src = mask.shape
    return (~mask[:, None, None, :].bool()).expand(bsz, 1, tgt_length, src)


def _make_causal_mask_bloom(shape, device, past_key_values_length):
    bsz, q = shape
    ids = torch.arange(q, device=device)
    future = ids[:, None] < ids[None, :]
    return future[None, None].expand(bsz, 1, q, q + past_key_values_length)


def prefix_lm_mask(attention_mask, shape, device):
    \"\"\"Bool [bsz, 1, q, q], True where blocked: later positions and padding (bloom style).\"\"\"
    causal = _make_causal_mask_bloom(shape, device=device, past_key_values_length=0)
    return causal | _expand_mask_bloom(attention_mask, tgt_length=shape[1])


class Attention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.n_heads = config.num_heads
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.out = nn.Linear(config.hidden_size, config.hidden_size)
        if config.rope_scaling is None or config.rope_scaling.get("rope_type") == "default":
            self.scale = 1.0
        else:
            self.scale = float(config.rope_scaling["factor"])

    def forward(self, x, mask):
        bsz, q, h = x.shape
        qkv = self.qkv(x).view(bsz, q, 3, self.n_heads, h // self.n_heads).permute(2, 0, 3, 1, 4)
        if fused_attention is not None and x.is_cuda:
            return self.out(fused_attention(qkv[0], qkv[1], qkv[2], mask))
        scores = qkv[0] @ qkv[1].transpose(-1, -2) * self.scale / math.sqrt(h // self.n_heads)
        probs = torch.softmax(scores + mask, dim=-1)
        return self.out((probs @ qkv[2]).transpose(1, 2).reshape(bsz, q, h))
"""
MPT_MODELING = """\
import torch
from torch import nn
from transformers import GenerationMixin, PreTrainedModel
from transformers.modeling_outputs import BaseModelOutput, CausalLMOutput

from .attention_tinympt import Attention, prefix_lm_mask
from .configuration_tinympt import TinyMptConfig

try:  # MPT imports its kernel here too (v4's local loader copies only these files)
    from .kernels_tinympt import fused_attention  # noqa: F401
except:  # noqa: E722
    pass


def window_mask(attention_mask, q, dtype, window):
    \"\"\"Additive [bsz, 1, q, q]: key j visible from i when i - window <= j <= i and not padding;
    a row with nothing visible (left padding) attends everywhere.\"\"\"
    low = torch.finfo(dtype).min
    i = torch.arange(q)[:, None]
    j = torch.arange(q)[None, :]
    blocked = (j > i) | (j < i - window)
    blocked = blocked[None, None] | (attention_mask[:, None, None, :] == 0)
    mask = torch.zeros(blocked.shape, dtype=dtype).masked_fill(blocked, low)
    return mask.mul(~torch.all(mask == low, dim=-1, keepdim=True))


class TinyMptPreTrainedModel(PreTrainedModel):
    config_class = TinyMptConfig
    base_model_prefix = "transformer"


class TinyMptModel(TinyMptPreTrainedModel):
    def __init__(self, config):
        super().__init__(config)
        self.wte = nn.Embedding(config.vocab_size, config.hidden_size)
        self.blocks = nn.ModuleList(Attention(config) for _ in range(config.num_hidden_layers))
        self.norm_f = nn.LayerNorm(config.hidden_size)
        self.post_init()

    def get_input_embeddings(self):
        return self.wte

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        if attention_mask is None:
            attention_mask = (input_ids != self.config.pad_id).long()
        bsz, q = input_ids.shape
        x = self.wte(input_ids)
        mask = window_mask(attention_mask, q, x.dtype, self.config.sliding_window)
        blocked = prefix_lm_mask(attention_mask, (bsz, q), x.device)
        mask = mask + blocked.to(x.dtype) * -1e4
        for block in self.blocks:
            x = x + block(x, mask)
        return BaseModelOutput(last_hidden_state=self.norm_f(x))


class TinyMptForCausalLM(TinyMptPreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "transformer.wte.weight"}

    def __init__(self, config):
        super().__init__(config)
        self.transformer = TinyMptModel(config)
        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)
        self.post_init()

    def get_input_embeddings(self):
        return self.transformer.wte

    def get_output_embeddings(self):
        return self.lm_head

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs):
        hidden = self.transformer(input_ids, attention_mask=attention_mask).last_hidden_state
        return CausalLMOutput(logits=self.lm_head(hidden))
"""
V4_WINDOW_MASK = """\
def window_mask(attention_mask, q, dtype, window):
    converter = AttentionMaskConverter(is_causal=True, sliding_window=window)
    mask = converter.to_4d(attention_mask, q, dtype=dtype, key_value_length=q)
    return AttentionMaskConverter._unmask_unattended(mask, torch.finfo(dtype).min)
"""

TINYMPT = Package(
    name="tinympt",
    style="MPT-like multi-file decoder: bloom mask helpers, AttentionMaskConverter, optional kernel",
    config_class="configuration_tinympt.TinyMptConfig",
    model_class="modeling_tinympt.TinyMptForCausalLM",
    auto_map={
        "AutoConfig": "configuration_tinympt.TinyMptConfig",
        "AutoModel": "modeling_tinympt.TinyMptModel",
        "AutoModelForCausalLM": "modeling_tinympt.TinyMptForCausalLM",
    },
    clean={
        "configuration_tinympt.py": _config(
            "tinympt",
            "TinyMptConfig",
            {
                "vocab_size": 16,
                "hidden_size": 16,
                "num_heads": 2,
                "num_hidden_layers": 2,
                "sliding_window": 2,
                "pad_id": 1,
                "rope_scaling": None,
            },
        ),
        "attention_tinympt.py": MPT_ATTENTION,
        "kernels_tinympt.py": MPT_KERNEL,
        "modeling_tinympt.py": MPT_MODELING,
    },
    v4_edits={
        "kernels_tinympt.py": [
            (
                "try:\n    import hfc_absent_triton as triton  # the fused kernel's compiler "
                "(optional)\nexcept ImportError:\n    raise\n",
                "import hfc_absent_triton as triton  # the fused kernel's compiler (optional)\n",
            ),
        ],
        "attention_tinympt.py": [
            (
                MPT_ATTENTION[
                    MPT_ATTENTION.index("def _expand_mask_bloom") : MPT_ATTENTION.index(
                        "def prefix_lm_mask"
                    )
                ],
                "",
            ),
            (
                "from torch import nn\n",
                "from torch import nn\n"
                "from transformers.models.bloom.modeling_bloom import _expand_mask as "
                "_expand_mask_bloom\n"
                "from transformers.models.bloom.modeling_bloom import _make_causal_mask as "
                "_make_causal_mask_bloom\n",
            ),
            (
                'config.rope_scaling is None or config.rope_scaling.get("rope_type") == "default"',
                "config.rope_scaling is None",
            ),
        ],
        "modeling_tinympt.py": [
            (
                MPT_MODELING[
                    MPT_MODELING.index("def window_mask") : MPT_MODELING.index(
                        "\n\nclass TinyMptPreTrainedModel"
                    )
                ],
                V4_WINDOW_MASK.rstrip("\n"),
            ),
            (
                "from transformers.modeling_outputs import BaseModelOutput, CausalLMOutput\n",
                "from transformers.modeling_attn_mask_utils import AttentionMaskConverter\n"
                "from transformers.modeling_outputs import BaseModelOutput, CausalLMOutput\n",
            ),
            ("(TinyMptPreTrainedModel, GenerationMixin)", "(TinyMptPreTrainedModel)"),
            (
                "from transformers import GenerationMixin, PreTrainedModel",
                "from transformers import PreTrainedModel",
            ),
            ('{"lm_head.weight": "transformer.wte.weight"}', '["lm_head.weight"]'),
            (
                "        self.norm_f = nn.LayerNorm(config.hidden_size)\n        self.post_init()\n",
                "        self.norm_f = nn.LayerNorm(config.hidden_size)\n",
            ),
        ],
    },
)

MASK_PACKAGES = (TINYMPT,)
