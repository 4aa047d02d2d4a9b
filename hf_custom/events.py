"""Progress and log events: how the library talks to whoever is watching (house rule 1).

Library functions take ``on_event: EventSink | None`` and never print. The CLI turns events into
rich progress bars on stderr (on a terminal only) or drops them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` units of ``task`` are finished. ``total`` is None when unknown."""

    task: str
    done: int
    total: int | None = None
    unit: Literal["B", "files", "tensors", "steps"] = "B"
    key: str = ""  # distinguishes concurrent bars of the same task (e.g. a file name)


@dataclass(frozen=True)
class Log:
    """A line worth showing a person (a step started, a decision taken)."""

    message: str
    level: Literal["info", "warning"] = "info"


Event = Progress | Log
EventSink = Callable[[Event], None]


def emit(sink: EventSink | None, event: Event) -> None:
    if sink is not None:
        sink(event)
