"""Canonical text columns (DESIGN §4): Arrow-backed pandas text, and turning values into it.

Ids and identifier values are text. :data:`TEXT` is the one text dtype of the
canonical tables (``pd.StringDtype("pyarrow")``, ``<NA>`` for null);
:func:`to_text` turns any column into it (text verbatim, empty text null,
whole numbers without a decimal part); :func:`arrow_text` and
:func:`text_series` move between such columns and Arrow without copying, and
:func:`to_arrow_text` gives any column as Arrow text.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assoc_audit.errors import DataError

__all__ = ["TEXT", "arrow_text", "row_error", "text_series", "to_arrow_text", "to_text"]

TEXT = pd.StringDtype("pyarrow")


def row_error(source: str, position: int, column: str, problem: str) -> DataError:
    """The error for a bad value at 0-based ``position`` of ``column`` (rows count from 1)."""
    row = position + 1
    return DataError(
        f"{source}: row {row}, column {column!r}: {problem}", file=source, row=row, field=column
    )


def _show(value: Any) -> str:
    """repr() of a value as a user wrote it (numpy scalars shown as plain Python values)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def arrow_text(values: pd.Series) -> pa.ChunkedArray | None:
    """The column's Arrow string data, without copying, when it is Arrow-backed text."""
    dtype = values.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        pass
    elif isinstance(dtype, pd.ArrowDtype) and (
        pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(dtype.pyarrow_dtype)
    ):
        pass
    else:
        return None
    data: Any = values.array
    arrow = data.__arrow_array__()
    return arrow if isinstance(arrow, pa.ChunkedArray) else pa.chunked_array([arrow])


def to_arrow_text(values: pd.Series) -> pa.ChunkedArray:
    """Any column as Arrow text (converted to :data:`TEXT` first when it is not Arrow text)."""
    arrow = arrow_text(values)
    if arrow is None:
        arrow = arrow_text(values.astype(TEXT))
    assert arrow is not None
    return arrow


def text_series(values: pa.ChunkedArray | pa.Array, index: pd.Index | None = None) -> pd.Series:
    """A canonical text column (:data:`TEXT`) over Arrow string data (with ``index``)."""
    if isinstance(values, pa.Array):
        values = pa.chunked_array([values])
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = values.cast(pa.large_string())
    series = pd.Series(pd.arrays.ArrowStringArray(values), copy=False)
    return series if index is None else series.set_axis(index)


def _empty_to_null(values: pa.ChunkedArray) -> pa.ChunkedArray:
    empty = pc.equal(values, "")
    if not pc.any(empty).as_py():
        return values
    result: pa.ChunkedArray = pc.if_else(empty, pa.scalar(None, values.type), values)
    return result


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
    arrow = arrow_text(values)
    if arrow is not None:  # text already (the common case): stay in Arrow
        return text_series(_empty_to_null(arrow))
    s = values.reset_index(drop=True)
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        if whole_numbers and s.notna().any():
            pos = int(np.flatnonzero(s.notna().to_numpy())[0])
            raise row_error(source, pos, column, f"{_show(s.iloc[pos])} is a boolean, not an id")
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
                raise row_error(source, pos, column, f"{_show(arr[pos])} is not a whole number")
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
                raise row_error(source, int(pos), column, f"{_show(v)} is a boolean, not an id")
            result[pos] = str(bool(v)).lower()
        elif isinstance(v, int | np.integer):
            result[pos] = str(int(v))
        elif isinstance(v, float | np.floating | Decimal):
            if v == int(v):
                result[pos] = str(int(v))
            elif whole_numbers:
                raise row_error(source, int(pos), column, f"{_show(v)} is not a whole number")
            else:
                result[pos] = str(v)
        elif isinstance(v, bytes):
            try:
                result[pos] = v.decode("utf-8")
            except UnicodeDecodeError:
                raise row_error(source, int(pos), column, "bytes that are not UTF-8 text") from None
        elif whole_numbers:
            raise row_error(
                source,
                int(pos),
                column,
                f"{type(v).__name__} value {_show(v)} is neither text nor a whole number",
            )
        else:
            result[pos] = str(v)
    return pd.Series(result, dtype=TEXT)
