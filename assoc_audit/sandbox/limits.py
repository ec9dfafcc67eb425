"""API limits: every configurable number, and the per-token rate limiter.

:class:`Limits` holds HubSpot's documented or commonly observed limits as
defaults; every one whose real value is uncertain is a field here (see
``EMULATOR_COVERAGE.md`` for the chosen defaults and why). The
:class:`RateLimiter` keeps, per portal (= token), a sliding 10-second window,
an optional daily count (UTC days) and a 1-second window for search, and
produces HubSpot's ``X-HubSpot-RateLimit-*`` headers and 429 bodies.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any, Literal

from assoc_audit.sandbox.errors import SandboxError
from assoc_audit.sandbox.search import SearchCaps

__all__ = ["Limits", "RateDecision", "RateLimiter", "parse_rate"]

RateKind = Literal["default", "search", "assoc_batch", "exempt"]

WINDOW_SECONDS = 10.0


@dataclass(frozen=True)
class Limits:
    """Every limit the emulator enforces (``None`` switches a rate limit off)."""

    rate_per_10s: int | None = 190
    daily: int | None = None
    search_per_second: int | None = 5
    search_counts_ten_secondly: bool = True
    assoc_batch_counts_ten_secondly: bool = True
    retry_after: bool = False
    group_name: str = "publicapi:private-app:sandbox"
    list_page_max: int = 100
    list_over_max: Literal["error", "clamp"] = "error"
    history_page_max: int = 50
    batch_max: int = 100
    batch_read_max: int = 100
    batch_read_history_max: int = 50
    assoc_page_max: int = 500
    assoc_batch_read_max: int = 1000
    assoc_batch_read_page: int = 500
    assoc_batch_write_max: int = 100
    record_assoc_max: int = 100
    search_page_max: int = 200
    search_total_max: int = 10_000
    search_max_groups: int = 5
    search_max_filters_per_group: int = 10
    search_max_filters: int = 25

    def __post_init__(self) -> None:
        for key in ("rate_per_10s", "daily", "search_per_second"):
            if getattr(self, key) == 0:
                object.__setattr__(self, key, None)
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("rate_per_10s", "daily", "search_per_second"):
                if value is not None and (not isinstance(value, int) or value < 0):
                    raise SandboxError(f"limit {f.name} must be a whole number ≥ 0 or None")
            elif isinstance(value, bool) or f.name in ("group_name", "list_over_max"):
                continue
            elif not isinstance(value, int) or value < 1:
                raise SandboxError(f"limit {f.name} must be a whole number ≥ 1, got {value!r}")
        if self.list_over_max not in ("error", "clamp"):
            raise SandboxError("limit list_over_max must be 'error' or 'clamp'")

    def search_caps(self) -> SearchCaps:
        return SearchCaps(
            page_max=self.search_page_max,
            total_max=self.search_total_max,
            max_groups=self.search_max_groups,
            max_filters_per_group=self.search_max_filters_per_group,
            max_filters=self.search_max_filters,
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def updated(self, changes: Mapping[str, Any]) -> Limits:
        """A copy with ``changes`` applied (unknown names are an error; 0 rate = off)."""
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise SandboxError(
                f"unknown limit(s): {', '.join(unknown)} (known: {', '.join(sorted(names))})"
            )
        return replace(self, **dict(changes))


def parse_rate(text: str | int | None) -> int | None:
    """``"190/10s"``, ``"190"`` or 190 → 190; ``"off"``, ``0``, None → None (no limit)."""
    if text is None:
        return None
    if isinstance(text, int):
        return text or None
    value = text.strip().lower()
    if value in ("off", "none", "0", ""):
        return None
    if value.endswith("/10s"):
        value = value[: -len("/10s")]
    if not value.isdigit():
        raise SandboxError(f"rate limit {text!r} is not N/10s, N or off")
    return int(value) or None


@dataclass(frozen=True)
class RateDecision:
    """Whether a request may run, with its rate-limit headers (and the 429 body if not)."""

    allowed: bool
    headers: dict[str, str]
    policy: str | None = None
    message: str | None = None
    retry_after: float | None = None

    def body(self, correlation_id: str, group_name: str) -> dict[str, Any]:
        return {
            "status": "error",
            "message": self.message,
            "errorType": "RATE_LIMIT",
            "correlationId": correlation_id,
            "policyName": self.policy,
            "groupName": group_name,
        }


class _Window:
    __slots__ = ("daily", "day", "search", "ten")

    def __init__(self) -> None:
        self.ten: deque[float] = deque()
        self.search: deque[float] = deque()
        self.day = ""
        self.daily = 0


class RateLimiter:
    """Per-portal request windows; :meth:`check` counts a request that it allows."""

    def __init__(self, monotonic: Callable[[], float], wall: Callable[[], float]) -> None:
        self._monotonic = monotonic
        self._wall = wall
        self._lock = threading.Lock()
        self._windows: dict[int, _Window] = {}

    def reset(self, portal_id: int | None = None) -> None:
        with self._lock:
            if portal_id is None:
                self._windows.clear()
            else:
                self._windows.pop(portal_id, None)

    def check(self, portal_id: int, kind: RateKind, limits: Limits) -> RateDecision:
        now = self._monotonic()
        today = datetime.fromtimestamp(self._wall(), tz=UTC).strftime("%Y-%m-%d")
        with self._lock:
            w = self._windows.get(portal_id)
            if w is None:
                w = self._windows[portal_id] = _Window()
            if w.day != today:
                w.day, w.daily = today, 0
            while w.ten and w.ten[0] <= now - WINDOW_SECONDS:
                w.ten.popleft()
            while w.search and w.search[0] <= now - 1.0:
                w.search.popleft()
            counts_ten = kind == "default" or (
                (kind == "search" and limits.search_counts_ten_secondly)
                or (kind == "assoc_batch" and limits.assoc_batch_counts_ten_secondly)
            )
            headers = self._headers(w, limits, counts_ten, extra=0)
            if limits.daily is not None and kind != "exempt" and w.daily >= limits.daily:
                return self._refuse(
                    headers, "DAILY", "You have reached your daily limit.", None, limits
                )
            if counts_ten and limits.rate_per_10s is not None and len(w.ten) >= limits.rate_per_10s:
                wait = max(0.0, w.ten[0] + WINDOW_SECONDS - now)
                return self._refuse(
                    headers,
                    "TEN_SECONDLY_ROLLING",
                    "You have reached your ten_secondly_rolling limit.",
                    wait,
                    limits,
                )
            if kind == "search" and limits.search_per_second is not None:
                if len(w.search) >= limits.search_per_second:
                    wait = max(0.0, w.search[0] + 1.0 - now)
                    return self._refuse(
                        headers, "SECONDLY", "You have reached your secondly limit.", wait, limits
                    )
                w.search.append(now)
            if counts_ten:
                w.ten.append(now)
            if kind != "exempt":
                w.daily += 1
            return RateDecision(True, self._headers(w, limits, counts_ten, extra=0))

    def peek(self, portal_id: int, limits: Limits) -> RateDecision:
        """A ten-secondly refusal with the current headers (for an injected 429)."""
        now = self._monotonic()
        with self._lock:
            w = self._windows.get(portal_id) or _Window()
            while w.ten and w.ten[0] <= now - WINDOW_SECONDS:
                w.ten.popleft()
            headers = self._headers(w, limits, True, extra=0)
        return self._refuse(
            headers,
            "TEN_SECONDLY_ROLLING",
            "You have reached your ten_secondly_rolling limit.",
            1.0,
            limits,
        )

    @staticmethod
    def _headers(w: _Window, limits: Limits, counts_ten: bool, extra: int) -> dict[str, str]:
        headers: dict[str, str] = {}
        if counts_ten and limits.rate_per_10s is not None:
            headers["X-HubSpot-RateLimit-Max"] = str(limits.rate_per_10s)
            headers["X-HubSpot-RateLimit-Remaining"] = str(
                max(0, limits.rate_per_10s - len(w.ten) - extra)
            )
            headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = str(int(WINDOW_SECONDS * 1000))
        if limits.daily is not None:
            headers["X-HubSpot-RateLimit-Daily"] = str(limits.daily)
            headers["X-HubSpot-RateLimit-Daily-Remaining"] = str(
                max(0, limits.daily - w.daily - extra)
            )
        return headers

    @staticmethod
    def _refuse(
        headers: dict[str, str], policy: str, message: str, wait: float | None, limits: Limits
    ) -> RateDecision:
        out = dict(headers)
        if "X-HubSpot-RateLimit-Remaining" in out:
            out["X-HubSpot-RateLimit-Remaining"] = "0"
        if limits.retry_after:
            seconds = 86400.0 if wait is None else wait
            out["Retry-After"] = str(max(1, math.ceil(seconds)))
        return RateDecision(False, out, policy, message, wait)
