"""HFC240: model construction that needs a CUDA GPU is reported, named by fix and left alone;
guarded uses (the CPU path exists) are never reported."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from hf_custom.checks.gpuonly import gpu_only_uses
from hf_custom.cli.main import main
from hf_custom.diagnosis import doctor
from hf_custom.fixing import plan_fixes
from tests.checks.repo import CONFIG, CONFIGURATION, MODELING, write_repo

INIT = "        self.embed = nn.Embedding(config.vocab_size, config.hidden_size)\n"


def _with(lines: str, *, top: str = "") -> str:
    assert INIT in MODELING
    return top + MODELING.replace(INIT, INIT + lines, 1)


REQUIRED = {
    "assert": "        assert torch.cuda.is_available(), 'needs a GPU'\n",
    "cuda-call": "        self.embed = self.embed.cuda()\n",
    "device-kw": '        self.register_buffer("ids", torch.arange(4, device="cuda:0"))\n',
    "torch-device": '        self.dev = torch.device("cuda")\n',
    "to-cuda": '        self.scale = torch.ones(1).to("cuda")\n',
    "cuda-api": "        self.gpu = torch.cuda.current_device()\n",
}
GUARDED = {
    "if": "        if torch.cuda.is_available():\n            self.embed = self.embed.cuda()\n",
    "ifexp": '        self.dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")\n',
    "input-device": "        self.ids = torch.arange(4, device=self.embed.weight.device)\n",
    "try": "        try:\n            torch.cuda.init()\n        except Exception:\n            pass\n",
    "flag": "        if config.use_gpu_kernels:\n            self.k = 1\n",
    "method": "\n    def to_gpu(self):\n        return self.cuda()\n",
}


def _uses(text: str) -> list[str]:
    return [u.what for u in gpu_only_uses({"modeling_toy.py": ast.parse(text)})]


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_required_gpu_is_found(name: str) -> None:
    uses = _uses(_with(REQUIRED[name]))
    assert len(uses) == 1, uses


@pytest.mark.parametrize("name", sorted(GUARDED))
def test_guarded_uses_are_not_false_alarms(name: str) -> None:
    text = (
        _with(GUARDED[name])
        if name != "method"
        else MODELING.replace(
            "        self.post_init()\n\n    def forward",
            "        self.post_init()\n" + GUARDED[name] + "\n    def forward",
            1,
        )
    )
    assert text != MODELING
    assert _uses(text) == []


def test_module_level_and_probes() -> None:
    assert _uses(MODELING + "\nDEVICE = torch.device('cuda')\n") == ["torch.device('cuda')"]
    probes = "SUPPORT_CUDA = torch.cuda.is_available()\nBF16 = SUPPORT_CUDA and torch.cuda.is_bf16_supported()\n"
    assert _uses(MODELING + probes) == []


def _files(modeling: str) -> dict[str, str]:
    return {"modeling_toy.py": modeling, "configuration_toy.py": CONFIGURATION}


def test_fix_names_it_and_leaves_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = _with(REQUIRED["assert"])
    report = doctor(write_repo(tmp_path / "doc", _files(broken)), select=["HFC240"])
    assert [f.id for f in report.findings] == ["HFC240"]
    assert not doctor(write_repo(tmp_path / "ok", _files(MODELING)), select=["HFC240"]).findings
    plan = plan_fixes({k: v.encode() for k, v in _files(broken).items()}, config=CONFIG)
    left = [u for u in plan.unrepaired if u.rule == "HFC240"]
    assert len(left) == 1 and "ToyModel.__init__" in left[0].cause
    assert not any(
        c.path == "modeling_toy.py" and b"assert torch.cuda" not in c.after for c in plan.changes
    )
    src = write_repo(tmp_path / "src", _files(broken))
    assert main(["fix", str(src), "--diff", "--no-verify", "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert any(u["rule"] == "HFC240" for u in doc["unrepaired"]), doc["unrepaired"]
