"""Running scenarios: create tagged samples, sync, check with the audit, always clean up.

:func:`run_scenarios` is the entry point (the CLI and the notebook use it)::

    report = run_scenarios("demo.yaml")          # against the emulator: runs at once
    print(report.render())

Against anything but the sandbox emulator (see :func:`~.plan.local_target`) it
refuses to write unless ``confirm`` is the plan's digest (DESIGN §8, §10).

A run (:class:`ScenarioRunner`):

1. creates every scenario's sample records through the connectors, batched
   per side and object (records whose identifier copies the other side's id
   after the others), then every scenario's links, per side;
2. syncs: the data-sync simulator on the emulator, HubSpot's own data sync
   (awaited, with a timeout) on a real portal (:mod:`.sync`);
3. reads back only the run's records and audits them (:mod:`.check`);
4. **always** deletes what it created, even after an error or an interrupt:
   the ids it recorded, the records the sync created, and any record carrying
   the run's tag (a sweep), then re-reads to confirm nothing is left.

A setup failure (a record or link the side refused) marks the scenarios that
needed it as errors and the run goes on with the others.

Against a **live** sync (``settle_seconds > 0``: HubSpot's own) a sync cycle
may run between any two writes, so step 1 is made race-free
(:meth:`ScenarioRunner._create_records_live`; docs/scenarios.md, "Setting up
against a live sync"), and a scenario that cannot be is reported as an error
saying so (:func:`~.samples.not_race_free`). The simulator runs only when asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from assoc_audit.errors import AssocAuditError, DigestMismatch, PlanError
from assoc_audit.scenarios.check import (
    Samples,
    audit_scoped,
    evaluate,
    read_scoped,
    tagged_ids,
    target_present,
)
from assoc_audit.scenarios.datasync import DataSyncSimulator, SyncBehaviour, SyncScope
from assoc_audit.scenarios.model import SampleLink, SampleRecord, Scenario, side_label
from assoc_audit.scenarios.plan import ScenarioPlan, local_target, plan_scenarios, scenario_portals
from assoc_audit.scenarios.results import CleanupResult, ScenarioReport
from assoc_audit.scenarios.samples import (
    depends_on_other,
    live_first_side,
    new_tag,
    not_race_free,
    paired,
    record_values,
)
from assoc_audit.scenarios.sync import AwaitSync, SimulatedSync, SyncDriver, adopt_copies

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.connectors.base import Connector
    from assoc_audit.tables import Side

__all__ = ["ScenarioRunner", "run_scenarios"]

_SIDES: tuple[Side, Side] = ("hubspot", "app")
#: Clean-up sweeps at most (the first, then one per settling time of a live sync).
SWEEPS = 5
Echo = Callable[[str], None]


def _quiet(_: str) -> None:
    """Print nothing."""


def _other(side: Side) -> Side:
    return "app" if side == "hubspot" else "hubspot"


class ScenarioRunner:
    """Runs a scenario plan through two connectors and a sync driver (see the module docstring).

    The connectors stay the caller's. ``tag`` defaults to a fresh one;
    ``echo`` receives progress lines; ``emulator`` is recorded in the report.
    """

    def __init__(
        self,
        config: IntegrationConfig,
        *,
        hubspot: Connector,
        app: Connector,
        sync: SyncDriver,
        emulator: bool,
        tag: str | None = None,
        echo: Echo = _quiet,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self.connectors: dict[Side, Connector] = {"hubspot": hubspot, "app": app}
        self.sync = sync
        self.emulator = emulator
        self.tag = tag or new_tag()
        self.echo = echo
        self._clock = clock
        self._setup: dict[str, Any] = {}

    @property
    def _settle_seconds(self) -> float:
        """The sync's settling time (0.0 for a sync that has none)."""
        return float(getattr(self.sync, "settle_seconds", 0.0) or 0.0)

    @property
    def live(self) -> bool:
        """True if the sync acts by itself (HubSpot's own): the set-up must be race-free."""
        return self._settle_seconds > 0

    # -- the run ------------------------------------------------------------------------

    def run(self, plan: ScenarioPlan) -> ScenarioReport:
        started = self._clock()
        tick = time.perf_counter()
        scenarios = plan.scenarios
        samples = Samples(self.tag)
        cleanup = CleanupResult()
        sync_info: dict[str, Any] = {}
        try:
            self.echo(f"creating sample records (tag {self.tag})")
            if self.live:
                self._create_records_live(scenarios, samples)
                # a scenario's target-side links first: a sync cycle in between then
                # sees them already there (see the module docstring)
                if self._create_links(scenarios, samples, lambda s, link: link.side != s.source):
                    self._settle()  # a cycle that read the target side before them: done
                self._create_links(scenarios, samples, lambda s, link: link.side == s.source)
            else:
                self._create_records(scenarios, samples)
                self._create_links(scenarios, samples)
            self.echo(f"syncing: {self.sync.describe()}")
            scope = SyncScope.of(samples.scope())
            live = [s for s in scenarios if s.expected == "appears" and s.id not in samples.failed]
            sync_info = self.sync.run(scope, lambda: self._arrived(live, samples))
            if self._setup:
                sync_info = {**sync_info, "setup": self._setup}
            self.echo("checking the outcome with the audit")
            extra = self.sync.created_records()
            sides, _ = read_scoped(self.config, self.connectors, samples.scope(extra), self.tag)
            audit = audit_scoped(self.config, sides)
            failures = _sync_failures(sync_info)
            results = tuple(
                evaluate(self.config, s, samples, sides, audit, failures) for s in scenarios
            )
        finally:
            self.echo("cleaning up the sample records")
            cleanup = self._cleanup(samples)
            self.echo(cleanup.summary())
        return ScenarioReport(
            name=self.config.name,
            app_name=self.config.app.name,
            digest=plan.digest,
            target=plan.target.to_dict(),
            emulator=self.emulator,
            tag=self.tag,
            started_at=started.astimezone(UTC).isoformat(timespec="seconds"),
            seconds=time.perf_counter() - tick,
            results=results,
            sync=sync_info,
            cleanup=cleanup,
        )

    # -- setup --------------------------------------------------------------------------------

    def _create_records(self, scenarios: Sequence[Scenario], samples: Samples) -> None:
        config = self.config
        for dependent in (False, True):
            for side in _SIDES:
                for obj in config.audited_objects:
                    items = [
                        (s, r)
                        for s in scenarios
                        for r in s.records
                        if r.obj == obj
                        and side in r.sides
                        and s.id not in samples.failed
                        and (r.identified and depends_on_other(config, obj, side)) == dependent
                    ]
                    if items:
                        self._create_batch(side, obj, items, samples)

    def _create_records_live(self, scenarios: Sequence[Scenario], samples: Samples) -> None:
        """Create the sample records race-free against a sync that acts by itself: 1. those
        needed on both sides (with their duplicates) where their object comes first
        (:func:`~.samples.live_first_side`); 2. once the sync has seen them (its copies
        came, or a settling time passed), the other side's — or the sync's copies, adopted;
        3. the other one-sided records. Scenarios :func:`~.samples.not_race_free` names are
        marked as errors first."""
        config = self.config
        racy = {s.id: why for s in scenarios if (why := not_race_free(config, s)) is not None}
        samples.failed.update({k: v for k, v in racy.items() if k not in samples.failed})
        order = {obj: live_first_side(config, obj) for obj in config.audited_objects}
        copied = [o for o, (_, by_sync) in order.items() if by_sync]
        first = {o: f for o, (f, _) in order.items()}
        self._setup = {"mode": "live", "first": first, "copies_of": copied}
        self._setup["not_race_free"] = sorted(racy)

        def items(side: Side, obj: str, pair: bool) -> list[tuple[Scenario, SampleRecord]]:
            return [
                (s, r)
                for s in scenarios
                if s.id not in samples.failed
                for r in s.records
                if r.obj == obj and side in r.sides and paired(s, r) == pair
            ]

        def made_with(s: Scenario, r: SampleRecord, side: Side) -> dict[str, Any]:
            return self._values(s, r, r.obj, side, samples)

        made = [o for o in order if o not in copied]  # the other side made by the runner
        stages = (
            [(side, o, True) for side in _SIDES for o in order if first[o] == side],
            [(side, o, True) for side in _SIDES for o in made if first[o] != side],
            [(side, o, False) for side in _SIDES for o in order],
        )
        for n, stage in enumerate(stages):
            if n == 1:  # waiting for the sync's copies, a cycle has run since stage 0
                wait = adopt_copies(
                    self.sync, config, self.connectors, scenarios, samples, copied, made_with
                )
                self._setup.update(wait)
                if not wait["copies_wanted"] and any(items(*each) for each in stage):
                    self._settle()  # a sync cycle that read the first side before stage 0: done
            for side, obj, pair in stage:
                if todo := items(side, obj, pair):
                    self._create_batch(side, obj, todo, samples)

    def _settle(self) -> None:
        """Wait one settling time of a live sync (a cycle under way has then finished)."""
        getattr(self.sync, "sleep", time.sleep)(float(self.sync.settle_seconds))

    def _values(
        self, s: Scenario, r: SampleRecord, obj: str, side: Side, samples: Samples
    ) -> dict[str, Any]:
        """The values of sample record ``r`` of scenario ``s`` on ``side``."""
        return record_values(
            self.config,
            obj,
            side,
            tag=self.tag,
            name=f"{s.id.lower()}-{r.key}",
            identity=f"{s.id.lower()}-{r.identity}",
            identified=r.identified,
            partner_id=samples.ids.get((s.id, r.identity, _other(side))),
        )

    def _create_batch(
        self,
        side: Side,
        obj: str,
        items: list[tuple[Scenario, Any]],
        samples: Samples,
    ) -> None:
        rows = [self._values(s, r, obj, side, samples) for s, r in items]
        try:
            made = self.connectors[side].create_records(obj, pd.DataFrame(rows))
        except AssocAuditError as exc:
            if len({s.id for s, _ in items}) == 1:
                for s, _ in items:
                    samples.failed.setdefault(s.id, f"creating {obj} in {side}: {exc.message}")
                return
            # one scenario's records may be refused (a duplicate a side does not allow):
            # try each scenario's records on their own
            for sid in dict.fromkeys(s.id for s, _ in items):
                self._create_batch(side, obj, [(s, r) for s, r in items if s.id == sid], samples)
            return
        ids = made["record_id"].astype(str).tolist()
        samples.add(side, obj, ids)
        for (s, r), rid in zip(items, ids, strict=True):
            samples.ids[(s.id, r.key, side)] = rid

    def _create_links(
        self,
        scenarios: Sequence[Scenario],
        samples: Samples,
        keep: Callable[[Scenario, SampleLink], bool] | None = None,
    ) -> int:
        """Create the scenarios' links (those ``keep`` accepts), a batch per side; how many."""
        sent = 0
        for side in _SIDES:
            owners: list[str] = []
            rows = []
            for s in scenarios:
                if s.id in samples.failed:
                    continue
                for link in s.links:
                    if link.side != side or (keep is not None and not keep(s, link)):
                        continue
                    owners.append(s.id)
                    rows.append(
                        {
                            "from_object": s.record(link.from_key).obj,
                            "from_id": samples.ids[(s.id, link.from_key, side)],
                            "to_object": s.record(link.to_key).obj,
                            "to_id": samples.ids[(s.id, link.to_key, side)],
                            "label": side_label(self.config, s.pair, link.label, side),
                        }
                    )
            if not rows:
                continue
            sent += len(rows)
            try:
                result = self.connectors[side].create_edges(pd.DataFrame(rows))
            except AssocAuditError as exc:
                for sid in owners:
                    samples.failed.setdefault(sid, f"linking in {side}: {exc.message}")
                continue
            status = result.outcomes["status"].astype(object).tolist()
            message = result.outcomes["message"].astype(object).tolist()
            for sid, st, msg in zip(owners, status, message, strict=True):
                if st == "failed":
                    samples.failed.setdefault(sid, f"linking in {side}: {msg}")
        return sent

    def _arrived(self, scenarios: Sequence[Scenario], samples: Samples) -> bool:
        """True when every link expected to appear is on its target side."""
        for side in _SIDES:
            wanted = [s for s in scenarios if s.target == side]
            pairs = {s.pair for s in wanted}
            for pair in pairs:
                of_pair = [s for s in wanted if s.pair == pair]
                froms = sorted(set(samples.created[side].get(pair[0], [])))
                links = self.connectors[side].read_associations(pair, from_ids=froms)
                if not all(target_present(self.config, s, samples, links) for s in of_pair):
                    return False
        return True

    # -- clean-up --------------------------------------------------------------------------------

    def _cleanup(self, samples: Samples) -> CleanupResult:
        """Delete every record the run (or its sync) created; confirm nothing is left.

        A sync that goes on by itself (HubSpot's) may copy a sample back from the
        side not yet cleaned: after such a sync's settling time the tagged records
        are swept again — at least once, then until a sweep finds none (at most
        :data:`SWEEPS` rounds).
        """
        errors: list[str] = []
        try:
            made = self.sync.created_records()
        except Exception as exc:  # the clean-up must go on
            made = {"hubspot": {}, "app": {}}
            errors.append(f"records created by the sync unknown: {exc}")
        wanted = samples.scope(made)
        deleted: dict[str, dict[str, int]] = {"hubspot": {}, "app": {}}
        found = self._sweep(wanted, deleted, errors, known=True)
        settle = self._settle_seconds
        for n in range(SWEEPS - 1):
            if not settle or (n and not found):  # a live sync: at least one more sweep
                break
            self._settle()
            found = self._sweep(wanted, deleted, errors, known=False)
        leftovers: dict[str, dict[str, list[str]]] = {"hubspot": {}, "app": {}}
        for side in _SIDES:
            for obj, ids in wanted[side].items():
                try:
                    records = self.connectors[side].read_records(obj)
                except Exception as exc:
                    errors.append(f"{side} {obj}: cannot confirm the clean-up: {exc}")
                    continue
                left = set(records["record_id"].astype(str)) & ids
                left |= tagged_ids(records, self.tag)
                if left:
                    leftovers[side][obj] = sorted(left)
        return CleanupResult(deleted, leftovers, tuple(errors))

    def _sweep(
        self,
        wanted: dict[Side, dict[str, set[str]]],
        deleted: dict[str, dict[str, int]],
        errors: list[str],
        *,
        known: bool,
    ) -> int:
        """Delete the tagged records of every object (and the ``known`` ids of ``wanted``);
        how many were deleted."""
        found = 0
        for side in _SIDES:
            connector = self.connectors[side]
            for obj, known_ids in wanted[side].items():
                ids = set(known_ids) if known else set()
                try:
                    ids |= tagged_ids(connector.read_records(obj), self.tag)
                except Exception as exc:  # sweep failed: delete what we know
                    errors.append(f"{side} {obj}: sweep failed: {exc}")
                if not ids:
                    continue
                try:
                    result = connector.delete_records(obj, sorted(ids))
                    deleted[side][obj] = deleted[side].get(obj, 0) + result.ok
                    found += result.ok
                    if result.failed:
                        errors.append(f"{side} {obj}: {result.failed} deletes failed")
                except Exception as exc:
                    errors.append(f"{side} {obj}: {exc}")
        return found


def _sync_failures(info: dict[str, Any]) -> dict[tuple[str, str, str, str], str]:
    """Writes the simulator reported as failed: (source, from id, to id, label) → message."""
    out: dict[tuple[str, str, str, str], str] = {}
    for done in info.get("passes", []):
        for e in done.get("events", []):
            if e.get("action") == "failed":
                key = (e["source"], e["source_from_id"], e["source_to_id"], e["label"] or "")
                out.setdefault(key, str(e.get("message")))
    return out


def run_scenarios(
    config: IntegrationConfig | str | Path,
    *,
    confirm: str | None = None,
    kinds: Sequence[str] | None = None,
    only: Sequence[str] | None = None,
    hubspot: Connector | None = None,
    app: Connector | None = None,
    sync: SyncDriver | None = None,
    behaviour: SyncBehaviour | None = None,
    tag: str | None = None,
    echo: Echo = _quiet,
    timeout: float = 900.0,
    interval: float = 20.0,
    assume_real: bool = False,
) -> ScenarioReport:
    """Run the config's scenario library (or some ``kinds`` / scenario ids ``only``).

    Connectors default to the config's (:func:`~assoc_audit.connectors.connector_for`;
    those are closed afterwards). The sync defaults to the simulator (with
    ``behaviour``) when the target is the sandbox emulator, else to waiting for
    HubSpot's data sync (``timeout``, polling every ``interval`` seconds).
    Against anything but the emulator, ``confirm`` must be the plan's digest
    (:class:`~assoc_audit.errors.PlanError` without it,
    :class:`~assoc_audit.errors.DigestMismatch` for another); ``assume_real``
    treats even the emulator as a real portal (confirmation, awaited sync).
    """
    from assoc_audit.config import IntegrationConfig, load_config
    from assoc_audit.connectors import connector_for

    if not isinstance(config, IntegrationConfig):
        config = load_config(config)
    plan = plan_scenarios(config, kinds=kinds, only=only)  # bad kinds or ids fail here, offline
    why = "treated as a real portal" if assume_real else local_target(config)
    with ExitStack() as stack:
        if hubspot is None:
            hubspot = stack.enter_context(closing(connector_for(config, "hubspot", progress=False)))
        if app is None:
            app = stack.enter_context(closing(connector_for(config, "app", progress=False)))
        # a real target's plan binds its portals' ids (read only, before anything is written)
        if why is not None:
            portals = scenario_portals(config, {"hubspot": hubspot, "app": app})
            plan = plan_scenarios(config, kinds=kinds, only=only, portals=portals)
        if confirm is not None and confirm != plan.digest:
            raise DigestMismatch(
                f"--confirm {confirm[:16]}… is not this scenario plan's digest {plan.digest}; "
                "nothing was written"
            )
        if why is not None and confirm is None:
            raise PlanError(
                f"not run: {why}; review the scenario plan and re-run with --confirm {plan.digest}"
            )
        if sync is None:
            if why is None:
                sync = SimulatedSync(DataSyncSimulator(config, hubspot, app, behaviour=behaviour))
            else:
                sync = AwaitSync(timeout=timeout, interval=interval)
        runner = ScenarioRunner(
            config, hubspot=hubspot, app=app, sync=sync, emulator=why is None, tag=tag, echo=echo
        )
        return runner.run(plan)
