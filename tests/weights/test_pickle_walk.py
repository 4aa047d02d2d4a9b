"""The symbolic pickle walk against torch's own weights_only loader: same verdicts, same tensors.

Every checkpoint shape the tests save, and hand-built malicious pickles (rot13 behind
``_codecs.encode`` with decoy names, opcodes torch refuses, builds and appends on the wrong
types), go through both: what the walk accepts torch accepts, what torch refuses the walk
refuses, and nothing ever runs.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from hf_custom.weights.pickle_scan import pickle_verdict
from hf_custom.weights.pickle_walk import ALLOWED_GLOBALS, Refused, walk
from hf_custom.weights.zipmeta import NotPlain, TensorMeta, load_plain
from tests.weights.conftest import tiny_state_dict
from tests.weights.test_one_reader import SHAPES


def test_allow_list_is_torchs() -> None:
    from torch import _weights_only_unpickler as restricted

    assert set(restricted._get_allowed_globals()) == ALLOWED_GLOBALS


def _torch_accepts(path: Path) -> bool:
    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        return False
    except (RuntimeError, EOFError, ValueError, TypeError, KeyError, IndexError):
        return False
    return True


def _checkpoints() -> dict[str, object]:
    base = torch.randn(6, 4)
    out: dict[str, object] = {f"shape-{k}": f() for k, f in SHAPES.items()}
    out["tiny"] = tiny_state_dict()
    out["views"] = {"a": base, "v": base[2:], "t": torch.randn(3, 5).t(), "i": torch.arange(7)}
    out["dtypes"] = {
        str(d): torch.ones(3, dtype=d)
        for d in (torch.float16, torch.bfloat16, torch.float64, torch.int8, torch.uint8, torch.bool)
    }
    out["params"] = {"p": torch.nn.Parameter(torch.ones(3)), "q": torch.nn.Parameter(torch.ones(1))}
    out["extras"] = {"w": torch.ones(2), "n": None, "f": 1.5, "s": {1, 2}, "c": 1 + 2j, "b": b"xy"}
    out["device"] = {"w": torch.ones(2), "dev": torch.device("cpu"), "size": torch.Size([2, 3])}
    out["quantized"] = {"q": torch.quantize_per_tensor(torch.ones(4), 0.1, 0, torch.qint8)}
    out["sparse"] = {"s": torch.eye(3).to_sparse()}
    return out


CHECKPOINTS = _checkpoints()


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("name", sorted(CHECKPOINTS))
def test_same_verdict_as_torch_on_every_checkpoint(tmp_path: Path, name: str, legacy: bool) -> None:
    path = tmp_path / "ckpt.pt"
    torch.save(CHECKPOINTS[name], path, _use_new_zipfile_serialization=not legacy)
    verdict = pickle_verdict(path)
    assert verdict.accepted == _torch_accepts(path), verdict
    if legacy or not verdict.accepted:
        return
    with zipfile.ZipFile(path) as z:
        (pkl,) = [n for n in z.namelist() if n.endswith("/data.pkl")]
        data = z.read(pkl)
    if name in ("quantized", "sparse"):  # accepted, but torch reads these (not plain)
        with pytest.raises(NotPlain):
            load_plain(data)
        return
    _same_tensors(load_plain(data), torch.load(path, map_location="meta", weights_only=True))


def _same_tensors(ours: object, theirs: object) -> None:
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, TensorMeta)
        assert ours.shape == tuple(theirs.shape) and ours.stride == theirs.stride()
        assert ours.offset == theirs.storage_offset()
        assert ours.storage.numel * theirs.element_size() == theirs.untyped_storage().nbytes()
    elif isinstance(theirs, dict):
        assert isinstance(ours, dict) and list(ours) == list(theirs)
        for k in theirs:
            _same_tensors(ours[k], theirs[k])
    elif isinstance(theirs, (list, tuple)) and not isinstance(theirs, torch.Size):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _same_tensors(a, b)


# -- hand-built pickles -------------------------------------------------------------------------
def _u(s: str) -> bytes:
    data = s.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _rot13(s: str) -> str:
    import codecs

    return codecs.encode(s, "rot13")


def _rot13_payload(marker: Path) -> bytes:
    """os.system(f"touch {marker}") with both names behind _codecs.encode(..., "rot13"), kept in
    the memo, and decoy torch names as the last string literals before STACK_GLOBAL."""
    return (
        b"\x80\x02c_codecs\nencode\nq\x00"
        + b"(" + _u(_rot13("os")) + _u("rot13") + b"tRq\x01"
        + b"h\x00(" + _u(_rot13("system")) + _u("rot13") + b"tRq\x02"
        + b"(" + _u("torch._utils") + _u("_rebuild_tensor_v2") + b"t"
        + b"h\x01h\x02\x93"
        + b"(" + _u(f"touch {marker}") + b"tR."
    )  # fmt: skip


def _malicious(marker: Path) -> dict[str, bytes]:
    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, (f"touch {marker}",))

    return {
        "rot13-stack-global": _rot13_payload(marker),
        "reduce-os-system": pickle.dumps({"w": 1, "x": Evil()}, protocol=2),
        "eval-in-list": pickle.dumps([1, 2, eval], protocol=2),
        "builtins-exec": b"\x80\x02c__builtin__\nexec\n(" + _u("open('x','w')") + b"tR.",
        "protocol-4-frame": pickle.dumps({"a": 1}, protocol=4),
        "inst-opcode": b"\x80\x02(i__builtin__\nset\n.",
        "build-on-dict": b"\x80\x02}" + b"}" + _u("__class__") + b"Ks" + b"b.",
        "append-to-dict": b"\x80\x02}K\x01a.",
        "persistent-not-storage": b"\x80\x02(" + _u("module") + b"tQ.",
        "blocked-module": b"\x80\x02csys\nmodules\n.",
        "allowed-then-evil": b"\x80\x02ctorch\nSize\n(ctorch\nload\ntR.",
    }


def _as_zip(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "evil.bin"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", data)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
    return path


@pytest.mark.parametrize("container", ["zip", "raw"])
@pytest.mark.parametrize("name", sorted(_malicious(Path("/nonexistent"))))
def test_malicious_pickles_refused_by_both(tmp_path: Path, name: str, container: str) -> None:
    marker = tmp_path / "ran"
    data = _malicious(marker)[name]
    if container == "zip":
        path = _as_zip(tmp_path, data)
    else:
        path = tmp_path / "evil.bin"
        path.write_bytes(data)
    assert not _torch_accepts(path)
    assert not pickle_verdict(path).accepted
    with pytest.raises(Refused):
        walk(data)
    assert not marker.exists()


def test_rot13_payload_is_live_and_flagged(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    data = _rot13_payload(marker)
    verdict = pickle_verdict(_as_zip(tmp_path, data))
    assert not verdict.accepted and "STACK_GLOBAL" in verdict.reason
    assert not marker.exists()
    # the same bytes under a plain pickle.load do run: the payload is real
    code = "import pickle, sys; pickle.loads(sys.stdin.buffer.read())"
    subprocess.run([sys.executable, "-c", code], input=data, check=True)
    assert marker.exists()


def test_walk_constructs_nothing_it_reads(tmp_path: Path) -> None:
    # an allowed global is described, not resolved: no torch.device object comes out
    buf = io.BytesIO()
    torch.save({"w": torch.ones(1), "dev": torch.device("cpu")}, buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        (pkl,) = [n for n in z.namelist() if n.endswith("/data.pkl")]
        obj = walk(z.read(pkl)).obj
    assert not isinstance(obj["dev"], torch.device)
    assert isinstance(obj["w"], TensorMeta)
