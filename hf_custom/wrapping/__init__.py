"""``hf-custom wrap``: turn a plain PyTorch ``nn.Module`` into a Hugging Face custom-code folder.

Heavy: imports torch and transformers inside the functions that need them.
"""

from __future__ import annotations

from hf_custom.wrapping.api import WrapResult, names_for, wrap

__all__ = ["WrapResult", "names_for", "wrap"]
