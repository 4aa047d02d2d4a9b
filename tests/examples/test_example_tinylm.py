"""The TinyLM example: the checkpoint it leaves, and its model and tokenizer classes loaded through
every AutoClass from a folder completed by hand (what `hf-custom publish` automates)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import torch
from safetensors.torch import save_file

EXPECTED_FILES = {
    "config.json",
    "configuration_tinylm.py",
    "modeling_tinylm.py",
    "tokenization_tinylm.py",
    "tokenizer_config.json",
    "vocab.json",
    "last.ckpt",
}
AUTO_MAP = {
    "AutoConfig": "configuration_tinylm.TinyLMConfig",
    "AutoModel": "modeling_tinylm.TinyLMModel",
    "AutoModelForCausalLM": "modeling_tinylm.TinyLMForCausalLM",
}
CODE_FILES = ("configuration_tinylm.py", "modeling_tinylm.py", "tokenization_tinylm.py")
PROMPTS = ["the lamp is lit", "the cat"]


@pytest.mark.slow
def test_checkpoint_has_the_files_a_training_loop_leaves(tinylm_checkpoint: Path) -> None:
    assert {p.name for p in tinylm_checkpoint.iterdir()} == EXPECTED_FILES

    config = json.loads((tinylm_checkpoint / "config.json").read_text())
    assert config["model_type"] == "tinylm"
    assert "auto_map" not in config
    assert config["tie_word_embeddings"] is True
    tokenizer_config = json.loads((tinylm_checkpoint / "tokenizer_config.json").read_text())
    assert tokenizer_config["tokenizer_class"] == "TinyLMTokenizer"
    assert "auto_map" not in tokenizer_config
    vocab = json.loads((tinylm_checkpoint / "vocab.json").read_text())
    assert len(vocab) == config["vocab_size"]
    assert [vocab[t] for t in ("<pad>", "<s>", "</s>")] == [
        config["pad_token_id"],
        config["bos_token_id"],
        config["eos_token_id"],
    ]


@pytest.mark.slow
def test_weights_are_nested_and_named_as_a_compiled_model_names_them(
    tinylm_checkpoint: Path, example_script: Callable[[str], ModuleType]
) -> None:
    example_script("tinylm")  # puts examples/ on sys.path
    from tinylm.configuration_tinylm import TinyLMConfig
    from tinylm.modeling_tinylm import TinyLMForCausalLM

    checkpoint = torch.load(tinylm_checkpoint / "last.ckpt", weights_only=True)
    assert {"state_dict", "optimizer_states", "global_step", "hyper_parameters"} <= set(checkpoint)
    state = checkpoint["state_dict"]
    assert all(name.startswith("_orig_mod.") for name in state)
    config = TinyLMConfig.from_pretrained(tinylm_checkpoint)
    expected = set(TinyLMForCausalLM(config).state_dict())
    assert {name.removeprefix("_orig_mod.") for name in state} == expected
    tied = state["_orig_mod.lm_head.weight"], state["_orig_mod.model.embed_tokens.weight"]
    assert tied[0].data_ptr() == tied[1].data_ptr()


@pytest.mark.slow
def test_refuses_to_overwrite_without_force(
    tmp_path: Path, example_script: Callable[[str], ModuleType]
) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit, match="not empty; pass --force"):
        example_script("tinylm").main(["--out", str(tmp_path), "--steps", "1"])
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.slow
def test_force_replaces_and_training_is_deterministic(
    tmp_path: Path,
    tinylm_checkpoint: Path,
    example_script: Callable[[str], ModuleType],
    fast_steps: str,
) -> None:
    (tmp_path / "stale.txt").write_text("old")
    args = ["--out", str(tmp_path), "--force", "--steps", fast_steps]
    assert example_script("tinylm").main(args) == 0
    assert not (tmp_path / "stale.txt").exists()
    first = torch.load(tinylm_checkpoint / "last.ckpt", weights_only=True)["state_dict"]
    second = torch.load(tmp_path / "last.ckpt", weights_only=True)["state_dict"]
    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first)


def _complete_by_hand(checkpoint: Path, dest: Path) -> None:
    """What publish will do, written out for this one example: auto_map in config.json and in
    tokenizer_config.json, weights unnested and renamed, tied duplicate dropped, safetensors."""
    dest.mkdir()
    for name in (*CODE_FILES, "vocab.json"):
        shutil.copyfile(checkpoint / name, dest / name)

    config = json.loads((checkpoint / "config.json").read_text())
    config["auto_map"] = AUTO_MAP
    config["architectures"] = ["TinyLMForCausalLM"]
    (dest / "config.json").write_text(json.dumps(config, indent=2))
    tokenizer_config = json.loads((checkpoint / "tokenizer_config.json").read_text())
    tokenizer_config["auto_map"] = {"AutoTokenizer": ["tokenization_tinylm.TinyLMTokenizer", None]}
    (dest / "tokenizer_config.json").write_text(json.dumps(tokenizer_config, indent=2))

    state = torch.load(checkpoint / "last.ckpt", weights_only=True)["state_dict"]
    renamed = {name.removeprefix("_orig_mod."): t for name, t in state.items()}
    del renamed["lm_head.weight"]  # tied: transformers restores it
    save_file({k: v.contiguous() for k, v in renamed.items()}, str(dest / "model.safetensors"))


def _reference_generation(checkpoint: Path) -> list[list[int]]:
    """Greedy continuations of PROMPTS by the example's own classes and weights."""
    from tinylm.configuration_tinylm import TinyLMConfig
    from tinylm.modeling_tinylm import TinyLMForCausalLM
    from tinylm.tokenization_tinylm import TinyLMTokenizer

    tokenizer = TinyLMTokenizer(str(checkpoint / "vocab.json"), padding_side="left")
    model = TinyLMForCausalLM(TinyLMConfig.from_pretrained(checkpoint)).eval()
    state = torch.load(checkpoint / "last.ckpt", weights_only=True)["state_dict"]
    model.load_state_dict({name.removeprefix("_orig_mod."): t for name, t in state.items()})
    batch = tokenizer(PROMPTS, padding=True, return_tensors="pt")
    return model.generate(**batch, max_new_tokens=12, do_sample=False).tolist()


CHILD = r"""
import json, sys
import torch
from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

folder, prompts = sys.argv[1], json.loads(sys.argv[2])
config = AutoConfig.from_pretrained(folder, trust_remote_code=True)
tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True, padding_side="left")
batch = tokenizer(prompts, padding=True, return_tensors="pt")
lm, info = AutoModelForCausalLM.from_pretrained(folder, trust_remote_code=True, output_loading_info=True)
base = AutoModel.from_pretrained(folder, trust_remote_code=True)
with torch.no_grad():
    generated = lm.generate(**batch, max_new_tokens=12, do_sample=False)
    hidden = base(**batch).last_hidden_state
print(json.dumps({
    "config": type(config).__name__,
    "tokenizer": type(tokenizer).__name__,
    "tokenizer_module": type(tokenizer).__module__,
    "lm": type(lm).__name__,
    "lm_module": type(lm).__module__,
    "base": type(base).__name__,
    "missing": sorted(info["missing_keys"]),
    "unexpected": sorted(info["unexpected_keys"]),
    "tied": lm.lm_head.weight.data_ptr() == lm.model.embed_tokens.weight.data_ptr(),
    "generated": generated.tolist(),
    "text": tokenizer.decode(generated[0], skip_special_tokens=True),
    "hidden_shape": list(hidden.shape),
}))
"""


@pytest.mark.slow
def test_model_and_tokenizer_load_through_every_auto_class_in_a_fresh_process(
    tmp_path: Path,
    tinylm_checkpoint: Path,
    example_script: Callable[[str], ModuleType],
    fresh_process: Callable[..., str],
) -> None:
    example_script("tinylm")
    folder = tmp_path / "ready"
    _complete_by_hand(tinylm_checkpoint, folder)
    expected = _reference_generation(tinylm_checkpoint)

    stdout = fresh_process(CHILD, [str(folder), json.dumps(PROMPTS)], cwd=tmp_path)
    report = json.loads(stdout.strip().splitlines()[-1])

    assert (report["config"], report["tokenizer"]) == ("TinyLMConfig", "TinyLMTokenizer")
    assert (report["lm"], report["base"]) == ("TinyLMForCausalLM", "TinyLMModel")
    assert report["lm_module"].startswith("transformers_modules.")  # code came from the folder
    assert report["tokenizer_module"].startswith("transformers_modules.")
    assert report["missing"] == [] and report["unexpected"] == []
    assert report["tied"]
    assert report["generated"] == expected
    assert report["text"].startswith(PROMPTS[0])
    assert report["hidden_shape"] == [2, len(PROMPTS[0]), 64]
