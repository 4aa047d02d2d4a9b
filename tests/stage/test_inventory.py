from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from hf_custom.errors import InputError
from hf_custom.inventory import FileKind, classify, read_checkpoint

CASES = [
    ("modeling_x.py", FileKind.CODE),
    ("mypkg/layers.py", FileKind.CODE),
    ("config.json", FileKind.CONFIG),
    ("generation_config.json", FileKind.CONFIG),
    ("pytorch_model.bin", FileKind.WEIGHTS),
    ("model.safetensors", FileKind.WEIGHTS),
    ("model-00001-of-00002.safetensors", FileKind.WEIGHTS),
    ("model.safetensors.index.json", FileKind.WEIGHTS_INDEX),
    ("pytorch_model.bin.index.json", FileKind.WEIGHTS_INDEX),
    ("best.pt", FileKind.WEIGHTS),
    ("weights.pth", FileKind.WEIGHTS),
    ("epoch=3.ckpt", FileKind.WEIGHTS),
    ("tokenizer.json", FileKind.TOKENIZER),
    ("tokenizer_config.json", FileKind.TOKENIZER),
    ("special_tokens_map.json", FileKind.TOKENIZER),
    ("special_token_map.json", FileKind.TOKENIZER),
    ("added_tokens.json", FileKind.TOKENIZER),
    ("vocab.txt", FileKind.TOKENIZER),
    ("merges.txt", FileKind.TOKENIZER),
    ("spiece.model", FileKind.TOKENIZER),
    ("chat_template.jinja", FileKind.TOKENIZER),
    ("README.md", FileKind.CARD),
    ("docs/README.md", FileKind.OTHER),
    ("optimizer.pt", FileKind.TRAINING_ARTEFACT),
    ("scheduler.pt", FileKind.TRAINING_ARTEFACT),
    ("rng_state_0.pth", FileKind.TRAINING_ARTEFACT),
    ("rng_state.pth", FileKind.TRAINING_ARTEFACT),
    ("training_args.bin", FileKind.TRAINING_ARTEFACT),
    ("trainer_state.json", FileKind.TRAINING_ARTEFACT),
    ("checkpoint-500/pytorch_model.bin", FileKind.TRAINING_ARTEFACT),
    (".env", FileKind.SECRET),
    (".env.local", FileKind.SECRET),
    ("server.pem", FileKind.SECRET),
    ("deploy.key", FileKind.SECRET),
    ("id_rsa", FileKind.SECRET),
    (".git/config", FileKind.VCS_OR_CACHE),
    ("__pycache__/modeling_x.cpython-311.pyc", FileKind.VCS_OR_CACHE),
    (".ipynb_checkpoints/x.ipynb", FileKind.VCS_OR_CACHE),
    ("wandb/run-1/files/output.log", FileKind.VCS_OR_CACHE),
    ("runs/Nov01/events", FileKind.VCS_OR_CACHE),
    ("train.sh", FileKind.OTHER),
    ("notes.txt", FileKind.OTHER),
]


@pytest.mark.parametrize(("relpath", "kind"), CASES)
def test_classify(relpath: str, kind: FileKind) -> None:
    assert classify(relpath) is kind


def test_classify_uses_head() -> None:
    header = b'{"a":{}}'
    head = len(header).to_bytes(8, "little") + header
    assert classify("weights_no_extension", head=head) is FileKind.WEIGHTS
    assert classify("weights_no_extension", head=b"hello") is FileKind.OTHER
    pem = b"-----BEGIN OPENSSH PRIVATE KEY-----\n"
    assert classify("deploy_key", head=pem) is FileKind.SECRET


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_read_checkpoint(tmp_path: Path) -> None:
    src = tmp_path / "ckpt"
    (src / ".git" / "objects").mkdir(parents=True)
    (src / ".git" / "objects" / "ab").write_bytes(b"x" * 10)
    (src / "checkpoint-10").mkdir()
    (src / "checkpoint-10" / "optimizer.pt").write_bytes(b"y" * 7)
    (src / "config.json").write_text("{}")
    (src / "modeling_x.py").write_text("x = 1\n")
    (src / "pytorch_model.bin").write_bytes(b"PK\x03\x04")
    (src / "optimizer.pt").write_bytes(b"z")
    (src / ".env").write_text("WANDB_API_KEY=abc\n")
    token = "hf_" + "A1b2" * 9
    (src / "notes.txt").write_text(f"token: {token}\n")
    (src / "train.sh").write_text("python train.py\n")
    before = _digest(src)

    inv = read_checkpoint(src)

    assert _digest(src) == before
    assert {f.path: f.kind for f in inv.files} == {
        "config.json": FileKind.CONFIG,
        "modeling_x.py": FileKind.CODE,
        "pytorch_model.bin": FileKind.WEIGHTS,
    }
    excluded = {e.path: e for e in inv.excluded}
    assert set(excluded) == {
        ".git/",
        "checkpoint-10/",
        "optimizer.pt",
        ".env",
        "notes.txt",
        "train.sh",
    }
    assert excluded[".git/"].files == 1 and excluded[".git/"].size == 10
    assert excluded["notes.txt"].kind is FileKind.SECRET
    ids = {(f.id, f.path) for f in inv.findings}
    assert ("HFC602", "notes.txt") in ids
    assert ("HFC601", ".env") in ids
    assert ("HFC600", "optimizer.pt") in ids
    assert ("HFC600", "checkpoint-10/") in ids
    assert ("HFC607", "train.sh") in ids
    # the token itself is never reported
    assert token not in repr(inv.to_json())


def test_token_not_matched_in_ordinary_text(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("see hf_hub_download and hf_custom for details\n")
    inv = read_checkpoint(tmp_path)
    assert not [f for f in inv.findings if f.id == "HFC602"]


def test_read_checkpoint_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        read_checkpoint(tmp_path / "missing")


def test_weights_dtype_and_names(tmp_path: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    from hf_custom.inventory import weight_names, weights_dtype

    save_file(
        {
            "big": np.zeros((8, 8), dtype=np.float16),
            "small": np.zeros((2,), dtype=np.float32),
            "ids": np.zeros((64,), dtype=np.int64),
        },
        str(tmp_path / "model.safetensors"),
    )
    assert weights_dtype(tmp_path) == "float16"
    assert sorted(weight_names(tmp_path, read_checkpoint(tmp_path)) or []) == [
        "big",
        "ids",
        "small",
    ]
    assert weights_dtype(tmp_path / "nothing-here") is None
