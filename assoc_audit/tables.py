"""The canonical tables every connector produces (DESIGN §4), and their validation.

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
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from .config import OBJECT_NAME_PATTERN
from .errors import DataError

__all__ = [
    "ASSOCIATION_COLUMNS",
    "RECORD_COLUMNS",
    "TEXT",
    "TableStats",
    "empty_associations",
    "empty_records",
    "to_text",
    "validate_associations",
    "validate_records",
]

TEXT = pd.StringDtype("pyarrow")
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


def empty_records(identifiers: Sequence[str] = ()) -> pd.DataFrame:
    cols = {c: pd.Series([], dtype=TEXT) for c in (*RECORD_COLUMNS, *identifiers, "display_name")}
    cols["updated_at"] = pd.Series([], dtype="datetime64[us, UTC]")
    return pd.DataFrame(cols)


def empty_associations() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=TEXT) for c in ASSOCIATION_COLUMNS})


# ---------------------------------------------------------------------------
# Column conversion


def _fail(source: str, position: int, column: str, problem: str) -> DataError:
    row = position + 1
    return DataError(
        f"{source}: row {row}, column {column!r}: {problem}", file=source, row=row, field=column
    )


def _show(value: Any) -> str:
    """repr() of a value as a user wrote it (numpy scalars shown as plain Python values)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _whole_float_text(values: np.ndarray) -> np.ndarray:
    return np.array([str(int(v)) for v in values], dtype=object)


def to_text(
    values: pd.Series, *, source: str, column: str, whole_numbers: bool = True
) -> pd.Series:
    """Convert a column to canonical text (DESIGN §4).

    Text is kept verbatim (``007`` stays ``007``), empty text becomes null,
    numeric values become text without a decimal part. With ``whole_numbers``
    (ids), a non-whole number or a boolean is an error; otherwise such values
    become their plain text.
    """
    s = values.reset_index(drop=True)
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        if whole_numbers and s.notna().any():
            pos = int(np.flatnonzero(s.notna().to_numpy())[0])
            raise _fail(source, pos, column, f"{_show(s.iloc[pos])} is a boolean, not an id")
        out = s.astype("object").map(lambda v: None if pd.isna(v) else str(v).lower())
    elif pd.api.types.is_integer_dtype(dtype):
        out = s.astype("Int64").astype(TEXT)
    elif pd.api.types.is_float_dtype(dtype):
        arr = s.to_numpy(dtype="float64", na_value=np.nan)
        present = ~np.isnan(arr)
        whole = present & np.isfinite(arr) & (np.floor(arr) == arr)
        bad = present & ~whole
        if bad.any():
            pos = int(np.flatnonzero(bad)[0])
            if whole_numbers:
                raise _fail(source, pos, column, f"{_show(arr[pos])} is not a whole number")
        text = np.full(len(arr), None, dtype=object)
        text[whole] = _whole_float_text(arr[whole])
        text[bad] = [repr(float(v)) for v in arr[bad]]
        out = pd.Series(text, dtype=TEXT)
    elif not pd.api.types.is_object_dtype(dtype) and pd.api.types.is_string_dtype(dtype):
        out = s.astype(TEXT)
    else:
        out = _object_to_text(s, source=source, column=column, whole_numbers=whole_numbers)
    out = out.astype(TEXT)
    return out.where(out != "", pd.NA)


def _object_to_text(s: pd.Series, *, source: str, column: str, whole_numbers: bool) -> pd.Series:
    is_str = np.array([type(v) is str for v in s.to_numpy(dtype=object)], dtype=bool)
    if is_str.all():
        return s.astype(TEXT)
    result = np.empty(len(s), dtype=object)
    values = s.to_numpy(dtype=object)
    result[is_str] = values[is_str]
    for pos in np.flatnonzero(~is_str):
        v = values[pos]
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            result[pos] = None
        elif isinstance(v, bool | np.bool_):
            if whole_numbers:
                raise _fail(source, int(pos), column, f"{_show(v)} is a boolean, not an id")
            result[pos] = str(bool(v)).lower()
        elif isinstance(v, int | np.integer):
            result[pos] = str(int(v))
        elif isinstance(v, float | np.floating | Decimal):
            if v == int(v):
                result[pos] = str(int(v))
            elif whole_numbers:
                raise _fail(source, int(pos), column, f"{_show(v)} is not a whole number")
            else:
                result[pos] = str(v)
        elif isinstance(v, bytes):
            try:
                result[pos] = v.decode("utf-8")
            except UnicodeDecodeError:
                raise _fail(source, int(pos), column, "bytes that are not UTF-8 text") from None
        elif whole_numbers:
            raise _fail(
                source,
                int(pos),
                column,
                f"{type(v).__name__} value {_show(v)} is neither text nor a whole number",
            )
        else:
            result[pos] = str(v)
    return pd.Series(result, dtype=TEXT)


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
    nulls = values.isna().to_numpy()
    if nulls.any():
        pos = int(np.flatnonzero(nulls)[0])
        raise _fail(source, pos, column, "empty object name")
    uniques = pd.unique(values.to_numpy(dtype=object))
    bad = [u for u in uniques if not _OBJECT_RE.match(str(u))]
    if bad:
        pos = int(np.flatnonzero(values.eq(bad[0]).to_numpy())[0])
        raise _fail(
            source,
            pos,
            column,
            f"malformed object name {bad[0]!r} (lower-case letters, digits and _, "
            "or an object type id such as 2-1234)",
        )


def _check_ids(ids: pd.Series, *, source: str, column: str) -> None:
    """Reject null ids; ``ids.index`` holds each value's 0-based input position."""
    nulls = ids.isna().to_numpy()
    if nulls.any():
        pos = int(ids.index[np.flatnonzero(nulls)[0]])
        raise _fail(source, pos, column, "empty id")


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
    keep = np.ones(n, dtype=bool)
    skipped: dict[str, int] = {}
    if objects is not None:
        keep = obj.isin(list(objects)).to_numpy()
        if not keep.all():
            counts = obj[~keep].value_counts()
            skipped = {str(k): int(v) for k, v in counts.items()}
    positions = np.flatnonzero(keep)
    sub = df.iloc[positions]
    ids = to_text(sub["record_id"], source=source, column="record_id")
    ids.index = positions  # positions in the input, for messages
    _check_ids(ids, source=source, column="record_id")
    out = pd.DataFrame({"object": obj.iloc[positions].to_numpy(), "record_id": ids.to_numpy()})
    out = out.astype({"object": TEXT, "record_id": TEXT})
    dup = out.duplicated(["object", "record_id"], keep=False).to_numpy()
    if dup.any():
        where = np.flatnonzero(dup)
        first = out.iloc[where[0]]
        twins = [
            int(positions[p]) + 1
            for p in where
            if out.iat[int(p), 0] == first["object"] and out.iat[int(p), 1] == first["record_id"]
        ]
        raise DataError(
            f"{source}: rows {', '.join(map(str, twins[:5]))}, column 'record_id': duplicate id "
            f"{first['record_id']!r} for object {first['object']!r}",
            file=source,
            row=twins[1] if len(twins) > 1 else twins[0],
            field="record_id",
        )
    for col in identifiers:
        if col == "record_id":
            continue
        out[col] = to_text(sub[col], source=source, column=col, whole_numbers=False).to_numpy()
        out[col] = out[col].astype(TEXT)
    if "display_name" in df.columns:
        names = to_text(
            sub["display_name"], source=source, column="display_name", whole_numbers=False
        )
        out["display_name"] = names.to_numpy()
    else:
        out["display_name"] = pd.NA
    out["display_name"] = out["display_name"].astype(TEXT)
    out["updated_at"] = _timestamps(sub, source=source, positions=positions)
    stats = TableStats(rows_read=n, rows_kept=len(out), skipped=skipped)
    return out, stats


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
            raise _fail(
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
    cols: dict[str, pd.Series] = {}
    for col in ("from_object", "to_object"):
        cols[col] = to_text(df[col], source=source, column=col, whole_numbers=False)
        _check_object_names(cols[col], source=source, column=col)
    for col in ("from_id", "to_id"):
        cols[col] = to_text(df[col], source=source, column=col)
        _check_ids(cols[col], source=source, column=col)
    cols["label"] = to_text(df["label"], source=source, column="label", whole_numbers=False)
    out = pd.DataFrame(cols)
    flipped = 0
    skipped: dict[str, int] = {}
    if pairs is not None:
        pair_set = set(pairs)
        forward_keys = pd.Series([f"{f}\x1f{t}" for f, t in pair_set], dtype=object)
        reverse_keys = pd.Series([f"{t}\x1f{f}" for f, t in pair_set if f != t], dtype=object)
        key = (out["from_object"] + "\x1f" + out["to_object"]).astype(object)
        forward = key.isin(forward_keys).to_numpy()
        reverse = key.isin(reverse_keys).to_numpy() & ~forward
        if reverse.any():
            flipped = int(reverse.sum())
            rev = out.loc[reverse]
            out.loc[reverse, ["from_object", "from_id", "to_object", "to_id"]] = rev[
                ["to_object", "to_id", "from_object", "from_id"]
            ].to_numpy()
        keep = forward | reverse
        if not keep.all():
            other = out.loc[~keep]
            counts = (other["from_object"] + "→" + other["to_object"]).value_counts()
            skipped = {str(k): int(v) for k, v in counts.items()}
            out = out.loc[keep]
    before = len(out)
    out = out.drop_duplicates(ignore_index=True)
    merged = before - len(out)
    out = out.astype(TEXT)
    stats = TableStats(
        rows_read=n, rows_kept=len(out), skipped=skipped, flipped=flipped, merged=merged
    )
    return out, stats
