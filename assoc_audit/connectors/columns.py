"""Typed source columns (Parquet, SQL results) as pandas columns the canonical tables accept.

DESIGN §4: numeric values become text without a decimal part. Integers are
turned into text here, in Arrow, exactly (no detour through float64, which
would round ids above 2**53); dictionary-encoded columns are decoded; text
columns become ``TEXT``. Floats, decimals, booleans and timestamps are left
for :func:`assoc_audit.tables.to_text` to judge (a non-whole or boolean id is
an error there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assoc_audit.text import TEXT, text_series, to_arrow_text

__all__ = ["arrow_to_frame", "isin_text", "map_text", "rows_to_frame"]

_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError)


def _text_type(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def _column(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, col.type.value_type)
    if pa.types.is_integer(col.type) or _text_type(col.type):
        col = pc.cast(col, pa.large_string())
    return col


def _mapper(t: pa.DataType) -> Any:
    return TEXT if _text_type(t) else None


def arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as a DataFrame: integers and text as ``TEXT``, others as pandas does."""
    columns = [_column(c) for c in table.columns]
    converted = pa.table(columns, names=table.column_names)
    frame: pd.DataFrame = converted.to_pandas(
        types_mapper=_mapper, split_blocks=True, self_destruct=True
    )
    return frame


def _series(values: np.ndarray) -> pd.Series:
    try:
        array = pa.array(values, from_pandas=False)
    except _ARROW_ERRORS:  # mixed types (e.g. SQLite text and integers in one column)
        return pd.Series(values, dtype=object)
    col = _column(array)
    series: pd.Series = pa.table([col], names=["c"]).to_pandas(types_mapper=_mapper)["c"]
    return series


def rows_to_frame(rows: Sequence[Sequence[Any]], names: Sequence[str]) -> pd.DataFrame:
    """Result rows (tuples of Python values) as a DataFrame, typed per column like Arrow."""
    n = len(rows)
    columns = {
        name: _series(np.fromiter(map(itemgetter(i), rows), dtype=object, count=n))
        for i, name in enumerate(names)
    }
    return pd.DataFrame(columns, copy=False)


# ---------------------------------------------------------------------------
# Text columns through Arrow (fast paths for the few operations connectors need;
# the text helpers themselves are assoc_audit.text's)


def isin_text(values: pd.Series, among: pd.Series | Sequence[str]) -> np.ndarray:
    """For each value, whether it is one of ``among`` (nulls never are), computed in Arrow."""
    pool = among if isinstance(among, pd.Series) else pd.Series(list(among), dtype=TEXT)
    found = pc.is_in(to_arrow_text(values), value_set=to_arrow_text(pool).drop_null())
    mask: np.ndarray = pc.fill_null(found, False).to_numpy(zero_copy_only=False)
    return mask


def map_text(values: pd.Series, mapping: Mapping[str, str]) -> pd.Series:
    """Text values replaced through ``mapping`` (others null), via Arrow dictionary encoding.

    Object names repeat a lot; mapping the few distinct values and decoding is
    much faster than a per-row lookup.
    """
    encoded = pc.dictionary_encode(to_arrow_text(values).combine_chunks())
    mapped = pa.array(
        [mapping.get(v) if v is not None else None for v in encoded.dictionary.to_pylist()],
        type=pa.large_string(),
    )
    decoded = pa.DictionaryArray.from_arrays(encoded.indices, mapped).cast(pa.large_string())
    out = text_series(decoded, values.index)
    out.name = values.name
    return out
