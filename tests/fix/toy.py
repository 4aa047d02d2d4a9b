"""A v4-era variant of the checks' toy repository: several v5 breaks in one modeling file."""

from __future__ import annotations

from tests.checks.repo import MODELING

BROKEN = (
    MODELING.replace("        self.post_init()\n", "", 2)
    .replace("(ToyPreTrainedModel, GenerationMixin)", "(ToyPreTrainedModel)")
    .replace(
        "from transformers import GenerationMixin, PreTrainedModel",
        "from transformers import PreTrainedModel",
    )
    .replace('{"lm_head.weight": "model.embed.weight"}', '["lm_head.weight"]  # tied')
    .replace(
        "import torch\n",
        "import torch\n"
        "from transformers.modeling_attn_mask_utils import _prepare_4d_attention_mask  # masks\n",
        1,
    )
    .replace(
        "    def forward(self, input_ids=None, labels=None, **kwargs):\n",
        "    def forward(self, input_ids=None, labels=None, **kwargs):\n"
        "        if kwargs.get('quantize'):\n"
        "            import bitsandbytes_hfc_absent as bnb  # optional\n",
    )
)
assert BROKEN != MODELING
