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
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assoc_audit.config import OBJECT_NAME_PATTERN
from assoc_audit.errors import DataError
from assoc_audit.text import (
    TEXT,
    CodedText,
    arrow_text,
    canonical_arrow_text,
    code_text,
    is_text_dictionary,
    is_text_type,
    row_error,
    text_series,
    to_arrow_text,
    to_text,
)

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
# Columns: a table is a DataFrame (connectors) or an Arrow table (snapshots)

Frame: TypeAlias = pd.DataFrame | pa.Table


def _column_names(df: Frame) -> list[str]:
    """The data columns (an index pandas saved into Arrow is not one)."""
    if not isinstance(df, pa.Table):
        return list(map(str, df.columns))
    index = (df.schema.pandas_metadata or {}).get("index_columns", [])
    return [c for c in df.column_names if c not in index]


def _require_columns(df: Frame, required: Sequence[str], source: str) -> None:
    present = _column_names(df)
    missing = [c for c in required if c not in present]
    if missing:
        have = ", ".join(present) or "none"
        raise DataError(
            f"{source}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(repr(c) for c in missing)} (columns present: {have})",
            file=source,
            field=missing[0],
        )


def _pandas(df: Frame, name: str, positions: np.ndarray | None) -> pd.Series:
    """A column as pandas (an Arrow table's converted as a whole, as ``to_pandas`` would)."""
    values: pd.Series = (
        df.select([name]).to_pandas()[name] if isinstance(df, pa.Table) else df[name]
    )
    return values if positions is None else values.iloc[positions]


def _text(
    df: Frame,
    name: str,
    positions: np.ndarray | None,
    *,
    source: str,
    whole_numbers: bool = True,
) -> pa.ChunkedArray:
    """A column (of the rows at ``positions``) as canonical Arrow text (:func:`to_text`)."""
    if isinstance(df, pa.Table):
        column = df.column(name)
        if is_text_type(column.type) or is_text_dictionary(column.type):
            if positions is not None:
                column = column.take(pa.array(positions))
            if is_text_dictionary(column.type):
                column = column.cast(pa.large_string())
            return canonical_arrow_text(column)
    text = to_text(
        _pandas(df, name, positions), source=source, column=name, whole_numbers=whole_numbers
    )
    return to_arrow_text(text)


def _coded(df: Frame, name: str, *, source: str) -> CodedText:
    """A text column with few distinct values (objects, labels) as codes.

    Dictionary-encoded Arrow text is used as it is; anything else goes
    through :func:`_text` first, so the values are those :func:`to_text` gives.
    """
    column = df.column(name) if isinstance(df, pa.Table) else None
    if column is None or not is_text_dictionary(column.type):
        column = _text(df, name, None, source=source, whole_numbers=False)
    return code_text(column)


def _check_object_names(obj: CodedText, *, source: str, column: str) -> None:
    nulls = obj.codes < 0
    if nulls.any():
        raise row_error(source, int(np.argmax(nulls)), column, "empty object name")
    bad = [i for i, name in enumerate(obj.names) if not _OBJECT_RE.match(name)]
    if bad:  # names a dictionary holds need not occur
        rows = np.isin(obj.codes, bad)
        if rows.any():
            pos = int(np.argmax(rows))
            why = "lower-case letters, digits and _, or an object type id such as 2-1234"
            problem = f"malformed object name {obj.names[obj.codes[pos]]!r} ({why})"
            raise row_error(source, pos, column, problem)


def _check_ids(ids: pa.ChunkedArray, *, source: str, column: str, positions: Any = None) -> None:
    """Reject null ids; ``positions`` maps each value to its 0-based input row."""
    if ids.null_count:
        first = int(pc.index(pc.is_null(ids), True).as_py())
        raise row_error(
            source, first if positions is None else int(positions[first]), column, "empty id"
        )


def _counted(counts: dict[str, int]) -> dict[str, int]:
    """Counts by name, most first, then by name."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


# ---------------------------------------------------------------------------
# Duplicate rows: hash, then compare exactly the rows whose hash is not unique


def _row_hashes(codes: Sequence[np.ndarray], texts: Sequence[pa.ChunkedArray]) -> np.ndarray:
    """A 64-bit hash of each row of (``codes``..., ``texts``...), in row order."""
    columns = {f"c{i}": c for i, c in enumerate(codes)}
    table = pa.table({**columns, **{f"t{i}": t for i, t in enumerate(texts)}})
    with duckdb.connect() as con:
        con.register("rows_", table)
        sql = f"SELECT hash({', '.join(table.column_names)}) AS h FROM rows_"
        hashes = con.sql(sql).to_arrow_table().column("h")
    return np.concatenate([chunk.to_numpy() for chunk in hashes.chunks] or [np.empty(0, np.uint64)])


def _duplicated(
    codes: Sequence[np.ndarray],
    texts: Sequence[pa.ChunkedArray],
    *,
    keep: Literal["first", False],
) -> np.ndarray:
    """Rows equal to another row (``keep=False``) or to an earlier one (``"first"``).

    A row is its integer ``codes`` and its ``texts`` (no nulls). Rows whose
    hash is unique are distinct; the others are compared exactly, so a hash
    collision never merges different rows.
    """
    n = len(codes[0])
    result = np.zeros(n, dtype=bool)
    if n < 2:
        return result
    h = _row_hashes(codes, texts)
    ordered = np.sort(h)
    same = ordered[1:] == ordered[:-1]
    if not same.any():
        return result
    shared = np.unique(ordered[1:][same])
    cand = np.flatnonzero(shared[np.minimum(np.searchsorted(shared, h), len(shared) - 1)] == h)
    # each candidate's representative: the first candidate with its hash
    order = np.argsort(h[cand], kind="stable")
    sorted_h = h[cand][order]
    starts = np.r_[True, sorted_h[1:] != sorted_h[:-1]]
    rep = np.empty(len(cand), dtype=np.int64)
    rep[order] = cand[order[starts][np.cumsum(starts) - 1]]
    exact = np.ones(len(cand), dtype=bool)
    for code in codes:
        exact &= code[cand] == code[rep]
    where, at = pa.array(cand), pa.array(rep)
    for text in texts:
        exact &= pc.equal(text.take(where), text.take(at)).to_numpy(zero_copy_only=False)
    if exact.all():
        result[cand] = True if keep is False else cand != rep
        return result
    # a hash collision among the candidates: compare their values
    subset = pd.DataFrame(
        {
            **{f"c{i}": code[cand] for i, code in enumerate(codes)},
            **{f"t{i}": text_series(t.take(where)) for i, t in enumerate(texts)},
        }
    )
    result[cand] = subset.duplicated(keep=keep).to_numpy()
    return result


# ---------------------------------------------------------------------------
# Records


def validate_records(
    df: Frame,
    *,
    source: str,
    identifiers: Sequence[str] = (),
    objects: Collection[str] | None = None,
) -> tuple[pd.DataFrame, TableStats]:
    """Validate and canonicalise a records table (a DataFrame or an Arrow table).

    ``identifiers`` are the columns the match rules need; ``objects`` the
    objects the config audits (rows of other objects are skipped and counted).
    """
    _require_columns(df, (*RECORD_COLUMNS, *identifiers), source)
    n = len(df)
    obj = _coded(df, "object", source=source)
    _check_object_names(obj, source=source, column="object")
    skipped: dict[str, int] = {}
    positions: np.ndarray | None = None  # None: every row is kept
    if objects is not None:
        audited = set(objects)
        keep = np.array([name in audited for name in obj.names] + [False])[obj.codes]
        if not keep.all():
            counts = np.bincount(obj.codes[~keep], minlength=len(obj.names))
            skipped = _counted({obj.names[i]: int(counts[i]) for i in np.flatnonzero(counts)})
            positions = np.flatnonzero(keep)
            obj = obj.take(positions)
    ids = _text(df, "record_id", positions, source=source)
    _check_ids(ids, source=source, column="record_id", positions=positions)
    dup = _duplicated([obj.codes], [ids], keep=False)
    if dup.any():
        where = np.flatnonzero(dup)
        first_obj, first_id = obj.names[obj.codes[where[0]]], ids[int(where[0])].as_py()
        twin = (obj.codes[where] == obj.codes[where[0]]) & pc.equal(
            ids.take(pa.array(where)), first_id
        ).to_numpy(zero_copy_only=False)
        rows = where[twin] if positions is None else positions[where[twin]]
        twins = [int(p) + 1 for p in rows]
        raise DataError(
            f"{source}: rows {', '.join(map(str, twins[:5]))}, column 'record_id': duplicate id "
            f"{first_id!r} for object {first_obj!r}",
            file=source,
            row=twins[1] if len(twins) > 1 else twins[0],
            field="record_id",
        )
    cols: dict[str, pd.Series] = {"object": text_series(obj.text()), "record_id": text_series(ids)}
    present = _column_names(df)
    for col in (*identifiers, "display_name"):
        if col == "record_id" or col in cols or col not in present:
            continue
        cols[col] = text_series(_text(df, col, positions, source=source, whole_numbers=False))
    if "display_name" not in cols:
        cols["display_name"] = pd.Series(pd.NA, index=range(len(ids)), dtype=TEXT)
    kept = positions if positions is not None else np.arange(n)
    raw = _pandas(df, "updated_at", positions) if "updated_at" in present else None
    cols["updated_at"] = _timestamps(raw, len(ids), source=source, positions=kept)
    out = pd.DataFrame(cols, copy=False)
    stats = TableStats(rows_read=n, rows_kept=len(out), skipped=skipped)
    return out, stats


def _timestamps(
    raw: pd.Series | None, rows: int, *, source: str, positions: np.ndarray
) -> pd.Series:
    if raw is None:
        return pd.Series(pd.NaT, index=range(rows), dtype="datetime64[us, UTC]")
    raw = raw.reset_index(drop=True)
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
    df: Frame,
    *,
    source: str,
    pairs: Collection[tuple[str, str]] | None = None,
) -> tuple[pd.DataFrame, TableStats]:
    """Validate and canonicalise an associations table (a DataFrame or an Arrow table).

    With ``pairs`` (the audited from→to pairs), rows of other pairs are skipped
    and counted, rows stored the other way round are flipped (label kept;
    self-pairs never flip), and duplicate rows are merged.
    """
    _require_columns(df, ASSOCIATION_COLUMNS, source)
    n = len(df)
    frm = _coded(df, "from_object", source=source)
    _check_object_names(frm, source=source, column="from_object")
    to = _coded(df, "to_object", source=source)
    _check_object_names(to, source=source, column="to_object")
    ids = []
    for col in ("from_id", "to_id"):
        ids.append(_text(df, col, None, source=source))
        _check_ids(ids[-1], source=source, column=col)
    label = _coded(df, "label", source=source)
    names = list(dict.fromkeys([*frm.names, *to.names]))
    links = _Links(frm.recoded(names), ids[0], to.recoded(names), ids[1], label)
    flipped = 0
    skipped: dict[str, int] = {}
    if pairs is not None:
        links, flipped, skipped = _orient(links, set(pairs))
    k, labels = len(names), len(label.names) + 1
    fc, tc, lc = links.frm.codes, links.to.codes, links.label.codes
    # the row's codes as one integer when it fits (numpy reuses the temporaries)
    one = ((fc.astype(np.int32) * k + tc) * labels + lc + 1) if k * k * labels < 2**31 else None
    dup = _duplicated(
        [fc, tc, lc] if one is None else [one], [links.from_id, links.to_id], keep="first"
    )
    merged = int(dup.sum())
    if merged:
        links = links.take(np.flatnonzero(~dup))
    texts = (links.frm.text(), links.from_id, links.to.text(), links.to_id, links.label.text())
    out = pd.DataFrame(
        {c: text_series(t) for c, t in zip(ASSOCIATION_COLUMNS, texts, strict=True)}, copy=False
    )
    stats = TableStats(
        rows_read=n, rows_kept=len(out), skipped=skipped, flipped=flipped, merged=merged
    )
    return out, stats


@dataclass(frozen=True)
class _Links:
    """An associations table with object and label columns as codes."""

    frm: CodedText
    from_id: pa.ChunkedArray
    to: CodedText
    to_id: pa.ChunkedArray
    label: CodedText

    def take(self, rows: np.ndarray) -> _Links:
        at = pa.array(rows)
        frm, to, label = (coded.take(rows) for coded in (self.frm, self.to, self.label))
        return _Links(frm, self.from_id.take(at), to, self.to_id.take(at), label)


def _orient(links: _Links, pairs: set[tuple[str, str]]) -> tuple[_Links, int, dict[str, int]]:
    """Flip rows stored in the reverse direction of an audited pair; drop other pairs."""
    names = links.frm.names  # the object names of both columns
    k = len(names)
    code = links.frm.codes.astype(np.int32 if k * k < 2**31 else np.int64) * k + links.to.codes
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
        frm = CodedText(np.where(flip, links.to.codes, links.frm.codes), names)
        to = CodedText(np.where(flip, links.frm.codes, links.to.codes), names)
        from_id = pc.if_else(mask, links.to_id, links.from_id)
        to_id = pc.if_else(mask, links.from_id, links.to_id)
        links = _Links(frm, from_id, to, to_id, links.label)
    skipped: dict[str, int] = {}
    skip = row_todo == 2
    if skip.any():
        counts = np.bincount(code[skip], minlength=k * k)
        skipped = _counted(
            {f"{names[c // k]}→{names[c % k]}": int(counts[c]) for c in np.flatnonzero(counts)}
        )
        links = links.take(np.flatnonzero(~skip))
    return links, flipped, skipped
