"""Matching (DESIGN §5) and records.csv (DESIGN §6)."""

from __future__ import annotations

import pandas as pd
import pytest
from engine_support import make_config, make_side

from assoc_audit.audit import run_audit
from assoc_audit.errors import DataError
from assoc_audit.matching import MatchStatus, match_records

TWO_RULES = {
    "contacts": {
        "sync": "two_way",
        "match": [
            {"hubspot": "acme_id", "app": "id"},
            {"hubspot": "email", "app": "email", "normalize": "email"},
        ],
    }
}
ASSOC = [{"from": "contacts", "to": "contacts"}]


def _config(objects=None):
    return make_config(objects=objects or TWO_RULES, associations=ASSOC)


def _records(result) -> list[tuple]:
    df = result.records
    return [
        tuple(None if v is pd.NA else v for v in row)
        for row in df[["object", "hubspot_id", "app_id", "rule", "status"]].itertuples(index=False)
    ]


def _run(config, hubspot_records, app_records):
    h = make_side(config, "hubspot", hubspot_records)
    a = make_side(config, "app", app_records)
    return run_audit(config, hubspot=h, app=a)


def test_rules_in_order_and_pool_shrinks():
    config = _config()
    result = _run(
        config,
        [
            ("contacts", "1", {"acme_id": "A1", "email": "x@y.io"}),
            ("contacts", "2", {"acme_id": None, "email": "Two@Y.io "}),
            ("contacts", "3", {"acme_id": "A3", "email": "three@y.io"}),
        ],
        [
            ("contacts", "A1", {"email": "other@y.io"}),
            ("contacts", "p2", {"email": "two@y.io"}),
            ("contacts", "p3", {"email": "x@y.io"}),  # would pair with 1 by email, but 1 left
        ],
    )
    assert _records(result) == [
        ("contacts", None, "p3", 1, "unmatched"),  # rule 1 grouped it (its id), alone
        ("contacts", "1", "A1", 1, "matched"),
        ("contacts", "2", "p2", 2, "matched"),
        ("contacts", "3", None, 1, "unmatched"),
    ]
    assert result.summary.matching["contacts"]["matched"] == 2


def test_ambiguous_groups_are_never_paired_and_listed():
    config = _config()
    result = _run(
        config,
        [
            ("contacts", "1", {"email": "dup@y.io"}),
            ("contacts", "2", {"email": "dup@y.io"}),
            ("contacts", "3", {"email": "solo@y.io"}),
            ("contacts", "4", {"email": "same@y.io"}),
            ("contacts", "5", {"email": "same@y.io"}),
        ],
        [
            ("contacts", "p10", {"email": "dup@y.io"}),
            ("contacts", "p9", {"email": "DUP@y.io"}),
            ("contacts", "p3", {"email": "solo@y.io"}),
        ],
    )
    assert _records(result) == [
        ("contacts", "1", "p9;p10", 2, "ambiguous"),
        ("contacts", "2", "p9;p10", 2, "ambiguous"),
        ("contacts", "3", "p3", 2, "matched"),
        ("contacts", "4", None, 2, "unmatched"),  # one-sided duplicates are not ambiguous
        ("contacts", "5", None, 2, "unmatched"),
        ("contacts", "1;2", "p9", 2, "ambiguous"),
        ("contacts", "1;2", "p10", 2, "ambiguous"),
    ]


def test_records_csv_sorted_by_length_then_text():
    config = _config()
    result = _run(
        config,
        [("contacts", i, {"email": f"{i}@y.io"}) for i in ("10", "9", "100", "1")],
        [("contacts", f"a{i}", {"email": f"{i}@y.io"}) for i in ("10", "9", "100", "1")],
    )
    assert [r[1] for r in _records(result)] == ["1", "9", "10", "100"]


def test_ambiguous_then_matched_by_a_later_rule():
    config = _config()
    hubspot = [
        ("contacts", "1", {"acme_id": "X", "email": "one@y.io"}),
        ("contacts", "2", {"acme_id": "X", "email": "two@y.io"}),
    ]
    app = [("contacts", "X", {"email": "one@y.io"})]
    result = _run(config, hubspot, app)
    assert _records(result) == [
        ("contacts", "1", "X", 2, "matched"),
        ("contacts", "2", "X", 1, "ambiguous"),
    ]


def test_null_keys_never_match_or_make_ambiguous():
    config = _config()
    result = _run(
        config,
        [("contacts", "1", {"email": None}), ("contacts", "2", {"email": ""})],
        [("contacts", "p1", {"email": None}), ("contacts", "p2", {"email": " "})],
    )
    rows = _records(result)
    assert {r[4] for r in rows} == {"unmatched"}
    # rule 1 (acme_id = id) grouped the app records by their ids; nothing grouped HubSpot's
    assert [(r[1], r[2], r[3]) for r in rows] == [
        (None, "p1", 1),
        (None, "p2", 1),
        ("1", None, None),
        ("2", None, None),
    ]


def test_match_arrays_and_objects_without_rules():
    config = make_config(
        objects={**TWO_RULES, "tickets": {"sync": "off"}},
        associations=[{"from": "tickets", "to": "contacts"}],
    )
    h = make_side(config, "hubspot", [("contacts", "1", {"email": "a@b"}), ("tickets", "t", {})])
    a = make_side(config, "app", [("tickets", "t", {}), ("contacts", "p", {"email": "A@B"})])
    matches = match_records(config, h, a)
    assert matches.hubspot.status.tolist() == [MatchStatus.MATCHED, MatchStatus.NOT_MATCHED]
    assert matches.app.status.tolist() == [MatchStatus.NOT_MATCHED, MatchStatus.MATCHED]
    assert matches.hubspot.partner.tolist() == [1, -1]
    assert "tickets" not in matches.counts
    result = run_audit(config, hubspot=h, app=a)
    assert {r[0] for r in _records(result)} == {"contacts"}


def test_missing_rule_column_is_a_data_error():
    config = _config()
    h = make_side(config, "hubspot", [("contacts", "1", {"email": "a@b"})])
    h = type(h)(h.side, h.records.drop(columns=["email"]), h.associations)
    a = make_side(config, "app", [("contacts", "p", {"email": "a@b"})])
    with pytest.raises(DataError, match="'email'"):
        match_records(config, h, a)
