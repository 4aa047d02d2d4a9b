"""HFC252 judges the classes users load: a base whose subclasses build the modules, or a
PreTrainedModel used as a layer, never gets post_init (it would run on an empty module)."""

from __future__ import annotations

from pathlib import Path

from hf_custom.diagnosis import doctor
from hf_custom.fixing import plan_fixes
from tests.checks.repo import CONFIG, CONFIGURATION, MODELING, write_repo

# Qwen v1 shape: a pass-through base __init__, heads that call post_init themselves.
QWEN = MODELING.replace(
    '    base_model_prefix = "model"\n',
    '    base_model_prefix = "model"\n\n'
    "    def __init__(self, *inputs, **kwargs):\n"
    "        super().__init__(*inputs, **kwargs)\n",
)
# nomic-bert shape: a PreTrainedModel subclass built as a layer inside the model.
LAYER = MODELING.replace(
    "class ToyModel(ToyPreTrainedModel):",
    "class ToyBlock(ToyPreTrainedModel):\n"
    "    def __init__(self, config):\n        super().__init__(config)\n"
    "        self.lin = nn.Linear(config.hidden_size, config.hidden_size)\n\n\n"
    "class ToyModel(ToyPreTrainedModel):",
).replace(
    "        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n",
    "        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n"
    "        self.block = ToyBlock(config)\n",
    1,
)


def _files(modeling: str) -> dict[str, bytes]:
    return {"modeling_toy.py": modeling.encode(), "configuration_toy.py": CONFIGURATION.encode()}


def _hfc252(tmp_path: Path, modeling: str) -> list[tuple[str, int]]:
    report = doctor(write_repo(tmp_path, _files(modeling)), select=["HFC252"])
    return [(f.path, f.line) for f in report.findings if f.id == "HFC252"]


def test_pass_through_base_is_not_flagged_nor_repaired(tmp_path: Path) -> None:
    assert _hfc252(tmp_path, QWEN) == []
    assert not plan_fixes(_files(QWEN), config=CONFIG, rules={"HFC252"}).changes


def test_the_head_that_forgets_is_repaired_not_the_base(tmp_path: Path) -> None:
    forgets = QWEN.replace(
        "        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)\n"
        "        self.post_init()\n",
        "        self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)\n",
    )
    line = forgets.splitlines().index("class ToyForCausalLM(ToyPreTrainedModel, GenerationMixin):")
    assert _hfc252(tmp_path, forgets) == [("modeling_toy.py", line + 1)]
    plan = plan_fixes(_files(forgets), config=CONFIG, rules={"HFC252"})
    assert [r.change for r in plan.repairs] == [
        "ToyForCausalLM.__init__: added self.post_init() at the end"
    ]
    out = plan.changes[0].after.decode()
    assert out.count("self.post_init()") == 2  # ToyModel's and the repaired head's
    assert "        super().__init__(*inputs, **kwargs)\n\n" in out  # the base is untouched


def test_pretrained_model_used_as_a_layer_is_not_flagged(tmp_path: Path) -> None:
    assert _hfc252(tmp_path, LAYER) == []
    assert not plan_fixes(_files(LAYER), config=CONFIG, rules={"HFC252"}).changes


def test_inherited_init_extended_elsewhere_is_left_with_a_cause() -> None:
    # ToyLite inherits ToyCore's __init__ (no post_init), which ToyForX extends: no safe spot
    modeling = (
        MODELING
        + "\n\nclass ToyCore(ToyPreTrainedModel):\n    def __init__(self, config):\n"
        + "        super().__init__(config)\n        self.lin = nn.Linear(2, 2)\n"
        + "\n\nclass ToyLite(ToyCore):\n    pass\n"
        + "\n\nclass ToyForX(ToyCore):\n    def __init__(self, config):\n"
        + "        super().__init__(config)\n        self.extra = nn.Linear(2, 2)\n"
        + "        self.post_init()\n"
    )
    plan = plan_fixes(_files(modeling), config=CONFIG, rules={"HFC252"})
    assert not plan.changes
    assert [u.rule for u in plan.unrepaired] == ["HFC252"]
    assert "ToyLite" in plan.unrepaired[0].cause


def test_base_model_auto_map_completion_registers_is_judged(tmp_path: Path) -> None:
    # ToyModel is built inside ToyForCausalLM and not in auto_map, but publish registers it as
    # AutoModel by convention (ToyConfig -> ToyModel): it still needs post_init
    config = {
        **CONFIG,
        "auto_map": {k: v for k, v in CONFIG["auto_map"].items() if k != "AutoModel"},
    }
    modeling = MODELING.replace("        self.post_init()\n", "", 1)
    plan = plan_fixes(_files(modeling), config=config, rules={"HFC252"})
    assert [r.change for r in plan.repairs] == [
        "ToyModel.__init__: added self.post_init() at the end"
    ]
