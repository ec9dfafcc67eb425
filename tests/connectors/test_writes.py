"""Reading and writing back through every app backend: CSV, Parquet, SQLite (tables and
views with INSTEAD OF triggers) and PostgreSQL (tables and a view)."""

from __future__ import annotations

import pandas as pd
import pytest
from appdata import expected_links, expected_records, rows

from assoc_audit.connectors import Connector, Edge, connector_for, edge_table, load_side
from assoc_audit.errors import DataError


def link(f, fid, t, tid, label=None):
    return {"from_object": f, "from_id": fid, "to_object": t, "to_id": tid, "label": label}


def test_round_trip(backend):
    side = load_side(backend(), "app")
    assert rows(side.records) == expected_records()
    assert rows(side.associations) == expected_links()
    assert side.association_stats.skipped == {"widgets→persons": 1, "deals→companies": 1}
    assert (side.association_stats.flipped, side.association_stats.merged) == (1, 1)


def test_create_edges_outcomes_and_reread(backend):
    config = backend()
    connector = connector_for(config, "app")
    assert isinstance(connector, Connector)
    asked = pd.DataFrame(
        [
            link("contacts", "9", "companies", "o2"),  # new
            link("companies", "o1", "contacts", "007", "primary"),  # stored, given reversed
            link("contacts", "9", "companies", "o2", "primary"),  # new label
            link("contacts", "9", "companies", "o2"),  # repeated in this call
            link("deals", "1001", "companies", "o1"),  # pair not audited
            link("deals", "1002", "contacts", "8", "participant"),  # new
        ]
    )
    result = connector.create_edges(asked)
    assert result.outcomes["status"].tolist() == ["ok", "already", "ok", "already", "failed", "ok"]
    assert "deals→companies is not audited" in result.outcomes["message"].iloc[4]
    assert (result.ok, result.already, result.failed) == (3, 2, 1)
    # outcomes are in the pair's direction
    assert result.outcomes.iloc[1][["from_object", "from_id"]].tolist() == ["contacts", "007"]
    added = [
        link("contacts", "9", "companies", "o2"),
        link("contacts", "9", "companies", "o2", "primary"),
        link("deals", "1002", "contacts", "8", "participant"),
    ]
    after = load_side(config, "app")
    assert rows(after.associations) == rows(pd.DataFrame(expected_links() + added))
    assert after.association_stats.skipped == {"widgets→persons": 1, "deals→companies": 1}
    again = connector.create_edges(asked)
    assert again.outcomes["status"].tolist() == ["already"] * 4 + ["failed", "already"]
    connector.close()


def test_remove_edges_exact_label_and_both_directions(backend):
    config = backend()
    connector = connector_for(config, "app")
    result = connector.remove_edges(
        edge_table(
            [
                Edge("contacts", "007", "companies", "o1", "primary"),
                Edge("contacts", "8", "companies", "o2"),  # stored as organizations→persons
                Edge("contacts", "8", "companies", "o2", "billing"),  # absent
            ]
        )
    )
    assert result.outcomes["status"].tolist() == ["ok", "ok", "already"]
    links = connector.read_associations(("contacts", "companies"))
    assert rows(links) == [link("contacts", "007", "companies", "o1")]
    # the unlabeled link is stored twice: removing it removes every copy
    assert connector.remove_edges(edge_table([Edge("contacts", "007", "companies", "o1")])).ok == 1
    assert connector.read_associations(("contacts", "companies")).empty
    side = load_side(config, "app")
    assert side.association_stats.merged == 0
    assert side.association_stats.skipped == {"widgets→persons": 1, "deals→companies": 1}
    connector.close()


def test_create_and_delete_records(backend):
    config = backend()
    connector = connector_for(config, "app")
    new = pd.DataFrame({"email": ["new@x.io", "two@x.io"], "full_name": ["New One", None]})
    created = connector.create_records("contacts", new)
    assert created["record_id"].tolist() == ["10", "11"]
    assert created["email"].tolist() == new["email"].tolist()
    deal = connector.create_records("deals", pd.DataFrame({"display_name": ["Deal C"]}))
    assert deal["record_id"].tolist() == ["1003"]
    org = connector.create_records("companies", pd.DataFrame({"id": ["o9"], "website": ["z.io"]}))
    assert org["record_id"].tolist() == ["o9"]
    with pytest.raises(DataError, match="record id 'o1' already exists"):
        connector.create_records("companies", pd.DataFrame({"id": ["o1"], "website": ["a"]}))
    with pytest.raises(DataError, match="no column 'phone'"):
        connector.create_records("contacts", pd.DataFrame({"phone": ["1"]}))
    people = connector.read_records("contacts")
    assert people.loc[people["record_id"] == "10", "display_name"].tolist() == ["New One"]
    assert (
        connector.create_edges(
            edge_table([Edge("contacts", "10", "companies", "o9", "primary")])
        ).ok
        == 1
    )

    result = connector.delete_records("contacts", ["10", "nope", "10", "007"])
    assert result.outcomes["status"].tolist() == ["ok", "already", "already", "ok"]
    assert result.outcomes["object"].tolist() == ["contacts"] * 4
    side = load_side(config, "app")
    ids = side.records.loc[side.records["object"] == "contacts", "record_id"].tolist()
    assert sorted(ids) == ["11", "8", "9"]
    # links of deleted records go too (as HubSpot does)
    assert rows(side.associations) == [link("contacts", "8", "companies", "o2")]
    assert connector.delete_records("deals", ["1003"]).ok == 1
    connector.close()


def test_write_result_to_dict(backend):
    connector = connector_for(backend(), "app")
    result = connector.create_edges(
        edge_table([Edge("contacts", "9", "companies", "o2"), Edge("deals", "1", "tickets", "2")])
    )
    data = result.to_dict()
    assert data["operation"] == "create_edges" and (data["ok"], data["failed"]) == (1, 1)
    assert data["failures"][0]["from_object"] == "deals"
    outcomes = result.edge_outcomes()
    assert outcomes[0].status == "ok" and outcomes[0].edge.pair == ("contacts", "companies")
    assert outcomes[1].status == "failed" and "not audited" in (outcomes[1].message or "")
    connector.close()
