"""Each repair: a failing case (repaired, and doctor no longer reports it), a passing case
(nothing to change), idempotence, and the breaks it refuses to touch, with their cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_custom.diagnosis import doctor
from hf_custom.fixing import plan_fixes, repair_rules
from tests.checks.repo import CONFIG, CONFIGURATION, MODELING, write_repo

from .test_repairs_config import CONFIG_CASES
from .test_repairs_model import BROKEN as BUFFERS
from .test_repairs_model2 import BROKEN as BY_NAME_INIT
from .toy import BROKEN


def _files(modeling: str | bytes) -> dict[str, bytes]:
    data = modeling.encode() if isinstance(modeling, str) else modeling
    return {"modeling_toy.py": data, "configuration_toy.py": CONFIGURATION.encode()}


def _after(files: dict[str, bytes], rules: set[str] | None = None) -> dict[str, bytes]:
    plan = plan_fixes(files, config=CONFIG, rules=rules)
    return {**files, **{c.path: c.after for c in plan.changes}}


CASES = {
    "HFC250": (
        "import torch\n",
        "import torch\nfrom transformers.modeling_attn_mask_utils import "
        "_prepare_4d_causal_attention_mask as mk, _prepare_4d_attention_mask\n",
    ),
    "HFC252": ("        self.post_init()\n", ""),
    "HFC253": ('{"lm_head.weight": "model.embed.weight"}', '["lm_head.weight"]'),
    "HFC254": ("(ToyPreTrainedModel, GenerationMixin)", "(ToyPreTrainedModel)"),
    "HFC257": (
        "        hidden = self.model(input_ids).last_hidden_state\n",
        '        kind = self.config.rope_scaling["type"]  # linear\n'
        '        factor = config.rope_scaling.get("type", "x")\n'
        "        hidden = self.model(input_ids).last_hidden_state\n",
    ),
    "HFC700": (
        "        hidden = self.model(input_ids).last_hidden_state\n",
        "        if self.config.rope_scaling is None:  # no scaling\n"
        "            factor = 1.0\n"
        "        elif self.config.rope_scaling is not None and input_ids is not None:\n"
        '            factor = self.config.rope_scaling["factor"]\n'
        "        hidden = self.model(input_ids).last_hidden_state\n",
    ),
    "HFC701": (
        "from torch import nn\n",
        "from torch import nn\nfrom transformers import DynamicCache\n\n\n"
        "def _cache(past, n):\n"
        "    cache = DynamicCache.from_legacy_cache(past)\n"
        "    return cache, cache.get_usable_length(n, 0), cache.seen_tokens, cache.to_legacy_cache()\n",
    ),
    "HFC258": (
        "class ToyForCausalLM(",
        "class ToyTokenizer(PreTrainedTokenizer):\n"
        "    def _pad(\n        self, encoded_inputs, max_length=None, return_attention_mask=None\n"
        "    ):\n        return encoded_inputs\n\n\nclass ToyForCausalLM(",
    ),
    "HFC204": (
        "        hidden = self.model(input_ids).last_hidden_state\n",
        "        if labels is not None:\n            import hfc_absent_pkg\n"
        "        hidden = self.model(input_ids).last_hidden_state\n",
    ),
}


def test_every_repair_has_a_case() -> None:
    special = {"HFC240", "HFC251", "HFC262", "HFC263", "HFC264", "HFC265", "HFC266"}
    assert set(CASES) | set(CONFIG_CASES) | special == set(repair_rules())
    assert BUFFERS  # HFC251's and HFC262's cases: tests/fix/test_repairs_model.py
    assert BY_NAME_INIT  # HFC263-HFC266: tests/fix/test_repairs_model2.py; HFC240: test_gpu_only.py


@pytest.mark.parametrize("rule", sorted(CASES))
def test_repair_fails_then_passes(rule: str, tmp_path: Path) -> None:
    old, new = CASES[rule]
    broken = MODELING.replace(old, new)
    assert broken != MODELING
    before = doctor(write_repo(tmp_path / "before", _files(broken)), select=[rule])
    assert rule in {f.id for f in before.findings}
    plan = plan_fixes(_files(broken), config=CONFIG, rules={rule})
    assert [r.rule for r in plan.repairs] and {r.rule for r in plan.repairs} == {rule}
    assert not plan.unrepaired
    fixed = _after(_files(broken), {rule})
    after = doctor(write_repo(tmp_path / "after", fixed), select=[rule])
    assert rule not in {f.id for f in after.findings}, after.findings
    assert not plan_fixes(fixed, config=CONFIG).changes  # idempotent
    # the passing case: the clean package needs no repair
    assert not plan_fixes(_files(MODELING), config=CONFIG, rules={rule}).changes


def test_all_repairs_at_once_keep_crlf_and_comments() -> None:
    files = _files(BROKEN.replace("\n", "\r\n"))
    plan = plan_fixes(files, config=CONFIG)
    assert {r.rule for r in plan.repairs} == {"HFC204", "HFC250", "HFC252", "HFC253", "HFC254"}
    out = {c.path: c.after for c in plan.changes}["modeling_toy.py"]
    assert b"\n" not in out.replace(b"\r\n", b"")  # every newline still CRLF
    assert b'_tied_weights_keys = {"lm_head.weight": "model.embed.weight"}  # tied' in out
    assert b"_prepare_4d_attention_mask  # masks\r\n" in out
    # minimal diff: only the 4 lines that must change are removed (each comes back edited)
    diff = next(c for c in plan.changes if c.path == "modeling_toy.py").diff().splitlines()
    removed = [line for line in diff if line.startswith("-") and not line.startswith("---")]
    assert len(removed) == 4, removed
    assert "hf_custom_compat.py" in {c.path for c in plan.changes}
    assert not plan_fixes(
        {**files, **{c.path: c.after for c in plan.changes}}, config=CONFIG
    ).changes


def test_compat_module_not_overwritten_when_present() -> None:
    broken = MODELING.replace(*CASES["HFC250"])
    files = {**_files(broken), "hf_custom_compat.py": b"# the author's own\n"}
    plan = plan_fixes(files, config=CONFIG)
    assert "hf_custom_compat.py" not in {c.path for c in plan.changes}


def test_unrepairable_breaks_are_named_with_a_cause() -> None:
    cases = {
        "HFC250": ("import torch\n", "import torch\nfrom transformers import AdamW\n"),
        "HFC252": (
            "        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n"
            "        self.post_init()\n",
            "        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n"
            "        if config.vocab_size < 0:\n            return\n",
        ),
        "HFC253": (
            '{"lm_head.weight": "model.embed.weight"}\n',
            '["lm_head.weight"]\n\n    def _x(self):\n        pass\n',
        ),
        "HFC204": ("import torch\n", "import torch\nimport hfc_absent_pkg\n"),
    }
    for rule, (old, new) in cases.items():
        text = MODELING.replace(old, new, 1)
        if rule == "HFC253":  # two embeddings: which one lm_head is tied to is not knowable
            text = text.replace(
                "        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n",
                "        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n"
                "        self.embed_out = nn.Embedding(config.vocab_size, config.hidden_size)\n",
            )
        plan = plan_fixes(_files(text), config=CONFIG, rules={rule})
        assert [u.rule for u in plan.unrepaired] == [rule], (rule, plan)
        assert plan.unrepaired[0].cause
        assert not plan.changes, rule


def test_import_sharing_a_line_is_left_alone() -> None:
    text = MODELING.replace(
        "import torch\n",
        "import torch; from transformers.utils import is_torch_fx_available\n",
    )
    plan = plan_fixes(_files(text), config=CONFIG, rules={"HFC250"})
    assert not plan.changes and "shares its line" in plan.unrepaired[0].cause


def test_kept_names_are_imported_from_transformers_in_the_fallback() -> None:
    text = MODELING.replace(
        "import torch\n",
        "import torch\nfrom transformers.utils import (\n    is_torch_fx_available,\n"
        "    logging,\n)\n",
    )
    out = _after(_files(text), {"HFC250"})["modeling_toy.py"].decode()
    assert (
        "try:\n    from transformers.utils import (\n        is_torch_fx_available,\n"
        "        logging,\n    )\nexcept ImportError:" in out
    )
    assert "    from .hf_custom_compat import is_torch_fx_available\n" in out
    assert "    from transformers.utils import logging\n" in out
    compile(out, "modeling_toy.py", "exec")


def test_hfc204_agrees_with_doctor_on_guarded_and_sibling_imports(tmp_path: Path) -> None:
    text = MODELING.replace(
        "import torch\n",
        "import torch\nfrom transformers.utils import is_flash_attn_2_available\n\n"
        "if is_flash_attn_2_available():\n    from hfc_absent_flash import flash_fn\n"
        "from configuration_toy import ToyConfig as _Sibling  # noqa: F401\n",
    )
    report = doctor(write_repo(tmp_path, _files(text)), select=["HFC204"])
    assert "HFC204" not in {f.id for f in report.findings}
    plan = plan_fixes(_files(text), config=CONFIG, rules={"HFC204"})
    assert not plan.changes and not plan.unrepaired, plan.unrepaired
