"""``hf-custom convert`` through the real CLI entry point."""

from __future__ import annotations

import json

import torch

from hf_custom.cli.main import main
from tests.weights.conftest import load_output, tiny_state_dict


def test_convert_json(tmp_path, save, capsys):
    src = save({f"module.{k}": v for k, v in tiny_state_dict().items()})
    out = tmp_path / "out"
    code = main(
        [
            "convert",
            str(src),
            str(out),
            "--max-shard-size",
            "2KB",
            "--dtype",
            "bfloat16",
            "--rename",
            r"norm\.=final_norm.",
            "--format",
            "json",
        ]
    )
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 1 and doc["command"] == "convert"
    assert doc["dtype"] == "bfloat16" and doc["tensors"] == 6
    assert doc["dropped_duplicates"] == {"lm_head.weight": "model.embed_tokens.weight"}
    assert any(r["new"] == "model.final_norm.weight" for r in doc["renames"])
    assert doc["files"][-1]["name"] == "model.safetensors.index.json"
    got = load_output(out)
    assert got["model.final_norm.weight"].dtype == torch.bfloat16


def test_convert_human(tmp_path, save, capsys):
    code = main(["convert", str(save(tiny_state_dict())), str(tmp_path / "out")])
    assert code == 0
    text = capsys.readouterr().out
    assert "model.safetensors" in text and "verified" in text


def test_convert_errors_exit_codes(tmp_path, save, capsys):
    assert main(["convert", str(tmp_path / "missing.bin"), str(tmp_path / "out")]) == 2
    src = save(tiny_state_dict())
    assert main(["convert", str(src), str(tmp_path / "o"), "--max-shard-size", "lots"]) == 2
    assert main(["convert", str(src), str(tmp_path / "o"), "--rename", "nope"]) == 2
    assert not (tmp_path / "o").exists()


def test_convert_profile_names_every_phase(tmp_path, save, capsys):
    src = save(tiny_state_dict())
    assert main(["convert", str(src), str(tmp_path / "out"), "--profile"]) == 0
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if x.startswith("profile: "))
    timings, _, route = line.removeprefix("profile: ").partition("; ")
    names = [part.rsplit(" ", 2)[0] for part in timings.split(", ")]
    assert names == ["start-up", "metadata", "copy", "re-check", "finalise"]
    assert route == "I/O kernel (small source)"
    argv = ["convert", str(src), str(tmp_path / "out2"), "--format", "json", "--io", "direct"]
    assert main(argv) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["io"] == {"route": "direct", "reason": "asked", "probe": {}}
    assert doc["kernel_copied"] == 0
    assert set(doc["phases"]) == {"metadata", "copy", "re-check", "finalise"}
    assert all(v >= 0 for v in doc["phases"].values()) and doc["startup_seconds"] > 0
