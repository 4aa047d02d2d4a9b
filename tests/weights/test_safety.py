"""Hostile and broken inputs: nothing runs, nothing is left behind, errors name the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from hf_custom.errors import HFCustomError, InputError, Refusal
from hf_custom.weights import convert, scan_pickle_globals, unsafe_globals
from tests.weights.conftest import tiny_state_dict


class _Evil:
    """Unpickling this would create a file (the marker path is set per test)."""

    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("legacy", [False, True])
def test_malicious_pickle_never_runs(tmp_path, save, legacy):
    marker = tmp_path / "pwned"
    _Evil.marker = str(marker)
    src = save({"w": torch.ones(2), "payload": _Evil()}, legacy=legacy)
    with pytest.raises(Refusal) as e:
        convert(src, tmp_path / "out")
    assert "posix.system" in str(e.value) or "nt.system" in str(e.value)
    assert [f.id for f in e.value.findings] == ["HFC300"]
    assert not marker.exists()
    assert not (tmp_path / "out").exists()
    # the static scan names it too, without torch and without running it
    assert unsafe_globals(scan_pickle_globals(src)) == [f"{os.system.__module__}.system"]
    assert not marker.exists()


def test_scan_of_a_plain_state_dict_is_clean(save):
    src = save(tiny_state_dict())
    found = scan_pickle_globals(src)
    assert "torch._utils._rebuild_tensor_v2" in found
    assert unsafe_globals(found) == []
    assert unsafe_globals(scan_pickle_globals(save(tiny_state_dict(), "x.bin", legacy=True))) == []


def test_truncated_zip_is_a_clear_error_and_leaves_nothing(tmp_path, save):
    src = save(tiny_state_dict())
    data = src.read_bytes()
    src.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    with pytest.raises(InputError) as e:
        convert(src, out)
    assert e.value.path == str(src)
    assert "truncated" in str(e.value)
    assert not out.exists()


def test_truncated_legacy_file(tmp_path, save):
    src = save(tiny_state_dict(), legacy=True)
    src.write_bytes(src.read_bytes()[:-100])
    with pytest.raises(InputError) as e:
        convert(src, tmp_path / "out")
    assert e.value.path == str(src)
    assert not (tmp_path / "out").exists()


def test_truncated_safetensors(tmp_path):
    from safetensors.torch import save_file

    src = tmp_path / "model.safetensors"
    save_file(tiny_state_dict(tied=False), src)
    src.write_bytes(src.read_bytes()[:-10])
    with pytest.raises(InputError, match="truncated") as e:
        convert(src, tmp_path / "out")
    assert e.value.path == str(src)
    assert not (tmp_path / "out").exists()


def test_not_a_weights_file(tmp_path):
    src = tmp_path / "pytorch_model.bin"
    src.write_text("hello, I am not a checkpoint at all")
    with pytest.raises(InputError, match="not a weights file"):
        convert(src, tmp_path / "out")


def test_a_zip_that_is_not_a_checkpoint(tmp_path):
    import zipfile

    src = tmp_path / "model.pt"
    with zipfile.ZipFile(src, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(InputError):
        convert(src, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_empty_state_dict(tmp_path, save):
    with pytest.raises(InputError, match="no tensors"):
        convert(save({}), tmp_path / "out")
    with pytest.raises(InputError, match="no tensors"):
        convert(save({"epoch": 3}, "x.ckpt"), tmp_path / "out")


def test_a_model_object_is_refused(tmp_path, save):
    src = save(torch.nn.Linear(2, 2), "model.pt")
    with pytest.raises(HFCustomError) as e:
        convert(src, tmp_path / "out")
    assert "torch.nn.modules.linear.Linear" in str(e.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("io", ["kernel", "direct", "buffered"])
def test_corrupted_tensor_bytes_fail_verification_and_leave_nothing(tmp_path, save, io):
    """A flipped byte inside a stored tensor: the archive's CRC-32 no longer matches."""
    sd = {"w": torch.arange(4096, dtype=torch.float32)}
    src = save(sd)
    data = bytearray(src.read_bytes())
    needle = sd["w"][1000:1004].numpy().tobytes()
    at = bytes(data).index(needle)
    data[at] ^= 0xFF
    src.write_bytes(bytes(data))
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(HFCustomError, match="verification failed"):
        convert(src, out, io=io)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_out_is_a_file(tmp_path, save):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(InputError):
        convert(save(tiny_state_dict()), target)


def test_missing_source(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        convert(tmp_path / "nope", tmp_path / "out")


def test_folder_with_several_candidates_asks_for_the_file(tmp_path, save):
    save(tiny_state_dict(), "a.pt")
    save(tiny_state_dict(), "b.pt")
    save({"lr": 1}, "training_args.bin")
    with pytest.raises(InputError, match="several candidate"):
        convert(Path(tmp_path / "src"), tmp_path / "out")


def test_unwritable_out_is_an_error_not_a_bug(tmp_path, save):
    if os.geteuid() == 0:
        target = Path("/proc/hfc-cannot-write-here")  # even root cannot create files in /proc
    else:
        target = tmp_path / "ro"
        target.mkdir()
        target.chmod(0o500)
    with pytest.raises(HFCustomError):
        convert(save(tiny_state_dict()), target)
