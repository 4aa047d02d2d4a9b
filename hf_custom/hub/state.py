"""The local Hub's in-memory state: who a token belongs to, injected faults, statistics.

Plain data with locks, no HTTP and no storage: everything else in ``hf_custom.hub`` may import
it, and it imports nothing of the package.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Account:
    """Who a token belongs to. ``any_namespace`` lets the embedded Hub's owner write anywhere."""

    name: str
    orgs: tuple[str, ...] = ()
    write: bool = True
    any_namespace: bool = False

    def can_write(self, namespace: str) -> bool:
        return self.write and (
            self.any_namespace or namespace == self.name or namespace in self.orgs
        )

    def can_read(self, namespace: str) -> bool:
        return self.any_namespace or namespace == self.name or namespace in self.orgs


@dataclass
class Faults:
    """Failures to inject, each a count of the next requests it hits (tests set these).

    - ``commit_error``: the commit endpoint answers 500 without applying anything.
    - ``lfs_upload``: the large-file PUT is cut short, so the stored bytes fail verification (400).
    - ``stale_parent``: the commit endpoint answers 412 as if another commit had landed first.
    """

    commit_error: int = 0
    lfs_upload: int = 0
    stale_parent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, name: str) -> bool:
        with self._lock:
            left = getattr(self, name)
            if left > 0:
                setattr(self, name, left - 1)
                return True
            return False

    def clear(self) -> None:
        with self._lock:
            self.commit_error = self.lfs_upload = self.stale_parent = 0


@dataclass
class Stats:
    """Bytes of response bodies sent, in total and per (repo id, file path) for file downloads."""

    bytes_sent: int = 0
    requests: int = 0
    file_bytes: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, n: int, *, repo_id: str | None = None, path: str | None = None) -> None:
        with self._lock:
            self.bytes_sent += n
            if repo_id is not None and path is not None:
                self.file_bytes[(repo_id, path)] += n

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def reset(self) -> None:
        with self._lock:
            self.bytes_sent = 0
            self.requests = 0
            self.file_bytes.clear()
