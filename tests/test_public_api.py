"""The public API (``hf_custom.__all__``): lazy, and every function documents what it raises."""

from __future__ import annotations

import inspect
import re

import hf_custom
from hf_custom import errors

FAMILY = {
    name
    for name, obj in vars(errors).items()
    if isinstance(obj, type) and issubclass(obj, Exception)
} | {"EnvBuildError", "TypeError", "ValueError"}


def test_every_public_function_has_a_raises_section_naming_real_exceptions() -> None:
    functions = [n for n in hf_custom.__all__ if inspect.isfunction(getattr(hf_custom, n))]
    assert {"publish", "stage", "doctor", "convert", "verify", "wrap"} <= set(functions)
    for name in functions:
        doc = inspect.getdoc(getattr(hf_custom, name)) or ""
        assert "\nRaises:\n" in doc, f"{name} has no Raises: section"
        section = doc.split("\nRaises:\n", 1)[1]
        raised = re.findall(r"^    (\w+):", section, flags=re.MULTILINE)
        assert raised, f"{name}: an empty Raises: section"
        assert set(raised) <= FAMILY, f"{name} names unknown exceptions {set(raised) - FAMILY}"
