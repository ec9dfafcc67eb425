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

A sync with ``settle_seconds > 0`` is *live*: it may act between any two of
the runner's writes, so the runner sets up race-free (see
:mod:`.runner`) and uses :meth:`SyncDriver.wait` to wait, within the same
``timeout``, for the sync's copies of sample records it made on one side only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from assoc_audit.scenarios.datasync import DataSyncSimulator, SyncScope
from assoc_audit.scenarios.model import side_name
from assoc_audit.scenarios.samples import copies_of, live_first_side, sample_key

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.connectors.base import Connector
    from assoc_audit.scenarios.check import Samples
    from assoc_audit.scenarios.model import SampleRecord, Scenario
    from assoc_audit.tables import Side

__all__ = ["AwaitSync", "SimulatedSync", "SyncDriver", "adopt_copies"]


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

    def wait(self, ready: Callable[[], bool]) -> bool:
        """Wait (bounded) until ``ready`` holds while the sync acts by itself; False at the end
        of the wait. A sync that does not act by itself just answers ``ready()``."""
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

    def wait(self, ready: Callable[[], bool]) -> bool:
        return ready()  # nothing syncs until asked

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

    def _poll(self, ready: Callable[[], bool]) -> tuple[bool, int, float]:
        """Poll ``ready`` every ``interval`` s until it holds or ``timeout`` passes:
        (it held, polls, seconds waited)."""
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
        return arrived, polls, self._clock() - start

    def run(self, scope: SyncScope, ready: Callable[[], bool]) -> dict[str, Any]:
        arrived, polls, waited = self._poll(ready)
        return {
            "mode": "await",
            "describe": self.describe(),
            "polls": polls,
            "waited_seconds": round(waited, 3),
            "timed_out": not arrived,
        }

    def wait(self, ready: Callable[[], bool]) -> bool:
        return self._poll(ready)[0]

    def created_records(self) -> dict[Side, dict[str, list[str]]]:
        return {"hubspot": {}, "app": {}}


def adopt_copies(
    sync: SyncDriver,
    config: IntegrationConfig,
    connectors: Mapping[Side, Connector],
    scenarios: Sequence[Scenario],
    samples: Samples,
    objects: Sequence[str],
    values: Callable[[Scenario, SampleRecord, Side], dict[str, Any]],
) -> dict[str, Any]:
    """Wait (:meth:`SyncDriver.wait`) for a live sync's copies of the both-sides sample
    records of ``objects``, made on their first side only
    (:func:`~.samples.live_first_side`; ``values``: what a record was made with), and
    record each as that sample on the other side (and a record to clean up); what
    happened, for the report.

    A copy is a record there with the sample's key-rule value, not made by the run; none
    in time, or more than one, marks the scenario as an error.
    """
    # (object, side of the copies) → key-rule value → the samples made with it
    wanted: dict[tuple[str, Side], dict[str, list[tuple[Scenario, SampleRecord]]]] = {}
    for s in (s for s in scenarios if s.id not in samples.failed):
        for r in s.records:
            first = live_first_side(config, r.obj)[0]
            rid = samples.ids.get((s.id, r.key, first))
            if r.obj not in objects or len(r.sides) < 2 or rid is None:
                continue
            if (key := sample_key(config, r.obj, first, values(s, r, first), rid)) is not None:
                other: Side = "app" if first == "hubspot" else "hubspot"
                wanted.setdefault((r.obj, other), {}).setdefault(key, []).append((s, r))
    if not wanted:
        return {"copies_wanted": 0}
    found: dict[tuple[str, Side], dict[str, list[str]]] = {k: {} for k in wanted}

    def copied() -> bool:
        for (obj, side), keys in wanted.items():
            if set(keys) - set(found[(obj, side)]):
                records = connectors[side].read_records(obj)
                ours = samples.created[side].get(obj, [])
                found[(obj, side)].update(copies_of(config, obj, side, records, keys, ours))
        return all(set(keys) <= set(found[k]) for k, keys in wanted.items())

    tick = time.perf_counter()
    sync.wait(copied)
    waited = time.perf_counter() - tick
    timeout = getattr(sync, "timeout", None)
    within = f"within {timeout:g} s" if isinstance(timeout, int | float) else "in time"
    adopted: dict[str, dict[str, int]] = {"hubspot": {}, "app": {}}
    for (obj, side), keys in wanted.items():
        there = side_name(config, side)
        for key, owners in keys.items():
            hits = found[(obj, side)].get(key, [])
            if hits:
                samples.add(side, obj, hits)
                adopted[side][obj] = adopted[side].get(obj, 0) + len(hits)
            for s, r in owners:
                if len(hits) == 1:
                    samples.ids[(s.id, r.key, side)] = hits[0]
                    continue
                what = f"the {obj} sample {s.id.lower()}-{r.key} made in "
                what += side_name(config, "app" if side == "hubspot" else "hubspot")
                samples.failed.setdefault(
                    s.id,
                    f"the data sync made {len(hits)} copies of {what} in {there}"
                    if hits
                    else f"the data sync did not copy {what} to {there} {within}",
                )
    return {
        "copies_wanted": sum(len(keys) for keys in wanted.values()),
        "copy_wait_seconds": round(waited, 3),
        "copies_adopted": adopted,
    }
