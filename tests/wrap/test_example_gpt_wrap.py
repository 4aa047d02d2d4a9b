"""examples/gpt_wrap: a single-file GPT (dataclass config, `(logits, loss)` forward, logits for
the last position only without targets) wrapped, published to the embedded Hub, loaded by repo
id, fine-tuned with Trainer and used with generate()."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hf_custom.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "gpt_wrap"


def _run(argv: list[str], env: dict[str, str]) -> dict:
    proc = subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, env=env, timeout=900
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.network
def test_gpt_wrap_publish_load_train_generate(tmp_path: Path, local_hub, capsys) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    raw = tmp_path / "raw"
    trained = _run([str(EXAMPLE / "research_train.py"), "--out", str(raw), "--steps", "40"], env)
    assert trained["last_loss"] < trained["first_loss"]

    hf = tmp_path / "gpt_hf"
    wrap_argv = ["wrap", f"{EXAMPLE / 'gpt.py'}:GPT", "--out", str(hf)]
    wrap_argv += ["--weights", str(raw / "gpt.pt"), "--name", "tiny-gpt", "--format", "json"]
    assert main(wrap_argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["config"] == {"kind": "dataclass", "renamed": {}}
    module = report["module"]
    assert module["targets_argument"] == "targets" and module["last_position_only"]
    assert module["own_loss"] and module["ignore_index"] == -1
    assert report["tasks"] == ["causal-lm"]

    repo_id = f"{local_hub.user}/tiny-gpt"
    publish_argv = ["publish", str(hf), "--repo-id", repo_id, "--endpoint", local_hub.url]
    publish_argv += ["--token", local_hub.token, "--format", "json"]
    assert main(publish_argv) == 0
    published = json.loads(capsys.readouterr().out)
    assert published["ok"], published["findings"]

    child_env = local_hub.env(HF_HOME=str(tmp_path / "user_home"))
    child_env.pop("PYTHONPATH", None)
    child_env["HF_MODULES_CACHE"] = str(tmp_path / "user_home" / "modules")
    used = _run([str(EXAMPLE / "use_from_hub.py"), repo_id, str(raw / "gpt.pt")], child_env)
    assert used["class"] == "TinyGptForCausalLM"
    for stage in ("before", "after"):
        got = used[stage]
        # the wrapper trains on the module's own loss, and generates what the module generates
        assert got["hf_loss"] == pytest.approx(got["research_loss"], abs=1e-5)
        assert got["hf_generated"] == got["research_generated"]
        assert len(got["hf_generated"]) == len("It is a truth") + 20
    losses = used["losses"]
    assert len(losses) == 12 and sum(losses[-3:]) < sum(losses[:3])
