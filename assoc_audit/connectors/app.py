"""The app side's tables as the config names them, shared by the files and SQL connectors.

The app stores one table per app object (``id``, identifier columns, an
optional display-name column, optional ``updated_at``) and one associations
table (``from_object, from_id, to_object, to_id, label`` in *app* object
names). This module turns those raw tables into the canonical tables
(HubSpot object names, text ids) through :mod:`assoc_audit.tables`, on whole
columns; :mod:`.writeplan` plans writes against what is stored.

Error messages name the source's own column names (``id``, ``full_name``), not
the canonical ones, and a per-source note for each row (a CSV line, a SQL id).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from assoc_audit.connectors.columns import map_text
from assoc_audit.errors import DataError
from assoc_audit.tables import (
    ASSOCIATION_COLUMNS,
    TEXT,
    TableStats,
    to_text,
    validate_associations,
    validate_records,
)

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig

__all__ = [
    "RESERVED_COLUMNS",
    "AppLayout",
    "RowNote",
    "canonical_associations",
    "canonical_records",
    "combine_stats",
    "relabel_error",
]

#: Column names of the canonical records table that an identifier column may not use.
RESERVED_COLUMNS = ("object", "record_id", "display_name", "updated_at")
#: A note for messages about a 1-based data row and a source column (``line 12``), or None.
RowNote = Callable[[int, str], str | None]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class AppLayout:
    """The app's object names, table names and display-name columns for one config."""

    hub_of: Mapping[str, str]  # app object -> HubSpot object
    app_of: Mapping[str, str]  # HubSpot object -> app object
    tables: Mapping[str, str] = field(default_factory=dict)
    display: Mapping[str, str] = field(default_factory=dict)
    pairs: tuple[tuple[str, str], ...] = ()
    synced: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, config: IntegrationConfig) -> AppLayout:
        app_of = {obj: config.app_object_of(obj) for obj in config.audited_objects}
        return cls(
            hub_of={a: h for h, a in app_of.items()},
            app_of=app_of,
            tables=dict(config.app.tables),
            display=dict(config.app.display_name),
            pairs=config.pairs,
            synced=frozenset(o for o in config.audited_objects if config.sync_of(o) != "off"),
        )

    def app_object(self, obj: str) -> str:
        """The app's name for HubSpot object ``obj`` (which the config must audit)."""
        try:
            return self.app_of[obj]
        except KeyError:
            raise DataError(
                f"object {obj!r} is not audited by this config "
                f"(audited: {', '.join(self.app_of) or 'none'})",
                field="object",
            ) from None

    def table(self, app_object: str) -> str:
        """The table (SQL) or file stem (files) of an app object, per ``app.tables``."""
        return self.tables.get(app_object, app_object)

    @property
    def associations_table(self) -> str:
        return self.tables.get("associations", "associations")

    def display_column(self, app_object: str) -> str | None:
        """The display-name column named by ``app.display_name`` (None if not named)."""
        return self.display.get(app_object)

    def record_columns(
        self, obj: str, identifiers: Sequence[str], available: Collection[str], source: str
    ) -> dict[str, str]:
        """Canonical column -> source column for ``obj``'s records table.

        ``id`` is required, and so are the identifier columns and a display
        column named by ``app.display_name``; without one, a column called
        ``display_name`` is used when present; ``updated_at`` when present.
        Raises DataError listing the missing columns.
        """
        for col in identifiers:
            if col in RESERVED_COLUMNS:
                raise DataError(
                    f"{source}: identifier column {col!r} clashes with a column of the canonical "
                    f"records table ({', '.join(RESERVED_COLUMNS)}); rename it in the app",
                    file=source,
                    field=col,
                )
        plan: dict[str, str] = {"record_id": "id"}
        plan.update({c: c for c in identifiers})
        display = self.display_column(self.app_object(obj))
        if display is not None:
            plan["display_name"] = display
        elif "display_name" in available:
            plan["display_name"] = "display_name"
        if "updated_at" in available:
            plan["updated_at"] = "updated_at"
        missing = [c for c in dict.fromkeys(plan.values()) if c not in available]
        if missing:
            have = ", ".join(map(str, available)) or "none"
            raise DataError(
                f"{source}: missing column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(c) for c in missing)} (columns present: {have})",
                file=source,
                field=missing[0],
            )
        return plan


# ---------------------------------------------------------------------------
# Errors in the source's own terms

_ROWS_MESSAGE = re.compile(
    r"^(?P<src>.+?): (?P<word>rows?) (?P<rows>\d+(?:, \d+)*), column '(?P<col>[^']*)': "
    r"(?P<rest>.*)$",
    re.DOTALL,
)


def relabel_error(
    err: DataError, columns: Mapping[str, str], note: RowNote | None = None
) -> DataError:
    """``err`` with canonical column names replaced by the source's and row notes added."""
    match = _ROWS_MESSAGE.match(err.message)
    if match is None:
        return err
    col = columns.get(match["col"], match["col"])
    rows = [int(r) for r in match["rows"].split(", ")]
    notes = list(dict.fromkeys(n for n in (note(r, col) for r in rows) if n)) if note else []
    if len(notes) > 1 and all(n.startswith("line ") for n in notes):
        notes = ["lines " + ", ".join(n.removeprefix("line ") for n in notes)]
    where = f"{match['word']} {match['rows']}" + (f" ({', '.join(notes)})" if notes else "")
    message = f"{match['src']}: {where}, column {col!r}: {match['rest']}"
    return type(err)(message, file=err.file, row=err.row, field=col)


def combine_stats(parts: Sequence[TableStats]) -> TableStats:
    """One TableStats summing several (e.g. one per object file)."""
    skipped: dict[str, int] = {}
    for part in parts:
        for key, n in part.skipped.items():
            skipped[key] = skipped.get(key, 0) + n
    return TableStats(
        rows_read=sum(p.rows_read for p in parts),
        rows_kept=sum(p.rows_kept for p in parts),
        skipped=skipped,
        flipped=sum(p.flipped for p in parts),
        merged=sum(p.merged for p in parts),
    )


# ---------------------------------------------------------------------------
# Reading


def canonical_records(
    raw: pd.DataFrame,
    *,
    obj: str,
    columns: Mapping[str, str],
    identifiers: Sequence[str],
    source: str,
    note: RowNote | None = None,
) -> tuple[pd.DataFrame, TableStats]:
    """Validate one app object's raw table (source column names) as canonical records.

    ``columns`` maps canonical names to source columns (see
    :meth:`AppLayout.record_columns`).
    """
    n = len(raw)
    frame = pd.DataFrame({"object": pd.Series(np.full(n, obj, dtype=object), dtype=TEXT)})
    for canonical, col in columns.items():
        frame[canonical] = raw[col].reset_index(drop=True)
    try:
        return validate_records(frame, source=source, identifiers=identifiers)
    except DataError as err:
        raise relabel_error(err, columns, note) from None


def _check_app_names(values: pd.Series, *, source: str, column: str, note: RowNote | None) -> None:
    """Empty names and names with surrounding spaces or control characters are errors."""
    nulls = values.isna().to_numpy()
    problem = None
    pos = -1
    if nulls.any():
        pos, problem = int(np.flatnonzero(nulls)[0]), "empty object name"
    else:
        uniques = pd.Series(values.unique(), dtype=object)
        bad = uniques[
            (uniques.str.strip() != uniques)
            | uniques.str.contains(_CONTROL)
            | (uniques.str.len() > 200)
        ]
        if len(bad):
            name = str(bad.iloc[0])
            pos = int(np.flatnonzero(values.eq(name).to_numpy())[0])
            problem = (
                f"malformed object name {name!r} (surrounding spaces, control characters "
                "or more than 200 characters)"
            )
    if problem is not None:
        row = pos + 1
        extra = note(row, column) if note else None
        where = f"row {row}" + (f" ({extra})" if extra else "")
        raise DataError(
            f"{source}: {where}, column {column!r}: {problem}", file=source, row=row, field=column
        )


def _text(
    raw: pd.DataFrame, col: str, *, ids: bool, source: str, note: RowNote | None
) -> pd.Series:
    try:
        return to_text(raw[col], source=source, column=col, whole_numbers=ids)
    except DataError as err:
        raise relabel_error(err, {}, note) from None


def canonical_associations(
    raw: pd.DataFrame, *, layout: AppLayout, source: str, note: RowNote | None = None
) -> tuple[pd.DataFrame, TableStats]:
    """Validate the app's raw associations table (app object names) as canonical links.

    Rows whose object is not an app object of the config are skipped and
    counted under their app names (``widgets→persons``); rows of unaudited
    pairs are skipped and counted under HubSpot names; reversed rows of an
    audited pair are flipped and duplicates merged.
    """
    missing = [c for c in ASSOCIATION_COLUMNS if c not in raw.columns]
    if missing:
        have = ", ".join(map(str, raw.columns)) or "none"
        raise DataError(
            f"{source}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)} (columns present: {have})",
            file=source,
            field=missing[0],
        )
    n = len(raw)
    names = {}
    for col in ("from_object", "to_object"):
        names[col] = _text(raw, col, ids=False, source=source, note=note)
        _check_app_names(names[col], source=source, column=col, note=note)
    ids = {}
    for col in ("from_id", "to_id"):
        ids[col] = _text(raw, col, ids=True, source=source, note=note)
        empty = ids[col].isna().to_numpy()
        if empty.any():
            row = int(np.flatnonzero(empty)[0]) + 1
            extra = note(row, col) if note else None
            where = f"row {row}" + (f" ({extra})" if extra else "")
            raise DataError(
                f"{source}: {where}, column {col!r}: empty id", file=source, row=row, field=col
            )
    sub = pd.DataFrame(
        {
            "from_object": map_text(names["from_object"], layout.hub_of),
            "from_id": ids["from_id"],
            "to_object": map_text(names["to_object"], layout.hub_of),
            "to_id": ids["to_id"],
            "label": _text(raw, "label", ids=False, source=source, note=note),
        }
    )
    known = (sub["from_object"].notna() & sub["to_object"].notna()).to_numpy()
    skipped: dict[str, int] = {}
    positions = np.flatnonzero(known)
    if not known.all():
        other = names["from_object"][~known] + "→" + names["to_object"][~known]
        skipped = {str(k): int(v) for k, v in other.value_counts().items()}
        sub = sub.loc[known].reset_index(drop=True)

    def sub_note(row: int, column: str) -> str | None:
        return note(int(positions[row - 1]) + 1, column) if note else None

    try:
        out, inner = validate_associations(sub, source=source, pairs=layout.pairs)
    except DataError as err:  # pragma: no cover - every check above already ran
        raise relabel_error(err, {}, sub_note) from None
    for key, count in inner.skipped.items():
        skipped[key] = skipped.get(key, 0) + count
    out = out[list(ASSOCIATION_COLUMNS)]
    stats = TableStats(
        rows_read=n,
        rows_kept=inner.rows_kept,
        skipped=skipped,
        flipped=inner.flipped,
        merged=inner.merged,
    )
    return out, stats
