"""The options several commands share, each declared once with one help text.

Names and meanings follow huggingface_hub's ``hf`` CLI (``--token``, ``--revision``,
``--format``, declared in :mod:`hf_custom.cli.output`), so ``hf custom ...`` reads like every other ``hf`` command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

endpoint_option = click.option(
    "--endpoint",
    help="Hub URL, or 'local' for the embedded Hub (default: HF_ENDPOINT, else huggingface.co).",
)
token_option = click.option(
    "--token",
    help="Access token (default: HF_TOKEN or the token saved by `hf auth login`). Never shown.",
)
revision_option = click.option(
    "--revision",
    help="Branch, tag or commit on the Hub (publish commits to a branch). Default: main.",
)
python_option = click.option(
    "--python",
    "python",
    help="Interpreter of the child processes that load the model (default: this one).",
)
select_option = click.option(
    "--select",
    multiple=True,
    help="Only these rules: id, id prefix, name or area (repeatable, or comma-separated).",
)
ignore_option = click.option(
    "--ignore",
    multiple=True,
    help="Skip these rules: id, id prefix, name or area (repeatable, or comma-separated).",
)


def split_patterns(values: Iterable[str]) -> tuple[str, ...]:
    """The rule patterns of repeated and comma-separated ``--select``/``--ignore`` values."""
    return tuple(p.strip() for v in values for p in v.split(",") if p.strip())


def hub_options(func: F) -> F:
    """``--endpoint``, ``--token`` and ``--revision``."""
    return endpoint_option(token_option(revision_option(func)))


def rule_options(func: F) -> F:
    """``--select`` and ``--ignore``."""
    return select_option(ignore_option(func))


__all__ = [
    "endpoint_option",
    "hub_options",
    "ignore_option",
    "python_option",
    "revision_option",
    "rule_options",
    "select_option",
    "split_patterns",
    "token_option",
]
