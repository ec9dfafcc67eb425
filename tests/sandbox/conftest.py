"""Fixtures for the emulator tests: a running sandbox and the official client."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sandbox_helpers import Raw

from assoc_audit.demo.synthetic import control_seeder
from assoc_audit.sandbox import Sandbox
from assoc_audit.sandbox.clock import Clock


class FakeClock:
    """Monotonic time that only moves when a test says so (rate windows)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sb(fake_clock: FakeClock) -> Iterator[Sandbox]:
    """Two portals (tok-a, tok-b), rate limits off, time frozen for rate windows."""
    with Sandbox(
        tokens=("tok-a", "tok-b"),
        rate_limit=0,
        limits={"search_per_second": 0},
        clock=Clock(monotonic=fake_clock),
        seeder=control_seeder,
    ) as box:
        yield box


@pytest.fixture
def api(sb: Sandbox):
    return sb.client("tok-a")


@pytest.fixture
def raw(sb: Sandbox) -> Iterator[Raw]:
    r = Raw(sb.url)
    yield r
    r.pool.clear()
