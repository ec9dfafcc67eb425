"""Mismatch exploration: filters, record lists, one record's links side by side, the widgets."""

from __future__ import annotations

import pytest

from assoc_audit.notebook import explore
from assoc_audit.errors import AssocAuditError
from assoc_audit.notebook.explore import RecordRef, record_links


@pytest.fixture(scope="module")
def result(demo_audit):
    return demo_audit[1]


@pytest.fixture(scope="module")
def truth(demo_audit):
    return demo_audit[0].data.ground_truth


def _one(truth, reason, **where):
    rows = truth.loc[truth["reason"] == reason]
    for key, value in where.items():
        rows = rows.loc[rows[key] == value]
    return rows.iloc[0]


def test_filters(result):
    f = result.findings
    assert len(explore.filter_findings(f)) == 24
    assert len(explore.filter_findings(f, reason="sync_gap")) == 4
    assert len(explore.filter_findings(f, reason="sync_gap", side="app")) == 2
    assert len(explore.filter_findings(f, pair="deals -> contacts")) == 3
    assert len(explore.filter_findings(f, pair="deals → contacts", reason="all")) == 3
    assert explore.filter_findings(f, reason="nope").empty
    counts = explore.reason_side_counts(f).set_index("reason")
    assert counts.loc["record_unmatched"].tolist() == [2, 3, 5]
    assert counts.index[0] == "object_sync_off"


def test_finding_records_most_findings_first(result):
    records = explore.finding_records(result.findings)
    assert records["findings"].is_monotonic_decreasing
    assert records["findings"].sum() == 24
    top = records.iloc[0]
    assert (top["object"], top["findings"]) == ("contacts", 3)  # Priya: limit + sync_gap
    examples = explore.example_records(result.findings)
    assert len(examples) == len({e.key for e in examples}) >= 7


def test_label_mismatch_side_by_side(result, truth):
    row = _one(truth, "label_mismatch", present_in="hubspot")
    view = record_links(result, RecordRef("contacts", row["hubspot_from_id"]))
    assert view.record.app_id == row["app_from_id"]  # found through the matches
    assert view.title.startswith("Contact 'Lena Labelle': HubSpot")
    assert view.title.endswith("matched by rule 1")
    links = view.links.set_index("label")
    assert links.loc["(unlabeled)", "status"] == "in sync"
    assert links.loc["Billing contact", "status"] == "only in HubSpot"
    assert links.loc["Primary", "status"] == "only in Acme CRM"
    assert set(links.loc[["Billing contact", "Primary"], "reason"]) == {"label_mismatch"}
    assert links.loc["Primary", "HubSpot"] == "—"
    assert links.loc["Primary", "Acme CRM"] == row["app_to_id"]
    assert "labelled 'Primary' in Acme CRM" in links.loc["Primary", "why"]
    assert set(links["linked record"]) == {"Planted 5 Corp"}


def test_app_only_record_and_parse(result, truth):
    row = _one(truth, "record_unmatched", present_in="app", from_object="contacts")
    view = record_links(result, f"contacts:app:{row['app_from_id']}")
    assert "no HubSpot counterpart" in view.title and view.title.endswith("unmatched")
    assert set(view.links["status"]) == {"only in Acme CRM"}
    assert set(view.links["reason"]) == {"record_unmatched"}
    assert set(view.links["label"]) == {"(unlabeled)", "Primary"}  # app 'primary' mapped
    for bad in ("contacts:9", "contacts:crm:9"):
        with pytest.raises(AssocAuditError, match="expected OBJECT:hubspot:ID"):
            RecordRef.parse(bad)


def test_record_seen_from_the_to_side(result, truth):
    """A contact's deal links (deals → contacts) show up on the contact's page too."""
    row = _one(truth, "sync_gap", from_object="deals")
    view = record_links(result, RecordRef("contacts", row["hubspot_to_id"]))
    deal = view.links.loc[view.links["linked object"] == "deal"].iloc[0]
    assert deal["status"] == "only in HubSpot" and deal["reason"] == "sync_gap"
    assert deal["HubSpot"] == row["hubspot_from_id"] and deal["Acme CRM"] == "—"


def test_in_sync_record_has_no_reasons(result):
    links = result.hubspot.associations
    records = result.records
    matched = set(records.loc[records["status"] == "matched", "hubspot_id"])
    participants = links.loc[links["from_object"] == "deals", "to_id"].astype(str)
    contact = next(c for c in participants if c in matched and c.startswith("1"))
    view = record_links(result, RecordRef("contacts", contact))
    assert set(view.links["status"]) == {"in sync"}
    assert set(view.links["reason"]) == {""}
    assert {"company", "deal"} <= set(view.links["linked object"])
    assert view.to_dict()["links"][0]["status"] == "in sync"


def test_widgets_explorer_filters_and_lists_records(result):
    from assoc_audit.notebook.widgets import mismatch_explorer

    ex = mismatch_explorer(result)
    assert ex.reason.options[0] == "all" and "sync_gap" in ex.reason.options
    all_records = len(ex.record.options)
    ex.reason.value = "label_mismatch"
    assert len(ex.filtered()) == 2
    assert len(ex.record.options) == 2  # "—" and Lena
    assert ex.record.value == ex.record.options[1][1]
    ex.reason.value = "all"
    ex.side.value = "app"
    assert len(ex.filtered()) == 11 and len(ex.record.options) < all_records


def test_implied_unlabeled_link_is_shown_and_marked(result, truth):
    """An app that stores only the labelled row still has the unlabeled link (DESIGN §4)."""
    from dataclasses import replace

    row = _one(truth, "label_mismatch", present_in="hubspot")
    assoc = result.app.associations
    plain = (
        (assoc["from_id"] == row["app_from_id"])
        & (assoc["to_id"] == row["app_to_id"])
        & assoc["label"].isna()
    )
    assert plain.sum() == 1
    edited = replace(result, app=replace(result.app, associations=assoc.loc[~plain]))
    view = record_links(edited, RecordRef("contacts", row["hubspot_from_id"]))
    links = view.links.set_index("label")
    assert links.loc["(unlabeled) (implied in Acme CRM)", "status"] == "in sync"
