"""Canonical text columns (DESIGN §4): Arrow-backed pandas text, and turning values into it.

Ids and identifier values are text. :data:`TEXT` is the one text dtype of the
canonical tables (``pd.StringDtype("pyarrow")``, ``<NA>`` for null);
:func:`to_text` turns any column into it (text verbatim, empty text null,
whole numbers without a decimal part); :func:`arrow_text` and
:func:`text_series` move between such columns and Arrow without copying,
:func:`to_arrow_text` gives any column as Arrow text, and
:func:`canonical_arrow_text` does what :func:`to_text` does for Arrow text data.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assoc_audit.errors import DataError

__all__ = [
    "TEXT",
    "CodedText",
    "arrow_text",
    "canonical_arrow_text",
    "code_text",
    "is_text_dictionary",
    "is_text_type",
    "row_error",
    "text_series",
    "to_arrow_text",
    "to_text",
]

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


def is_text_type(dtype: pa.DataType) -> bool:
    """Whether Arrow data of ``dtype`` is text as it stands (``string`` or ``large_string``)."""
    return bool(pa.types.is_string(dtype) or pa.types.is_large_string(dtype))


def is_text_dictionary(dtype: pa.DataType) -> bool:
    """Whether ``dtype`` is dictionary-encoded Arrow text (:func:`is_text_type` values)."""
    return bool(pa.types.is_dictionary(dtype) and is_text_type(dtype.value_type))


def canonical_arrow_text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Arrow text (:func:`is_text_type`) as canonical text: ``large_string``, empty text null.

    The same values :func:`to_text` gives for such a column, without pandas.
    """
    if not pa.types.is_large_string(values.type):
        values = values.cast(pa.large_string())
    return _empty_to_null(values)


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


# ---------------------------------------------------------------------------
# Text with few distinct values (object names, labels) as integer codes


@dataclass(frozen=True)
class CodedText:
    """A canonical text column as row codes into ``names`` (-1: null).

    ``codes`` has the smallest signed integer type that holds them; equal
    texts have equal codes and ``names`` are distinct.
    """

    codes: np.ndarray
    names: list[str]

    def take(self, rows: np.ndarray) -> CodedText:
        return CodedText(self.codes[rows], self.names)

    def recoded(self, names: list[str]) -> CodedText:
        """The same values as codes into ``names`` (which holds all of this column's)."""
        if names[: len(self.names)] == self.names:
            return CodedText(self.codes, names)
        index = {v: i for i, v in enumerate(names)}
        lut = np.array([index[v] for v in self.names] + [-1], dtype=_code_type(len(names)))
        return CodedText(lut[self.codes], names)

    def text(self) -> pa.ChunkedArray:
        """The column as canonical Arrow text (``large_string``)."""
        nulls = self.codes < 0
        codes = pa.array(self.codes, mask=nulls) if nulls.any() else pa.array(self.codes)
        return pa.chunked_array([pa.array(self.names, pa.large_string()).take(codes)])


def _code_type(names: int) -> type[np.signedinteger[Any]]:
    """The smallest signed integer type for codes into ``names`` values (and -1)."""
    return np.int8 if names < 2**7 else np.int16 if names < 2**15 else np.int32


def code_text(column: pa.ChunkedArray) -> CodedText:
    """Canonical Arrow text, or dictionary-encoded Arrow text, as :class:`CodedText`.

    Empty text in a dictionary is null, as :func:`to_text` makes it; a
    dictionary's values need not occur in the column.
    """
    if not is_text_dictionary(column.type):
        column = pc.dictionary_encode(column)
    if sum(len(chunk.dictionary) for chunk in column.chunks) > 2**16:
        column = column.unify_dictionaries()  # large dictionaries: read once
    dtype = _code_type(sum(len(chunk.dictionary) for chunk in column.chunks))
    codes = np.empty(len(column), dtype=dtype)
    names: dict[str, int] = {}
    dictionary, lut, identity, at = None, np.empty(0, dtype=dtype), False, 0
    for chunk in column.chunks:
        if dictionary is None or not chunk.dictionary.equals(dictionary):
            dictionary = chunk.dictionary
            values = dictionary.to_pylist()
            lut = np.array(
                [-1 if v is None or v == "" else names.setdefault(v, len(names)) for v in values]
                + [-1],  # for null indices
                dtype=dtype,
            )
            identity = bool((lut[:-1] == np.arange(len(values))).all())
        out, indices = codes[at : at + len(chunk)], chunk.indices
        at += len(chunk)
        if indices.null_count:
            indices = pc.fill_null(indices.cast(pa.int64()), len(lut) - 1)
            np.take(lut, indices.to_numpy(), out=out)
        elif identity:
            out[:] = indices.to_numpy()
        else:
            np.take(lut, indices.to_numpy(), out=out)
    return CodedText(codes, list(names))
