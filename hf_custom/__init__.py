"""hf-custom: publish custom-code PyTorch models to the Hugging Face Hub, proven to load first.

The Python API mirrors the CLI and returns plain data; nothing here prints. Heavy modules
(torch, transformers) are imported only when a function that needs them is called.

    import hf_custom
    result = hf_custom.publish("./ckpt", repo_id="me/model")
    report = hf_custom.doctor("me/model")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hf_custom._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from hf_custom.diagnosis import doctor as doctor
    from hf_custom.publishing import publish as publish
    from hf_custom.staging.options import PublishOptions as PublishOptions
    from hf_custom.staging.options import StageOptions as StageOptions
    from hf_custom.staging.pipeline import stage as stage
    from hf_custom.verification import verify as verify
    from hf_custom.weights import convert as convert

_API = {
    "publish": "hf_custom.publishing",
    "stage": "hf_custom.staging.pipeline",
    "StageOptions": "hf_custom.staging.options",
    "PublishOptions": "hf_custom.staging.options",
    "doctor": "hf_custom.diagnosis",
    "convert": "hf_custom.weights",
    "verify": "hf_custom.verification",
    "wrap": "hf_custom.wrapping",
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'hf_custom' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
