"""A guard against a silently broken read: no records of an object its baseline had many of.

An audit of a side that read zero records of an object (a revoked scope, a
proxy page, an emptied export) sees every link of that object as one-sided,
and a plan built on it would propose mass creates and removals. So when a
side reads **no** records of an audited object while the baseline run's
snapshot of that side held **more than** :data:`EMPTY_READ_THRESHOLD`, the
audit refuses (:class:`~assoc_audit.errors.EmptyReadError`, exit 2) unless
``allow_empty`` (``--allow-empty``) says the object really is empty now. An
audit allowed through records the suspect reads in ``summary.json``
(``empty_reads``), and ``plan`` refuses such a folder unless it is given
``--allow-empty`` too. Without a baseline nothing is compared.

Both sides are checked alike (an app export can be emptied as silently as a
HubSpot read can fail).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from assoc_audit.errors import EmptyReadError, SnapshotError

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.tables import SideTables

__all__ = [
    "EMPTY_READ_THRESHOLD",
    "EmptyRead",
    "check_empty_reads",
    "empty_reads",
    "empty_reads_of",
    "refuse_empty_reads",
]

#: A baseline with more records than this makes a read of none suspect.
EMPTY_READ_THRESHOLD = 1000


@dataclass(frozen=True)
class EmptyRead:
    """One suspect read: ``side`` read no ``object`` records; the baseline had ``baseline``."""

    side: str
    object: str
    baseline: int

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "object": self.object, "baseline_records": self.baseline}

    def text(self) -> str:
        return f"{self.side} read 0 {self.object} records, the baseline had {self.baseline:,}"


def _counts(path: Path) -> dict[str, int]:
    """Records per object in a snapshot side's ``records.parquet`` (only ``object`` is read)."""
    try:
        column = pq.read_table(path, columns=["object"]).column("object")
    except (OSError, pa.ArrowException) as exc:
        raise SnapshotError(f"{path}: unreadable Parquet file: {exc}", file=str(path)) from None
    counted = pc.value_counts(column)
    return {
        str(item["values"]): int(item["counts"])
        for item in counted.to_pylist()
        if item["values"] is not None
    }


def empty_reads(
    config: IntegrationConfig,
    sides: Mapping[str, SideTables],
    baseline: Path | str,
) -> tuple[EmptyRead, ...]:
    """The suspect reads of ``sides`` against the baseline at ``baseline`` (a run folder)."""
    from assoc_audit.baseline import baseline_folder

    folder = baseline_folder(baseline)
    found = []
    for side, tables in sides.items():
        path = folder / side / "records.parquet"
        if not path.exists():
            continue
        before = _counts(path)
        now = tables.records["object"].value_counts()
        for obj in config.audited_objects:
            if int(now.get(obj, 0)) == 0 and before.get(obj, 0) > EMPTY_READ_THRESHOLD:
                found.append(EmptyRead(side, obj, before[obj]))
    return tuple(found)


def refuse_empty_reads(reads: Sequence[EmptyRead], *, what: str) -> EmptyReadError:
    """The error for suspect reads (``what``: "audit" or "plan fixes from this audit")."""
    listed = "; ".join(r.text() for r in reads)
    return EmptyReadError(
        f"refusing to {what}: {listed} — a read that returned nothing may have failed "
        "silently (token, scopes, a proxy); check the source, or pass --allow-empty if the "
        "object really is empty now",
        reads=[(r.side, r.object, r.baseline) for r in reads],
    )


def check_empty_reads(
    config: IntegrationConfig,
    sides: Mapping[str, SideTables],
    baseline: Path | str | None,
    *,
    allow_empty: bool,
) -> tuple[EmptyRead, ...]:
    """The suspect reads (none without a baseline); raises unless ``allow_empty``."""
    if baseline is None:
        return ()
    reads = empty_reads(config, sides, baseline)
    if reads and not allow_empty:
        raise refuse_empty_reads(reads, what="audit")
    return reads


def empty_reads_of(summary: Mapping[str, Any]) -> tuple[EmptyRead, ...]:
    """The suspect reads an audit's ``summary.json`` records."""
    out = []
    for item in summary.get("empty_reads") or []:
        if isinstance(item, Mapping):
            out.append(
                EmptyRead(
                    str(item.get("side")),
                    str(item.get("object")),
                    int(item.get("baseline_records") or 0),
                )
            )
    return tuple(out)
