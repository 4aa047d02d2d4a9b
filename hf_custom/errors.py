"""One exception family for every expected failure.

Every error says what went wrong, where, and what to do next. The CLI maps the family to exit
codes (house rule 3); anything outside it is a bug (exit 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hf_custom.findings import Finding


class HFCustomError(Exception):
    """An expected failure. ``exit_code`` is what the CLI exits with."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        hint: str | None = None,
        findings: Sequence[Finding] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.hint = hint
        self.findings = tuple(findings)

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.message}"


class InputError(HFCustomError):
    """Bad input: a malformed config.json, a truncated weights file, a missing class, bad options."""

    exit_code = 2


class MissingDependency(InputError):
    """An optional dependency (torch, transformers) is needed for this command."""

    def __init__(self, module: str, *, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the Python package '{module}', which is not installed",
            hint="install the machine-learning extra: pip install 'hf-custom[ml]' "
            "(for a CPU-only torch first: pip install torch --index-url "
            "https://download.pytorch.org/whl/cpu)",
        )
        self.module = module


class Refusal(HFCustomError):
    """The checks found errors: the operation was refused (nothing was uploaded or written)."""

    exit_code = 1


class RemoteError(HFCustomError):
    """The Hub (or a Hub-compatible endpoint) answered with an error."""

    exit_code = 1


class RemoteUnavailable(RemoteError):
    """The repository could not be read at all (endpoint unreachable, credentials refused, a
    server error, an answer that is not the Hub's protocol): an environment error, exit 2."""

    exit_code = 2


def require(module: str, *, purpose: str) -> None:
    """Raise :class:`MissingDependency` unless ``module`` can be imported."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingDependency(module, purpose=purpose)
