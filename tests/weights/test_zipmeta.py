"""The metadata reader: torch's restricted (weights_only) unpickler with meta-device storages."""

from __future__ import annotations

import os
import pickle
import zipfile

import pytest
import torch

from hf_custom.weights.zipmeta import NotPlain, TensorMeta, load_plain
from tests.weights.conftest import tiny_state_dict


def test_globals_torch_weights_only_refuses_are_refused(tmp_path):
    # torch's own restricted unpickler decides: a global outside its allow-list never resolves
    import fractions

    with pytest.raises(NotPlain, match="fractions"):
        load_plain(pickle.dumps({"x": fractions.Fraction(1, 3)}, protocol=2))


def test_reads_shapes_strides_offsets_without_data(save):
    base = torch.randn(6, 4)
    src = save({"a": base, "v": base[2:], "t": torch.randn(3, 5).t(), "i": torch.arange(7)})
    with zipfile.ZipFile(src) as z:
        (pkl,) = [n for n in z.namelist() if n.endswith("/data.pkl")]
        obj = load_plain(z.read(pkl))
    assert all(isinstance(v, TensorMeta) for v in obj.values())
    assert obj["a"].storage == obj["v"].storage and obj["v"].offset == 8
    assert obj["t"].shape == (5, 3) and obj["t"].stride == (1, 5) and not obj["t"].is_contiguous()
    assert obj["i"].storage.dtype == "I64" and obj["a"].is_contiguous()


class _Boom:
    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_anything_else_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"
    _Boom.marker = str(marker)
    for payload in (_Boom(), {"x": _Boom()}, [1, 2, eval]):
        with pytest.raises(NotPlain):
            load_plain(pickle.dumps(payload, protocol=2))
    assert not marker.exists()


def test_parameters_and_nested_dicts(save):
    sd = {"p": torch.nn.Parameter(torch.ones(3)), "inner": {"w": torch.zeros(2)}}
    src = save({"state_dict": sd, "step": 5, **{"extra": tiny_state_dict()["model.norm.weight"]}})
    with zipfile.ZipFile(src) as z:
        (pkl,) = [n for n in z.namelist() if n.endswith("/data.pkl")]
        obj = load_plain(z.read(pkl))
    assert isinstance(obj["state_dict"]["p"], TensorMeta)
    assert isinstance(obj["state_dict"]["inner"]["w"], TensorMeta)
