"""Shard planning: which tensors go in which output file (pure)."""

from __future__ import annotations

from collections.abc import Sequence


def plan_shards(sizes: Sequence[tuple[str, int]], max_size: int) -> list[list[str]]:
    """Pack tensors, in the given order, into shards of at most ``max_size`` bytes of data.

    Greedy and order-preserving (the order is the source file order, so shards are read
    sequentially). A tensor larger than ``max_size`` gets a shard of its own. An empty input
    gives no shard.
    """
    if max_size <= 0:
        raise ValueError(f"max_size must be positive, got {max_size}")
    shards: list[list[str]] = []
    current: list[str] = []
    used = 0
    for name, size in sizes:
        if size < 0:
            raise ValueError(f"negative size for {name}")
        if current and used + size > max_size:
            shards.append(current)
            current, used = [], 0
        current.append(name)
        used += size
    if current:
        shards.append(current)
    return shards


def shard_file_names(count: int) -> list[str]:
    """``model.safetensors`` for one shard, else ``model-0000i-of-0000N.safetensors``."""
    if count == 1:
        return ["model.safetensors"]
    return [f"model-{i:05d}-of-{count:05d}.safetensors" for i in range(1, count + 1)]


_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNITS |= {"KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(text: str | int) -> int:
    """``"5GB"`` -> 5_000_000_000, ``"500MiB"``, ``"123"``; ValueError when unreadable."""
    if isinstance(text, int):
        return text
    s = text.strip().upper().replace(" ", "")
    num = s.rstrip("KMGTIB")
    unit = s[len(num) :]
    if unit not in _UNITS or not num:
        raise ValueError(f"cannot read size {text!r} (use e.g. 5GB, 500MB, 2GiB)")
    value = int(float(num) * _UNITS[unit])
    if value <= 0:
        raise ValueError(f"size must be positive: {text!r}")
    return value
