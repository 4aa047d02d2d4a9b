"""examples/ltgbert_wrap: from the research module alone to the embedded Hub with two commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hf_custom.cli.main import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ltgbert_wrap"
RESEARCH = EXAMPLE.parent / "ltgbert" / "ltgbert.py"


@pytest.mark.slow
@pytest.mark.network
def test_wrap_then_publish_reaches_the_hub(tmp_path: Path, local_hub, capsys) -> None:
    raw = tmp_path / "raw"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE / "make_weights.py"), "--out", str(raw), "--steps", "30"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    trained = json.loads(proc.stdout.strip().splitlines()[-1])
    assert trained["last_loss"] < trained["first_loss"]

    args = json.loads((raw / "args.json").read_text())
    hf = tmp_path / "ltgbert_hf"
    wrap_argv = [
        "wrap",
        f"{RESEARCH}:LtgBert",
        "--out",
        str(hf),
        "--weights",
        str(raw / "ltgbert.pt"),
    ]
    wrap_argv += ["--name", "ltg-bert-wrapped", "--tokenizer", str(raw), "--format", "json"]
    wrap_argv += [f"--arg={k}={v}" for k, v in sorted(args.items())]
    assert main(wrap_argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["verification"]["ok"]
    assert report["module"]["input_sequence_first"] and report["module"]["mask_convention"] == "pad"
    assert report["next_command"].startswith(f"hf-custom publish {hf} --repo-id ")

    assert report["module"]["lm_head"] == "classifier"  # LtgBert's own masked-LM head

    assert {"tokenizer.json", "tokenizer_config.json"} <= set(report["files"])
    check = subprocess.run(
        [sys.executable, str(EXAMPLE / "check_wrapped.py"), str(raw), str(hf)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert check.returncode == 0, check.stdout + check.stderr[-2000:]
    losses = json.loads(check.stdout.strip().splitlines()[-1])
    assert losses["wrapped_loss"] == pytest.approx(losses["research_loss"], abs=1e-5)
    before = {p.name: p.read_bytes() for p in hf.iterdir()}
    repo_id = f"{local_hub.user}/ltg-bert-wrapped"
    publish_argv = ["publish", str(hf), "--repo-id", repo_id, "--endpoint", local_hub.url]
    publish_argv += ["--token", local_hub.token, "--format", "json"]
    assert main(publish_argv) == 0
    published = json.loads(capsys.readouterr().out)
    assert published["ok"], published["findings"]
    assert {p.name: p.read_bytes() for p in hf.iterdir()} == before  # publish never edits it

    files = set(local_hub.api().list_repo_files(repo_id))
    expected = {"modeling_ltg_bert_wrapped.py", "configuration_ltg_bert_wrapped.py", "ltgbert.py"}
    assert expected | {"config.json", "model.safetensors", "tokenizer.json"} <= files
    uploaded = local_hub.api().hf_hub_download(repo_id, "modeling_ltg_bert_wrapped.py")
    assert Path(uploaded).read_bytes() == before["modeling_ltg_bert_wrapped.py"]  # unchanged
