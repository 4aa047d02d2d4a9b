"""The options of a run, built once (by the CLI or the Python API) and passed whole.

:class:`StageOptions` is everything :func:`hf_custom.staging.pipeline.stage` needs to know about
how to stage a checkpoint; :class:`PublishOptions` adds where and how to upload and verify.
Both are frozen: a step reads its options, it never changes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

DEFAULT_MAX_SHARD_SIZE = 5_000_000_000


@dataclass(frozen=True)
class StageOptions:
    """How to stage a checkpoint (every field has the CLI flag of the same name)."""

    code_root: Path | None = None  # --code-root: the author's package outside the checkpoint
    model_type: str | None = None  # --model-type: rename model_type
    auto_classes: Mapping[str, str] = field(default_factory=dict)  # --auto-class CLASS=AUTO
    architecture: str | None = None  # --architecture: the class the weights were saved from
    renames: tuple[tuple[str, str], ...] = ()  # --rename REGEX=REPLACEMENT, in order
    dtype: str | None = None  # --dtype: cast the weights
    max_shard_size: int = DEFAULT_MAX_SHARD_SIZE
    python: str | None = None  # interpreter of the child processes (keys, verification)
    repo_id: str | None = None  # named in the model card's usage snippet
    force: bool = False  # replace a non-empty output folder
    fix: bool = False  # --fix: apply hf-custom fix's repairs to the staged code

    def __post_init__(self) -> None:
        if self.code_root is not None and not isinstance(self.code_root, Path):
            object.__setattr__(self, "code_root", Path(self.code_root))
        object.__setattr__(self, "auto_classes", MappingProxyType(dict(self.auto_classes)))
        object.__setattr__(self, "renames", tuple((str(a), str(b)) for a, b in self.renames))


@dataclass(frozen=True)
class PublishOptions:
    """How to publish: the staging options plus verification and upload settings."""

    stage: StageOptions = field(default_factory=StageOptions)
    dry_run: bool = False  # stage, check and verify; upload nothing
    out: Path | None = None  # where the staged folder goes (default: a temporary folder)
    verify: bool = True  # False only with --no-verify, said loudly
    verify_timeout: float = 600
    endpoint: str | None = None  # a Hub URL or "local"
    token: str | None = field(default=None, repr=False)  # never shown
    private: bool = False
    revision: str | None = None
    commit_message: str | None = None
    create_pr: bool = False
    # --transformers specs: verify once per version in cached environments (matrix step)
    transformers: tuple[str, ...] = ()
    allow_fail: tuple[str, ...] = ()  # versions whose failure does not refuse
    matrix_outputs: Path | None = None  # fix: keep each version's forward outputs here

    def __post_init__(self) -> None:
        if self.out is not None and not isinstance(self.out, Path):
            object.__setattr__(self, "out", Path(self.out))

    @property
    def repo_id(self) -> str | None:
        return self.stage.repo_id


_STAGE_FIELDS = frozenset(f.name for f in fields(StageOptions))
_PUBLISH_FIELDS = frozenset(f.name for f in fields(PublishOptions)) - {"stage"}


def stage_options(base: StageOptions | None = None, /, **changes: Any) -> StageOptions:
    """``base`` (or the defaults) with ``changes``; TypeError names an unknown option."""
    unknown = sorted(set(changes) - _STAGE_FIELDS)
    if unknown:
        raise TypeError(f"unknown staging option(s): {', '.join(unknown)}")
    return replace(base or StageOptions(), **changes)


def publish_options(base: PublishOptions | None = None, /, **changes: Any) -> PublishOptions:
    """``base`` (or the defaults) with ``changes``, staging ones included (``repo_id``, ...)."""
    base = base or PublishOptions()
    unknown = sorted(set(changes) - _STAGE_FIELDS - _PUBLISH_FIELDS)
    if unknown:
        raise TypeError(f"unknown publish option(s): {', '.join(unknown)}")
    staged = {k: v for k, v in changes.items() if k in _STAGE_FIELDS}
    own = {k: v for k, v in changes.items() if k in _PUBLISH_FIELDS}
    return replace(base, stage=stage_options(base.stage, **staged), **own)


__all__ = [
    "DEFAULT_MAX_SHARD_SIZE",
    "PublishOptions",
    "StageOptions",
    "publish_options",
    "stage_options",
]
