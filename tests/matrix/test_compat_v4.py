"""hf_custom_compat's stand-ins against the REAL transformers 4.57 they replace (the shared v4
environment of the matrix tests), and repairs_config.V4_DEFAULTS against v4's base config."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

COMPAT = Path(__file__).parents[2] / "hf_custom" / "fixing" / "hf_custom_compat.py"

CHILD = r"""
import importlib.util, json, sys, torch, transformers
spec = importlib.util.spec_from_file_location("hf_custom_compat", sys.argv[1])
compat = importlib.util.module_from_spec(spec); spec.loader.exec_module(compat)
assert transformers.__version__.startswith("4.")


class Cfg(transformers.PretrainedConfig):
    model_type = "hfc-compat"


class M(transformers.PreTrainedModel):
    config_class = Cfg

    def __init__(self, config):
        super().__init__(config)
        self.lin = torch.nn.Linear(2, 2)


out = {}
for decoder in (False, True):
    m = M(Cfg(is_decoder=decoder))
    torch.manual_seed(0)
    masks = [torch.randint(0, 2, (2, 5)), torch.randint(0, 2, (2, 5, 5)), torch.ones(2, 7)]
    for i, mask in enumerate(masks):
        shape = (2, 5)
        want = m.get_extended_attention_mask(mask, shape)
        got = compat.model_get_extended_attention_mask(m, mask, shape)
        out[f"extended-{decoder}-{i}"] = bool(torch.equal(want, got))
        if mask.dim() <= 3:
            out[f"invert-{decoder}-{i}"] = bool(
                torch.equal(m.invert_attention_mask(mask), compat.model_invert_attention_mask(m, mask))
            )
    for hm in (None, torch.tensor([1.0, 0.0, 1.0]), torch.rand(4, 3)):
        for chunked in (False, True):
            want = m.get_head_mask(hm, 4, is_attention_chunked=chunked)
            got = compat.model_get_head_mask(m, hm, 4, is_attention_chunked=chunked)
            same = want == got if hm is None else bool(torch.equal(want, got))
            out[f"head-{hm is None}-{chunked}"] = same
base = transformers.PretrainedConfig()
out["defaults"] = {k: v for k, v in vars(base).items() if isinstance(v, (bool, int, float, str, type(None)))}
print("HFC-RESULT " + json.dumps(out))
"""


@pytest.mark.slow
def test_compat_helpers_and_defaults_equal_v4(v4_targets) -> None:  # type: ignore[no-untyped-def]
    from hf_custom.fixing.repairs_config import V4_DEFAULTS

    v4 = next(t for t in v4_targets if not t.installed)
    assert v4.python is not None
    proc = subprocess.run(
        [v4.python, "-c", CHILD, str(COMPAT)], capture_output=True, text=True, timeout=600
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("HFC-RESULT ")), None)
    assert line is not None, proc.stderr[-2000:]
    result = json.loads(line[len("HFC-RESULT ") :])
    defaults = result.pop("defaults")
    assert result and all(result.values()), result
    for name, value in V4_DEFAULTS.items():
        assert name in defaults and defaults[name] == value, (name, value, defaults.get(name))
