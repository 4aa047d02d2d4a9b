"""HFC250 for the mask helpers v5 removed: modeling_attn_mask_utils (AttentionMaskConverter and
the _prepare_4d_* functions) and the private `_expand_mask` / `_make_causal_mask` of v4's model
modules (bloom's bool masks, the bart/llama/opt family's additive masks). The helpers are
compared with the real v4 ones in tests/matrix/test_compat_masks_v4.py (slow)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from hf_custom.diagnosis import doctor
from hf_custom.fixing import plan_fixes
from tests.checks.repo import CONFIG, CONFIGURATION, MODELING, write_repo

torch = pytest.importorskip("torch")

from hf_custom.fixing import hf_custom_compat as compat  # noqa: E402

IMPORTS = (
    "from transformers.modeling_attn_mask_utils import (\n"
    "    AttentionMaskConverter,\n"
    "    _prepare_4d_causal_attention_mask_for_sdpa,\n"
    ")\n"
    "from transformers.models.bloom.modeling_bloom import _expand_mask as _expand_mask_bloom\n"
    "from transformers.models.bloom.modeling_bloom import BloomModel, _make_causal_mask\n"
    "from transformers.models.opt.modeling_opt import _make_causal_mask as _make_causal_mask_opt\n"
    "from transformers.models.llama.modeling_llama import _expand_mask\n"
)
BROKEN = MODELING.replace("import torch\n", "import torch\n" + IMPORTS, 1)


def _files(modeling: str) -> dict[str, bytes]:
    return {"modeling_toy.py": modeling.encode(), "configuration_toy.py": CONFIGURATION.encode()}


def test_mask_helper_imports_fail_then_pass(tmp_path: Path) -> None:
    before = doctor(write_repo(tmp_path / "before", _files(BROKEN)), select=["HFC250"])
    assert len([f for f in before.findings if f.id == "HFC250"]) >= 5
    plan = plan_fixes(_files(BROKEN), config=CONFIG, rules={"HFC250"})
    assert not plan.unrepaired, plan.unrepaired
    assert len(plan.repairs) == 5
    fixed = {**_files(BROKEN), **{c.path: c.after for c in plan.changes}}
    text = fixed["modeling_toy.py"].decode()
    for line in (
        "    from .hf_custom_compat import AttentionMaskConverter, "
        "_prepare_4d_causal_attention_mask_for_sdpa\n",
        "    from .hf_custom_compat import bloom_expand_mask as _expand_mask_bloom\n",
        "    from .hf_custom_compat import bloom_make_causal_mask as _make_causal_mask\n"
        "    from transformers.models.bloom.modeling_bloom import BloomModel\n",
        "    from .hf_custom_compat import legacy_make_causal_mask as _make_causal_mask_opt\n",
        "    from .hf_custom_compat import legacy_expand_mask as _expand_mask\n",
    ):
        assert line in text
    assert fixed["hf_custom_compat.py"] == Path(compat.__file__).read_bytes()
    after = doctor(write_repo(tmp_path / "after", fixed), select=["HFC250"])
    assert "HFC250" not in {f.id for f in after.findings}, after.findings
    assert not plan_fixes(fixed, config=CONFIG).changes  # idempotent
    assert not plan_fixes(_files(MODELING), config=CONFIG, rules={"HFC250"}).changes


def test_repaired_imports_bind_the_compat_helpers_under_v5(tmp_path: Path) -> None:
    plan = plan_fixes(_files(BROKEN), config=CONFIG, rules={"HFC250"})
    pkg = tmp_path / "hfc_masks_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    head = {c.path: c.after for c in plan.changes}["modeling_toy.py"].decode()
    (pkg / "imports_only.py").write_text(head.split("\n\n\nclass ")[0] + "\n")
    (pkg / "configuration_toy.py").write_text(CONFIGURATION)
    (pkg / "hf_custom_compat.py").write_bytes(Path(compat.__file__).read_bytes())
    sys.path.insert(0, str(tmp_path))
    try:
        mod = importlib.import_module("hfc_masks_pkg.imports_only")
        shipped = importlib.import_module("hfc_masks_pkg.hf_custom_compat")
    finally:
        sys.path.remove(str(tmp_path))
    assert mod._expand_mask_bloom is shipped.bloom_expand_mask
    assert mod._make_causal_mask is shipped.bloom_make_causal_mask
    assert mod._make_causal_mask_opt is shipped.legacy_make_causal_mask
    assert mod._expand_mask is shipped.legacy_expand_mask
    assert mod.AttentionMaskConverter is shipped.AttentionMaskConverter
    assert mod.BloomModel.__module__ == "transformers.models.bloom.modeling_bloom"


def test_helpers_of_other_model_modules_are_left_with_a_cause() -> None:
    # detr's _expand_mask takes target_len and means something else: no helper stands for it
    text = MODELING.replace(
        "import torch\n",
        "import torch\nfrom transformers.models.detr.modeling_detr import _expand_mask\n",
        1,
    )
    plan = plan_fixes(_files(text), config=CONFIG, rules={"HFC250"})
    assert not plan.changes
    assert [u.rule for u in plan.unrepaired] == ["HFC250"]
    assert "_expand_mask" in plan.unrepaired[0].cause


MIN = torch.finfo(torch.float32).min


def test_unmask_unattended_attends_fully_masked_rows() -> None:
    left_padded = torch.tensor([[[[MIN, MIN, MIN], [MIN, MIN, MIN], [MIN, MIN, 0.0]]]])
    got = compat.AttentionMaskConverter._unmask_unattended(left_padded, MIN)
    assert got.tolist() == [[[[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [MIN, MIN, 0.0]]]]
    with pytest.raises(ValueError, match="BoolTensor"):
        compat.AttentionMaskConverter._unmask_unattended(left_padded == 0, MIN)


def test_converter_to_4d_and_argument_errors() -> None:
    conv = compat.AttentionMaskConverter(is_causal=True)
    got = conv.to_4d(torch.tensor([[0, 1, 1]]), 3, torch.float32, key_value_length=3)
    allowed = (got[0, 0] == 0).int().tolist()
    assert allowed == [[0, 0, 0], [0, 1, 0], [0, 1, 1]]  # padding AND causal
    with pytest.raises(ValueError, match="key_value_length"):
        conv.to_4d(torch.ones(1, 3), 3, torch.float32)
    with pytest.raises(ValueError, match="strictly positive"):
        compat.AttentionMaskConverter(True, sliding_window=0)
    with pytest.raises(ValueError, match="is_causal"):
        compat.AttentionMaskConverter(False).to_causal_4d(1, 2, 2, torch.float32)
    assert compat.AttentionMaskConverter(True).to_causal_4d(1, 1, 4, torch.float32) is None


def test_bloom_masks_are_bool_and_true_where_masked() -> None:
    causal = compat.bloom_make_causal_mask((2, 3), torch.device("cpu"), 1)
    assert causal.dtype == torch.bool and causal.shape == (2, 1, 3, 4)
    assert causal[0, 0].int().tolist() == [[0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    pad = compat.bloom_expand_mask(torch.tensor([[1, 0, 1]]), 2)
    assert pad.shape == (1, 1, 2, 3) and pad[0, 0].int().tolist() == [[0, 1, 0], [0, 1, 0]]


def test_legacy_causal_mask_takes_the_early_signature() -> None:
    new = compat.legacy_make_causal_mask((1, 2), torch.float16, torch.device("cpu"), 2)
    old = compat.legacy_make_causal_mask((1, 2), torch.float16, past_key_values_length=2)
    assert torch.equal(new, old) and new.dtype == torch.float16 and new.shape == (1, 1, 2, 4)
    # early opt: (shape, dtype, past) positionally
    assert torch.equal(compat.legacy_make_causal_mask((1, 2), torch.float16, 2), new)
    lo = torch.finfo(torch.float16).min
    assert new[0, 0].tolist() == [[0, 0, 0, lo], [0, 0, 0, 0]]
    pad = compat.legacy_expand_mask(torch.tensor([[1, 0]]), torch.float16, 3)
    assert pad.shape == (1, 1, 3, 2) and pad[0, 0, 0].tolist() == [0, lo]


def test_rope_scaling_none_tests_keep_their_v4_meaning_under_v5() -> None:
    text = MODELING.replace(
        "        hidden = self.model(input_ids).last_hidden_state\n",
        "        if self.config.rope_scaling is None:\n            factor = 1.0\n"
        '        else:\n            factor = self.config.rope_scaling["factor"]\n'
        "        hidden = self.model(input_ids).last_hidden_state\n",
    )
    plan = plan_fixes(_files(text), config=CONFIG, rules={"HFC700"})
    out = {c.path: c.after for c in plan.changes}["modeling_toy.py"].decode()
    test = (
        '(self.config.rope_scaling is None or self.config.rope_scaling.get("rope_type") == '
        '"default")'
    )
    assert f"        if {test}:\n" in out
    import transformers

    class Cfg(transformers.PretrainedConfig):
        model_type = "hfc-rope-none"

        def __init__(self, rope_scaling=None, rope_theta=10000.0, **kwargs):
            self.rope_scaling = rope_scaling
            self.rope_theta = rope_theta
            super().__init__(**kwargs)

    class Holder:
        def __init__(self, config):
            self.config = config

    for config, takes_none_branch in (
        (Cfg(), True),  # v5 fills {"rope_type": "default", ...}: still "no scaling"
        (Cfg(rope_scaling={"type": "linear", "factor": 2.0}), False),
    ):
        self = Holder(config)
        assert eval(test, {"self": self}) is takes_none_branch
        negated = test.replace("is None or", "is not None and").replace("==", "!=")
        assert eval(negated, {"self": self}) is not takes_none_branch


def test_cache_helpers_follow_the_v4_cache_api_on_v5_caches() -> None:
    from transformers import DynamicCache

    past = tuple((torch.rand(1, 2, 3, 4), torch.rand(1, 2, 3, 4)) for _ in range(2))
    cache = compat.cache_from_legacy(DynamicCache, past)
    assert not hasattr(DynamicCache, "from_legacy_cache")  # v5: the fallback is what runs
    legacy = compat.cache_to_legacy(cache)
    assert len(legacy) == 2 and all(
        torch.equal(a, c) and torch.equal(b, d) for (a, b), (c, d) in zip(legacy, past, strict=True)
    )
    # 4.39: a dynamic cache has no maximum, so the usable length is the cached length
    assert compat.cache_get_max_length(cache) is None
    assert compat.cache_get_usable_length(cache, 5, 1) == 3 == compat.cache_seen_tokens(cache)
    empty = compat.cache_from_legacy(DynamicCache, None)
    assert (
        compat.cache_get_usable_length(empty, 4) == 0 and compat.cache_get_max_length(empty) is None
    )

    class OwnCache:  # a package's own Cache subclass keeps its own methods
        seen_tokens = 7

        def get_usable_length(self, n, layer_idx=0):
            return 42

        def to_legacy_cache(self):
            return "own"

    own = OwnCache()
    assert compat.cache_get_usable_length(own, 1) == 42 and compat.cache_to_legacy(own) == "own"
    assert compat.cache_seen_tokens(own) == 7


def test_cache_calls_are_routed_through_the_helpers() -> None:
    text = MODELING.replace(
        "import torch\n", "import torch\nfrom transformers.cache_utils import DynamicCache\n", 1
    ).replace(
        "        hidden = self.model(input_ids).last_hidden_state\n",
        "        past = DynamicCache.from_legacy_cache(kwargs.get('past'))\n"
        "        n = past.get_usable_length(input_ids.shape[1], 0) + past.seen_tokens\n"
        "        hidden = self.model(input_ids).last_hidden_state\n",
    )
    plan = plan_fixes(_files(text), config=CONFIG, rules={"HFC701"})
    assert not plan.unrepaired and len(plan.repairs) == 3
    out = {c.path: c.after for c in plan.changes}["modeling_toy.py"].decode()
    assert "past = cache_from_legacy(DynamicCache, kwargs.get('past'))\n" in out
    assert (
        "n = cache_get_usable_length(past, input_ids.shape[1], 0) + cache_seen_tokens(past)\n"
        in out
    )
    assert (
        "from .hf_custom_compat import cache_from_legacy, cache_get_usable_length, "
        "cache_seen_tokens\n" in out
    )
    fixed = {**_files(text), **{c.path: c.after for c in plan.changes}}
    assert not plan_fixes(fixed, config=CONFIG).changes  # idempotent
