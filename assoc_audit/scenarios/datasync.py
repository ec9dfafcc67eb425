"""A data-sync simulator: HubSpot's data sync between an emulator portal and an app, offline.

HubSpot's data sync cannot reach the sandbox emulator, so offline scenarios
(:mod:`assoc_audit.scenarios`) need something that does its job.
:class:`DataSyncSimulator` applies the documented behaviour of data sync
(reference §5: records are matched, the object's direction decides what flows,
associations sync both ways when the direction allows, unsupported ones are
skipped and listed) to two connectors, per the integration config:

- **records** (:mod:`.datasync_records`): a record that no record on the other
  side matches is created there when the object's direction carries it and its
  copy can match (it has an identifier value the target can hold); others are
  *excluded*;
- **links** (:mod:`.datasync_links`): a link on one side only is carried to
  the other when both records match (ambiguous ones never), the label has an
  app equivalent (mapped through the entries), the association's direction
  carries that side's changes, the sides do not disagree on the pair's label,
  and the target has a free slot (``app_max_per_record``; one ``Primary`` per
  record, moved only for the ``conflict_winner`` of a two-way sync); a link
  that was in sync after the previous pass and is now gone from one side is
  removed from the other when the direction allows.

Every decision is an event (``created``, ``removed``, ``skipped`` with the
audit's reason code, ``failed`` with the write's message), logged on
``assoc_audit.datasync`` and returned in a :class:`SyncPass`.

A :class:`SyncScope` limits a pass to some records (as data sync's filters
do); the scenario runner passes its sample records, so nothing else in the
portal or the app is read into decisions or written. Run a pass on demand
(:meth:`DataSyncSimulator.sync_once`) or on an interval (:meth:`~DataSyncSimulator.start`).

Both sides are :class:`~assoc_audit.connectors.Connector` objects: the HubSpot
connector (over HTTP, also to an emulator in another process), or
:class:`~.portal_side.PortalSide` for an emulator in this process; the app's
files or SQL connector. :class:`SyncBehaviour` switches turn single rules off
to break the simulator on purpose (tests show that scenarios then fail).
Records are matched by the simulator's own, deliberately simple matcher
(:mod:`.simmatch`), never the auditor's: a matching bug in the audit then
shows up as a failed scenario instead of being shared by both.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from assoc_audit.connectors.base import assemble_records
from assoc_audit.errors import AssocAuditError, SandboxError
from assoc_audit.scenarios.datasync_links import EVENT_COLUMNS, in_sync_keys, plan_links
from assoc_audit.scenarios.datasync_records import RECORD_EVENT_COLUMNS, create_missing_records
from assoc_audit.scenarios.simmatch import SimMatches, SimSide, SimStatus, sim_match
from assoc_audit.tables import TEXT, SideTables, empty_associations, identifier_columns

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.connectors.base import Connector
    from assoc_audit.tables import Side

__all__ = [
    "EVENT_COLUMNS",
    "RECORD_EVENT_COLUMNS",
    "DataSyncSimulator",
    "SyncBehaviour",
    "SyncPass",
    "SyncScope",
]

log = logging.getLogger("assoc_audit.datasync")
_SIDES: tuple[Side, Side] = ("hubspot", "app")


@dataclass(frozen=True)
class SyncBehaviour:
    """Which rules of data sync the simulator applies; all on = HubSpot's behaviour.

    Turning one off breaks the simulator on purpose: ``directions`` (carry
    every link both ways), ``support`` (carry labels the app has no equivalent
    for, verbatim), ``matching`` (pair ambiguous records with one of their
    duplicates), ``labels`` (copy label texts verbatim instead of mapping them),
    ``conflicts`` (copy both labels of a label conflict), ``limits`` (ignore
    ``app_max_per_record`` and the one-``Primary`` rule), ``records`` (never
    create records), ``removals`` (never carry a removal).
    """

    directions: bool = True
    support: bool = True
    matching: bool = True
    labels: bool = True
    conflicts: bool = True
    limits: bool = True
    records: bool = True
    removals: bool = True

    @classmethod
    def broken(cls, *rules: str) -> SyncBehaviour:
        """The faithful behaviour with the named rules turned off."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(rules) - names)
        if unknown:
            raise SandboxError(
                f"unknown data-sync rule {', '.join(map(repr, unknown))} "
                f"(rules: {', '.join(sorted(names))})"
            )
        return replace(cls(), **dict.fromkeys(rules, False))

    def to_dict(self) -> dict[str, bool]:
        return {f.name: bool(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class SyncScope:
    """The records a pass may read and write, per side and HubSpot object (a sync filter).

    Records the simulator creates as copies of in-scope records join the scope.
    """

    hubspot: Mapping[str, frozenset[str]] = field(default_factory=dict)
    app: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, ids: Mapping[Side, Mapping[str, Iterable[str]]]) -> SyncScope:
        """A scope from ids per side and object."""
        parts = {
            side: {obj: frozenset(map(str, v)) for obj, v in ids.get(side, {}).items()}
            for side in _SIDES
        }
        return cls(hubspot=parts["hubspot"], app=parts["app"])

    def ids(self, side: Side, obj: str) -> frozenset[str]:
        return (self.hubspot if side == "hubspot" else self.app).get(obj, frozenset())

    def extended(self, side: Side, obj: str, ids: Iterable[str]) -> SyncScope:
        """This scope plus ``ids`` of ``obj`` on ``side``."""
        part = dict(self.hubspot if side == "hubspot" else self.app)
        part[obj] = part.get(obj, frozenset()) | frozenset(ids)
        return replace(self, **{side: part})


@dataclass(frozen=True)
class SyncPass:
    """What one pass did: link events and record events (see the module docstring)."""

    started_at: str
    seconds: float
    events: pd.DataFrame
    record_events: pd.DataFrame

    def count(self, action: str) -> int:
        return int((self.events["action"] == action).sum())

    @property
    def skipped_by_reason(self) -> dict[str, int]:
        skipped = self.events.loc[self.events["action"] == "skipped", "reason"]
        return {str(k): int(v) for k, v in skipped.value_counts().sort_index().items()}

    def created_records(self) -> dict[Side, dict[str, list[str]]]:
        """Ids of the records this pass created, per side and object."""
        out: dict[Side, dict[str, list[str]]] = {"hubspot": {}, "app": {}}
        made = self.record_events.loc[self.record_events["action"] == "record_created"]
        for side, obj, rid in zip(made["target"], made["object"], made["target_id"], strict=True):
            out[side].setdefault(str(obj), []).append(str(rid))
        return out

    def summary(self) -> str:
        parts = [f"{self.count(a)} {a}" for a in ("created", "removed", "skipped", "failed")]
        made = int((self.record_events["action"] == "record_created").sum())
        return f"data sync pass: {', '.join(parts)} links; {made} records created"

    def to_dict(self) -> dict[str, Any]:
        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            clean = frame.astype(object).where(frame.notna(), None)
            return [{str(k): v for k, v in r.items()} for r in clean.to_dict("records")]

        return {
            "started_at": self.started_at,
            "seconds": round(self.seconds, 3),
            "counts": {a: self.count(a) for a in ("created", "removed", "skipped", "failed")},
            "skipped_by_reason": self.skipped_by_reason,
            "events": rows(self.events),
            "record_events": rows(self.record_events),
        }


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _relaxed(matches: SimMatches) -> SimMatches:
    """Matches where each ambiguous record is paired with one of its duplicates (broken)."""
    amb = matches.ambiguity
    sides = {}
    order: tuple[tuple[Side, str, str], ...] = (
        ("hubspot", "hubspot_row", "app_row"),
        ("app", "app_row", "hubspot_row"),
    )
    for side, own, other in order:
        m = matches.side(side)
        status, partner = m.status.copy(), m.partner.copy()
        first = amb.drop_duplicates(own)
        rows = first[own].to_numpy(dtype=np.int64)
        loose = status[rows] == SimStatus.AMBIGUOUS
        status[rows[loose]] = SimStatus.MATCHED
        partner[rows[loose]] = first[other].to_numpy(dtype=np.int64)[loose]
        sides[side] = SimSide(status, partner, m.rule)
    return replace(matches, hubspot=sides["hubspot"], app=sides["app"])


class DataSyncSimulator:
    """Does HubSpot data sync's job between two connectors (see the module docstring).

    The connectors stay the caller's (the simulator never closes them).
    ``clock`` stamps passes. Not re-entrant: one pass at a time (a lock).
    """

    def __init__(
        self,
        config: IntegrationConfig,
        hubspot: Connector,
        app: Connector,
        *,
        behaviour: SyncBehaviour | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.config = config
        self.behaviour = behaviour or SyncBehaviour()
        self._connectors: dict[Side, Connector] = {"hubspot": hubspot, "app": app}
        self._clock = clock
        self._lock = threading.Lock()
        self._synced: frozenset[str] = frozenset()
        self._copied: set[tuple[str, str, str]] = set()
        self._created: dict[Side, dict[str, list[str]]] = {"hubspot": {}, "app": {}}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.last_error: BaseException | None = None
        self.passes = 0

    # -- reading -----------------------------------------------------------------------

    def _synced_objects(self) -> list[str]:
        return [o for o in self.config.audited_objects if self.config.sync_of(o) != "off"]

    def _read(self, side: Side, scope: SyncScope | None, objects: Iterable[str]) -> pd.DataFrame:
        frames = []
        connector = self._connectors[side]
        for obj in objects:
            records = connector.read_records(obj)
            if scope is not None:
                keep = records["record_id"].isin(sorted(scope.ids(side, obj))).to_numpy()
                records = records.loc[keep].reset_index(drop=True)
            frames.append(records)
        return assemble_records(frames, identifier_columns(self.config, side))

    def _links(self, side: Side, scope: SyncScope | None) -> pd.DataFrame:
        connector = self._connectors[side]
        synced = set(self._synced_objects())
        parts = [empty_associations()]
        for pair in self.config.pairs:
            if not set(pair) <= synced:
                continue  # pairs of objects that are not synced are never touched
            if scope is None:
                parts.append(connector.read_associations(pair))
                continue
            from_ids = scope.ids(side, pair[0])
            if not from_ids:
                continue
            links = connector.read_associations(pair, from_ids=sorted(from_ids))
            keep = links["to_id"].isin(sorted(scope.ids(side, pair[1]))).to_numpy()
            parts.append(links.loc[keep])
        return pd.concat(parts, ignore_index=True).astype(TEXT)

    # -- one pass ------------------------------------------------------------------------

    def sync_once(self, scope: SyncScope | None = None) -> SyncPass:
        """Run one pass (records, then links) and return what it did."""
        with self._lock:
            return self._pass(scope)

    def _pass(self, scope: SyncScope | None) -> SyncPass:
        started = self._clock()
        tick = time.perf_counter()
        config, behaviour = self.config, self.behaviour
        objects = self._synced_objects()
        records = {s: self._read(s, scope, objects) for s in _SIDES}
        sides = {s: SideTables(s, records[s], empty_associations()) for s in _SIDES}
        matches = sim_match(config, sides["hubspot"], sides["app"])
        record_events = pd.DataFrame(columns=list(RECORD_EVENT_COLUMNS))
        if behaviour.records:
            created, record_events = create_missing_records(
                config, sides, matches, self._connectors, self._copied
            )
            for side in _SIDES:
                for obj, ids in created[side].items():
                    self._created[side].setdefault(obj, []).extend(ids)
                    if scope is not None:
                        scope = scope.extended(side, obj, ids)
            changed = {s for s in _SIDES if created[s]}
            for s in changed:
                records[s] = self._read(s, scope, objects)
            if changed:
                sides = {s: SideTables(s, records[s], empty_associations()) for s in _SIDES}
                matches = sim_match(config, sides["hubspot"], sides["app"])
        sides = {s: SideTables(s, records[s], self._links(s, scope)) for s in _SIDES}
        if not behaviour.matching:
            matches = _relaxed(matches)
        plan = plan_links(config, behaviour, sides, matches, self._synced)
        events = plan.events.copy()
        done: set[str] = set()
        gone: set[str] = set()
        for side in _SIDES:
            for edges, create in ((plan.create[side], True), (plan.remove[side], False)):
                if edges.empty:
                    continue
                ok = self._write(side, edges, create=create, events=events)
                (done if create else gone).update(ok)
        if done or gone:  # what is in sync now, side effects of the writes included
            after = {s: SideTables(s, records[s], self._links(s, scope)) for s in _SIDES}
            self._synced = in_sync_keys(config, behaviour, after, matches)
        else:
            self._synced = plan.in_sync
        self.passes += 1
        result = SyncPass(
            started_at=started.astimezone(UTC).isoformat(timespec="seconds"),
            seconds=time.perf_counter() - tick,
            events=events,
            record_events=record_events,
        )
        self._log(result)
        return result

    def _write(
        self, side: Side, edges: pd.DataFrame, *, create: bool, events: pd.DataFrame
    ) -> set[str]:
        """Write edges on one side; record failures in ``events``; return the keys written."""
        connector = self._connectors[side]
        write = connector.create_edges if create else connector.remove_edges
        frame = edges.drop(columns=["key", "event"]).reset_index(drop=True)
        rows = edges["event"].to_numpy(dtype=np.int64)
        status = np.full(len(frame), "failed", dtype=object)
        message = np.full(len(frame), None, dtype=object)
        try:
            result = write(frame)
            status = result.outcomes["status"].astype(object).to_numpy().copy()
            message = result.outcomes["message"].astype(object).to_numpy().copy()
        except AssocAuditError as exc:
            message[:] = exc.message
        failed = status == "failed"
        if failed.any() and len(frame) > 1:
            # a side may refuse a whole batch for one row: retry those rows one by one,
            # as data sync writes each association on its own
            for pos in np.flatnonzero(failed):
                try:
                    one = write(frame.iloc[[int(pos)]])
                    status[pos] = one.outcomes["status"].iloc[0]
                    message[pos] = one.outcomes["message"].astype(object).iloc[0]
                except AssocAuditError as exc:
                    message[pos] = exc.message
            failed = status == "failed"
        if failed.any():
            events.loc[rows[failed], "action"] = "failed"
            events.loc[rows[failed], "message"] = message[failed]
        return set(edges["key"].to_numpy()[~failed])

    def _log(self, result: SyncPass) -> None:
        log.info("%s", result.summary())
        if not log.isEnabledFor(logging.DEBUG):
            return
        for row in result.events.astype(object).itertuples(index=False):
            log.debug(
                "%s %s→%s %s %s→%s %s %s",
                row.action,
                row.source,
                row.target,
                row.label or "(unlabeled)",
                row.source_from_id,
                row.source_to_id,
                row.reason or "",
                row.message or "",
            )

    # -- state ---------------------------------------------------------------------------

    def created_records(self) -> dict[Side, dict[str, list[str]]]:
        """Ids of every record the simulator created, per side and object."""
        with self._lock:
            return {s: {o: list(ids) for o, ids in self._created[s].items()} for s in _SIDES}

    def forget(self) -> None:
        """Drop what the simulator remembers (links in sync, records copied)."""
        with self._lock:
            self._synced = frozenset()
            self._copied.clear()
            self._created = {"hubspot": {}, "app": {}}

    # -- on an interval --------------------------------------------------------------------

    def start(self, interval: float, scope: SyncScope | None = None) -> None:
        """Run a pass every ``interval`` seconds in a background thread until :meth:`stop`.

        A pass that fails is logged and kept in :attr:`last_error`; the next
        pass runs as planned.
        """
        if interval <= 0:
            raise SandboxError("the data-sync interval must be a positive number of seconds")
        if self._thread is not None:
            raise SandboxError("the data-sync simulator is already running")
        self._stop.clear()

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.sync_once(scope)
                except Exception as exc:  # a scheduled pass must not kill the loop
                    self.last_error = exc
                    log.warning("data sync pass failed: %s", exc)
                self._stop.wait(interval)

        self._thread = threading.Thread(target=loop, name="assoc-audit-datasync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the interval runs (waits for a running pass to finish)."""
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            thread.join()

    def __enter__(self) -> DataSyncSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
