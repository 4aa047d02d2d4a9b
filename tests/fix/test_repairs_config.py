"""Repairs of config classes (hf_custom.fixing.repairs_config): a failing case doctor reports and
fix repairs, the passing case left alone, idempotence, and the breaks left alone with a cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from hf_custom.diagnosis import doctor
from hf_custom.fixing import plan_fixes
from tests.checks.repo import CONFIG, CONFIGURATION, MODELING, write_repo

N_LAYER = CONFIGURATION.replace("vocab_size=8,", "vocab_size=8, n_layer=2,").replace(
    "        super()", "        self.n_layer = n_layer\n        super()"
)
POST_INIT = CONFIGURATION.replace(
    "        super().__init__(**kwargs)\n",
    "        super().__init__(**kwargs)\n        self.__post_init__()\n\n"
    "    def __post_init__(self):\n        self.width = 2 * self.hidden_size\n",
)
READS_DEFAULTS = MODELING.replace(
    "        self.post_init()\n\n    def forward(self, input_ids=None, **kwargs)",
    "        self.decoder = config.is_decoder\n        self.cap = config.max_length\n"
    "        self.post_init()\n\n    def forward(self, input_ids=None, **kwargs)",
)
READS_GENERATION = MODELING.replace(
    "        hidden = self.model(input_ids).last_hidden_state\n",
    "        cache = self.config.use_cache\n"
    "        hidden = self.model(input_ids).last_hidden_state\n",
)
# rule -> (configuration_toy.py, modeling_toy.py) of the failing case
CONFIG_CASES: dict[str, tuple[str, str]] = {
    "HFC115": (CONFIGURATION, READS_DEFAULTS),
    "HFC261": (CONFIGURATION, READS_GENERATION),
    "HFC259": (N_LAYER, MODELING),
    "HFC260": (POST_INIT, MODELING),
}


def files(configuration: str, modeling: str = MODELING) -> dict[str, bytes]:
    return {"configuration_toy.py": configuration.encode(), "modeling_toy.py": modeling.encode()}


def fixed(data: dict[str, bytes], rules: set[str] | None = None) -> dict[str, bytes]:
    plan = plan_fixes(data, config=CONFIG, rules=rules)
    return {**data, **{c.path: c.after for c in plan.changes}}


@pytest.mark.parametrize("rule", sorted(CONFIG_CASES))
def test_config_repair_fails_then_passes(rule: str, tmp_path: Path) -> None:
    configuration, modeling = CONFIG_CASES[rule]
    broken = files(configuration, modeling)
    before = doctor(write_repo(tmp_path / "before", broken), select=[rule])
    assert rule in {f.id for f in before.findings}
    plan = plan_fixes(broken, config=CONFIG, rules={rule})
    assert {r.rule for r in plan.repairs} == {rule} and not plan.unrepaired, plan
    after_files = fixed(broken, {rule})
    after = doctor(write_repo(tmp_path / "after", after_files), select=[rule])
    assert rule not in {f.id for f in after.findings}, after.findings
    assert not plan_fixes(after_files, config=CONFIG).changes  # idempotent
    for text in after_files.values():
        compile(text, "x.py", "exec")
    assert not plan_fixes(files(CONFIGURATION), config=CONFIG, rules={rule}).changes


def _config_class(text: bytes) -> type:
    ns: dict[str, object] = {}
    exec(compile(text, "configuration_toy.py", "exec"), ns)
    cls = ns["ToyConfig"]
    assert isinstance(cls, type)
    return cls


def test_restored_attributes_take_config_json_values_else_v4_defaults() -> None:
    pytest.importorskip("transformers")
    both = MODELING.replace(
        "        self.post_init()\n\n    def forward(self, input_ids=None, **kwargs)",
        "        self.decoder = config.is_decoder\n        self.cap = config.max_length\n"
        "        self.cache = config.use_cache\n"
        "        self.post_init()\n\n    def forward(self, input_ids=None, **kwargs)",
    )
    # max_length is in config.json: HFC115 leaves it to HFC261 (v5 drops it from config.json)
    plan = plan_fixes(files(CONFIGURATION, both), config={**CONFIG, "max_length": 7})
    assert {r.rule for r in plan.repairs} == {"HFC115", "HFC261"}
    out = {c.path: c.after for c in plan.changes}["configuration_toy.py"]
    text = out.decode()
    assert "tie_word_embeddings=True, is_decoder=False, use_cache=None, max_length=20, **kw" in text
    assert "super().__init__(**kwargs)\n        # transformers v5" in text
    cls = _config_class(out)
    plain = cls()
    assert (plain.is_decoder, plain.max_length, plain.use_cache) == (False, 20, None)
    # config.json's values survive v5's base config, which drops generation parameters
    loaded = cls.from_dict({"is_decoder": True, "max_length": 7, "use_cache": True})
    assert (loaded.is_decoder, loaded.max_length, loaded.use_cache) == (True, 7, True)
    assert loaded.to_dict()["max_length"] == 7


def test_no_scalar_v4_default_is_left_alone_with_a_cause() -> None:
    modeling = MODELING.replace(
        "        self.post_init()\n\n    def forward(self, input_ids=None, **kwargs)",
        "        self.pruned = config.pruned_heads\n"
        "        self.post_init()\n\n    def forward(self, input_ids=None, **kwargs)",
    )
    plan = plan_fixes(files(CONFIGURATION, modeling), config=CONFIG, rules={"HFC115"})
    assert not plan.changes, plan.changes[0].diff()
    assert [u.rule for u in plan.unrepaired] == ["HFC115"]
    assert "pruned_heads" in plan.unrepaired[0].cause


def test_config_class_without_kwargs_is_left_alone() -> None:
    configuration = CONFIGURATION.replace(", **kwargs):", "):").replace(
        "super().__init__(**kwargs)", "super().__init__()"
    )
    plan = plan_fixes(files(configuration, READS_GENERATION), config=CONFIG, rules={"HFC261"})
    assert not plan.changes and "**kwargs" in plan.unrepaired[0].cause


def test_layer_count_joins_an_existing_attribute_map() -> None:
    configuration = N_LAYER.replace(
        '    model_type = "toyhfc"\n',
        '    model_type = "toyhfc"\n    attribute_map = {"hidden_dim": "hidden_size"}\n',
    )
    out = fixed(files(configuration), {"HFC259"})["configuration_toy.py"].decode()
    assert 'attribute_map = {"hidden_dim": "hidden_size", "num_hidden_layers": "n_layer"}\n' in out


def test_layer_count_only_for_generative_packages() -> None:
    encoder_only = {**CONFIG, "auto_map": {"AutoModel": "modeling_toy.ToyModel"}}
    modeling = MODELING.split("class ToyForCausalLM")[0]
    plan = plan_fixes(files(N_LAYER, modeling), config=encoder_only, rules={"HFC259"})
    assert not plan.changes and not plan.unrepaired


def test_inherited_attribute_map_is_left_alone() -> None:
    configuration = N_LAYER.replace(
        "class ToyConfig(PretrainedConfig):",
        'class Base(PretrainedConfig):\n    attribute_map = {"hidden_dim": "hidden_size"}\n\n\n'
        "class ToyConfig(Base):",
    )
    plan = plan_fixes(files(configuration), config=CONFIG, rules={"HFC259"})
    assert not plan.changes and "inherited" in plan.unrepaired[0].cause


def test_post_init_rename_keeps_v4_behaviour() -> None:
    pytest.importorskip("transformers")
    out = fixed(files(POST_INIT), {"HFC260"})["configuration_toy.py"].decode()
    assert "self._legacy_post_init()" in out and "def _legacy_post_init(self):" in out
    assert "__post_init__" not in out
    ns: dict[str, object] = {}
    exec(compile(out, "configuration_toy.py", "exec"), ns)
    config = ns["ToyConfig"](extra_key=3)  # type: ignore[operator]
    assert config.width == 32 and config.extra_key == 3


def test_post_init_reached_from_elsewhere_is_left_alone() -> None:
    modeling = MODELING.replace(
        "        self.post_init()\n\n    def forward(self, input_ids=None, **kwargs)",
        "        config.__post_init__()\n"
        "        self.post_init()\n\n    def forward(self, input_ids=None, **kwargs)",
    )
    plan = plan_fixes(files(POST_INIT, modeling), config=CONFIG, rules={"HFC260"})
    assert not plan.changes and [u.rule for u in plan.unrepaired] == ["HFC260"]
