"""convert(): every input format, names, tied tensors, casts, sharding, index, I/O fallback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from hf_custom.errors import InputError
from hf_custom.weights import convert
from tests.weights.conftest import assert_same, load_output, tiny_state_dict


def _expect(sd: dict[str, torch.Tensor], *, drop: tuple[str, ...] = ("lm_head.weight",)) -> dict:
    return {k: v for k, v in sd.items() if k not in drop}


def _check(out: Path, expected: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    got = load_output(out)
    assert sorted(got) == sorted(expected)
    for k, v in expected.items():
        assert_same(got[k], v)
    assert not list(out.glob(".*")), "temporary files left behind"
    return got


def test_zip_bin_fast_route_with_tied_embedding(tmp_path, save):
    sd = tiny_state_dict()
    src = save(sd)
    res = convert(src, tmp_path / "out")
    _check(tmp_path / "out", _expect(sd))
    assert res.source_format == "torch-zip"
    assert res.dropped_duplicates == {"lm_head.weight": "model.embed_tokens.weight"}
    assert [f.id for f in res.findings] == ["HFC302"]
    assert res.tensors == len(sd) - 1
    assert res.verified_by_crc == res.tensors  # every tensor checked against the zip's CRC
    assert [f.name for f in res.files] == ["model.safetensors"]
    from safetensors import safe_open

    with safe_open(str(tmp_path / "out" / "model.safetensors"), framework="pt") as f:
        meta = f.metadata()
    assert meta["format"] == "pt"
    assert json.loads(meta["hf_custom.dropped_duplicates"]) == {
        "lm_head.weight": "model.embed_tokens.weight"
    }


def test_sha256_and_size_match_the_written_files(tmp_path, save):
    import hashlib

    res = convert(save(tiny_state_dict()), tmp_path / "out", max_shard_size=3000)
    assert len(res.files) > 2
    for f in res.files:
        data = (tmp_path / "out" / f.name).read_bytes()
        assert len(data) == f.size
        assert hashlib.sha256(data).hexdigest() == f.sha256


def test_sharding_and_index(tmp_path, save):
    sd = tiny_state_dict()
    res = convert(save(sd), tmp_path / "out", max_shard_size=2100)
    out = tmp_path / "out"
    n = len(res.files) - 1
    assert n > 1
    index = json.loads((out / "model.safetensors.index.json").read_text())
    expected = _expect(sd)
    assert sorted(index["weight_map"]) == sorted(expected)  # every tensor exactly once
    assert index["metadata"]["total_size"] == sum(
        v.numel() * v.element_size() for v in expected.values()
    )
    assert set(index["weight_map"].values()) == {
        f"model-{i:05d}-of-{n:05d}.safetensors" for i in range(1, n + 1)
    }
    from safetensors import safe_open

    for name, fname in index["weight_map"].items():
        with safe_open(str(out / fname), framework="pt") as f:
            assert name in f.keys()  # noqa: SIM118 (safe_open is not a mapping)
    _check(out, expected)


def test_legacy_format(tmp_path, save):
    sd = tiny_state_dict()
    res = convert(save(sd, legacy=True), tmp_path / "out")
    assert res.source_format == "torch-legacy"
    assert res.verified_by_reread == res.tensors
    _check(tmp_path / "out", _expect(sd))


@pytest.mark.parametrize("wrapper", ["state_dict", "model", "model_state_dict"])
def test_nested_state_dicts(tmp_path, save, wrapper):
    sd = tiny_state_dict(tied=False)
    src = save({wrapper: sd, "epoch": 3, "global_step": 10}, "model.pt")
    res = convert(src, tmp_path / "out")
    _check(tmp_path / "out", sd)
    assert sorted(res.ignored_entries) == ["epoch", "global_step"]
    assert "HFC303" in {f.id for f in res.findings}


def test_lightning_like_checkpoint_with_optimizer_state(tmp_path, save):
    sd = tiny_state_dict(tied=False)
    ckpt = {
        "epoch": 2,
        "global_step": 7,
        "pytorch-lightning_version": "2.4.0",
        "state_dict": {f"model.{k}": v for k, v in sd.items()},
        "optimizer_states": [
            {"state": {0: {"exp_avg": torch.zeros(32, 16)}}, "param_groups": [{"lr": 0.1}]}
        ],
        "lr_schedulers": [],
    }
    expected_keys = set(sd)
    res = convert(
        save(ckpt, "last.ckpt"),
        tmp_path / "out",
        expected_keys=expected_keys,
        base_model_prefix="model",
    )
    got = _check(tmp_path / "out", {k: v for k, v in sd.items()})
    assert "model.position_ids" in got
    assert {r.reason for r in res.renames} == {"base-model-prefix"}


def test_non_tensor_entries_inside_the_state_dict_are_reported(tmp_path, save):
    sd = tiny_state_dict(tied=False)
    src = save({**sd, "num_batches_tracked_note": "x", "_metadata_version": 1})
    res = convert(src, tmp_path / "out")
    _check(tmp_path / "out", sd)
    assert sorted(res.ignored_entries) == ["_metadata_version", "num_batches_tracked_note"]


def test_sharded_bin_with_index(tmp_path):
    sd = tiny_state_dict(tied=False)
    src = tmp_path / "ckpt"
    src.mkdir()
    names = sorted(sd)
    parts = {
        "pytorch_model-00001-of-00002.bin": names[:3],
        "pytorch_model-00002-of-00002.bin": names[3:],
    }
    for fname, keys in parts.items():
        torch.save({k: sd[k] for k in keys}, src / fname)
    weight_map = {k: f for f, keys in parts.items() for k in keys}
    (src / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": weight_map}))
    res = convert(src, tmp_path / "out")
    _check(tmp_path / "out", sd)
    assert res.verified_by_crc == len(sd)


@pytest.mark.parametrize("io", ["direct", "buffered"])
@pytest.mark.parametrize("dtype", [None, "bfloat16"])
def test_sharded_source_is_read_one_file_at_a_time(tmp_path, io, dtype):
    """Eight source shards through the buffered routes: one file's reader (and buffers) at a
    time, whatever the number of shards, so memory stays flat."""
    import os

    from hf_custom.events import Progress

    g = torch.Generator().manual_seed(1)
    sd = {f"layers.{i}.weight": torch.randn(64, 32, generator=g) for i in range(16)}
    src = tmp_path / "ckpt"
    src.mkdir()
    names = sorted(sd)
    weight_map = {}
    for k in range(8):
        fname = f"pytorch_model-{k + 1:05d}-of-00008.bin"
        torch.save({n: sd[n] for n in names[2 * k : 2 * k + 2]}, src / fname)
        weight_map.update(dict.fromkeys(names[2 * k : 2 * k + 2], fname))
    (src / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": weight_map}))
    most = 0

    def count(event):  # source files held open by this process, at every progress event
        nonlocal most
        if isinstance(event, Progress):
            targets = {os.path.realpath(fd) for fd in Path("/proc/self/fd").iterdir()}
            most = max(most, sum(t.startswith(str(src.resolve())) for t in targets))

    import hf_custom.weights.converter as converter

    old_step = converter.PROGRESS_STEP
    converter.PROGRESS_STEP = 1  # an event per tensor
    try:
        res = convert(
            src, tmp_path / "out", io=io, dtype=dtype, on_event=count, max_shard_size=20_000
        )
    finally:
        converter.PROGRESS_STEP = old_step
    expect = {k: v.to(torch.bfloat16) for k, v in sd.items()} if dtype else sd
    _check(tmp_path / "out", expect)
    assert res.verified_by_crc == len(sd) and res.kernel_copied == 0
    assert most == 1


def test_safetensors_reshard_is_byte_identical_per_tensor(tmp_path):
    sd = tiny_state_dict(tied=False)
    src = tmp_path / "ckpt"
    src.mkdir()
    save_file(sd, src / "model.safetensors", metadata={"format": "pt"})
    res = convert(src, tmp_path / "sharded", max_shard_size=1500)
    assert len(res.files) > 2
    res2 = convert(tmp_path / "sharded", tmp_path / "single")
    assert [f.name for f in res2.files] == ["model.safetensors"]
    assert res2.source_format == "safetensors"
    # the data section is the same bytes, tensor for tensor
    from safetensors import safe_open

    with (
        safe_open(str(src / "model.safetensors"), "pt") as a,
        safe_open(str(tmp_path / "single" / "model.safetensors"), "pt") as b,
    ):
        assert sorted(a.keys()) == sorted(b.keys())
        for k in a.keys():  # noqa: SIM118
            assert_same(a.get_tensor(k), b.get_tensor(k))
    _check(tmp_path / "single", sd)


def test_safetensors_reshard_does_not_import_torch(tmp_path):
    import subprocess
    import sys

    sd = tiny_state_dict(tied=False)
    save_file(sd, tmp_path / "model.safetensors")
    code = (
        "import sys; from pathlib import Path; from hf_custom.weights import convert; "
        f"convert(Path({str(tmp_path / 'model.safetensors')!r}), Path({str(tmp_path / 'out')!r}), max_shard_size=1000); "
        "print('torch' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "False"
    _check(tmp_path / "out", sd)


@pytest.mark.parametrize(
    ("dtype", "target"),
    [("bfloat16", torch.bfloat16), ("float16", torch.float16), ("float32", torch.float32)],
)
def test_dtype_casts_floats_only(tmp_path, save, dtype, target):
    sd = tiny_state_dict(tied=False)
    sd["model.half"] = torch.randn(5, 3).to(torch.float16)
    sd["model.big"] = torch.randn(7, dtype=torch.float64)
    sd["model.special"] = torch.tensor([0.0, -0.0, float("inf"), float("-inf"), 1e-40, 3e38])
    res = convert(save(sd), tmp_path / "out", dtype=dtype)
    expected = {k: (v.to(target) if v.is_floating_point() else v) for k, v in sd.items()}
    _check(tmp_path / "out", expected)
    assert res.dtype == dtype
    assert "HFC301" not in {f.id for f in res.findings}


def test_cast_of_a_tensor_larger_than_the_io_buffers(tmp_path, save, monkeypatch):
    from hf_custom.weights import directio

    monkeypatch.setattr(directio, "READ_CHUNK", 8192)
    monkeypatch.setattr(directio, "WRITE_CHUNK", 12288)
    sd = {"w": torch.randn(3001), "b": torch.randn(17, 13), "i": torch.arange(999)}
    convert(save(sd), tmp_path / "out", dtype="bfloat16")
    _check(
        tmp_path / "out",
        {k: (v.to(torch.bfloat16) if v.is_floating_point() else v) for k, v in sd.items()},
    )
    convert(save(sd), tmp_path / "out2")
    _check(tmp_path / "out2", sd)


def test_float64_is_reported(tmp_path, save):
    sd = {"w": torch.randn(3, dtype=torch.float64)}
    res = convert(save(sd), tmp_path / "out")
    _check(tmp_path / "out", sd)
    assert "HFC301" in {f.id for f in res.findings}


def test_views_and_non_contiguous_tensors(tmp_path, save):
    base = torch.randn(8, 6)
    sd = {
        "full": base,
        "rows": base[2:5],  # a view inside the same storage
        "t": torch.randn(4, 3).t(),  # non-contiguous
        "col": base[:, 1],  # strided view
    }
    res = convert(save(sd), tmp_path / "out")
    _check(tmp_path / "out", sd)
    assert res.dropped_duplicates == {}
    assert res.verified_by_reread == 3 and res.verified_by_crc == 1


def test_renames_ddp_compile_and_rules(tmp_path, save):
    sd = tiny_state_dict(tied=False)
    wrapped = {f"module._orig_mod.{k}": v for k, v in sd.items()}
    res = convert(
        save(wrapped), tmp_path / "out", renames=[(r"^model\.norm\.", "model.final_norm.")]
    )
    expected = {k.replace("model.norm.", "model.final_norm."): v for k, v in sd.items()}
    _check(tmp_path / "out", expected)
    reasons = {r.new: r.reason for r in res.renames}
    assert reasons["model.final_norm.weight"] == "ddp-prefix+rename-rule"
    assert reasons["model.embed_tokens.weight"] == "ddp-prefix"
    assert len(res.renames) == len(sd)


def test_compile_prefix_alone(tmp_path, save):
    sd = {"_orig_mod.w": torch.ones(2)}
    res = convert(save(sd), tmp_path / "out")
    _check(tmp_path / "out", {"w": torch.ones(2)})
    assert [(r.old, r.new, r.reason) for r in res.renames] == [
        ("_orig_mod.w", "w", "compile-prefix")
    ]


def test_base_model_prefix_added_from_expected_keys(tmp_path, save):
    raw = {"embed.weight": torch.randn(4, 2), "head.weight": torch.randn(3, 2)}
    expected = {"model.embed.weight", "model.head.weight", "classifier.weight"}
    res = convert(save(raw), tmp_path / "out", expected_keys=expected, base_model_prefix="model")
    _check(tmp_path / "out", {"model." + k: v for k, v in raw.items()})
    assert {r.reason for r in res.renames} == {"base-model-prefix"}
    missing = [f for f in res.findings if f.id == "HFC305"]
    assert missing and "classifier.weight" in missing[0].message


def test_unmatched_names_are_an_error_listing_them(tmp_path, save):
    src = save({"encoder.w": torch.ones(2), "decoder.w": torch.ones(2)})
    with pytest.raises(InputError) as e:
        convert(src, tmp_path / "out", expected_keys={"model.w"}, base_model_prefix="model")
    assert "decoder.w" in str(e.value) and "encoder.w" in str(e.value)
    assert not (tmp_path / "out").exists()


def test_duplicate_names_after_renaming_are_an_error(tmp_path, save):
    src = save({"a.w": torch.ones(2), "b.w": torch.zeros(2)})
    with pytest.raises(InputError, match="same name"):
        convert(src, tmp_path / "out", renames=[(r"^[ab]\.", "x.")])
    assert not (tmp_path / "out").exists()


def test_tied_mapping_decides_which_name_is_kept(tmp_path, save):
    emb = torch.randn(6, 4)
    src = save({"lm_head.weight": emb, "model.embed.weight": emb})  # head first in the file
    tied = {"lm_head.weight": "model.embed.weight"}
    res = convert(src, tmp_path / "out", tied=tied)
    _check(tmp_path / "out", {"model.embed.weight": emb})
    assert res.dropped_duplicates == {"lm_head.weight": "model.embed.weight"}
    assert "HFC302" not in {f.id for f in res.findings}  # the model ties them: nothing to say


def test_shared_storage_not_tied_by_the_model_is_written_twice(tmp_path, save):
    emb = torch.randn(6, 4)
    src = save({"a.weight": emb, "b.weight": emb})
    res = convert(src, tmp_path / "out", tied={})
    _check(tmp_path / "out", {"a.weight": emb, "b.weight": emb})
    assert res.dropped_duplicates == {}


def test_direct_io_fallback_on_tmpfs_and_forced(tmp_path, save):
    import shutil

    sd = tiny_state_dict()
    src = save(sd)
    forced = convert(src, tmp_path / "out", io="buffered")
    assert forced.direct_io is False and forced.kernel_copied == 0
    _check(tmp_path / "out", _expect(sd))
    shm = Path("/dev/shm")
    if not shm.is_dir():
        pytest.skip("no /dev/shm")
    out = shm / f"hfc-test-{tmp_path.name}"
    try:
        # tmpfs refuses O_DIRECT: portable path
        res = convert(src, out, max_shard_size=2000, io="direct")
        _check(out, _expect(sd))
        assert [f.sha256 for f in res.files[:1]]
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_output_equals_what_transformers_style_save_file_writes(tmp_path, save):
    """Same tensors as safetensors' own save_file of the loaded state dict."""
    sd = tiny_state_dict(tied=False)
    src = save(sd)
    convert(src, tmp_path / "out")
    ref = tmp_path / "ref.safetensors"
    save_file(torch.load(src, weights_only=True), ref)
    from safetensors.torch import load_file

    a, b = load_file(ref), load_output(tmp_path / "out")
    assert sorted(a) == sorted(b)
    for k in a:
        assert_same(a[k], b[k])


def test_existing_out_folder_keeps_other_files(tmp_path, save):
    out = tmp_path / "out"
    out.mkdir()
    (out / "config.json").write_text("{}")
    convert(save(tiny_state_dict()), out)
    assert (out / "config.json").read_text() == "{}"
    assert (out / "model.safetensors").is_file()


def test_progress_events_in_bytes(tmp_path, save):
    from hf_custom.events import Progress

    events = []
    res = convert(save(tiny_state_dict()), tmp_path / "out", on_event=events.append)
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress and progress[-1].unit == "B"
    assert progress[-1].done == progress[-1].total == res.total_bytes


def test_source_on_tmpfs_reads_without_o_direct(tmp_path):
    """tmpfs refuses O_DIRECT for reading too: the reader falls back to ordinary reads."""
    import shutil

    shm = Path("/dev/shm")
    if not shm.is_dir():
        pytest.skip("no /dev/shm")
    d = shm / f"hfc-src-{tmp_path.name}"
    d.mkdir()
    try:
        sd = tiny_state_dict()
        torch.save(sd, d / "pytorch_model.bin")
        res = convert(d / "pytorch_model.bin", tmp_path / "out", io="direct")
        _check(tmp_path / "out", _expect(sd))
        assert res.verified_by_crc == res.tensors
        # the kernel route across filesystems (copied, or the pread/pwrite fallback)
        res = convert(d / "pytorch_model.bin", tmp_path / "out2", max_shard_size=2000)
        _check(tmp_path / "out2", _expect(sd))
        assert res.verified_by_crc == res.tensors
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_large_shard_size_is_reported(tmp_path, save):
    res = convert(save(tiny_state_dict()), tmp_path / "out", max_shard_size=25_000_000_000)
    assert "HFC304" in {f.id for f in res.findings}
    res = convert(save(tiny_state_dict()), tmp_path / "out2")
    assert "HFC304" not in {f.id for f in res.findings}


def test_never_overwrites_the_source(tmp_path):
    sd = tiny_state_dict(tied=False)
    save_file(sd, tmp_path / "model.safetensors")
    before = (tmp_path / "model.safetensors").read_bytes()
    with pytest.raises(InputError, match="overwrite the source"):
        convert(tmp_path, tmp_path)
    assert (tmp_path / "model.safetensors").read_bytes() == before
    convert(tmp_path, tmp_path, max_shard_size=1000)  # shards beside it: fine
    assert (tmp_path / "model.safetensors").read_bytes() == before


def test_safetensors_input_with_a_cast_is_verified_by_rereading(tmp_path):
    sd = tiny_state_dict(tied=False)
    sd["model.half"] = torch.randn(9, 5).to(torch.bfloat16)
    save_file(sd, tmp_path / "model.safetensors")
    res = convert(tmp_path / "model.safetensors", tmp_path / "out", dtype="float16")
    _check(
        tmp_path / "out",
        {k: (v.to(torch.float16) if v.is_floating_point() else v) for k, v in sd.items()},
    )
    assert res.verified_by_reread == len(sd) and res.verified_by_crc == 0


def test_empty_scalar_and_bool_tensors(tmp_path, save):
    sd = {
        "empty": torch.zeros(0, 4),
        "scalar": torch.tensor(3.5),
        "mask": torch.tensor([True, False, True]),
        "w": torch.randn(5),
    }
    res = convert(save(sd), tmp_path / "out", dtype="bfloat16")
    _check(
        tmp_path / "out",
        {
            **sd,
            "empty": sd["empty"].to(torch.bfloat16),
            "scalar": sd["scalar"].to(torch.bfloat16),
            "w": sd["w"].to(torch.bfloat16),
        },
    )
    assert res.tensors == 4


def test_buffered_route_without_o_direct(tmp_path, save):
    sd = tiny_state_dict()
    res = convert(save(sd), tmp_path / "out", io="buffered", max_shard_size=3000)
    assert res.direct_io is False and res.kernel_copied == 0
    _check(tmp_path / "out", _expect(sd))


def test_direct_writes_when_asked(tmp_path, save):
    sd = tiny_state_dict()
    res = convert(save(sd), tmp_path / "out", io="direct")
    assert res.direct_io is True  # ext4/xfs under tmp_path accept O_DIRECT
    _check(tmp_path / "out", _expect(sd))


@pytest.mark.parametrize("dtype", [None, "bfloat16"])
def test_kernel_copy_for_straight_shards_only(tmp_path, save, dtype):
    """Uncast shards of a zip are copied file to file and checked by the CRC-32 of the bytes
    read back from the output; a cast goes through the buffered route."""
    import hashlib

    sd = tiny_state_dict()
    res = convert(save(sd), tmp_path / "out", dtype=dtype, max_shard_size=1000)
    assert res.io is not None and (res.io.route, res.io.reason) == ("kernel", "small source")
    shards = [f for f in res.files if f.name.endswith(".safetensors")]
    assert len(shards) > 1
    assert res.kernel_copied == (len(shards) if dtype is None else 0)
    assert res.verified_by_crc == res.tensors
    for f in res.files:
        assert hashlib.sha256((tmp_path / "out" / f.name).read_bytes()).hexdigest() == f.sha256
    expect = _expect(sd)
    if dtype:
        expect = {
            k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in expect.items()
        }
    _check(tmp_path / "out", expect)


def test_kernel_copy_of_sharded_safetensors_in_parallel(tmp_path):
    """A safetensors source re-sharded: every output shard copied by the kernel, several at
    once, then re-read bitwise against the source; the same bytes as the buffered route."""
    from safetensors.torch import save_file

    sd = {f"layer.{i}.weight": torch.randn(16, 8) for i in range(12)}
    src = tmp_path / "src"
    src.mkdir()
    save_file(sd, src / "model.safetensors", metadata={"format": "pt"})
    res = convert(src, tmp_path / "out", max_shard_size=1100)
    assert res.kernel_copied == len(res.files) - 1 > 4  # shards, then the index
    assert res.verified_by_reread == len(sd)
    _check(tmp_path / "out", sd)
    slow = convert(src, tmp_path / "slow", max_shard_size=1100, io="direct")
    assert [f.sha256 for f in slow.files] == [f.sha256 for f in res.files]


def test_io_route_is_validated(tmp_path, save):
    with pytest.raises(InputError, match="--io"):
        convert(save(tiny_state_dict()), tmp_path / "out", io="fast")
