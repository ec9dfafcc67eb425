"""Time for the emulator: an injectable clock and HubSpot's timestamp text.

HubSpot writes timestamps as ISO-8601 UTC with milliseconds
(``2024-01-01T10:00:00.000Z``); the emulator stores them in that exact form.
Datetime property values may also be written as epoch milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["Clock", "iso_from_epoch", "parse_timestamp"]


def iso_from_epoch(seconds: float) -> str:
    """``2024-01-01T10:00:00.000Z`` for a POSIX time in seconds."""
    ms = round(seconds * 1000)
    dt = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def parse_timestamp(value: str) -> str | None:
    """A datetime written as ISO-8601 text or epoch milliseconds, as stored ISO text."""
    text = value.strip()
    if not text:
        return None
    if text.lstrip("-").isdigit():
        return iso_from_epoch(int(text) / 1000)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return iso_from_epoch(dt.timestamp())


@dataclass(frozen=True)
class Clock:
    """Wall time (for record timestamps) and a monotonic time (for rate windows)."""

    wall: Callable[[], float] = field(default=time.time)
    monotonic: Callable[[], float] = field(default=time.monotonic)

    def now_iso(self) -> str:
        return iso_from_epoch(self.wall())
