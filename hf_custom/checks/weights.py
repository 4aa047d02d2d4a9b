"""Weights checks, torch-free: safetensors headers (two range reads per file, never the tensors),
index consistency, pickles walked by torch's weights_only rules and checked for soundness
(:mod:`hf_custom.weights`).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from hf_custom.checks import Skip, register
from hf_custom.checks.context import Context
from hf_custom.findings import Finding, finding

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
WEIGHT_SUFFIXES = (".safetensors", *PICKLE_SUFFIXES[:4])
WRAPPER_PREFIXES = ("module.", "_orig_mod.")
# In a git tree, pickles up to this size are copied out to be scanned (training_args.bin and the
# like); bigger ones are not. On a Hub repository pickles are read by ranges at any size.
REMOTE_PICKLE_MAX = 10_000_000


def _safetensors(ctx: Context) -> list[str]:
    return [p for p in ctx.top_level() if p.endswith(".safetensors")]


def _pickles(ctx: Context) -> list[str]:
    from hf_custom.inventory import FileKind, classify

    out = []
    for p in ctx.paths:
        if p.endswith(PICKLE_SUFFIXES) and classify(p) in (
            FileKind.WEIGHTS,
            FileKind.TRAINING_ARTEFACT,
            FileKind.OTHER,
        ):
            out.append(p)
    return out


def _weight_pickles(ctx: Context) -> list[str]:
    from hf_custom.inventory import FileKind, classify

    return [
        p
        for p in ctx.top_level()
        if p.endswith(PICKLE_SUFFIXES[:4]) and classify(p) is FileKind.WEIGHTS
    ]


def _tensors(header: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in header.items() if k != "__metadata__"}


def _headers(ctx: Context) -> dict[str, dict[str, Any]]:
    """Readable safetensors headers, by path (unreadable ones are HFC355's business)."""
    out: dict[str, dict[str, Any]] = {}
    for path in _safetensors(ctx):
        header, err = ctx.safetensors_header(path)
        if header is not None and err is None:
            out[path] = _tensors(header)
    return out


def _head(ctx: Context, path: str) -> bytes:
    try:
        return ctx.view.read_range(path, 0, 64)
    except OSError:
        return b""


@register("weights.safetensors", rules=("HFC355", "HFC301"))
def safetensors_files(ctx: Context) -> Iterator[Finding]:
    """Each safetensors header parses, its byte ranges fit the file; float64 tensors."""
    from hf_custom.checks.gitview import LFS_PREFIX

    for path in _safetensors(ctx):
        if ctx.size(path) < 1024 and _head(ctx, path).startswith(LFS_PREFIX):
            yield finding(
                "HFC355",
                "a git-lfs pointer, not the weights (cloned without LFS content)",
                path=path,
                fix="run `git lfs pull` in the clone",
            )
            continue
        header, err = ctx.safetensors_header(path)
        if header is None:
            yield finding("HFC355", f"unreadable safetensors header: {err}", path=path)
            continue
        tensors = _tensors(header)
        raw_len = int.from_bytes(_head(ctx, path)[:8], "little")
        end = max((int(v["data_offsets"][1]) for v in tensors.values()), default=0)
        expected = 8 + raw_len + end
        if expected != ctx.size(path):
            yield finding(
                "HFC355",
                f"the header describes {expected} bytes but the file has {ctx.size(path)} "
                "(truncated or padded)",
                path=path,
            )
        f64 = sorted(k for k, v in tensors.items() if v.get("dtype") == "F64")
        if f64:
            more = f" and {len(f64) - 5} more" if len(f64) > 5 else ""
            yield finding(
                "HFC301",
                f"{len(f64)} float64 tensors: {', '.join(f64[:5])}{more}",
                path=path,
            )


@register("weights.index", rules=("HFC351", "HFC352", "HFC353", "HFC354", "HFC356"))
def index(ctx: Context) -> Iterator[Finding]:
    """Index and shards agree: every shard present, every tensor listed once, in the right shard."""
    indexes = [p for p in ctx.top_level() if p.endswith(".index.json")]
    headers = _headers(ctx)
    referenced: set[str] = set()
    for idx in indexes:
        doc, err = ctx.json(idx)
        wmap = doc.get("weight_map") if isinstance(doc, dict) else None
        if err is not None or not isinstance(wmap, dict):
            yield finding("HFC351", err or "no weight_map object", path=idx)
            continue
        shards = sorted({str(v) for v in wmap.values()})
        referenced.update(shards)
        for shard in shards:
            if not ctx.has(shard):
                n = sum(1 for v in wmap.values() if v == shard)
                yield finding("HFC352", f"names {shard} ({n} tensors), which is missing", path=idx)
        if not idx.endswith(".safetensors.index.json"):
            continue
        seen: dict[str, str] = {}
        for shard in shards:
            names = headers.get(shard)
            if names is None:
                continue
            for name in sorted(names):
                if name in seen:
                    yield finding(
                        "HFC354", f"{name} is stored in {seen[name]} and in {shard}", path=shard
                    )
                    continue
                seen[name] = shard
                if name not in wmap:
                    yield finding("HFC353", f"{name} is in {shard} but not in the index", path=idx)
                elif wmap[name] != shard:
                    yield finding(
                        "HFC353",
                        f"the index maps {name} to {wmap[name]}, but it is in {shard}",
                        path=idx,
                    )
        for name, shard in sorted(wmap.items()):
            if shard in headers and name not in headers[shard] and name not in seen:
                yield finding(
                    "HFC353", f"the index maps {name} to {shard}, which does not hold it", path=idx
                )
    if indexes:
        for path in _safetensors(ctx):
            if path not in referenced:
                yield finding("HFC356", "no index references this file", path=path)


def _local_copy(ctx: Context, path: str, tmp: str) -> Path | IO[bytes] | None:
    """Something to read ``path`` from: the local file; on a remote repository a file read by
    HTTP ranges (only the zip directory and the pickle are fetched, never the tensors); else a
    temporary copy of files up to REMOTE_PICKLE_MAX (None: too big to copy)."""
    from hf_custom.weights.ranged import RangeFile

    local = ctx.view.local_path(path)
    if local is not None:
        return local
    if ctx.view.remote:
        raw = RangeFile(lambda a, b: ctx.view.read_range(path, a, b), ctx.size(path))
        return io.BufferedReader(raw, buffer_size=1 << 16)
    if ctx.size(path) > REMOTE_PICKLE_MAX:
        return None
    copy = Path(tmp) / "file"
    copy.write_bytes(ctx.view.read_bytes(path))
    return copy


@register("weights.pickles", rules=("HFC300", "HFC350"))
def pickles(ctx: Context) -> Iterator[Finding]:
    """Pickle-only weights; pickles torch's weights_only loader would refuse (walked, never
    unpickled: the converter's own rule)."""
    from hf_custom.errors import InputError
    from hf_custom.weights.pickle_scan import pickle_verdict

    weight_pickles = _weight_pickles(ctx)
    found: list[Finding] = []
    if weight_pickles and not _safetensors(ctx):
        found.append(
            finding(
                "HFC350",
                f"weights only as pickles: {', '.join(weight_pickles)}",
                path=weight_pickles[0],
            )
        )
    unscanned: list[str] = []
    for path in _pickles(ctx):
        with tempfile.TemporaryDirectory(prefix="hf-custom-pickle-") as tmp:
            local = _local_copy(ctx, path, tmp)
            if local is None:
                unscanned.append(path)
                continue
            try:
                verdict = pickle_verdict(local)
            except InputError:
                continue  # not a pickle at all: nothing it could import (HFC360 for weights)
        if verdict.accepted or verdict.malformed:
            continue
        bad = list(verdict.globals)
        if bad:
            more = f" and {len(bad) - 6} more" if len(bad) > 6 else ""
            found.append(
                finding("HFC300", f"unpickling imports {', '.join(bad[:6])}{more}", path=path)
            )
        else:
            found.append(
                finding(
                    "HFC300", f"torch's weights_only loader refuses it: {verdict.reason}", path=path
                )
            )
    if unscanned:
        raise Skip(
            f"not downloaded to scan (over {REMOTE_PICKLE_MAX // 10**6} MB): "
            + ", ".join(unscanned),
            findings=found,
        )
    yield from found


@register("weights.pickle_structure", rules=("HFC360",))
def pickle_structure(ctx: Context) -> Iterator[Finding]:
    """Pickle weights files are sound: not empty, not text, not damaged or truncated."""
    from hf_custom.weights.sources import torch_file_problem

    unread: list[str] = []
    found: list[Finding] = []
    for path in _weight_pickles(ctx):
        if ctx.size(path) == 0:
            found.append(finding("HFC360", "empty file (0 bytes)", path=path))
            continue
        with tempfile.TemporaryDirectory(prefix="hf-custom-pickle-") as tmp:
            local = _local_copy(ctx, path, tmp)
            if local is None:
                unread.append(path)
                continue
            problem = torch_file_problem(local)
        if problem is not None:
            found.append(finding("HFC360", problem, path=path))
    if unread:
        raise Skip(
            f"not downloaded to check (over {REMOTE_PICKLE_MAX // 10**6} MB): " + ", ".join(unread),
            findings=found,
        )
    yield from found


def _all_names(ctx: Context) -> set[str]:
    names: set[str] = set()
    for tensors in _headers(ctx).values():
        names.update(tensors)
    return names


@register("weights.names", rules=("HFC357", "HFC358", "HFC359"))
def names(ctx: Context) -> Iterator[Finding]:
    """Tensor names against the code: wrapper prefixes, tied parameters; weights present at all."""
    has_weights = any(p.endswith(WEIGHT_SUFFIXES) for p in ctx.top_level())
    if not has_weights:
        if ctx.config is not None and ctx.top_py_files and ctx.package.model_classes():
            yield finding("HFC359", "no weights file (*.safetensors, *.bin, ...)", path="")
        return
    if not _safetensors(ctx):
        raise Skip("tensor names are read from safetensors headers only (no torch)")
    names = _all_names(ctx)
    if names:
        for prefix in WRAPPER_PREFIXES:
            if all(n.startswith(prefix) for n in names):
                yield finding(
                    "HFC357",
                    f"all {len(names)} tensor names start with {prefix!r} (e.g. {min(names)})",
                    path=_safetensors(ctx)[0],
                )
    if not ctx.top_py_files or ctx.config is None:
        return
    archs = ctx.config.get("architectures") or []
    for arch in archs if isinstance(archs, list) else []:
        cls = ctx.package.find_class(str(arch))
        if cls is None:
            continue
        tied = ctx.package.inherited_attr(cls, "_tied_weights_keys")
        if not isinstance(tied, dict):
            continue
        for target, source in sorted(tied.items()):
            if not any(_present(str(x), names) for x in (target, source)):
                yield finding(
                    "HFC358",
                    f"{arch} ties {target} to {source}, and the weights hold neither",
                    path=_safetensors(ctx)[0],
                )


def _present(key: str, names: set[str]) -> bool:
    return any(n == key or n.endswith("." + key) or key.endswith("." + n) for n in names)
