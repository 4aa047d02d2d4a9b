"""publish / stage on real folders: a tiny researcher-style checkpoint built in the test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tiny_checkpoint import TOKEN, digest, make_checkpoint

from hf_custom.errors import InputError, Refusal
from hf_custom.publishing import parse_auto_classes, publish, stage
from hf_custom.staging.card import parse_front_matter


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("pristine") / "ckpt")


@pytest.fixture
def ckpt(tmp_path: Path, pristine: Path) -> Path:
    import shutil

    dest = tmp_path / "ckpt"
    shutil.copytree(pristine, dest)
    return dest


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.mark.slow
def test_publish_dry_run_researcher_checkpoint(ckpt: Path, tmp_path: Path) -> None:
    (ckpt / "train.py").write_text("print('training')\n")  # not imported by the model
    (ckpt / "extra").mkdir()
    (ckpt / "extra" / "vocab.txt").write_text("a\n")
    before = digest(ckpt)
    out = tmp_path / "staged"
    published = publish(ckpt, dry_run=True, out=out)  # stage, check and verify
    result = published.stage
    assert digest(ckpt) == before  # the source is never modified
    assert _leftovers(tmp_path) == []

    assert set(result.files) == {
        "README.md",
        "config.json",
        "configuration_tinyenc.py",
        "modeling_tinyenc.py",
        "model.safetensors",
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
    }
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "tinyenc"
    assert config["auto_map"] == {
        "AutoConfig": "configuration_tinyenc.TinyEncConfig",
        "AutoModel": "modeling_tinyenc.TinyEncModel",
        "AutoModelForMaskedLM": "modeling_tinyenc.TinyEncForMaskedLM",
        "AutoModelForSequenceClassification": "modeling_tinyenc.TinyEncForSequenceClassification",
    }
    assert config["architectures"] == ["TinyEncForMaskedLM"]
    assert config["dtype"] == "float32" and "torch_dtype" not in config
    assert config["pad_token_id"] == 0 and config["sep_token_id"] == 3
    assert config["transformers_version"]

    excluded = {e.path for e in result.excluded}
    assert {".git/", "optimizer.pt", "notes.txt", "train.py", "extra/vocab.txt"} <= excluded
    keys = {c.key for c in result.changes}
    assert {"model_type", "auto_map.AutoConfig", "architectures", "dtype", "pad_token_id"} <= keys

    meta = parse_front_matter((out / "README.md").read_text())
    assert meta["library_name"] == "transformers" and "custom_code" in meta["tags"]
    assert meta["pipeline_tag"] == "fill-mask"

    from safetensors import safe_open

    with safe_open(str(out / "model.safetensors"), "pt") as fh:
        assert set(fh.keys()) == {
            "model.embed.weight",
            "model.layer.weight",
            "model.layer.bias",
            "lm_head.weight",
            "lm_head.bias",
        }
    assert result.ok, [f for f in result.findings if f.severity.value == "error"]
    doc = json.dumps(published.to_json())
    assert TOKEN not in doc

    # verified through every AutoClass in a clean process; nothing uploaded
    assert published.ok, (published.refused, [f.to_json() for f in published.findings])
    assert published.verify is not None and published.upload is None
    autos = {row.auto_class for row in published.verify.rows}
    assert {"AutoModel", "AutoModelForMaskedLM", "AutoModelForSequenceClassification"} <= autos


@pytest.mark.slow
@pytest.mark.network
def test_publish_to_local_hub(ckpt: Path, local_hub: Any) -> None:
    first = publish(
        ckpt, repo_id="alice/tinyenc", endpoint=local_hub.url, token=local_hub.token, verify=False
    )
    assert first.ok and first.upload is not None and first.upload.committed
    assert not first.kept  # the temporary staging folder is removed after an upload
    assert first.verify_skipped and "HFC529" in {f.id for f in first.findings}
    again = publish(
        ckpt, repo_id="alice/tinyenc", endpoint=local_hub.url, token=local_hub.token, verify=False
    )
    assert again.upload is not None and not again.upload.committed


def test_malformed_config(ckpt: Path, tmp_path: Path) -> None:
    (ckpt / "config.json").write_text('{"model_type": "tinyenc", ')
    out = tmp_path / "out"
    with pytest.raises(InputError) as info:
        stage(ckpt, out=out)
    assert info.value.path is not None and info.value.path.endswith("config.json")
    assert info.value.exit_code == 2
    assert not out.exists() and _leftovers(tmp_path) == []


def test_builtin_model_type_refused(ckpt: Path, tmp_path: Path) -> None:
    (ckpt / "config.json").write_text(json.dumps({"model_type": "bert"}))
    out = tmp_path / "out"
    with pytest.raises(Refusal) as info:
        stage(ckpt, out=out)
    assert {"HFC102", "HFC103"} <= {f.id for f in info.value.findings}
    assert not out.exists() and _leftovers(tmp_path) == []


def test_out_must_be_empty_or_forced(ckpt: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        stage(ckpt, out=out)
    assert (out / "old.txt").read_text() == "x"


def test_out_inside_source_refused(ckpt: Path) -> None:
    with pytest.raises(InputError, match="inside the checkpoint"):
        stage(ckpt, out=ckpt / "staged")
    assert not (ckpt / "staged").exists()


@pytest.mark.slow
def test_failure_after_planning_leaves_nothing(ckpt: Path, tmp_path: Path) -> None:
    data = (ckpt / "pytorch_model.bin").read_bytes()
    (ckpt / "pytorch_model.bin").write_bytes(data[: len(data) // 2])  # truncated
    out = tmp_path / "out"
    with pytest.raises(InputError):
        stage(ckpt, out=out)
    assert not out.exists() and _leftovers(tmp_path) == []


def test_force_replaces_out(ckpt: Path, tmp_path: Path) -> None:
    (ckpt / "config.json").write_text(json.dumps({"model_type": "bert"}))
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("x")
    with pytest.raises(Refusal):
        stage(ckpt, out=out, force=True)
    assert (out / "old.txt").read_text() == "x"  # a refused run keeps the old folder


def test_publish_needs_repo_id(ckpt: Path) -> None:
    with pytest.raises(InputError, match="--repo-id"):
        publish(ckpt)


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([], {}),
        (["XForY=AutoModelForY"], {"XForY": "AutoModelForY"}),
        ([" A = AutoModel "], {"A": "AutoModel"}),
    ],
)
def test_parse_auto_classes(pairs: list[str], expected: dict[str, str]) -> None:
    assert parse_auto_classes(pairs) == expected


@pytest.mark.parametrize("bad", ["XForY", "=AutoModel", "X="])
def test_parse_auto_classes_bad(bad: str) -> None:
    with pytest.raises(InputError):
        parse_auto_classes([bad])


def test_source_weight_names_formats(ckpt: Path) -> None:
    import torch

    from hf_custom.inventory import read_checkpoint, weight_names

    expected = torch.load(ckpt / "pytorch_model.bin", weights_only=True)
    names = sorted(expected)
    assert sorted(weight_names(ckpt, read_checkpoint(ckpt)) or []) == names
    # nested and in the legacy (non-zip) format
    torch.save(
        {"state_dict": expected, "epoch": 3},
        ckpt / "pytorch_model.bin",
        _use_new_zipfile_serialization=False,
    )
    assert sorted(weight_names(ckpt, read_checkpoint(ckpt)) or []) == names
    # a sharded checkpoint: the shards the index names are read (as convert reads them)
    shard = "pytorch_model-00001-of-00001.bin"
    index = {"metadata": {}, "weight_map": {n: shard for n in names}}
    (ckpt / "pytorch_model.bin.index.json").write_text(json.dumps(index))
    (ckpt / "pytorch_model.bin").rename(ckpt / shard)
    assert sorted(weight_names(ckpt, read_checkpoint(ckpt)) or []) == names
    # an index naming a missing shard: nothing to fit against (convert refuses it)
    (ckpt / shard).rename(ckpt / "pytorch_model.bin")
    assert weight_names(ckpt, read_checkpoint(ckpt)) is None


@pytest.mark.slow
@pytest.mark.network
def test_failed_verification_uploads_nothing(ckpt: Path, local_hub: Any) -> None:
    from tiny_checkpoint import MODELING

    broken = MODELING.replace(
        "        logits = self.lm_head(self.model(input_ids))\n",
        "        raise RuntimeError('broken head')\n",
    )
    assert broken != MODELING
    (ckpt / "modeling_tinyenc.py").write_text(broken)
    result = publish(ckpt, repo_id="alice/broken", endpoint=local_hub.url, token=local_hub.token)
    assert not result.ok and result.refused and "verification" in result.refused
    assert result.upload is None
    assert result.verify is not None and not result.verify.ok
    assert result.kept  # the staged folder is kept for inspection
    assert not local_hub.api().repo_exists("alice/broken")


@pytest.mark.slow
def test_model_type_renamed_in_config_and_code(ckpt: Path, tmp_path: Path) -> None:
    (ckpt / "config.json").write_text(json.dumps({"model_type": "bert", "vocab_size": 12}))
    out = tmp_path / "out"
    result = stage(ckpt, out=out, model_type="tinyenc2")
    assert json.loads((out / "config.json").read_text())["model_type"] == "tinyenc2"
    source = (out / "configuration_tinyenc.py").read_text()
    assert "model_type = 'tinyenc2'" in source or 'model_type = "tinyenc2"' in source
    assert "tinyenc2" not in (ckpt / "configuration_tinyenc.py").read_text()
    assert result.ok, [f.to_json() for f in result.findings if f.severity.value == "error"]
    (renamed,) = [r for r in result.rewrites if "--model-type" in r.reason]
    assert renamed.path == "configuration_tinyenc.py" and "tinyenc2" in renamed.new


def test_token_in_model_code_refused(ckpt: Path, tmp_path: Path) -> None:
    path = ckpt / "modeling_tinyenc.py"
    path.write_text(path.read_text() + f'\nHF_TOKEN = "{TOKEN}"\n')
    out = tmp_path / "out"
    with pytest.raises(Refusal) as info:
        stage(ckpt, out=out)
    assert "modeling_tinyenc.py" in str(info.value)
    assert TOKEN not in str(info.value) + repr([f.to_json() for f in info.value.findings])
    assert [f.id for f in info.value.findings] == ["HFC602"]
    assert not out.exists() and _leftovers(tmp_path) == []
