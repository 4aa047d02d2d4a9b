"""Reading weight files into tensor records: names, dtypes, shapes and where the bytes are.

Zip-format torch files: ``data.pkl`` is read by :mod:`hf_custom.weights.zipmeta` (an allow-list
that is a strict subset of torch's ``weights_only`` one, no torch import); anything beyond a
plain state dict goes to torch's restricted unpickler on the meta device (``weights_only=True,
map_location="meta"``). Either way no tensor data is read: each tensor's bytes are located by
the zip entry of its storage. Safetensors files need no torch at all. Legacy-format torch files
are loaded with ``weights_only=True`` and materialised (they have no offsets to copy from).
"""

from __future__ import annotations

import json
import struct
import sys
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from hf_custom.errors import InputError, Refusal
from hf_custom.findings import Finding, finding
from hf_custom.weights.pickle_walk import Refused
from hf_custom.weights.safetensors_format import (
    DTYPE_SIZES,
    TORCH_TO_ST,
    read_safetensors_header,
)
from hf_custom.weights.zipmeta import NotPlain, TensorMeta, load_plain

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")
# Files that are never model weights even though they are pickles (training artefacts).
NOT_WEIGHTS = ("training_args.bin", "optimizer.pt", "scheduler.pt", "scaler.pt", "rng_state")
#: Keys under which checkpoints keep the model's state dict (Lightning: ``state_dict``), tried in
#: this order when the top level holds no tensors itself. The one list: every reader uses it.
STATE_DICT_KEYS = (
    "state_dict",
    "model_state_dict",
    "model",
    "module",
    "state",
    "net",
    "network",
)


@dataclass
class TensorRec:
    """One tensor of the source. ``start``/``nbytes`` locate its bytes when ``direct``."""

    name: str
    file: Path
    dtype: str  # safetensors dtype
    shape: tuple[int, ...]
    nbytes: int
    direct: bool  # bytes [start, start + nbytes) of ``file`` are the tensor, row-major
    start: int = 0
    storage: tuple[str, int] = ("", 0)  # identity of the storage (file, its offset/key)
    view: tuple[int, tuple[int, ...]] = (0, ())  # (storage offset, stride) within the storage
    crc: int | None = None  # crc32 of the bytes as recorded by the zip archive (independent)
    order: tuple[int, int] = (0, 0)  # (file index, offset): source order
    tensor: Any = None  # materialised torch tensor (legacy format), else None


@dataclass
class Source:
    kind: str  # "safetensors" | "torch-zip" | "torch-legacy"
    files: list[Path]
    tensors: list[TensorRec]
    ignored: list[str] = field(default_factory=list)  # non-tensor entries
    findings: list[Finding] = field(default_factory=list)


def discover(src: Path) -> tuple[str, list[Path]]:
    """The weight files of a checkpoint folder or a single file, and their format."""
    if not src.exists():
        raise InputError("no such file or folder", path=str(src))
    if src.is_file():
        return _kind_of(src), [src]
    for index in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        if (src / index).is_file():
            return _from_index(src / index)
    for single in ("model.safetensors", "pytorch_model.bin"):
        if (src / single).is_file():
            return _kind_of(src / single), [src / single]
    st = sorted(src.glob("*.safetensors"))
    if st:
        return "safetensors", st
    pickles = [
        p
        for p in sorted(src.iterdir())
        if p.suffix in PICKLE_SUFFIXES and p.is_file() and not p.name.startswith(NOT_WEIGHTS)
    ]
    if len(pickles) == 1:
        return _kind_of(pickles[0]), pickles
    if not pickles:
        raise InputError(
            "no weights found (looked for *.safetensors, pytorch_model.bin, *.pt/.pth/.ckpt)",
            path=str(src),
        )
    raise InputError(
        f"several candidate weight files: {', '.join(p.name for p in pickles)}",
        path=str(src),
        hint="pass the weights file itself as SRC",
    )


def _from_index(index: Path) -> tuple[str, list[Path]]:
    try:
        doc = json.loads(index.read_text("utf-8"))
        files = sorted(set(doc["weight_map"].values()))
    except (OSError, ValueError, KeyError, AttributeError, TypeError) as e:
        raise InputError(f"unreadable weights index: {e}", path=str(index)) from None
    root = index.parent.resolve()
    for f in files:  # every path from a file inside the checkpoint must resolve inside it
        if (
            not isinstance(f, str)
            or Path(f).is_absolute()
            or not (root / f).resolve().is_relative_to(root)
        ):
            raise InputError(
                f"the index names {str(f)!r}, which is outside the checkpoint folder",
                path=str(index),
                hint="weight_map values are file names relative to the index's folder",
            )
    paths = [index.parent / f for f in files]
    for p in paths:
        if not p.is_file():
            raise InputError(f"the index names {p.name}, which is missing", path=str(index))
    return _kind_of(paths[0]), paths


def _kind_of(path: Path) -> str:
    try:
        with path.open("rb") as f:
            head = f.read(16)
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", path=str(path)) from None
    if head[:4] == b"PK\x03\x04":
        return "torch-zip"
    if len(head) >= 9 and head[8:9] == b"{":  # 8-byte header length, then the JSON header
        return "safetensors"
    if head[:1] == b"\x80":  # a pickle (protocol 2+): torch's legacy format
        return "torch-legacy"
    raise InputError(
        "not a weights file (neither safetensors nor a torch checkpoint)",
        path=str(path),
        hint="pass a pytorch_model.bin, a .pt/.pth/.ckpt state dict or a .safetensors file",
    )


def read_source(src: Path, *, metadata_only: bool = False) -> Source:
    """Every tensor of the checkpoint at ``src`` (file or folder), located, not read.

    ``metadata_only``: legacy-format pickles are loaded on the meta device (names, dtypes and
    shapes only; such a source cannot be converted).
    """
    kind, files = discover(src)
    out = Source(kind=kind, files=files, tensors=[])
    for i, path in enumerate(files):
        k = _kind_of(path)
        if k == "safetensors":
            out.tensors.extend(_read_safetensors(path, i))
        else:
            recs, ignored, found = _read_torch(
                path, i, legacy=k == "torch-legacy", metadata_only=metadata_only
            )
            out.tensors.extend(recs)
            out.ignored.extend(ignored)
            out.findings.extend(found)
            if k == "torch-legacy":
                out.kind = "torch-legacy"
    if not out.tensors:
        raise InputError(
            "the state dict holds no tensors",
            path=str(src),
            hint="check that the file is a model checkpoint, not e.g. an optimizer state",
        )
    return out


def _read_safetensors(path: Path, index: int) -> Iterator[TensorRec]:
    size = path.stat().st_size
    with path.open("rb") as f:
        header = read_safetensors_header(f, path=str(path))
        f.seek(0)
        (n,) = struct.unpack("<Q", f.read(8))
    base = 8 + n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        if base + b > size:
            raise InputError(
                f"truncated: tensor {name!r} ends at byte {base + b} but the file has {size}",
                path=str(path),
                hint="the file was cut short; copy or download it again",
            )
        yield TensorRec(
            name=name,
            file=path,
            dtype=info["dtype"],
            shape=tuple(info["shape"]),
            nbytes=b - a,
            direct=True,
            start=base + a,
            storage=(str(path), base + a),
            order=(index, base + a),
        )


def _refuse_unsafe(path: Path, names: list[str]) -> Refusal:
    listed = ", ".join(names)
    return Refusal(
        f"the pickle needs globals outside torch's weights_only allow-list: {listed}; "
        "it was not unpickled and nothing in it ran",
        path=str(path),
        hint="re-save the state dict only (torch.save(model.state_dict(), ...)) from a trusted "
        "environment, or convert it to safetensors there",
        findings=[finding("HFC300", f"unsafe pickle globals: {listed}", path=path.name)],
    )


def _refuse_walk(path: Path, refused: Refused) -> Refusal:
    from hf_custom.weights.pickle_scan import scan_pickle_globals, unsafe_globals

    try:
        named = sorted(set(unsafe_globals(scan_pickle_globals(path))) | set(refused.globals))
    except InputError:
        named = list(refused.globals)
    if named:
        return _refuse_unsafe(path, named)
    return Refusal(
        f"torch's weights_only loader would refuse the pickle ({refused.reason}); "
        "it was not unpickled and nothing in it ran",
        path=str(path),
        hint="re-save the state dict only (torch.save(model.state_dict(), ...)) from a trusted "
        "environment, or convert it to safetensors there",
        findings=[finding("HFC300", f"refused pickle: {refused.reason}", path=path.name)],
    )


def _read_torch(
    path: Path, index: int, *, legacy: bool, metadata_only: bool = False
) -> tuple[list[TensorRec], list[str], list[Finding]]:
    if legacy:
        state, ignored = _torch_load(path, legacy=True, meta=metadata_only)
        recs = [
            _rec_from_torch(path, index, n, t, {}, big_endian=False, legacy=True)
            for n, t in state.items()
        ]
    else:
        try:
            zipfile.ZipFile(path).close()
        except (zipfile.BadZipFile, OSError) as e:
            raise InputError(
                f"corrupt or truncated zip archive ({e})",
                path=str(path),
                hint="the file was cut short or damaged; copy it again from its origin",
            ) from None
        entries = _zip_entries(path)
        try:
            recs, ignored = _read_zip_plain(path, index, entries)
        except Refused as e:
            raise _refuse_walk(path, e) from None
        except NotPlain:
            state, ignored = _torch_load(path, legacy=False)
            big = _byteorder(path) not in ("", sys.byteorder)
            by_offset = {off: info for off, info in entries.values()}
            recs = [
                _rec_from_torch(path, index, n, t, by_offset, big_endian=big, legacy=False)
                for n, t in state.items()
            ]
    found = []
    if ignored:
        shown = ", ".join(ignored[:8]) + (" ..." if len(ignored) > 8 else "")
        found.append(
            finding("HFC303", f"{len(ignored)} non-tensor entries ignored: {shown}", path=path.name)
        )
    return recs, ignored, found


def _read_zip_plain(
    path: Path, index: int, entries: Mapping[str, tuple[int, zipfile.ZipInfo]]
) -> tuple[list[TensorRec], list[str]]:
    """The fast route: metadata from data.pkl by the allow-list unpickler, no torch."""
    with zipfile.ZipFile(path) as zf:
        pkls = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkls) != 1:
            raise NotPlain("no single data.pkl")
        prefix = pkls[0][: -len("data.pkl")]
        order = prefix + "byteorder"
        if order in zf.namelist() and zf.read(order).decode("ascii", "replace").strip() != "little":
            raise NotPlain("big-endian archive")
        obj = load_plain(zf.read(pkls[0]))
    state, ignored = _find_state_dict(obj, TensorMeta)
    size = path.stat().st_size
    recs = []
    for name, tm in state.items():
        entry = entries.get(f"{prefix}data/{tm.storage.key}")
        if entry is None:
            raise InputError(
                f"tensor {name!r}: storage {tm.storage.key} is missing from the archive",
                path=str(path),
            )
        off, info = entry
        isz = DTYPE_SIZES[tm.storage.dtype]
        if info.file_size != tm.storage.numel * isz or off + info.file_size > size:
            raise InputError(
                f"tensor {name!r}: storage record has {info.file_size} bytes, expected {tm.storage.numel * isz}",
                path=str(path),
                hint="the file is damaged or truncated; copy it again from its origin",
            )
        nbytes = tm.numel * isz
        start = off + tm.offset * isz
        rec = TensorRec(
            name=name,
            file=path,
            dtype=tm.storage.dtype,
            shape=tm.shape,
            nbytes=nbytes,
            direct=False,
            storage=(str(path), off),
            view=(tm.offset, tm.stride),
            order=(index, start),
        )
        in_bounds = (tm.offset + tm.numel) * isz <= info.file_size
        if tm.is_contiguous() and in_bounds and info.compress_type == zipfile.ZIP_STORED:
            rec.direct, rec.start = True, start
            if tm.offset == 0 and nbytes == info.file_size:
                rec.crc = info.CRC
        recs.append(rec)
    return recs, ignored


def _torch_load(
    path: Path, *, legacy: bool, meta: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """torch's restricted unpickler (weights_only=True); unsafe globals are refused by name."""
    import pickle

    import torch

    from hf_custom.weights.pickle_scan import scan_pickle_globals, unsafe_globals

    if not legacy:
        try:
            unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(str(path))
        except Exception as e:  # torch raises several types for damaged archives
            raise InputError(f"unreadable torch checkpoint: {e}", path=str(path)) from None
        if unsafe:
            raise _refuse_unsafe(path, sorted(unsafe))
    try:
        obj = torch.load(
            str(path),
            map_location="cpu" if legacy and not meta else "meta",
            weights_only=True,
            mmap=False,
        )
    except pickle.UnpicklingError as e:
        try:
            names = unsafe_globals(scan_pickle_globals(path))
        except InputError:
            names = []
        if names:
            raise _refuse_unsafe(path, names) from None
        raise InputError(f"refused by torch's restricted unpickler: {e}", path=str(path)) from None
    except (RuntimeError, EOFError, ValueError, OSError) as e:
        raise InputError(
            f"cannot read the checkpoint (truncated or corrupt?): {str(e).splitlines()[0]}",
            path=str(path),
            hint="copy the file again from its origin",
        ) from None
    return _find_state_dict(obj, torch.Tensor)


def _rec_from_torch(
    path: Path,
    index: int,
    name: str,
    t: Any,
    entries: Mapping[int, zipfile.ZipInfo],
    *,
    big_endian: bool,
    legacy: bool,
) -> TensorRec:
    dtype = TORCH_TO_ST.get(str(t.dtype).removeprefix("torch."))
    if dtype is None:
        raise InputError(
            f"tensor {name!r} has dtype {t.dtype}, which safetensors cannot hold", path=str(path)
        )
    shape = tuple(int(d) for d in t.shape)
    nbytes = t.numel() * DTYPE_SIZES[dtype]
    rec = TensorRec(name=name, file=path, dtype=dtype, shape=shape, nbytes=nbytes, direct=False)
    rec.view = (t.storage_offset(), tuple(t.stride()))
    if legacy:
        rec.tensor = t
        ptr = t.untyped_storage().data_ptr()
        rec.storage = (str(path), ptr)
        rec.order = (index, ptr + t.storage_offset())
        return rec
    storage = t.untyped_storage()
    off = int(storage._checkpoint_offset)
    entry = entries.get(off)
    start = off + t.storage_offset() * t.element_size()
    rec.storage = (str(path), off)
    rec.order = (index, start)
    in_bounds = start + nbytes <= off + storage.nbytes()
    stored = entry is not None and entry.compress_type == zipfile.ZIP_STORED
    if t.is_contiguous() and in_bounds and stored and not big_endian:
        rec.direct, rec.start = True, start
        if entry is not None and start == off and nbytes == entry.file_size:
            rec.crc = entry.CRC
    return rec


def _find_state_dict(obj: Any, tensor_type: type) -> tuple[dict[str, Any], list[str]]:
    """The tensors of a (possibly nested) checkpoint, flattened, and the ignored entries."""

    def tensors_in(d: Mapping[Any, Any]) -> int:
        return sum(isinstance(v, tensor_type) for v in d.values())

    if isinstance(obj, Mapping) and tensors_in(obj) == 0:
        for key in STATE_DICT_KEYS:
            inner = obj.get(key)
            if isinstance(inner, Mapping) and _count_leaves(inner, tensor_type) > 0:
                state, ignored = _flatten(inner, tensor_type)
                others = [f"{k}" for k in obj if k != key]
                return state, ignored + others
    if isinstance(obj, Mapping):
        return _flatten(obj, tensor_type)
    raise InputError(
        f"the checkpoint holds a {type(obj).__name__}, not a state dict",
        hint="save model.state_dict(), not the model object",
    )


def _count_leaves(d: Mapping[Any, Any], tensor_type: type) -> int:
    return sum(
        _count_leaves(v, tensor_type) if isinstance(v, Mapping) else isinstance(v, tensor_type)
        for v in d.values()
    )


def _flatten(
    d: Mapping[Any, Any], tensor_type: type, prefix: str = ""
) -> tuple[dict[str, Any], list[str]]:
    state: dict[str, Any] = {}
    ignored: list[str] = []
    for k, v in d.items():
        name = f"{prefix}{k}"
        if isinstance(v, tensor_type):
            state[name] = v
        elif isinstance(v, Mapping) and _count_leaves(v, tensor_type):
            sub, ign = _flatten(v, tensor_type, name + ".")
            state.update(sub)
            ignored.extend(ign)
        else:
            ignored.append(name)
    return state, ignored


def _zip_entries(path: Path) -> dict[str, tuple[int, zipfile.ZipInfo]]:
    """name -> (data offset, entry) for the storages of the archive (from the local headers)."""
    with zipfile.ZipFile(path) as zf, path.open("rb") as f:
        return _entries_of(f, zf.infolist(), name=str(path))


def _entries_of(
    f: IO[bytes], infos: list[zipfile.ZipInfo], *, name: str = ""
) -> dict[str, tuple[int, zipfile.ZipInfo]]:
    out: dict[str, tuple[int, zipfile.ZipInfo]] = {}
    for info in infos:
        if "/data/" not in info.filename:
            continue
        f.seek(info.header_offset)
        local = f.read(30)
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            raise InputError(f"corrupt zip entry {info.filename}", path=name or None)
        name_len, extra_len = struct.unpack("<HH", local[26:30])
        out[info.filename] = (info.header_offset + 30 + name_len + extra_len, info)
    return out


def _byteorder(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        for n in zf.namelist():
            if n.endswith("/byteorder"):
                return zf.read(n).decode("ascii", "replace").strip()
    return ""


def materialise(rec: TensorRec) -> Any:
    """The tensor's values as a contiguous CPU tensor (slow route: non-contiguous views,
    legacy files, big-endian archives). Reads through torch's restricted, memory-mapped load."""
    if rec.tensor is not None:
        return rec.tensor.contiguous()
    return _mmap_state(rec.file)[rec.name].contiguous()


_MMAP_CACHE: dict[Path, dict[str, Any]] = {}


def _mmap_state(path: Path) -> dict[str, Any]:
    import torch

    if path not in _MMAP_CACHE:
        obj = torch.load(str(path), map_location="cpu", weights_only=True, mmap=True)
        _MMAP_CACHE.clear()
        _MMAP_CACHE[path] = _find_state_dict(obj, torch.Tensor)[0]
    return _MMAP_CACHE[path]


def clear_cache() -> None:
    _MMAP_CACHE.clear()


def plain_tensors(path: Path) -> tuple[list[TensorRec], list[str]] | None:
    """Torch-free: the tensors (names, dtypes, shapes; no data read) and the non-tensor
    entries of the zip-format torch file ``path``, walked by the allow-list unpickler. None
    when only torch could read it (the legacy format, a pickle that is not plain); a damaged
    file raises as :func:`read_source` does.

    Raises:
        InputError: a storage record is missing or has the wrong size.
        Refusal: the pickle needs globals torch's weights_only loader refuses.
    """
    try:
        with zipfile.ZipFile(path):
            pass
    except (zipfile.BadZipFile, OSError):
        return None
    try:
        return _read_zip_plain(path, 0, _zip_entries(path))
    except Refused as e:
        raise _refuse_walk(path, e) from None
    except NotPlain:
        return None


def tensor_names(src: Path) -> list[str]:
    """The tensor names of the checkpoint at ``src``, exactly as :func:`read_source` (and so
    the converter) reads them, in source order; no tensor data is read."""
    return [r.name for r in read_source(src, metadata_only=True).tensors]


def torch_file_problem(path: Path | IO[bytes]) -> str | None:
    """What makes a pickle weights file unreadable, found without torch and without reading
    the tensors (None: its structure is sound). Zero-byte, text and git-lfs pointer files,
    damaged or truncated zip archives, storages missing or cut short, truncated legacy files.
    Forbidden globals are not a structural problem (see ``pickle_scan.pickle_verdict``).
    ``path`` may be an open seekable file (a remote file read by ranges)."""
    from hf_custom.weights.ranged import open_source

    with open_source(path) as (f, size, _name):
        return _structure_problem(f, size)


def _structure_problem(f: IO[bytes], size: int) -> str | None:
    from hf_custom.weights.pickle_walk import LEGACY_MAGIC, walk, walk_legacy

    if size == 0:
        return "empty file (0 bytes)"
    head = f.read(64)
    if head.startswith(b"version https://git-lfs"):
        return "a git-lfs pointer, not the weights (cloned without LFS content: `git lfs pull`)"
    try:
        if head[:4] == b"PK\x03\x04":
            return _zip_problem(f, size)
        if head[:1] == b"\x80":
            f.seek(0)
            if walk(f).obj != LEGACY_MAGIC:
                return "a pickle, but not a torch checkpoint (no torch header)"
            f.seek(0)
            main, keys = walk_legacy(f)
            need = 0
            for key in keys:
                ref = main.storages.get(str(key))
                if ref is not None:
                    need += 8 + ref.numel * DTYPE_SIZES[ref.dtype]
            have = size - f.tell()
            if have < need:
                return f"truncated: the storages need {need} bytes after the header, {have} remain"
            return None
    except Refused as e:
        return f"damaged pickle: {e.reason}" if e.malformed else None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "not a torch checkpoint (neither a zip archive nor a pickle)"
    return "a text file, not weights (neither a zip archive nor a pickle)"


def _zip_problem(f: IO[bytes], size: int) -> str | None:
    from hf_custom.weights.pickle_walk import walk

    try:
        with zipfile.ZipFile(f) as zf:
            pkls = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
            if len(pkls) != 1:
                return "a zip archive without one data.pkl: not a torch checkpoint"
            data = zf.read(pkls[0])
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        return f"corrupt or truncated zip archive ({e})"
    storages = walk(data).storages
    prefix = pkls[0][: -len("data.pkl")]
    try:
        entries = _entries_of(f, infos)
    except InputError as e:
        return e.message
    for key, ref in sorted(storages.items()):
        entry = entries.get(f"{prefix}data/{key}")
        if entry is None:
            return f"storage {key} is missing from the archive"
        off, info = entry
        want = ref.numel * DTYPE_SIZES[ref.dtype]
        if info.file_size != want or off + info.compress_size > size:
            return f"storage {key} has {info.file_size} bytes, the tensors need {want}"
    return None
