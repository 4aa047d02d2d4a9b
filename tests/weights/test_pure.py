"""Pure planning parts: shards, sizes, names, safetensors headers."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest

from hf_custom.errors import InputError
from hf_custom.weights import parse_size, plan_shards, read_safetensors_header, reconcile_names
from hf_custom.weights.names import apply_renames, parse_rename, strip_wrapper_prefixes
from hf_custom.weights.safetensors_format import build_header
from hf_custom.weights.shards import shard_file_names


@pytest.mark.parametrize(
    ("sizes", "max_size", "expected"),
    [
        ([], 10, []),
        ([("a", 4)], 10, [["a"]]),
        ([("a", 4), ("b", 6)], 10, [["a", "b"]]),  # exactly full
        ([("a", 4), ("b", 7)], 10, [["a"], ["b"]]),  # one byte over
        ([("a", 30), ("b", 1)], 10, [["a"], ["b"]]),  # larger than a shard: alone
        ([("a", 1), ("b", 30), ("c", 1)], 10, [["a"], ["b"], ["c"]]),
        ([("a", 0), ("b", 10), ("c", 0)], 10, [["a", "b", "c"]]),  # empty tensors ride along
        ([("a", 3), ("b", 3), ("c", 3), ("d", 3)], 6, [["a", "b"], ["c", "d"]]),
    ],
)
def test_plan_shards(sizes, max_size, expected):
    assert plan_shards(sizes, max_size) == expected


def test_plan_shards_rejects_bad_sizes():
    with pytest.raises(ValueError):
        plan_shards([("a", 1)], 0)
    with pytest.raises(ValueError):
        plan_shards([("a", -1)], 10)


def test_shard_file_names():
    assert shard_file_names(1) == ["model.safetensors"]
    assert shard_file_names(2) == [
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5GB", 5_000_000_000),
        ("500MB", 500_000_000),
        ("2GiB", 2 * 2**30),
        ("123", 123),
        ("1.5kb", 1500),
    ],
)
def test_parse_size(text, value):
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "GB", "5XB", "-1GB", "0"])
def test_parse_size_rejects(text):
    with pytest.raises(ValueError):
        parse_size(text)


def test_strip_ddp_prefix_only_when_every_name_has_it():
    assert strip_wrapper_prefixes(["module.a", "module.b"]) == {
        "module.a": ("a", "ddp-prefix"),
        "module.b": ("b", "ddp-prefix"),
    }
    assert strip_wrapper_prefixes(["module.a", "b"]) == {}


def test_strip_compile_prefix_anywhere_and_nested_with_ddp():
    got = strip_wrapper_prefixes(["module._orig_mod.a", "module._orig_mod.b.c"])
    assert got == {
        "module._orig_mod.a": ("a", "ddp-prefix"),
        "module._orig_mod.b.c": ("b.c", "ddp-prefix"),
    }
    got = strip_wrapper_prefixes(["encoder._orig_mod.w", "head.w"])
    assert got == {"encoder._orig_mod.w": ("encoder.w", "compile-prefix")}


def test_rename_rules():
    assert parse_rename(r"^net\.=model.") == (r"^net\.", "model.")
    assert (
        apply_renames("net.layer.w", [(r"^net\.", "model."), (r"\.w$", ".weight")])
        == "model.layer.weight"
    )
    with pytest.raises(InputError):
        parse_rename("no-equals-sign")
    with pytest.raises(InputError):
        parse_rename("(unclosed=x")


def test_reconcile_adds_and_removes_base_model_prefix():
    expected = {"model.embed.weight", "model.layer.weight", "lm_head.weight"}
    mapping, unmatched, missing = reconcile_names(
        ["embed.weight", "layer.weight"], expected, base_model_prefix="model"
    )
    assert mapping == {"embed.weight": "model.embed.weight", "layer.weight": "model.layer.weight"}
    assert unmatched == [] and missing == ["lm_head.weight"]
    mapping, unmatched, _ = reconcile_names(
        ["model.embed.weight"], {"embed.weight"}, base_model_prefix="model"
    )
    assert mapping == {"model.embed.weight": "embed.weight"} and not unmatched


def test_reconcile_strips_a_training_wrapper_and_reports_unmatched():
    expected = {"model.a", "model.b"}
    mapping, unmatched, _ = reconcile_names(["net.a", "net.b"], expected, base_model_prefix="model")
    assert mapping == {"net.a": "model.a", "net.b": "model.b"} and unmatched == []
    mapping, unmatched, missing = reconcile_names(
        ["x.a", "y.q"], expected, base_model_prefix="model"
    )
    assert unmatched == ["x.a", "y.q"] and missing == ["model.a", "model.b"]


def _header_bytes(doc: dict) -> bytes:
    body = json.dumps(doc).encode()
    return struct.pack("<Q", len(body)) + body


def test_read_safetensors_header_ok_from_bytes_and_file():
    doc = {
        "__metadata__": {"format": "pt"},
        "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
    }
    raw = _header_bytes(doc)
    assert read_safetensors_header(raw) == doc
    assert read_safetensors_header(io.BytesIO(raw + b"\0" * 16)) == doc


@pytest.mark.parametrize(
    "raw",
    [
        b"\x01\x02",  # too short
        struct.pack("<Q", 10**12) + b"{}",  # absurd length
        struct.pack("<Q", 100) + b"{}",  # truncated
        _header_bytes([1, 2]),  # type: ignore[arg-type]
        _header_bytes({"w": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}}),
        _header_bytes({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}),
        struct.pack("<Q", 3) + b"{x}",
    ],
)
def test_read_safetensors_header_rejects(raw):
    with pytest.raises(InputError):
        read_safetensors_header(raw)


def test_build_header_is_sorted_padded_and_readable_by_safetensors(tmp_path):
    from safetensors import safe_open

    entries = [("b", "F32", (2,), 0, 8), ("a", "I64", (1,), 8, 16)]
    head = build_header(entries, {"format": "pt"})
    assert len(head) % 8 == 0
    doc = json.loads(head[8:])
    assert list(doc) == ["__metadata__", "a", "b"]
    path = tmp_path / "x.safetensors"
    path.write_bytes(head + b"\0" * 16)
    with safe_open(str(path), framework="pt") as f:
        assert sorted(f.keys()) == ["a", "b"] and f.metadata() == {"format": "pt"}


def test_crc32_is_isal_when_installed_and_agrees_with_zlib() -> None:
    import importlib.util
    import os
    import zlib

    from hf_custom.weights import directio

    expected = "isal" if importlib.util.find_spec("isal") else "zlib"
    assert expected == directio.CRC32_IMPL
    data = os.urandom(1 << 16)
    assert directio.crc32(data) == zlib.crc32(data)
    assert directio.crc32(memoryview(data)[7:], 12345) == zlib.crc32(data[7:], 12345)


def test_io_route_asked_small_source_and_probe(tmp_path: Path) -> None:
    import os

    from hf_custom.weights import iopath

    f = tmp_path / "w.bin"
    f.write_bytes(os.urandom(1 << 20))
    assert iopath.choose("direct", [(f, 1 << 20)]).route == "direct"
    small = iopath.choose("auto", [(f, 1 << 20)])
    assert (small.route, small.reason, small.probe) == ("kernel", "small source", {})
    speeds = iopath.probe(f, 1 << 20, chunk=64 << 10)  # tmp_path accepts O_DIRECT here
    assert set(speeds) == {"direct", "buffered"} and min(speeds.values()) > 0
    with pytest.raises(ValueError):
        iopath.choose("fast", [])
    assert 0 < iopath.cpu_share(0.005) <= 1
