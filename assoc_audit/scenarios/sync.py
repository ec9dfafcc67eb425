"""How a scenario run gets its data sync: the simulator (emulator) or HubSpot's own (real portal).

A :class:`SyncDriver` is handed the run's scope and a ``ready`` callback (True
once every link expected to appear is on its target side):

- :class:`SimulatedSync` runs the :class:`~assoc_audit.scenarios.datasync.DataSyncSimulator`
  on the scope until a pass changes nothing (at most ``max_passes``);
- :class:`AwaitSync` waits for HubSpot's real data sync: it polls ``ready``
  every ``interval`` seconds until it holds or ``timeout`` passes (then the
  check shows which links never arrived). Negative scenarios need no extra
  wait: once the positive links have arrived the sync has run.

``settle_seconds`` is how long a sync may keep acting on its own after a
change: 0 for the simulator (it runs only when asked); for HubSpot's sync one
polling interval, so the clean-up sweeps again after that long (a sync cycle
that read a sample before it was deleted may copy it back).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from assoc_audit.scenarios.datasync import DataSyncSimulator, SyncScope

if TYPE_CHECKING:
    from assoc_audit.tables import Side

__all__ = ["AwaitSync", "SimulatedSync", "SyncDriver"]


class SyncDriver(Protocol):
    """Triggers or awaits the data sync of a scenario run."""

    @property
    def settle_seconds(self) -> float:
        """How long the sync may go on acting by itself after a change (0: it does not)."""
        ...

    def describe(self) -> str: ...

    def run(self, scope: SyncScope, ready: Callable[[], bool]) -> dict[str, Any]:
        """Sync (or wait for the sync); returns what happened, for the report."""
        ...

    def created_records(self) -> dict[Side, dict[str, list[str]]]:
        """Records the sync created that the run must clean up (ids per side and object)."""
        ...


class SimulatedSync:
    """The data-sync simulator does the syncing (the emulator: HubSpot cannot reach it)."""

    def __init__(self, simulator: DataSyncSimulator, *, max_passes: int = 3) -> None:
        self.simulator = simulator
        self.max_passes = max(1, max_passes)

    @property
    def settle_seconds(self) -> float:
        return 0.0

    def describe(self) -> str:
        broken = [k for k, v in self.simulator.behaviour.to_dict().items() if not v]
        return "data-sync simulator" + (f" (rules off: {', '.join(broken)})" if broken else "")

    def run(self, scope: SyncScope, ready: Callable[[], bool]) -> dict[str, Any]:
        passes = []
        for _ in range(self.max_passes):
            done = self.simulator.sync_once(scope)
            passes.append(done)
            for side, objects in done.created_records().items():
                for obj, ids in objects.items():
                    scope = scope.extended(side, obj, ids)
            made = done.created_records()
            changed = done.count("created") + done.count("removed")
            if not changed and not made["hubspot"] and not made["app"]:
                break
        return {
            "mode": "simulator",
            "describe": self.describe(),
            "behaviour": self.simulator.behaviour.to_dict(),
            "passes": [p.to_dict() for p in passes],
        }

    def created_records(self) -> dict[Side, dict[str, list[str]]]:
        return self.simulator.created_records()


class AwaitSync:
    """Wait for HubSpot's own data sync (a real portal), polling until ``ready`` or a timeout."""

    def __init__(
        self,
        *,
        timeout: float = 900.0,
        interval: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = timeout
        self.interval = interval
        self._clock = clock
        self._sleep = sleep

    @property
    def settle_seconds(self) -> float:
        return self.interval

    def sleep(self, seconds: float) -> None:
        self._sleep(seconds)

    def describe(self) -> str:
        return f"HubSpot data sync (waiting up to {self.timeout:g} s)"

    def run(self, scope: SyncScope, ready: Callable[[], bool]) -> dict[str, Any]:
        start = self._clock()
        polls = 0
        while True:
            polls += 1
            if ready():
                arrived = True
                break
            waited = self._clock() - start
            if waited >= self.timeout:
                arrived = False
                break
            self._sleep(min(self.interval, max(0.0, self.timeout - waited)))
        return {
            "mode": "await",
            "describe": self.describe(),
            "polls": polls,
            "waited_seconds": round(self._clock() - start, 3),
            "timed_out": not arrived,
        }

    def created_records(self) -> dict[Side, dict[str, list[str]]]:
        return {"hubspot": {}, "app": {}}
