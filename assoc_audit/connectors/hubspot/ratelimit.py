"""Client-side rate limiting and backoff for HubSpot calls, shared by every thread of a connector.

HubSpot limits each token (portal) to ``X-HubSpot-RateLimit-Max`` requests in a
sliding window of ``X-HubSpot-RateLimit-Interval-Milliseconds`` (190 per 10 s on
Professional and Enterprise). :class:`RateLimiter` keeps the same sliding window
on the client: :meth:`~RateLimiter.acquire` blocks until one more request fits,
counting a small safety margin on the window for the time a request takes to
reach the server. It learns the limit and the window from the response headers
(:meth:`~RateLimiter.observe`); when ``X-HubSpot-RateLimit-Remaining`` shows
requests the client did not send (another app on the same token), it counts
them too. A 429 pauses every thread (:meth:`~RateLimiter.pause`); a daily limit
that is used up stops further calls with :class:`~assoc_audit.errors.RateLimited`.

:class:`RetryPolicy` is the backoff for retried calls (429, 5xx, 423, dropped
connections): exponential with jitter, capped; ``Retry-After`` wins when sent.

Time is injected (``clock``, ``sleep``) so tests can run on virtual time.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from assoc_audit.errors import RateLimited

__all__ = ["DEFAULT_MAX", "RateLimiter", "RetryPolicy"]

#: The limit assumed until a response tells the real one: the lowest tier (Free/Starter).
DEFAULT_MAX = 100
DEFAULT_WINDOW = 10.0

Clock = Callable[[], float]
Sleep = Callable[[float], None]


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    if not headers:
        return None
    value = headers.get(name)
    if value is None:
        lower = name.lower()
        value = next((v for k, v in headers.items() if str(k).lower() == lower), None)
    return None if value is None else str(value)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before retrying a call that failed transiently.

    ``attempts`` counts every try (the first included). The n-th retry waits
    ``min(cap, base * 2**(n-1))`` scaled by a random factor in [0.5, 1] ("equal
    jitter"), or what the server's ``Retry-After`` says.
    """

    attempts: int = 8
    base: float = 0.5
    cap: float = 30.0

    def delay(self, retry: int, rand: float) -> float:
        """Seconds to wait before retry number ``retry`` (1-based); ``rand`` in [0, 1)."""
        raw = min(self.cap, self.base * 2.0 ** max(0, retry - 1))
        return float(raw * (0.5 + rand / 2))


class RateLimiter:
    """A thread-safe sliding-window limiter fed by HubSpot's rate-limit headers.

    ``max_per_window`` caps the requests per window (None: learn it from the
    headers, assuming :data:`DEFAULT_MAX` until then; a cap lower than the
    portal's leaves room for other apps). ``margin`` seconds are added to the
    window for network and queueing delays. ``slack`` is how many requests may
    be in flight at once (their order of arrival may differ from their order of
    sending, which must not be mistaken for another app's traffic).
    """

    def __init__(
        self,
        *,
        max_per_window: int | None = None,
        window: float = DEFAULT_WINDOW,
        margin: float = 0.5,
        slack: int = 8,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._lock = threading.Lock()
        self._cap = max_per_window
        self._server_max: int | None = None
        self._window = window
        self._margin = margin
        self._slack = slack
        self._clock = clock
        self._sleep = sleep
        self._sent: list[float] = []  # send times, sorted (phantoms included)
        self._blocked_until = float("-inf")
        self._daily_exhausted = False
        self.waited = 0.0
        self.throttled = 0
        self.foreign = 0

    # -- state ---------------------------------------------------------------

    @property
    def limit(self) -> int:
        """Requests allowed per window now."""
        if self._server_max is not None:
            known = self._server_max
        else:
            known = self._cap if self._cap is not None else DEFAULT_MAX
        return max(1, min(self._cap, known) if self._cap is not None else known)

    @property
    def window(self) -> float:
        return self._window

    def to_dict(self) -> dict[str, Any]:
        """What the limiter learned and did (for ``meta["api"]``)."""
        with self._lock:
            return {
                "max_per_window": self.limit,
                "window_seconds": self._window,
                "waited_seconds": round(self.waited, 3),
                "throttled": self.throttled,
                "foreign_requests_seen": self.foreign,
            }

    def _expire(self, now: float) -> None:
        """Forget sends older than two windows (kept that long for :meth:`observe`, whose
        response may come back long after the request left)."""
        cut = bisect.bisect_right(self._sent, now - 2 * (self._window + self._margin))
        if cut:
            del self._sent[:cut]

    # -- use -------------------------------------------------------------------

    def acquire(self) -> float:
        """Block until one more request fits the window; count it. Returns seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                if self._daily_exhausted:
                    raise RateLimited(
                        "HubSpot's daily API limit for this token is used up; it resets at "
                        "midnight in the portal's time zone",
                        policy="DAILY",
                        status=429,
                    )
                now = self._clock()
                self._expire(now)
                wait = self._blocked_until - now
                limit = self.limit
                start = bisect.bisect_right(self._sent, now - (self._window + self._margin))
                if len(self._sent) - start >= limit:
                    frees = self._sent[len(self._sent) - limit] + self._window + self._margin
                    wait = max(wait, frees - now)
                if wait <= 0:
                    bisect.insort(self._sent, now)
                    if waited:
                        self.waited += waited
                        self.throttled += 1
                    return waited
            wait = max(wait, 0.001)
            self._sleep(wait)
            waited += wait

    def observe(self, headers: Mapping[str, Any] | None, sent_at: float) -> None:
        """Learn from the ``X-HubSpot-RateLimit-*`` headers of a request sent at ``sent_at``."""
        max_ = _int(_header(headers, "X-HubSpot-RateLimit-Max"))
        interval = _int(_header(headers, "X-HubSpot-RateLimit-Interval-Milliseconds"))
        remaining = _int(_header(headers, "X-HubSpot-RateLimit-Remaining"))
        daily_left = _int(_header(headers, "X-HubSpot-RateLimit-Daily-Remaining"))
        with self._lock:
            if max_ is not None and max_ > 0:
                self._server_max = max_
            if interval is not None and interval > 0:
                self._window = interval / 1000.0
            if daily_left is not None and daily_left <= 0:
                self._daily_exhausted = True
            if max_ is None or remaining is None:
                return
            used = max_ - remaining  # the server's count in its window, this request included
            lo = bisect.bisect_right(self._sent, sent_at - self._window)
            hi = bisect.bisect_right(self._sent, sent_at)
            missing = used - (hi - lo) - self._slack
            if missing > 0:  # requests this client did not send: count them as sent now
                self.foreign += missing
                for _ in range(missing):
                    bisect.insort(self._sent, sent_at)

    def pause(self, seconds: float) -> None:
        """Hold every request for ``seconds`` from now (after a 429)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)
