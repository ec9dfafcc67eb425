"""Request statistics per portal (token): what a client asked for, and what it got.

Counts every API request by endpoint name (the route's name, e.g.
``objects.list``) and by status, the 429s the rate limiter served, and the
faults injected by kind. Benchmarks compare the calls a fetch made with the
minimum it needed.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RequestStats"]


@dataclass
class _PortalStats:
    requests: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    by_status: Counter[int] = field(default_factory=Counter)
    rate_limited: int = 0
    faults: Counter[str] = field(default_factory=Counter)


class RequestStats:
    """Thread-safe counters, one set per portal."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[int, _PortalStats] = {}
        self._seq: dict[int, int] = {}

    def next_seq(self, portal_id: int) -> int:
        """The portal's next request number (0, 1, …): the fault decision's input."""
        with self._lock:
            seq = self._seq.get(portal_id, 0)
            self._seq[portal_id] = seq + 1
            return seq

    def record(
        self,
        portal_id: int,
        endpoint: str,
        status: int | None,
        *,
        rate_limited: bool = False,
        fault: str | None = None,
    ) -> None:
        with self._lock:
            s = self._stats.setdefault(portal_id, _PortalStats())
            s.requests += 1
            s.by_endpoint[endpoint] += 1
            if status is not None:
                s.by_status[status] += 1
            if rate_limited:
                s.rate_limited += 1
            if fault:
                s.faults[fault] += 1

    def snapshot(self, portal_id: int) -> dict[str, Any]:
        with self._lock:
            s = self._stats.get(portal_id, _PortalStats())
            return {
                "requests": s.requests,
                "by_endpoint": dict(sorted(s.by_endpoint.items())),
                "by_status": {str(k): v for k, v in sorted(s.by_status.items())},
                "rate_limited": s.rate_limited,
                "faults": dict(sorted(s.faults.items())),
                "faults_injected": sum(s.faults.values()),
            }

    def reset(self, portal_id: int | None = None) -> None:
        with self._lock:
            if portal_id is None:
                self._stats.clear()
                self._seq.clear()
            else:
                self._stats.pop(portal_id, None)
                self._seq.pop(portal_id, None)
