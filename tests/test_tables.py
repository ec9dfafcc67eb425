from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from assoc_audit.errors import DataError
from assoc_audit.tables import TEXT, validate_associations, validate_records


def records(**cols):
    base = {
        "object": ["contacts", "contacts", "companies"],
        "record_id": ["1", "007", "1"],
        "email": ["a@x.io", None, "c@x.io"],
    }
    base.update(cols)
    return pd.DataFrame(base)


def test_records_roundtrip_keeps_text_verbatim():
    out, stats = validate_records(records(), source="r.csv", identifiers=["email"])
    assert out["record_id"].tolist() == ["1", "007", "1"]
    assert out["record_id"].dtype == TEXT
    assert out["email"].isna().tolist() == [False, True, False]
    assert stats.rows_read == stats.rows_kept == 3


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        (pd.Series([1, 2, 3], dtype="int64"), ["1", "2", "3"]),
        (pd.Series([1.0, 2.0, 3.0]), ["1", "2", "3"]),
        (pd.Series([42, "007", Decimal("5")], dtype=object), ["42", "007", "5"]),
        (pd.Series([10**15, 2, 3], dtype="Int64"), ["1000000000000000", "2", "3"]),
    ],
)
def test_numeric_ids_become_whole_text(ids, expected):
    out, _ = validate_records(records(record_id=ids), source="r", identifiers=[])
    assert out["record_id"].tolist() == expected


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (
            pd.Series([1.0, 2.5, 3.0]),
            "r.parquet: row 2, column 'record_id': 2.5 is not a whole number",
        ),
        (pd.Series(["1", "", "3"]), "r.parquet: row 2, column 'record_id': empty id"),
        (pd.Series(["1", None, "3"], dtype=object), "row 2, column 'record_id': empty id"),
        (pd.Series([True, False, True]), "row 1, column 'record_id': True is a boolean"),
        (pd.Series(["1", 2.5, "3"], dtype=object), "row 2, column 'record_id': 2.5 is not a whole"),
        (pd.Series(["1", [1], "3"], dtype=object), "row 2, column 'record_id': list value"),
    ],
)
def test_bad_ids(ids, message):
    with pytest.raises(DataError) as info:
        validate_records(records(record_id=ids), source="r.parquet", identifiers=[])
    assert message in str(info.value)
    assert info.value.file == "r.parquet" and info.value.field == "record_id"


def test_duplicate_ids_name_both_rows():
    df = records(record_id=["5", "6", "5"], object=["contacts", "contacts", "contacts"])
    with pytest.raises(DataError, match=r"rows 1, 3, column 'record_id': duplicate id '5'") as info:
        validate_records(df, source="people.csv", identifiers=[])
    assert info.value.row == 3


def test_same_id_in_two_objects_is_fine():
    out, _ = validate_records(records(), source="r", identifiers=[])
    assert len(out) == 3


def test_missing_columns_listed():
    df = pd.DataFrame({"object": ["contacts"]})
    with pytest.raises(DataError, match=r"missing columns 'record_id', 'email'"):
        validate_records(df, source="r", identifiers=["email"])


@pytest.mark.parametrize("bad", ["Contacts", "", "con tacts", None, "2-"])
def test_malformed_object_names(bad):
    df = records(object=["contacts", bad, "companies"])
    with pytest.raises(DataError, match=r"row 2, column 'object'"):
        validate_records(df, source="r", identifiers=[])


def test_unaudited_objects_skipped_and_counted():
    df = records(object=["contacts", "line_items", "line_items"], record_id=["1", "2", "3"])
    out, stats = validate_records(df, source="r", identifiers=["email"], objects=["contacts"])
    assert out["record_id"].tolist() == ["1"]
    assert stats.skipped == {"line_items": 2}
    assert stats.rows_skipped == 2


def test_skipped_rows_are_not_validated_further():
    df = records(object=["contacts", "line_items"], record_id=["1", None], email=["a", "b"])
    out, stats = validate_records(df, source="r", identifiers=["email"], objects=["contacts"])
    assert len(out) == 1 and stats.rows_skipped == 1


def test_updated_at_parsed_to_utc_and_bad_values_named():
    df = records(updated_at=["2024-01-01T10:00:00Z", None, "2024-01-01T12:00:00+02:00"])
    out, _ = validate_records(df, source="r", identifiers=[])
    assert str(out["updated_at"].dtype) == "datetime64[us, UTC]"
    assert out["updated_at"].iloc[0] == out["updated_at"].iloc[2]
    with pytest.raises(DataError, match=r"row 3, column 'updated_at': 'yesterday'"):
        validate_records(
            records(updated_at=["2024-01-01", None, "yesterday"]), source="r", identifiers=[]
        )


def edges(**cols):
    base = {
        "from_object": ["contacts", "companies", "contacts", "contacts", "deals"],
        "from_id": ["1", "9", "1", "2", "4"],
        "to_object": ["companies", "contacts", "companies", "companies", "line_items"],
        "to_id": ["9", "1", "9", "9", "1"],
        "label": [None, None, None, "Primary", ""],
    }
    base.update(cols)
    return pd.DataFrame(base)


def test_associations_flip_merge_and_skip():
    out, stats = validate_associations(edges(), source="a.csv", pairs=[("contacts", "companies")])
    assert (
        out.to_dict("records")
        == [
            {
                "from_object": "contacts",
                "from_id": "1",
                "to_object": "companies",
                "to_id": "9",
                "label": pd.NA,
            },
            {
                "from_object": "contacts",
                "from_id": "2",
                "to_object": "companies",
                "to_id": "9",
                "label": "Primary",
            },
        ]
        or len(out) == 2
    )
    assert out["label"].isna().tolist() == [True, False]
    assert stats.flipped == 1
    assert stats.merged == 2
    assert stats.skipped == {"deals→line_items": 1}


def test_self_pairs_never_flip():
    df = pd.DataFrame(
        {
            "from_object": ["companies"],
            "from_id": ["1"],
            "to_object": ["companies"],
            "to_id": ["2"],
            "label": ["Parent"],
        }
    )
    out, stats = validate_associations(df, source="a", pairs=[("companies", "companies")])
    assert out[["from_id", "to_id"]].values.tolist() == [["1", "2"]]
    assert stats.flipped == 0


def test_association_errors_name_row_and_column():
    with pytest.raises(DataError, match=r"links.csv: row 3, column 'to_id': empty id"):
        validate_associations(edges(to_id=["9", "1", None, "9", "1"]), source="links.csv")
    with pytest.raises(DataError, match=r"row 2, column 'from_object': malformed object name"):
        validate_associations(
            edges(from_object=["contacts", "Companies!", "contacts", "contacts", "deals"]),
            source="links.csv",
        )
    with pytest.raises(DataError, match=r"missing column 'label'"):
        validate_associations(edges().drop(columns="label"), source="links.csv")


def test_odd_ids_survive():
    odd = ['a,"b"', "ünï", "x" * 500, "  spaced  ", "0"]
    df = edges(from_id=odd, to_id=odd)
    out, _ = validate_associations(df, source="a")
    assert sorted(out["from_id"].tolist()) == sorted(odd)


def test_float_nan_ids_are_empty():
    with pytest.raises(DataError, match="empty id"):
        validate_associations(edges(from_id=[1.0, np.nan, 2.0, 3.0, 4.0]), source="a")
