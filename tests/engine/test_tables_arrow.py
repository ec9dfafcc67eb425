"""Validation of Arrow tables (snapshots) and its fast paths: dictionary-encoded columns, object
and label codes, duplicate rows found by hash and confirmed exactly. The results must equal those
of the same data as a DataFrame (the connectors' path), errors included."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from engine_support import world, world_config

import assoc_audit.tables as tables
from assoc_audit.errors import DataError
from assoc_audit.snapshot import read_side, write_side
from assoc_audit.tables import TEXT, validate_associations, validate_records
from assoc_audit.text import code_text

PAIRS = [("contacts", "companies"), ("deals", "contacts")]


def links_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "from_object": ["contacts", "companies", "contacts", "deals", "deals", "contacts"],
            "from_id": ["1", "9", "1", "4", "4", "2"],
            "to_object": [
                "companies",
                "contacts",
                "companies",
                "line_items",
                "contacts",
                "companies",
            ],
            "to_id": ["9", "1", "9", "1", "2", "9"],
            "label": [None, None, "", "x", "Primary", "Primary"],
        }
    )


def dictionary_table(df: pd.DataFrame, columns: list[str], chunks: int = 3) -> pa.Table:
    """``df`` as Arrow, ``columns`` dictionary-encoded chunk by chunk (a dictionary per chunk)."""
    bounds = np.linspace(0, len(df), chunks + 1).astype(int)
    out = {}
    for col in df.columns:
        parts = [
            pa.array(df[col].iloc[a:b].astype(object).where(df[col].iloc[a:b].notna(), None))
            for a, b in itertools.pairwise(bounds)
        ]
        parts = [p.cast(pa.string()) if pa.types.is_null(p.type) else p for p in parts]
        if col in columns:
            parts = [p.dictionary_encode() for p in parts]
        out[col] = pa.chunked_array(parts)
    return pa.table(out)


def assert_same(arrow_result, frame_result):
    (a, a_stats), (f, f_stats) = arrow_result, frame_result
    pd.testing.assert_frame_equal(a, f)
    assert a_stats == f_stats
    assert all(a[c].dtype == TEXT for c in a.columns if c != "updated_at")


# ---------------------------------------------------------------------------
# Dictionary-encoded and Arrow input


@pytest.mark.parametrize("pairs", [None, PAIRS])
def test_dictionary_columns_give_the_tables_plain_text_gives(pairs):
    df = links_frame()
    for chunks in (1, 2, 3):
        table = dictionary_table(df, ["from_object", "to_object", "label"], chunks)
        assert_same(
            validate_associations(table, source="a", pairs=pairs),
            validate_associations(df, source="a", pairs=pairs),
        )


def test_dictionary_values_that_never_occur_are_not_checked():
    df = links_frame()
    table = dictionary_table(df, [])
    names = pa.array(["Not An Object", "contacts", "companies", "deals", "line_items"])
    for col in ("from_object", "to_object"):
        codes = pa.array([names.to_pylist().index(v) for v in df[col]], pa.int32())
        column = pa.chunked_array([pa.DictionaryArray.from_arrays(codes, names)])
        table = table.set_column(table.schema.get_field_index(col), col, column)
    _, stats = validate_associations(table, source="a", pairs=PAIRS)
    assert stats.rows_kept == 3 and stats.flipped == 1 and stats.merged == 2


def test_dictionary_columns_report_the_same_errors():
    bad = links_frame()
    bad.loc[4, "to_object"] = "Contacts"
    empty = links_frame()
    empty.loc[2, "from_object"] = ""
    for df, message in (
        (bad, "row 5, column 'to_object': malformed"),
        (empty, "row 3, column 'from_object': empty object name"),
    ):
        table = dictionary_table(df, ["from_object", "to_object"])
        with pytest.raises(DataError, match=message):
            validate_associations(table, source="a", pairs=PAIRS)
        with pytest.raises(DataError, match=message):
            validate_associations(df, source="a", pairs=PAIRS)


def test_code_text_null_indices_empty_text_and_differing_chunk_dictionaries():
    column = pa.chunked_array(
        [
            pa.DictionaryArray.from_arrays(pa.array([0, None, 1], pa.int8()), pa.array(["b", ""])),
            pa.DictionaryArray.from_arrays(pa.array([1, 0], pa.int8()), pa.array(["a", "b"])),
            pa.DictionaryArray.from_arrays(pa.array([], pa.int8()), pa.array([], pa.string())),
        ]
    )
    coded = code_text(column)
    assert coded.text().to_pylist() == ["b", None, None, "b", "a"]
    assert sorted(coded.names) == ["a", "b"]
    plain = code_text(pa.chunked_array([pa.array(["x", None, "y", "x"], pa.large_string())]))
    assert plain.text().to_pylist() == ["x", None, "y", "x"]


def test_records_from_arrow_with_dictionary_objects_and_numeric_ids():
    df = pd.DataFrame(
        {
            "object": ["contacts", "line_items", "contacts", "companies"],
            "record_id": pd.array([10**15 + 1, 2, None, 4], dtype="Int64"),
            "email": ["a@x.io", "b", "", None],
        }
    )
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.set_column(0, "object", table.column("object").dictionary_encode())
    ok = df.iloc[[0, 1, 3]]
    assert_same(
        validate_records(table.take([0, 1, 3]), source="r", identifiers=["email"]),
        validate_records(ok, source="r", identifiers=["email"]),
    )
    out, stats = validate_records(
        table.take([0, 1, 3]), source="r", identifiers=["email"], objects=["contacts", "companies"]
    )
    assert out["record_id"].tolist() == ["1000000000000001", "4"]
    assert stats.skipped == {"line_items": 1}
    with pytest.raises(DataError, match=r"row 3, column 'record_id': empty id"):
        validate_records(table, source="r", identifiers=["email"])


def test_an_index_saved_by_pandas_is_not_a_column():
    df = pd.DataFrame({"object": ["contacts"], "email": ["a"]}, index=pd.Index([7], name="i"))
    table = pa.Table.from_pandas(df)  # the named index is stored as column "i"
    with pytest.raises(
        DataError, match=r"missing column 'record_id' \(columns present: object, email\)"
    ):
        validate_records(table, source="r", identifiers=["email"])


# ---------------------------------------------------------------------------
# Duplicate rows: hash collisions are compared exactly


def colliding(monkeypatch, buckets: int) -> None:
    """Make every row hash into one of ``buckets`` values (many collisions)."""
    real = tables._row_hashes

    def few(codes, texts):
        return real(codes, texts) % np.uint64(buckets)

    monkeypatch.setattr(tables, "_row_hashes", few)


@pytest.mark.parametrize("buckets", [1, 2, 3])
def test_hash_collisions_are_not_duplicates(monkeypatch, buckets):
    df = links_frame()
    expected = validate_associations(df, source="a", pairs=PAIRS)
    colliding(monkeypatch, buckets)
    assert_same(validate_associations(df, source="a", pairs=PAIRS), expected)
    distinct = pd.DataFrame(
        {
            "from_object": ["contacts"] * 4,
            "from_id": ["1", "2", "1", "3"],
            "to_object": ["companies"] * 4,
            "to_id": ["9", "9", "8", "9"],
            "label": [None, "Primary", None, None],
        }
    )
    out, stats = validate_associations(distinct, source="a", pairs=PAIRS)
    assert stats.merged == 0 and len(out) == 4


@pytest.mark.parametrize("buckets", [1, 2])
def test_duplicate_ids_found_among_colliding_records(monkeypatch, buckets):
    colliding(monkeypatch, buckets)
    fine = pd.DataFrame(
        {"object": ["contacts", "companies", "contacts"], "record_id": ["1", "1", "2"]}
    )
    out, _ = validate_records(fine, source="r")
    assert len(out) == 3
    twins = pd.DataFrame(
        {
            "object": ["contacts", "companies", "contacts", "contacts"],
            "record_id": ["1", "5", "2", "1"],
        }
    )
    with pytest.raises(DataError, match=r"rows 1, 4, column 'record_id': duplicate id '1'") as info:
        validate_records(twins, source="r")
    assert info.value.row == 4


def test_duplicates_with_many_objects_and_labels_use_separate_codes():
    n = 2300  # 1000 objects x 1000 objects x 2300 labels do not fit one 32-bit code
    df = pd.DataFrame(
        {
            "from_object": [f"o{i % 1000}" for i in range(n)],
            "from_id": ["1"] * n,
            "to_object": [f"o{(i * 7) % 1000}" for i in range(n)],
            "to_id": ["2"] * n,
            "label": [f"l{i}" for i in range(n)],
        }
    )
    twice = pd.concat([df, df.iloc[[5, 17]]], ignore_index=True)
    out, stats = validate_associations(twice, source="a")
    assert stats.merged == 2
    pd.testing.assert_frame_equal(out, validate_associations(df, source="a")[0])


# ---------------------------------------------------------------------------
# Snapshots


def test_snapshot_without_updated_at_or_display_name(tmp_path):
    config = world_config()
    h, _ = world(config, [("c1", "k1"), ("c2", "k2")])
    write_side(tmp_path / "in", h)
    records = pq.read_table(tmp_path / "in" / "records.parquet")
    pq.write_table(
        records.drop_columns(["updated_at", "display_name"]), tmp_path / "in" / "records.parquet"
    )
    side = read_side(tmp_path / "in", side="hubspot", config=config)
    assert str(side.records["updated_at"].dtype) == "datetime64[us, UTC]"
    assert side.records["updated_at"].isna().all() and side.records["display_name"].isna().all()
    assert side.records["display_name"].dtype == TEXT
    pd.testing.assert_frame_equal(side.associations, h.associations)


def test_snapshot_with_categorical_and_plain_string_columns(tmp_path):
    config = world_config()
    h, _ = world(config, [("c1", "k1"), ("c2", "k2")])
    write_side(tmp_path / "in", h)
    expected = read_side(tmp_path / "in", side="hubspot", config=config)
    for name in ("records", "associations"):
        frame = getattr(h, name).astype(
            {c: "category" for c in ("object", "from_object", "label") if c in getattr(h, name)}
        )
        table = pa.Table.from_pandas(frame, preserve_index=False)
        text = [i for i, f in enumerate(table.schema) if pa.types.is_large_string(f.type)]
        for i in text:  # 32-bit offsets, as other writers store text
            table = table.set_column(
                i, table.schema.field(i).name, table.column(i).cast(pa.string())
            )
        pq.write_table(table, tmp_path / "in" / f"{name}.parquet", row_group_size=3)
    side = read_side(tmp_path / "in", side="hubspot", config=config)
    pd.testing.assert_frame_equal(side.records, expected.records)
    pd.testing.assert_frame_equal(side.associations, expected.associations)
    assert side.record_stats == expected.record_stats
    assert side.association_stats == expected.association_stats
