"""HFC262: non-persistent buffers computed in __init__, recomputed after a v5 load."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_custom.diagnosis import doctor
from hf_custom.fixing import plan_fixes
from tests.checks.repo import CONFIG, CONFIGURATION, MODELING, write_repo

ROTARY = (
    "class Rotary(nn.Module):\n"
    "    def __init__(self, dim, base=10000.0):\n"
    "        super().__init__()\n"
    "        inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))\n"
    '        self.register_buffer("inv_freq", inv_freq, persistent=False)\n'
    '        self.register_buffer("bias", torch.tensor(-1e4), persistent=False)\n\n\n'
)
BROKEN = MODELING.replace(
    "class ToyPreTrainedModel(", ROTARY + "class ToyPreTrainedModel("
).replace(
    "        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n",
    "        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n"
    "        self.rotary = Rotary(config.hidden_size)\n",
    1,
)
# v5-ready code recomputes the buffer itself: nothing to report
HANDLED = BROKEN.replace(
    '    base_model_prefix = "model"\n',
    '    base_model_prefix = "model"\n\n'
    "    def _init_weights(self, module):\n"
    "        if isinstance(module, Rotary):\n"
    "            module.inv_freq.copy_(1.0 / (10000.0 ** (torch.arange(0, 16, 2).float() / 16)))\n",
)


def _files(modeling: str) -> dict[str, bytes]:
    return {"modeling_toy.py": modeling.encode(), "configuration_toy.py": CONFIGURATION.encode()}


def _ids(tmp_path: Path, modeling: str) -> list[str]:
    report = doctor(write_repo(tmp_path, _files(modeling)), select=["HFC262"])
    return [f.id for f in report.findings]


def test_buffers_fail_then_pass(tmp_path: Path) -> None:
    assert _ids(tmp_path / "before", BROKEN) == ["HFC262"]
    plan = plan_fixes(_files(BROKEN), config=CONFIG, rules={"HFC262"})
    assert {r.rule for r in plan.repairs} == {"HFC262"} and not plan.unrepaired
    fixed = {**_files(BROKEN), **{c.path: c.after for c in plan.changes}}
    assert "hf_custom_compat.py" in fixed
    text = fixed["modeling_toy.py"].decode()
    assert "@remember_init_args\nclass Rotary(nn.Module):" in text
    assert "        restore_non_persistent_buffers(module)" in text
    assert _ids(tmp_path / "after", text) == []
    assert not plan_fixes(fixed, config=CONFIG).changes  # idempotent
    assert _ids(tmp_path / "handled", HANDLED) == []
    assert not plan_fixes(_files(HANDLED), config=CONFIG, rules={"HFC262"}).changes
    assert not plan_fixes(_files(MODELING), config=CONFIG, rules={"HFC262"}).changes


def test_an_existing_init_weights_calls_the_helper_first() -> None:
    modeling = BROKEN.replace(
        '    base_model_prefix = "model"\n',
        '    base_model_prefix = "model"\n\n'
        "    def _init_weights(self, mod):\n"
        '        """Normal init."""\n'
        "        if isinstance(mod, nn.Linear):\n"
        "            mod.weight.data.normal_(0.0, 0.02)\n",
    )
    plan = plan_fixes(_files(modeling), config=CONFIG, rules={"HFC262"})
    text = {c.path: c.after for c in plan.changes}["modeling_toy.py"].decode()
    assert (
        '        """Normal init."""\n'
        "        restore_non_persistent_buffers(mod)  # v5 (hf-custom fix)\n"
        "        if isinstance(mod, nn.Linear):\n" in text
    )


def test_restore_recomputes_buffers_left_empty_on_the_meta_device() -> None:
    torch = pytest.importorskip("torch")
    from hf_custom.fixing.hf_custom_compat import (
        remember_init_args,
        restore_non_persistent_buffers,
    )

    @remember_init_args
    class Rope(torch.nn.Module):  # type: ignore[misc]
        def __init__(self, dim: int, *, base: float = 10000.0) -> None:
            super().__init__()
            freq = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))
            self.register_buffer("inv_freq", freq, persistent=False)
            self.register_buffer("kept", torch.ones(2))  # persistent: left alone
            self.lin = torch.nn.Linear(2, 2)

    want = Rope(8, base=500.0).inv_freq.clone()
    with torch.device("meta"):
        module = Rope(8, base=500.0)
    module = module.to_empty(device="cpu")  # what v5 does: uninitialised memory
    module.kept.fill_(7.0)
    module.inv_freq.fill_(float("nan"))
    restore_non_persistent_buffers(module)
    assert torch.equal(module.inv_freq, want)
    assert torch.equal(module.kept, torch.full((2,), 7.0))
    restore_non_persistent_buffers(torch.nn.Linear(2, 2))  # undecorated: nothing to do


def test_removed_methods_get_v4_stand_ins(tmp_path: Path) -> None:
    calls = MODELING.replace(
        "        return BaseModelOutput(last_hidden_state=self.embed(input_ids))\n",
        "        mask = self.get_extended_attention_mask(input_ids, input_ids.shape)\n"
        "        heads = self.get_head_mask(None, 2)\n"
        "        return BaseModelOutput(last_hidden_state=self.embed(input_ids))\n",
    )
    before = doctor(write_repo(tmp_path / "before", _files(calls)), select=["HFC251"])
    assert [f.id for f in before.findings] == ["HFC251", "HFC251"]
    plan = plan_fixes(_files(calls), config=CONFIG, rules={"HFC251"})
    assert len(plan.repairs) == 2 and not plan.unrepaired
    fixed = {**_files(calls), **{c.path: c.after for c in plan.changes}}
    text = fixed["modeling_toy.py"].decode()
    assert "    def get_head_mask(self, *args, **kwargs):" in text
    assert "from .hf_custom_compat import model_get_head_mask" in text
    after = doctor(write_repo(tmp_path / "after", fixed), select=["HFC251"])
    assert not after.findings
    assert not plan_fixes(fixed, config=CONFIG).changes  # idempotent
    # what has no stand-in is left, with its cause
    prune = MODELING.replace(
        "        self.post_init()\n\n    def forward(self, input_ids=None, **kwargs)",
        "        self.post_init()\n        self.prune_heads({})\n\n"
        "    def forward(self, input_ids=None, **kwargs)",
    )
    left = plan_fixes(_files(prune), config=CONFIG, rules={"HFC251"})
    assert not left.changes and "prune_heads" in left.unrepaired[0].cause


def test_stand_in_runs_under_installed_transformers() -> None:
    torch = pytest.importorskip("torch")
    from hf_custom.fixing.hf_custom_compat import model_get_extended_attention_mask

    class Fake:
        dtype = torch.float32

        class config:
            is_decoder = True

    mask = model_get_extended_attention_mask(Fake(), torch.ones(1, 3), (1, 3))
    assert mask.shape == (1, 1, 3, 3) and mask[0, 0, 0, 1] == torch.finfo(torch.float32).min
    assert mask[0, 0, 2, 0] == 0
