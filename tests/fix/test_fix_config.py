"""fix writes config.json's normalisation (doctor's findings on it) with the file's own layout:
torch_dtype renamed dtype in place, indent and newline kept; idempotent."""

from __future__ import annotations

import json

from hf_custom.codeinfo import analyze_package
from hf_custom.fixing.config_json import plan_config
from tests.checks.repo import CONFIGURATION, MODELING

PACKAGE = analyze_package({"configuration_toy.py": CONFIGURATION, "modeling_toy.py": MODELING})
RULES = {"HFC101", "HFC104", "HFC107", "HFC108", "HFC117"}


def _auto_map() -> dict[str, str]:
    return {
        "AutoConfig": "configuration_toy.ToyConfig",
        "AutoModel": "modeling_toy.ToyModel",
        "AutoModelForCausalLM": "modeling_toy.ToyForCausalLM",
    }


def test_torch_dtype_renamed_in_place_keeping_the_layout() -> None:
    cfg = {
        "model_type": "toy",
        "torch_dtype": "float32",
        "architectures": ["ToyForCausalLM"],
        "auto_map": _auto_map(),
    }
    data = json.dumps(cfg, indent=4).encode().replace(b"\n", b"\r\n") + b"\r\n"
    new, repairs = plan_config(data, PACKAGE, rules=RULES)
    assert new is not None
    assert [(r.rule, r.line) for r in repairs] == [("HFC108", 3)]
    lines = new.split(b"\r\n")
    assert lines[2] == b'    "dtype": "float32",'  # same place, same indent, CRLF kept
    assert new.endswith(b"}\r\n") and b"torch_dtype" not in new
    assert json.loads(new)["dtype"] == "float32"
    assert plan_config(new, PACKAGE, rules=RULES) == (None, [])  # idempotent


def test_only_selected_rules_and_clean_config_unchanged() -> None:
    cfg = {"model_type": "toy", "torch_dtype": "float32", "auto_map": _auto_map()}
    data = json.dumps(cfg, indent=2, sort_keys=True).encode()
    assert plan_config(data, PACKAGE, rules={"HFC252"}) == (None, [])
    clean = {**cfg, "dtype": cfg["torch_dtype"], "architectures": ["ToyForCausalLM"]}
    del clean["torch_dtype"]
    data = json.dumps(clean, indent=2, sort_keys=True).encode()
    assert plan_config(data, PACKAGE, rules=RULES) == (None, [])
    assert plan_config(b"{not json", PACKAGE, rules=RULES) == (None, [])


def test_missing_model_type_is_filled_auto_map_left_to_publish() -> None:
    cfg = {"dtype": "float32", "architectures": ["ToyForCausalLM"], "auto_map": _auto_map()}
    del cfg["auto_map"]["AutoModel"]  # incomplete (a warning): publish completes it, fix not
    data = json.dumps(cfg, indent=2).encode()
    new, repairs = plan_config(data, PACKAGE, rules=RULES)
    assert new is not None and [r.rule for r in repairs] == ["HFC101"]
    assert json.loads(new)["model_type"] == "toyhfc"  # the config class's
    assert "AutoModel" not in json.loads(new)["auto_map"]
