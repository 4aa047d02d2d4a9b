"""hf_custom_compat.py against the v4 behaviour of the helpers it stands for (written out
here from v4's semantics: 0 where a query may attend, the dtype's minimum where it may not)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from hf_custom.fixing import hf_custom_compat as compat  # noqa: E402
from hf_custom.fixing.repairs import COMPAT_NAMES  # noqa: E402

MIN = torch.finfo(torch.float32).min


def _expected(pad: list[list[int]], q: int, past: int, causal: bool):
    bsz, kv = len(pad), len(pad[0])
    out = torch.zeros(bsz, 1, q, kv)
    for b in range(bsz):
        for i in range(q):
            for j in range(kv):
                pos = i + past
                blocked = pad[b][j] == 0 or (causal and j > pos)
                if blocked:
                    out[b, 0, i, j] = MIN
    return out


def test_compat_names_match_the_module() -> None:
    tree = ast.parse(Path(compat.__file__).read_text())
    all_node = next(
        n
        for n in tree.body
        if isinstance(n, ast.Assign) and n.targets[0].id == "__all__"  # type: ignore[attr-defined]
    )
    assert set(ast.literal_eval(all_node.value)) == COMPAT_NAMES
    for name in COMPAT_NAMES:
        assert getattr(compat, name) is not None


@pytest.mark.parametrize("past", [0, 2])
def test_causal_mask_with_padding(past: int) -> None:
    pad = [[1] * (3 + past), [0] + [1] * (2 + past)]
    embeds = torch.zeros(2, 3, 4)
    got = compat._prepare_4d_causal_attention_mask(torch.tensor(pad), (2, 3), embeds, past)
    assert torch.equal(got, _expected(pad, 3, past, causal=True))


def test_causal_mask_without_padding_and_single_query() -> None:
    embeds = torch.zeros(1, 4, 2)
    got = compat._prepare_4d_causal_attention_mask(None, (1, 4), embeds, 0)
    assert torch.equal(got, _expected([[1] * 4], 4, 0, causal=True))
    # v4: one query token and no sliding window needs no mask at all
    assert compat._prepare_4d_causal_attention_mask(None, (1, 1), embeds[:, :1], 3) is None


def test_sliding_window_blocks_old_positions() -> None:
    embeds = torch.zeros(1, 4, 2)
    got = compat._prepare_4d_causal_attention_mask(None, (1, 4), embeds, 0, sliding_window=2)
    allowed = (got[0, 0] == 0).int().tolist()
    # v4 (tril with diagonal = past - window - 1): query i sees keys i - window <= j <= i
    assert allowed == [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [0, 1, 1, 1]]


def test_4d_mask_is_inverted_and_checked() -> None:
    ones = torch.ones(1, 1, 2, 2)
    ones[0, 0, 0, 1] = 0
    got = compat._prepare_4d_causal_attention_mask(ones, (1, 2), torch.zeros(1, 2, 3), 0)
    assert got[0, 0, 0, 1] == MIN and got[0, 0, 1, 1] == 0
    with pytest.raises(ValueError, match="Incorrect 4D"):
        compat._prepare_4d_causal_attention_mask(ones, (1, 3), torch.zeros(1, 3, 3), 0)


def test_padding_mask_and_sdpa_variant() -> None:
    pad = torch.tensor([[1, 1, 0]])
    got = compat._prepare_4d_attention_mask(pad, torch.float32, tgt_len=2)
    assert torch.equal(got, _expected([[1, 1, 0]], 2, 0, causal=False))
    assert compat._prepare_4d_attention_mask_for_sdpa(torch.ones(1, 3), torch.float32) is None
    assert compat._prepare_4d_attention_mask_for_sdpa(pad, torch.float32) is not None


def test_pruneable_heads_and_availability() -> None:
    heads, index = compat.find_pruneable_heads_and_indices([1, 3], 3, 2, {3})
    assert heads == {1}
    # 3 heads left (head 3 pruned before); removing head 1 keeps the rows of heads 0 and 2
    assert index.tolist() == [0, 1, 4, 5]
    assert compat.is_torch_fx_available() and compat.is_torch_sdpa_available()
    from transformers import AutoModelForImageTextToText

    assert compat.AutoModelForVision2Seq is AutoModelForImageTextToText
