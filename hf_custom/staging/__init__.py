"""Staging: the publish pipeline as a list of steps (:mod:`hf_custom.staging.pipeline`).

The planning modules (``code``, ``config``, ``tokenizer``, ``card``, ``automap``, ``imports``)
are pure functions over plain data, unit-tested with tables; the steps under
:mod:`hf_custom.staging.steps` are the thin I/O around them. Staging never touches the source
checkpoint and never touches the network. Importing this package imports nothing heavy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from hf_custom.staging.options import PublishOptions as PublishOptions
    from hf_custom.staging.options import StageOptions as StageOptions
    from hf_custom.staging.pipeline import stage as stage
    from hf_custom.staging.result import StageResult as StageResult

_LAZY = {
    "stage": "hf_custom.staging.pipeline",
    "StageResult": "hf_custom.staging.result",
    "StageOptions": "hf_custom.staging.options",
    "PublishOptions": "hf_custom.staging.options",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hf_custom.staging' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
