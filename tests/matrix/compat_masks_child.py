"""Child script of test_compat_masks_v4.py: runs under transformers 4.57 and prints, per case,
whether hf_custom_compat gives exactly what v4 gives (dtype, shape and values)."""

import importlib.util
import itertools
import json
import sys

import torch
import transformers
from transformers import modeling_attn_mask_utils as v4

spec = importlib.util.spec_from_file_location("hf_custom_compat", sys.argv[1])
compat = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compat)
assert transformers.__version__.startswith("4.")
out = {}


def same(a, b):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, torch.Tensor):
        return a.dtype == b.dtype and a.shape == b.shape and bool(torch.equal(a, b))
    return a == b


torch.manual_seed(0)
for dtype, bsz, q, past, window in itertools.product(
    (torch.float32, torch.float16, torch.bfloat16), (1, 3), (1, 4), (0, 3), (None, 2, 9)
):
    key = f"{dtype}-{bsz}-{q}-{past}-{window}"
    kv = q + past
    embeds = torch.zeros(bsz, q, 4, dtype=dtype)
    pads = [None, torch.ones(bsz, kv, dtype=torch.long), torch.randint(0, 2, (bsz, kv))]
    left = torch.ones(bsz, kv, dtype=torch.long)
    left[0, : kv - 1] = 0
    pads.append(left)
    four = torch.randint(0, 2, (bsz, 1, q, kv)).to(dtype)
    for i, pad in enumerate([*pads, four]):
        for fn in (
            "_prepare_4d_causal_attention_mask",
            "_prepare_4d_causal_attention_mask_for_sdpa",
        ):
            want = getattr(v4, fn)(pad, (bsz, q), embeds, past, sliding_window=window)
            got = getattr(compat, fn)(pad, (bsz, q), embeds, past, sliding_window=window)
            out[f"{fn}-{key}-{i}"] = same(want, got)
        if pad is not None and pad.dim() == 2:
            for fn in ("_prepare_4d_attention_mask", "_prepare_4d_attention_mask_for_sdpa"):
                for tgt in (None, q):
                    out[f"{fn}-{key}-{i}-{tgt}"] = same(
                        getattr(v4, fn)(pad, dtype, tgt), getattr(compat, fn)(pad, dtype, tgt)
                    )
            for causal in (True, False):
                if window is not None and not causal:
                    continue
                w, g = (
                    v4.AttentionMaskConverter(causal, window),
                    compat.AttentionMaskConverter(causal, window),
                )
                out[f"to_4d-{key}-{i}-{causal}"] = same(
                    w.to_4d(pad, q, dtype, key_value_length=kv),
                    g.to_4d(pad, q, dtype, key_value_length=kv),
                )
            for training in (False, True):
                out[f"ignore-{key}-{i}-{training}"] = same(
                    v4.AttentionMaskConverter._ignore_causal_mask_sdpa(
                        pad, embeds, past, window, training
                    ),
                    compat.AttentionMaskConverter._ignore_causal_mask_sdpa(
                        pad, embeds, past, window, training
                    ),
                )
    out[f"create-{key}"] = same(
        v4._create_4d_causal_attention_mask((bsz, q), dtype, torch.device("cpu"), past, window),
        compat._create_4d_causal_attention_mask((bsz, q), dtype, torch.device("cpu"), past, window),
    )
    w, g = v4.AttentionMaskConverter(True, window), compat.AttentionMaskConverter(True, window)
    out[f"to_causal_4d-{key}"] = same(
        w.to_causal_4d(bsz, q, kv, dtype), g.to_causal_4d(bsz, q, kv, dtype)
    )
    m = v4._prepare_4d_causal_attention_mask(left, (bsz, q), embeds, past, window)
    if m is not None:
        lo = torch.finfo(dtype).min
        out[f"unmask-{key}"] = same(
            v4.AttentionMaskConverter._unmask_unattended(m, lo),
            compat.AttentionMaskConverter._unmask_unattended(m, lo),
        )
# v4's model-module helpers (bloom's bool masks, opt/llama's additive ones) were removed before
# 4.57; their bodies were the converter's (checked once against 4.33.3's, see CHANGELOG): 4.57's
# converter is the reference here.
for dtype, bsz, q, past in itertools.product(
    (torch.float32, torch.bfloat16), (1, 3), (1, 4), (0, 3)
):
    key = f"{dtype}-{bsz}-{q}-{past}"
    cpu = torch.device("cpu")
    want = v4.AttentionMaskConverter._make_causal_mask((bsz, q), dtype, cpu, past)
    out[f"legacy-causal-{key}"] = same(
        want, compat.legacy_make_causal_mask((bsz, q), dtype, cpu, past)
    )
    out[f"bloom-causal-{key}"] = same(want != 0, compat.bloom_make_causal_mask((bsz, q), cpu, past))
    pad = torch.randint(0, 2, (bsz, q + past))
    want = v4.AttentionMaskConverter._expand_mask(pad, dtype, q)
    out[f"legacy-expand-{key}"] = same(want, compat.legacy_expand_mask(pad, dtype, q))
    out[f"bloom-expand-{key}"] = same(want != 0, compat.bloom_expand_mask(pad, q))
print("HFC-RESULT " + json.dumps(out))
