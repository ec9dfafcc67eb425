"""The connector contract: one side of an integration as canonical tables, and writes back.

A **connector** reads one side (HubSpot or the connected app) as the canonical
tables of DESIGN §4 and writes association changes (and, for scenarios, sample
records) back. Every connector speaks **HubSpot object names** (``contacts``,
``companies``, …): the app connectors map the app's own names through the
config's ``app_object`` on the way in and out. Ids are text; labels are always
the connector's *own side's* label text (the app's ``app_label``, HubSpot's
label), never translated by the connector.

The contract (:class:`Connector`):

``read_records(obj, columns)``
    The records of one object: ``object``, ``record_id``, the identifier
    ``columns`` (this side's own column or property names; default: what the
    config's match rules need), ``display_name``, ``updated_at`` — validated
    by :func:`assoc_audit.tables.validate_records`.
``read_associations(pair, from_ids=None)``
    The labelled links of one audited pair in the pair's from→to direction
    (rows stored the other way round are flipped, duplicates merged); with
    ``from_ids`` only the links of those from-records. Label null = unlabeled.
``read_side()``
    Everything the config audits as :class:`~assoc_audit.tables.SideTables`,
    with skipped, flipped and merged rows counted.
``create_edges(edges, *, check=True)`` / ``remove_edges(edges, *, check=True)``
    Write links given as an edge table (:func:`edge_table`), one outcome per
    input row in input order (:class:`WriteResult`): ``ok`` (written),
    ``already`` (already in effect: present for a create, absent for a remove;
    also a repeated row of the same call) or ``failed`` with a message.
    An edge may be given in either direction of an audited pair; edges of
    pairs the config does not audit fail. Writes are idempotent, so a caller
    may retry a whole call. ``check=False`` tells an API-backed connector that
    the caller has just read these links (a fix plan's apply): it skips its
    own read and writes every distinct edge (``ok`` instead of ``already`` for
    stored ones); local connectors compare with the stored rows regardless.
``create_records(obj, records)``
    Create records from a table in this side's own column names; returns the
    table with a ``record_id`` column (text) in input order. Ids given in an
    ``id`` (app) column are used as they are.
``delete_records(obj, ids)``
    Delete records by id, and their links (as HubSpot does);
    ``already`` for ids that do not exist.
``usage()``
    API calls made so far (:class:`ApiUsage`; all zeros for files and SQL).
``describe()``
    Where the side is read from, without secrets (for ``meta.json`` and messages).
``close()``
    Release connections; the connector is not used afterwards.

API-backed connectors can build ``read_side()`` from the per-object and
per-pair reads with :func:`read_side_by_parts`.

Bad data raises :class:`~assoc_audit.errors.DataError` naming the source, table,
row and column; a source that cannot be reached raises
:class:`~assoc_audit.errors.ConnectorError`.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import pandas as pd

from assoc_audit.errors import DataError
from assoc_audit.tables import ASSOCIATION_COLUMNS, TEXT, empty_records, to_text

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.tables import Side, SideTables

__all__ = [
    "ApiUsage",
    "Connector",
    "Edge",
    "EdgeOutcome",
    "EndpointUsage",
    "Status",
    "UsageMeter",
    "WriteResult",
    "assemble_records",
    "edge_table",
    "read_side_by_parts",
]

Status = Literal["ok", "already", "failed"]


@dataclass(frozen=True)
class Edge:
    """One labelled link in HubSpot object names (label None = the unlabeled link)."""

    from_object: str
    from_id: str
    to_object: str
    to_id: str
    label: str | None = None

    @property
    def pair(self) -> tuple[str, str]:
        return (self.from_object, self.to_object)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from_object": self.from_object,
            "from_id": self.from_id,
            "to_object": self.to_object,
            "to_id": self.to_id,
            "label": self.label,
        }


def edge_table(edges: pd.DataFrame | Iterable[Edge], *, source: str = "edges") -> pd.DataFrame:
    """Edges as a canonical association table (text columns, empty label = null).

    Accepts a DataFrame with the five association columns (other columns are
    dropped; numeric ids become whole-number text) or an iterable of
    :class:`Edge`. The index is reset; row order is kept.
    """
    if isinstance(edges, pd.DataFrame):
        frame = edges
    else:
        rows = [e.to_dict() for e in edges]
        frame = pd.DataFrame(rows, columns=list(ASSOCIATION_COLUMNS))
    missing = [c for c in ASSOCIATION_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{source}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)}",
            file=source,
            field=missing[0],
        )
    out = pd.DataFrame(
        {
            c: to_text(frame[c], source=source, column=c, whole_numbers=c.endswith("_id"))
            for c in ASSOCIATION_COLUMNS
        }
    )
    return out.astype(TEXT)


@dataclass(frozen=True)
class EdgeOutcome:
    """What a write did to one edge."""

    edge: Edge
    status: Status
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**self.edge.to_dict(), "status": self.status, "message": self.message}


@dataclass(frozen=True, eq=False)
class WriteResult:
    """Per-row outcomes of one write call, in input order.

    ``outcomes`` holds the key columns of the operation (the five association
    columns for edge writes; ``object``, ``record_id`` for record deletes) plus
    ``status`` (``ok`` | ``already`` | ``failed``) and ``message`` (null unless
    failed).
    """

    operation: str
    outcomes: pd.DataFrame

    def count(self, status: Status) -> int:
        return int((self.outcomes["status"] == status).sum())

    @property
    def ok(self) -> int:
        return self.count("ok")

    @property
    def already(self) -> int:
        return self.count("already")

    @property
    def failed(self) -> int:
        return self.count("failed")

    @property
    def all_done(self) -> bool:
        """True when every row is ``ok`` or ``already``."""
        return self.failed == 0

    def failures(self) -> pd.DataFrame:
        return self.outcomes.loc[self.outcomes["status"] == "failed"].reset_index(drop=True)

    def edge_outcomes(self) -> tuple[EdgeOutcome, ...]:
        """The outcomes of an edge write as objects (for journals and messages)."""
        cols = [*ASSOCIATION_COLUMNS, "status", "message"]
        out = []
        for row in self.outcomes[cols].astype(object).itertuples(index=False):
            values = [None if pd.isna(v) else str(v) for v in row]
            edge = Edge(
                values[0] or "", values[1] or "", values[2] or "", values[3] or "", values[4]
            )
            status: Status = (
                "ok" if values[5] == "ok" else "already" if values[5] == "already" else "failed"
            )
            out.append(EdgeOutcome(edge, status, values[6]))
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        failures = self.failures().astype(object)
        return {
            "operation": self.operation,
            "rows": len(self.outcomes),
            "ok": self.ok,
            "already": self.already,
            "failed": self.failed,
            "failures": [
                {k: (None if pd.isna(v) else v) for k, v in row.items()}
                for row in failures.to_dict("records")
            ],
        }


def outcome_frame(keys: pd.DataFrame, status: Any, message: Any) -> pd.DataFrame:
    """Key columns plus ``status``/``message`` (sequences of text or None) as text columns."""
    out = keys.reset_index(drop=True).astype(TEXT).copy()
    out["status"] = pd.Series(list(status), dtype=TEXT)
    out["message"] = pd.Series(list(message), dtype=TEXT)
    return out


@dataclass(frozen=True)
class EndpointUsage:
    """Calls made to one endpoint (or one kind of request)."""

    calls: int = 0
    retries: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"calls": self.calls, "retries": self.retries, "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class ApiUsage:
    """API calls a connector made: totals and a breakdown by endpoint.

    Files and SQL connectors make no API calls and report zeros; the object is
    always present so reports have one shape.
    """

    calls: int = 0
    retries: int = 0
    seconds: float = 0.0
    by_endpoint: Mapping[str, EndpointUsage] = field(default_factory=dict)

    def __add__(self, other: ApiUsage) -> ApiUsage:
        merged: dict[str, EndpointUsage] = dict(self.by_endpoint)
        for name, use in other.by_endpoint.items():
            old = merged.get(name, EndpointUsage())
            merged[name] = EndpointUsage(
                old.calls + use.calls, old.retries + use.retries, old.seconds + use.seconds
            )
        return ApiUsage(
            self.calls + other.calls,
            self.retries + other.retries,
            self.seconds + other.seconds,
            merged,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "retries": self.retries,
            "seconds": round(self.seconds, 3),
            "by_endpoint": {k: v.to_dict() for k, v in sorted(self.by_endpoint.items())},
        }


class UsageMeter:
    """A thread-safe counter of API calls, kept by one connector instance."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, list[float]] = {}

    def record(self, endpoint: str, *, seconds: float = 0.0, retries: int = 0) -> None:
        """Count one call to ``endpoint`` (its duration and how often it was retried)."""
        with self._lock:
            entry = self._calls.setdefault(endpoint, [0, 0, 0.0])
            entry[0] += 1
            entry[1] += retries
            entry[2] += seconds

    def usage(self) -> ApiUsage:
        with self._lock:
            by = {
                k: EndpointUsage(int(v[0]), int(v[1]), float(v[2])) for k, v in self._calls.items()
            }
        return ApiUsage(
            sum(u.calls for u in by.values()),
            sum(u.retries for u in by.values()),
            sum(u.seconds for u in by.values()),
            by,
        )


def assemble_records(frames: Sequence[pd.DataFrame], identifiers: Sequence[str]) -> pd.DataFrame:
    """One side's records table from validated per-object frames.

    Every identifier column of the side is present (null for objects that do
    not use it); text columns are ``TEXT``, ``updated_at`` UTC.
    """
    base = empty_records(identifiers)
    parts = [f for f in frames if len(f)]
    if not parts:
        return base
    out = pd.concat([base, *parts], ignore_index=True)[list(base.columns)]
    return out.astype(base.dtypes.to_dict())


def read_side_by_parts(
    connector: Connector, config: IntegrationConfig, *, meta: Mapping[str, Any] | None = None
) -> SideTables:
    """A side's tables from per-object and per-pair reads (for API-backed connectors).

    Reads the records of every audited object whose sync is not ``off`` and
    the links of every audited pair. Each part is validated by the connector;
    the stats count rows kept (nothing is skipped: only audited parts are read).
    """
    from assoc_audit.tables import SideTables, TableStats, empty_associations, identifier_columns

    side = connector.side
    frames = [
        connector.read_records(obj)
        for obj in config.audited_objects
        if config.sync_of(obj) != "off"
    ]
    records = assemble_records(frames, identifier_columns(config, side))
    parts = [connector.read_associations(pair) for pair in config.pairs]
    links = pd.concat([empty_associations(), *parts], ignore_index=True).astype(TEXT)
    info = {"source": connector.describe(), "kind": connector.kind, **(meta or {})}
    return SideTables(
        side,
        records,
        links,
        info,
        TableStats(rows_read=len(records), rows_kept=len(records)),
        TableStats(rows_read=len(links), rows_kept=len(links)),
    )


@runtime_checkable
class Connector(Protocol):
    """One side of an integration: read it as canonical tables, write links back.

    See the module docstring for the full contract of each method.
    """

    @property
    def side(self) -> Side:
        """``hubspot`` or ``app``."""
        ...

    @property
    def kind(self) -> str:
        """``files``, ``sql`` or ``hubspot``."""
        ...

    def describe(self) -> str:
        """Where this side is read from, without secrets."""
        ...

    def read_records(self, obj: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Validated records of HubSpot object ``obj`` with the identifier ``columns``."""
        ...

    def read_associations(
        self, pair: tuple[str, str], *, from_ids: Collection[str] | None = None
    ) -> pd.DataFrame:
        """Validated links of one audited pair, in its from→to direction."""
        ...

    def read_side(self) -> SideTables:
        """Everything the config audits on this side, validated and counted."""
        ...

    def create_edges(self, edges: pd.DataFrame, *, check: bool = True) -> WriteResult:
        """Create links (this side's label text); one outcome per input row."""
        ...

    def remove_edges(self, edges: pd.DataFrame, *, check: bool = True) -> WriteResult:
        """Remove links (exactly the given label); one outcome per input row."""
        ...

    def create_records(self, obj: str, records: pd.DataFrame) -> pd.DataFrame:
        """Create records; returns ``records`` with a text ``record_id`` column."""
        ...

    def delete_records(self, obj: str, ids: Collection[str]) -> WriteResult:
        """Delete records (and their links) by id."""
        ...

    def usage(self) -> ApiUsage:
        """API calls made so far."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
