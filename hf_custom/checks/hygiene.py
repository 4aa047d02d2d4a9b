"""Repository-level checks: file sizes against the Hub's limits, training artefacts, secrets, card."""

from __future__ import annotations

from collections.abc import Iterator

from hf_custom.checks import register
from hf_custom.checks.context import Context
from hf_custom.findings import Finding, finding

HUB_FILE_LIMIT = 50 * 1000**3  # the Hub refuses files above 50 GB
HUB_FILE_RECOMMENDED = 20 * 1000**3  # and recommends staying under 20 GB


def _gb(n: int) -> str:
    return f"{n / 1000**3:.1f} GB"


@register("hub.file-size", rules=("HFC650", "HFC651"))
def file_sizes(ctx: Context) -> Iterator[Finding]:
    """Every file fits the Hub's per-file limits."""
    for entry in ctx.entries.values():
        if entry.size > HUB_FILE_LIMIT:
            yield finding(
                "HFC650",
                f"{_gb(entry.size)}: above the Hub's 50 GB per-file limit",
                path=entry.path,
            )
        elif entry.size > HUB_FILE_RECOMMENDED:
            yield finding(
                "HFC651",
                f"{_gb(entry.size)}: above the Hub's recommended 20 GB per file",
                path=entry.path,
            )
