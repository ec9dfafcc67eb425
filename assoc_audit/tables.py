"""The canonical tables every connector produces (DESIGN §4), and their validation.

:class:`SideTables` is one side's pair of tables as every stage receives it
(:mod:`assoc_audit.snapshot` only saves and loads it); text helpers live in
:mod:`assoc_audit.text`.

**records**: ``object``, ``record_id``, one column per identifier a match rule
uses, optional ``display_name``, optional ``updated_at`` (UTC).

**associations**: ``from_object``, ``from_id``, ``to_object``, ``to_id``,
``label`` (null = the unlabeled link).

Validation is vectorised (whole columns at a time) and strict: a missing
column, a null or duplicate id, an id that is neither text nor a whole number,
or a malformed object name raises :class:`~assoc_audit.errors.DataError`
naming the source, the row and the column. Rows are numbered from 1 in data
order (for a CSV file, row N is on line N + 1, after the header). Rows of
objects or pairs the config does not audit are skipped and counted; rows
stored in the reverse direction of an audited pair are flipped and duplicate
rows merged, both counted in :class:`TableStats`.

Text columns come back as ``pd.StringDtype("pyarrow")`` with ``<NA>`` for null.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assoc_audit.config import OBJECT_NAME_PATTERN
from assoc_audit.errors import DataError
from assoc_audit.text import TEXT, arrow_text, row_error, text_series, to_text

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.snapshot import SnapshotSource

__all__ = [
    "ASSOCIATION_COLUMNS",
    "RECORD_COLUMNS",
    "TEXT",
    "Side",
    "SideTables",
    "TableStats",
    "arrow_text",
    "empty_associations",
    "empty_records",
    "identifier_columns",
    "text_series",
    "to_text",
    "validate_associations",
    "validate_records",
]

RECORD_COLUMNS: tuple[str, ...] = ("object", "record_id")
OPTIONAL_RECORD_COLUMNS: tuple[str, ...] = ("display_name", "updated_at")
ASSOCIATION_COLUMNS: tuple[str, ...] = ("from_object", "from_id", "to_object", "to_id", "label")
_OBJECT_RE = re.compile(OBJECT_NAME_PATTERN)


@dataclass(frozen=True)
class TableStats:
    """What validation did to a table besides checking it."""

    rows_read: int = 0
    rows_kept: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # object or "from→to" -> rows
    flipped: int = 0
    merged: int = 0

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "rows_skipped": self.rows_skipped,
            "skipped": dict(self.skipped),
            "flipped": self.flipped,
            "merged": self.merged,
        }


Side = Literal["hubspot", "app"]


@dataclass(frozen=True)
class SideTables:
    """One side's validated canonical tables, with what validation counted."""

    side: Side
    records: pd.DataFrame
    associations: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    record_stats: TableStats = field(default_factory=TableStats)
    association_stats: TableStats = field(default_factory=TableStats)
    #: Set by :func:`read_side` only: tables derived from these (filtered,
    #: edited) must not carry it over, or :func:`write_side` copies the source.
    source: SnapshotSource | None = None


def identifier_columns(config: IntegrationConfig, side: Side) -> tuple[str, ...]:
    """Every identifier column a side's records table needs, over all audited objects."""
    cols: dict[str, None] = {}
    for obj in config.audited_objects:
        for col in config.identifier_columns(side, obj):
            cols.setdefault(col)
    return tuple(cols)


def empty_records(identifiers: Sequence[str] = ()) -> pd.DataFrame:
    cols = {c: pd.Series([], dtype=TEXT) for c in (*RECORD_COLUMNS, *identifiers, "display_name")}
    cols["updated_at"] = pd.Series([], dtype="datetime64[us, UTC]")
    return pd.DataFrame(cols)


def empty_associations() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=TEXT) for c in ASSOCIATION_COLUMNS})


# ---------------------------------------------------------------------------
# Column conversion


def _first_true(mask: pa.ChunkedArray | pa.Array) -> int:
    """Position of the first true value of a boolean Arrow column (nulls count as false)."""
    return int(pc.index(pc.fill_null(mask, False), True).as_py())


def _require_columns(df: pd.DataFrame, required: Sequence[str], source: str) -> None:
    missing = [c for c in required if c not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns)) or "none"
        raise DataError(
            f"{source}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)} (columns present: {have})",
            file=source,
            field=missing[0],
        )


def _check_object_names(values: pd.Series, *, source: str, column: str) -> None:
    arrow = arrow_text(values)
    if arrow is None:
        arrow = pa.chunked_array([pa.array(values.astype("object").tolist(), pa.large_string())])
    if arrow.null_count:
        raise row_error(source, _first_true(pc.is_null(arrow)), column, "empty object name")
    bad = [u for u in pc.unique(arrow).to_pylist() if not _OBJECT_RE.match(str(u))]
    if bad:
        pos = _first_true(pc.is_in(arrow, value_set=pa.array(bad, arrow.type)))
        raise row_error(
            source,
            pos,
            column,
            f"malformed object name {arrow[pos].as_py()!r} (lower-case letters, digits and _, "
            "or an object type id such as 2-1234)",
        )


def _check_ids(ids: pd.Series, *, source: str, column: str) -> None:
    """Reject null ids; ``ids.index`` holds each value's 0-based input position."""
    arrow = arrow_text(ids)
    if arrow is not None:
        if not arrow.null_count:
            return
        first = _first_true(pc.is_null(arrow))
    else:
        nulls = ids.isna().to_numpy()
        if not nulls.any():
            return
        first = int(np.flatnonzero(nulls)[0])
    raise row_error(source, int(ids.index[first]), column, "empty id")


# ---------------------------------------------------------------------------
# Records


def validate_records(
    df: pd.DataFrame,
    *,
    source: str,
    identifiers: Sequence[str] = (),
    objects: Collection[str] | None = None,
) -> tuple[pd.DataFrame, TableStats]:
    """Validate and canonicalise a records table.

    ``identifiers`` are the columns the match rules need; ``objects`` the
    objects the config audits (rows of other objects are skipped and counted).
    """
    _require_columns(df, (*RECORD_COLUMNS, *identifiers), source)
    n = len(df)
    obj = to_text(df["object"], source=source, column="object", whole_numbers=False)
    _check_object_names(obj, source=source, column="object")
    obj_arrow = _arrow(obj)
    skipped: dict[str, int] = {}
    positions: np.ndarray | None = None  # None: every row is kept
    if objects is not None:
        keep = pc.is_in(obj_arrow, value_set=pa.array(list(objects), obj_arrow.type))
        if not pc.all(keep).as_py():
            skipped = _value_counts(pc.filter(obj_arrow, pc.invert(keep)))
            positions = np.flatnonzero(keep.to_numpy(zero_copy_only=False))
    sub = df if positions is None else df.iloc[positions]
    if positions is not None:
        obj_arrow = obj_arrow.take(pa.array(positions))
    ids = to_text(sub["record_id"], source=source, column="record_id")
    if positions is not None:
        ids.index = positions  # positions in the input, for messages
    _check_ids(ids, source=source, column="record_id")
    id_arrow = _arrow(ids)
    dup = _duplicated(pa.table({"object": obj_arrow, "record_id": id_arrow}), keep=False)
    if dup.any():
        where = np.flatnonzero(dup)
        first_obj, first_id = obj_arrow[int(where[0])].as_py(), id_arrow[int(where[0])].as_py()
        twins = [
            (int(positions[p]) if positions is not None else int(p)) + 1
            for p in where
            if obj_arrow[int(p)].as_py() == first_obj and id_arrow[int(p)].as_py() == first_id
        ]
        raise DataError(
            f"{source}: rows {', '.join(map(str, twins[:5]))}, column 'record_id': duplicate id "
            f"{first_id!r} for object {first_obj!r}",
            file=source,
            row=twins[1] if len(twins) > 1 else twins[0],
            field="record_id",
        )
    cols: dict[str, pd.Series] = {
        "object": text_series(obj_arrow),
        "record_id": text_series(id_arrow),
    }
    for col in identifiers:
        if col == "record_id":
            continue
        cols[col] = _reindexed(to_text(sub[col], source=source, column=col, whole_numbers=False))
    if "display_name" in df.columns:
        cols["display_name"] = _reindexed(
            to_text(sub["display_name"], source=source, column="display_name", whole_numbers=False)
        )
    else:
        cols["display_name"] = pd.Series(pd.NA, index=range(len(id_arrow)), dtype=TEXT)
    kept = positions if positions is not None else np.arange(n)
    cols["updated_at"] = _timestamps(sub, source=source, positions=kept)
    out = pd.DataFrame(cols, copy=False)
    stats = TableStats(rows_read=n, rows_kept=len(out), skipped=skipped)
    return out, stats


def _arrow(values: pd.Series) -> pa.ChunkedArray:
    arrow = arrow_text(values)
    assert arrow is not None, "canonical text columns are Arrow-backed"
    return arrow


def _reindexed(values: pd.Series) -> pd.Series:
    return values.reset_index(drop=True).astype(TEXT)


def _value_counts(values: pa.ChunkedArray) -> dict[str, int]:
    counts = pc.value_counts(values)
    pairs = zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True)
    return {str(k): int(v) for k, v in sorted(pairs, key=lambda kv: (-kv[1], str(kv[0])))}


def _duplicated(table: pa.Table, *, keep: Literal["first", False]) -> np.ndarray:
    """Rows equal to another row (``keep=False``) or to an earlier one (``"first"``).

    Rows are hashed in DuckDB; only rows whose hash occurs more than once are
    compared exactly, so a hash collision never merges different rows.
    """
    if table.num_rows < 2:
        return np.zeros(table.num_rows, dtype=bool)
    cols = ", ".join(f'"{c}"' for c in table.column_names)
    with duckdb.connect() as con:
        con.register("rows_", table)
        hashes = con.execute(f"SELECT hash({cols}) FROM rows_").fetchnumpy()
    h = np.asarray(next(iter(hashes.values())))
    result = np.zeros(table.num_rows, dtype=bool)
    ordered = np.sort(h)
    same = ordered[1:] == ordered[:-1]
    if same.any():
        candidates = np.flatnonzero(np.isin(h, np.unique(ordered[1:][same])))
        subset = table.take(pa.array(candidates)).to_pandas()
        result[candidates] = subset.duplicated(keep=keep).to_numpy()
    return result


def _timestamps(sub: pd.DataFrame, *, source: str, positions: np.ndarray) -> pd.Series:
    if "updated_at" not in sub.columns:
        return pd.Series(pd.NaT, index=range(len(sub)), dtype="datetime64[us, UTC]")
    raw = sub["updated_at"].reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        ts = raw.dt.tz_localize("UTC") if raw.dt.tz is None else raw.dt.tz_convert("UTC")
    else:
        text = raw.astype("object").where(raw.notna(), None)
        text = text.where(text != "", None)
        ts = pd.to_datetime(text, utc=True, errors="coerce", format="ISO8601")
        bad = (ts.isna() & text.notna()).to_numpy()
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            raise row_error(
                source,
                int(positions[pos]),
                "updated_at",
                f"{text.iloc[pos]!r} is not an ISO-8601 timestamp",
            )
    result: pd.Series = ts.astype("datetime64[us, UTC]").reset_index(drop=True)
    return result


# ---------------------------------------------------------------------------
# Associations


def validate_associations(
    df: pd.DataFrame,
    *,
    source: str,
    pairs: Collection[tuple[str, str]] | None = None,
) -> tuple[pd.DataFrame, TableStats]:
    """Validate and canonicalise an associations table.

    With ``pairs`` (the audited from→to pairs), rows of other pairs are skipped
    and counted, rows stored the other way round are flipped (label kept;
    self-pairs never flip), and duplicate rows are merged.
    """
    _require_columns(df, ASSOCIATION_COLUMNS, source)
    n = len(df)
    cols: dict[str, pa.ChunkedArray] = {}
    for col in ("from_object", "to_object"):
        text = to_text(df[col], source=source, column=col, whole_numbers=False)
        _check_object_names(text, source=source, column=col)
        cols[col] = _arrow(text)
    for col in ("from_id", "to_id"):
        text = to_text(df[col], source=source, column=col)
        _check_ids(text, source=source, column=col)
        cols[col] = _arrow(text)
    cols["label"] = _arrow(to_text(df["label"], source=source, column="label", whole_numbers=False))
    table = pa.table({c: cols[c] for c in ASSOCIATION_COLUMNS})
    flipped = 0
    skipped: dict[str, int] = {}
    if pairs is not None:
        table, flipped, skipped = _orient(table, set(pairs))
    dup = _duplicated(table, keep="first")
    merged = int(dup.sum())
    if merged:
        table = table.filter(pa.array(~dup))
    out = pd.DataFrame({c: text_series(table.column(c)) for c in ASSOCIATION_COLUMNS}, copy=False)
    stats = TableStats(
        rows_read=n, rows_kept=len(out), skipped=skipped, flipped=flipped, merged=merged
    )
    return out, stats


def _orient(table: pa.Table, pairs: set[tuple[str, str]]) -> tuple[pa.Table, int, dict[str, int]]:
    """Flip rows stored in the reverse direction of an audited pair; drop other pairs."""
    frm, to = table.column("from_object"), table.column("to_object")
    names = sorted(set(pc.unique(frm).to_pylist()) | set(pc.unique(to).to_pylist()))
    value_set = pa.array(names, frm.type)
    k = len(names)
    code = pc.index_in(frm, value_set=value_set).to_numpy(zero_copy_only=False).astype(
        np.int64
    ) * k + pc.index_in(to, value_set=value_set).to_numpy(zero_copy_only=False)
    # what to do with each (from, to) combination: 0 keep, 1 flip, 2 skip
    todo = np.full(k * k, 2, dtype=np.int8)
    for i, f in enumerate(names):
        for j, t in enumerate(names):
            if (f, t) in pairs:
                todo[i * k + j] = 0
            elif (t, f) in pairs and f != t:
                todo[i * k + j] = 1
    row_todo = todo[code]
    flip = row_todo == 1
    flipped = int(flip.sum())
    if flipped:
        mask = pa.array(flip)
        swapped = {
            "from_object": pc.if_else(mask, to, frm),
            "from_id": pc.if_else(mask, table.column("to_id"), table.column("from_id")),
            "to_object": pc.if_else(mask, frm, to),
            "to_id": pc.if_else(mask, table.column("from_id"), table.column("to_id")),
            "label": table.column("label"),
        }
        table = pa.table(swapped)
    skipped: dict[str, int] = {}
    skip = row_todo == 2
    if skip.any():
        counts = np.bincount(code[skip], minlength=k * k)
        found = [
            (f"{names[c // k]}→{names[c % k]}", int(counts[c])) for c in np.flatnonzero(counts)
        ]
        skipped = dict(sorted(found, key=lambda kv: (-kv[1], kv[0])))
        table = table.filter(pa.array(~skip))
    return table, flipped, skipped
