"""The LTG-BERT example: the checkpoint it leaves, and its hand-written wrapper loaded through every
AutoClass from a folder completed by hand (what `hf-custom publish` automates)."""

from __future__ import annotations

import ast
import json
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
import torch
from safetensors.torch import save_file

EXPECTED_FILES = {
    "config.json",
    "configuration_ltgbert.py",
    "modeling_ltgbert.py",
    "ltgbert.py",
    "pytorch_model.bin",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_token_map.json",
    "training_args.bin",
    "optimizer.pt",
}
AUTO_MAP = {
    "AutoConfig": "configuration_ltgbert.LtgbertConfig",
    "AutoModel": "modeling_ltgbert.LtgbertModel",
    "AutoModelForMaskedLM": "modeling_ltgbert.LtgbertForMaskedLM",
    "AutoModelForSequenceClassification": "modeling_ltgbert.LtgbertForSequenceClassification",
    "AutoModelForTokenClassification": "modeling_ltgbert.LtgbertForTokenClassification",
}
TEXTS = ["The river runs through the old town.", "Children read a story."]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.slow
def test_checkpoint_has_the_files_researchers_leave(ltgbert_checkpoint: Path) -> None:
    assert {p.name for p in ltgbert_checkpoint.iterdir()} == EXPECTED_FILES

    config = json.loads((ltgbert_checkpoint / "config.json").read_text())
    assert config["model_type"] == "ltgbert"
    assert "auto_map" not in config and "architectures" not in config
    assert config["torch_dtype"] == "float32" and "dtype" not in config
    assert config["tie_word_embeddings"] is True

    tokenizer_config = json.loads((ltgbert_checkpoint / "tokenizer_config.json").read_text())
    assert "auto_map" not in tokenizer_config
    special = json.loads((ltgbert_checkpoint / "special_token_map.json").read_text())
    assert special["mask_token"] == "[MASK]"


@pytest.mark.slow
def test_weights_are_the_raw_research_module_behind_a_data_parallel_prefix(
    ltgbert_checkpoint: Path, example_script: Callable[[str], ModuleType]
) -> None:
    example_script("ltgbert")  # puts examples/ on sys.path
    from ltgbert.ltgbert import LtgBert

    state = torch.load(ltgbert_checkpoint / "pytorch_model.bin", weights_only=True)
    assert all(name.startswith("module.") for name in state)
    stripped = {name.removeprefix("module."): tensor for name, tensor in state.items()}
    assert set(stripped) == set(LtgBert(**_research_args(ltgbert_checkpoint)).state_dict())
    decoder = stripped["classifier.decoder.weight"]
    embedding = stripped["embedding.word_embedding.weight"]
    assert decoder.data_ptr() == embedding.data_ptr()  # tied: one tensor under two names


@pytest.mark.slow
def test_training_leftovers_are_real_pickles(ltgbert_checkpoint: Path) -> None:
    # training_args.bin is a pickled TrainingArguments object: safe loading must refuse it.
    with pytest.raises(pickle.UnpicklingError):
        torch.load(ltgbert_checkpoint / "training_args.bin", weights_only=True)
    optimizer = torch.load(ltgbert_checkpoint / "optimizer.pt", weights_only=True)
    assert optimizer["state"] and optimizer["param_groups"]


def test_research_module_does_not_import_transformers() -> None:
    """`wrap` (issue 7) starts from ltgbert.py alone: it must stand on plain PyTorch."""
    tree = ast.parse((EXAMPLES / "ltgbert" / "ltgbert.py").read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    }
    assert imported == {"__future__", "math", "torch"}


@pytest.mark.slow
def test_refuses_to_overwrite_without_force(
    tmp_path: Path, example_script: Callable[[str], ModuleType]
) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit, match="not empty; pass --force"):
        example_script("ltgbert").main(["--out", str(tmp_path), "--steps", "1"])
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


@pytest.mark.slow
def test_training_is_deterministic(
    tmp_path: Path,
    ltgbert_checkpoint: Path,
    example_script: Callable[[str], ModuleType],
    fast_steps: str,
) -> None:
    again = tmp_path / "again"
    assert example_script("ltgbert").main(["--out", str(again), "--steps", fast_steps]) == 0
    first = torch.load(ltgbert_checkpoint / "pytorch_model.bin", weights_only=True)
    second = torch.load(again / "pytorch_model.bin", weights_only=True)
    assert first.keys() == second.keys()
    assert all(torch.equal(first[name], second[name]) for name in first)
    for name in ("tokenizer.json", "config.json"):
        assert (ltgbert_checkpoint / name).read_bytes() == (again / name).read_bytes()


def _research_args(checkpoint: Path) -> dict[str, object]:
    config = json.loads((checkpoint / "config.json").read_text())
    return {
        "vocab_size": config["vocab_size"],
        "hidden_size": config["hidden_size"],
        "num_layers": config["num_hidden_layers"],
        "num_heads": config["num_attention_heads"],
        "intermediate_size": config["intermediate_size"],
        "position_bucket_size": config["position_bucket_size"],
        "max_position_embeddings": config["max_position_embeddings"],
        "layer_norm_eps": config["layer_norm_eps"],
    }


def _complete_by_hand(checkpoint: Path, dest: Path) -> None:
    """What publish will do, written out for this one example: auto_map, wrapper weight names,
    tied duplicate dropped, safetensors, tokenizer map spelled right, leftovers left behind."""
    dest.mkdir()
    for name in ("configuration_ltgbert.py", "modeling_ltgbert.py", "ltgbert.py"):
        shutil.copyfile(checkpoint / name, dest / name)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(checkpoint / name, dest / name)
    shutil.copyfile(checkpoint / "special_token_map.json", dest / "special_tokens_map.json")

    config = json.loads((checkpoint / "config.json").read_text())
    config["dtype"] = config.pop("torch_dtype")
    config["auto_map"] = AUTO_MAP
    config["architectures"] = ["LtgbertForMaskedLM"]
    (dest / "config.json").write_text(json.dumps(config, indent=2))

    state = torch.load(checkpoint / "pytorch_model.bin", weights_only=True)
    renamed = {"model." + name.removeprefix("module."): t for name, t in state.items()}
    del renamed["model.classifier.decoder.weight"]  # tied: transformers restores it
    save_file({k: v.contiguous() for k, v in renamed.items()}, str(dest / "model.safetensors"))


def _reference_outputs(checkpoint: Path, path: Path) -> None:
    """Hidden states and masked-LM logits of the raw research module, batch-first."""
    from ltgbert.ltgbert import LtgBert
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(checkpoint / "tokenizer.json"))
    tokenizer.pad_token = "[PAD]"
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    model = LtgBert(**_research_args(checkpoint)).eval()
    state = torch.load(checkpoint / "pytorch_model.bin", weights_only=True)
    model.load_state_dict({name.removeprefix("module."): t for name, t in state.items()})
    with torch.no_grad():
        hidden = model(batch["input_ids"].T, batch["attention_mask"] == 0)
        logits = model.classifier(hidden)
    reference = {
        "input_ids": batch["input_ids"],
        "hidden": hidden.transpose(0, 1),
        "logits": logits.transpose(0, 1),
    }
    torch.save(reference, path)


CHILD = r"""
import json, sys
import torch, transformers
from transformers import AutoConfig, AutoTokenizer

folder, reference_path, texts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
reference = torch.load(reference_path, weights_only=True)
config = AutoConfig.from_pretrained(folder, trust_remote_code=True)
tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
batch = tokenizer(texts, padding=True, return_tensors="pt")
report = {"config": type(config).__name__, "input_ids_match": torch.equal(batch["input_ids"], reference["input_ids"])}
for auto_name in sorted(config.auto_map):
    if auto_name == "AutoConfig":
        continue
    model, info = getattr(transformers, auto_name).from_pretrained(
        folder, trust_remote_code=True, output_loading_info=True
    )
    model.eval()
    with torch.no_grad():
        out = model(**batch)
    row = {
        "class": type(model).__name__,
        "module": type(model).__module__,
        "missing": sorted(info["missing_keys"]),
        "unexpected": sorted(info["unexpected_keys"]),
        "output": type(out).__name__,
        "shape": list(out[0].shape),
    }
    if auto_name == "AutoModel":
        row["max_diff"] = float((out.last_hidden_state - reference["hidden"]).abs().max())
    if auto_name == "AutoModelForMaskedLM":
        row["max_diff"] = float((out.logits - reference["logits"]).abs().max())
        row["tied"] = model.model.classifier.decoder.weight.data_ptr() == model.model.embedding.word_embedding.weight.data_ptr()
    report[auto_name] = row
print(json.dumps(report))
"""


@pytest.mark.slow
def test_wrapper_loads_through_every_auto_class_in_a_fresh_process(
    tmp_path: Path,
    ltgbert_checkpoint: Path,
    example_script: Callable[[str], ModuleType],
    fresh_process: Callable[..., str],
) -> None:
    example_script("ltgbert")
    folder, reference = tmp_path / "ready", tmp_path / "reference.pt"
    _complete_by_hand(ltgbert_checkpoint, folder)
    _reference_outputs(ltgbert_checkpoint, reference)

    stdout = fresh_process(CHILD, [str(folder), str(reference), json.dumps(TEXTS)], cwd=tmp_path)
    report = json.loads(stdout.strip().splitlines()[-1])

    assert report["config"] == "LtgbertConfig"
    assert report["input_ids_match"]
    batch, length = 2, len(torch.load(reference, weights_only=True)["input_ids"][0])
    expected = {
        "AutoModel": ("LtgbertModel", "BaseModelOutput", [batch, length, 64]),
        "AutoModelForMaskedLM": ("LtgbertForMaskedLM", "MaskedLMOutput", None),
        "AutoModelForSequenceClassification": (
            "LtgbertForSequenceClassification",
            "SequenceClassifierOutput",
            [batch, 2],
        ),
        "AutoModelForTokenClassification": (
            "LtgbertForTokenClassification",
            "TokenClassifierOutput",
            [batch, length, 2],
        ),
    }
    for auto_name, (cls, output, shape) in expected.items():
        row = report[auto_name]
        assert (row["class"], row["output"]) == (cls, output)
        assert row["module"].startswith("transformers_modules.")  # code came from the folder
        assert row["unexpected"] == []
        if shape is not None:
            assert row["shape"] == shape
    # The task heads are new; everything under model. came from the checkpoint.
    assert report["AutoModel"]["missing"] == []
    assert report["AutoModelForMaskedLM"]["missing"] == []
    assert report["AutoModelForSequenceClassification"]["missing"] == [
        f"head.{layer}.{kind}"
        for layer in ("dense", "norm", "out_proj")
        for kind in ("bias", "weight")
    ]
    assert report["AutoModelForTokenClassification"]["missing"] == [
        "classifier.bias",
        "classifier.weight",
    ]
    # Same numbers as the research module: wrapper transposes, mask inversion and tying are right.
    assert report["AutoModel"]["max_diff"] < 1e-5
    assert report["AutoModelForMaskedLM"]["max_diff"] < 1e-4
    assert report["AutoModelForMaskedLM"]["tied"]
