"""Attacks 16.2, 16.3 and 16.6: symlinks out of the checkpoint, secrets the scan missed, and
JSON nested deep enough to crash the parser. Real folders, real links, the real API and CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_checkpoint import make_checkpoint

from hf_custom.diagnosis import doctor
from hf_custom.errors import InputError
from hf_custom.inventory import FileKind, read_checkpoint

TOKEN = "hf_" + "Zq9" * 12  # shaped like a real token; never printed by the code under test
SECRET_LINE = f"HF_TOKEN={TOKEN}\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside every checkpoint, holding a token (like ~/.cache/huggingface/token)."""
    path = tmp_path / "elsewhere" / "private.txt"
    path.parent.mkdir()
    path.write_text("host-secret\n" + SECRET_LINE)
    return path


def _small_checkpoint(root: Path) -> Path:
    root.mkdir()
    (root / "config.json").write_text(json.dumps({"model_type": "toy"}))
    return root


def test_links_outside_are_excluded_with_a_finding(tmp_path: Path, outside: Path) -> None:
    src = _small_checkpoint(tmp_path / "ckpt")
    (src / "vocab.txt").symlink_to(outside)
    (src / "README.md").symlink_to(outside)
    (src / "data").symlink_to(outside.parent, target_is_directory=True)
    (src / "inner.txt").write_text("fine\n")
    (src / "merges.txt").symlink_to(src / "inner.txt")  # a link that stays inside: kept
    inv = read_checkpoint(src)
    names = {f.path for f in inv.files}
    assert "vocab.txt" not in names and "README.md" not in names
    assert "merges.txt" in names
    hfc570 = sorted(f.path for f in inv.findings if f.id == "HFC608")
    assert hfc570 == ["README.md", "data/", "vocab.txt"]
    # the target was never read: had it been, its token would have been reported too
    assert not [f for f in inv.findings if f.id == "HFC602"]


def test_config_json_linked_outside_is_refused(tmp_path: Path, outside: Path) -> None:
    src = tmp_path / "ckpt"
    src.mkdir()
    (src / "config.json").symlink_to(outside)
    with pytest.raises(InputError, match="symbolic link") as err:
        read_checkpoint(src)
    assert TOKEN not in str(err.value) and "host-secret" not in str(err.value)


def test_doctor_does_not_follow_links_out(tmp_path: Path, outside: Path) -> None:
    src = _small_checkpoint(tmp_path / "ckpt")
    (src / "notes.md").symlink_to(outside)
    report = doctor(src)
    ids = {(f.id, f.path) for f in report.findings}
    assert ("HFC608", "notes.md") in ids
    assert not any(i == "HFC602" for i, _ in ids)  # the outside file's token: never read


def test_staged_card_never_holds_a_linked_file(tmp_path: Path, outside: Path) -> None:
    from hf_custom.publishing import stage

    src = make_checkpoint(tmp_path / "ckpt")
    (src / "notes.txt").unlink()
    (src / "README.md").symlink_to(outside)
    (src / "vocab.txt").symlink_to(outside)
    result = stage(src, out=tmp_path / "out")
    staged = result.out if hasattr(result, "out") else tmp_path / "out"
    for path in Path(staged).rglob("*"):
        if path.is_file():
            assert b"host-secret" not in path.read_bytes(), path
    assert not (Path(staged) / "vocab.txt").exists()


# -- the secret scan ----------------------------------------------------------------------------
def _token_files(src: Path) -> dict[str, bytes]:
    big = b"# padding\n" * 300_000  # 3 MB: over the old 2 MB limit
    files = {
        "big_notes.txt": big + SECRET_LINE.encode(),
        "blob.dat": b"\0\x01\x02" * 4000 + SECRET_LINE.encode(),  # NUL in the first 8 KB
        "utf16.md": ("notes\n" + SECRET_LINE).encode("utf-16"),
        "tokenizer.model": b"\x0a\x00" + SECRET_LINE.encode("utf-16-be"),
    }
    for name, data in files.items():
        (src / name).write_bytes(data)
    return files


def test_every_file_is_scanned_binary_big_and_utf16(tmp_path: Path) -> None:
    src = _small_checkpoint(tmp_path / "ckpt")
    files = _token_files(src)
    inv = read_checkpoint(src)
    flagged = {f.path for f in inv.findings if f.id == "HFC602"}
    assert flagged == set(files)
    assert not {f.path for f in inv.files} & set(files)
    assert all(TOKEN not in f.message for f in inv.findings)


def test_doctor_scans_every_file_and_never_echoes_it(tmp_path: Path) -> None:
    src = _small_checkpoint(tmp_path / "ckpt")
    files = _token_files(src)
    report = doctor(src, select=["HFC602"])
    assert {f.path for f in report.findings if f.id == "HFC602"} == set(files)
    assert TOKEN not in json.dumps(report.to_json())


def test_utf16_card_with_a_token_is_not_echoed(tmp_path: Path) -> None:
    src = _small_checkpoint(tmp_path / "ckpt")
    card = "---\nlibrary_name: [transformers\n" + SECRET_LINE + "---\n"
    (src / "README.md").write_bytes(card.encode("utf-16"))
    done = subprocess.run(
        [sys.executable, "-m", "hf_custom", "doctor", str(src), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    assert TOKEN not in done.stdout + done.stderr


# -- input limits -------------------------------------------------------------------------------
DEEP = "[" * 100_000 + "]" * 100_000


def test_deeply_nested_config_is_an_input_error(tmp_path: Path) -> None:
    from hf_custom.publishing import stage

    src = make_checkpoint(tmp_path / "ckpt")
    (src / "config.json").write_text('{"a": ' + DEEP + "}")
    with pytest.raises(InputError, match="nested more than"):
        stage(src, out=tmp_path / "out")
    report = doctor(src)
    assert "HFC699" not in {f.id for f in report.findings}


def test_deeply_nested_config_exits_2_on_the_cli(tmp_path: Path) -> None:
    src = _small_checkpoint(tmp_path / "ckpt")
    (src / "config.json").write_text(DEEP)
    done = subprocess.run(
        [sys.executable, "-m", "hf_custom", "publish", str(src), "--dry-run"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "RecursionError" not in done.stderr and "nested" in done.stderr


def test_inventory_kinds_are_unchanged_for_plain_files(tmp_path: Path) -> None:
    src = _small_checkpoint(tmp_path / "ckpt")
    (src / "vocab.txt").write_text("a\nb\n")
    inv = read_checkpoint(src)
    assert [(f.path, f.kind) for f in inv.files] == [
        ("config.json", FileKind.CONFIG),
        ("vocab.txt", FileKind.TOKENIZER),
    ]


def test_index_naming_a_file_outside_src_is_refused(tmp_path: Path) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    from hf_custom.weights.sources import read_source

    victim = tmp_path / "elsewhere.safetensors"
    save_file({"w": np.zeros((2, 2), dtype=np.float32)}, str(victim))
    src = tmp_path / "ckpt"
    src.mkdir()
    for name in (str(victim), "../elsewhere.safetensors"):
        index = {"metadata": {}, "weight_map": {"w": name}}
        (src / "model.safetensors.index.json").write_text(json.dumps(index))
        with pytest.raises(InputError, match="outside the checkpoint"):
            read_source(src)
    done = subprocess.run(
        [sys.executable, "-m", "hf_custom", "convert", str(src), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert not (tmp_path / "out").exists()


def test_doctor_load_on_a_repo_id_needs_trust_remote_code() -> None:
    with pytest.raises(InputError, match="runs the code of someone/model") as err:
        doctor("someone/model", endpoint="http://127.0.0.1:9", load=True)
    assert "--trust-remote-code" in (err.value.hint or "")
    done = subprocess.run(
        [sys.executable, "-m", "hf_custom", "doctor", "someone/model", "--load",
         "--endpoint", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "--trust-remote-code" in done.stderr
