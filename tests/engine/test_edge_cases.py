"""Edge cases: empty sides, nothing to match, tables without optional columns."""

from __future__ import annotations

import pandas as pd
from engine_support import brief, make_config, make_side, world, world_config, world_records

from assoc_audit.audit import run_audit
from assoc_audit.findings import FINDING_COLUMNS
from assoc_audit.matching import RECORDS_COLUMNS
from assoc_audit.tables import SideTables, empty_associations, empty_records


def test_both_sides_empty(tmp_path):
    config = world_config()
    empty = SideTables("hubspot", empty_records(["email", "domain"]), empty_associations())
    empty_app = SideTables("app", empty_records(["email", "website"]), empty_associations())
    result = run_audit(config, hubspot=empty, app=empty_app, out=tmp_path / "o")
    assert result.findings.empty and list(result.findings.columns) == list(FINDING_COLUMNS)
    assert result.records.empty and list(result.records.columns) == list(RECORDS_COLUMNS)
    assert result.summary.links["hubspot"] == 0
    assert (tmp_path / "o" / "findings.csv").read_text().startswith("finding_id,")


def test_one_side_empty():
    config = world_config()
    h, _ = world(config, [("c1", "k1", "Primary")])
    a = SideTables("app", empty_records(["email", "website"]), empty_associations())
    result = run_audit(config, hubspot=h, app=a)
    assert brief(result) == [
        ("hubspot", "c1", "k1", None, "record_unmatched", "none"),
        ("hubspot", "c1", "k1", "Primary", "unsupported_in_app", "none"),
    ]
    assert set(result.records["status"]) == {"unmatched"}


def test_no_object_has_rules():
    config = make_config(
        objects={"tickets": {"sync": "off"}},
        associations=[{"from": "tickets", "to": "companies"}],
    )
    h = make_side(
        config,
        "hubspot",
        [("tickets", "1"), ("companies", "2")],
        [("tickets", "1", "companies", "2", None)],
    )
    a = make_side(config, "app", [], [])
    result = run_audit(config, hubspot=h, app=a)
    assert brief(result) == [("hubspot", "1", "2", None, "object_sync_off", "none")]
    assert result.records.empty


def test_tables_without_display_names_use_identifiers_then_ids():
    config = world_config()
    h, a = world(config, [("c1", "k1")], [])
    records = h.records.drop(columns=["display_name"])
    h = SideTables("hubspot", records, h.associations)
    detail = run_audit(config, hubspot=h, app=a).findings["detail"].iloc[0]
    assert "contact 'e1@x.io'" in detail and "company 'd1.com'" in detail


def test_unvalidated_rows_of_other_pairs_are_left_out():
    config = world_config()
    h, a = world(config, [("c1", "k1")], [("p1", "o1")])
    extra = pd.DataFrame(
        {
            "from_object": ["deals"],
            "from_id": ["g1"],
            "to_object": ["companies"],
            "to_id": ["k1"],
            "label": [None],
        },
        dtype="string[pyarrow]",
    )
    h = SideTables("hubspot", h.records, pd.concat([h.associations, extra], ignore_index=True))
    result = run_audit(config, hubspot=h, app=a)
    assert result.findings.empty
    assert result.summary.links["hubspot_rows_left_out"] == 1


def test_long_duplicate_lists_are_cut_in_details():
    config = world_config()
    app_records = world_records("app") + [
        ("contacts", f"dup{i}", {"email": "e1@x.io"}, None) for i in range(7)
    ]
    h, a = world(config, [("c1", "k1")], [], app_records=app_records)
    (detail,) = run_audit(config, hubspot=h, app=a).findings["detail"]
    assert "(Acme CRM p1, dup0, dup1, dup2, dup3 and 3 more)" in detail
