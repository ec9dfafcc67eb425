"""Writing links and sample records to an emulator portal through the HubSpot connector."""

from __future__ import annotations

import pandas as pd
import pytest
from hubspot_support import TOKEN, TOKEN_ENV, rows, truth_links, write_config

from assoc_audit.connectors import Edge, edge_table
from assoc_audit.connectors.hubspot import HubSpotConnector
from assoc_audit.connectors.hubspot.ratelimit import RetryPolicy
from assoc_audit.errors import AuthError, DataError, HubSpotAPIError
from assoc_audit.sandbox import Sandbox

PAIR = ("contacts", "companies")


def frame(rows_: list[tuple], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows_, columns=columns)


@pytest.fixture
def sb():
    with Sandbox(tokens=(TOKEN,), rate_limit=0) as box:
        people = {"id": ["101", "102", "103", "104", "105"], "email": list("abcde")}
        box.backend.load_records(TOKEN, "contacts", pd.DataFrame(people))
        orgs = {"id": ["9001", "9002", "9003"], "name": ["A", "B", "C"], "domain": list("xyz")}
        box.backend.load_records(TOKEN, "companies", pd.DataFrame(orgs))
        box.backend.load_records(TOKEN, "deals", pd.DataFrame({"id": ["501"], "dealname": ["D"]}))
        box.backend.create_label(TOKEN, "contacts", "companies", "Billing contact")
        links = [
            ("contacts", "101", "companies", "9001", "Primary"),
            ("contacts", "102", "companies", "9001", None),
            ("contacts", "103", "companies", "9002", "Billing contact"),
        ]
        box.backend.load_associations(
            TOKEN, frame(links, ["from_object", "from_id", "to_object", "to_id", "label"])
        )
        yield box


@pytest.fixture
def connector(sb, tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    config = write_config(
        tmp_path,
        {
            "name": "write-test",
            "hubspot": {"token_env": TOKEN_ENV, "base_url": sb.url},
            "app": {"kind": "files", "path": "."},
            "objects": {
                "contacts": {"sync": "two_way", "match": [{"hubspot": "email", "app": "email"}]},
                "companies": {"sync": "two_way", "match": [{"hubspot": "domain", "app": "web"}]},
                "deals": {"sync": "two_way", "match": [{"hubspot": "dealname", "app": "name"}]},
            },
            "associations": [
                {"from": "contacts", "to": "companies"},
                {"from": "contacts", "to": "companies", "label": "Primary"},
                {"from": "contacts", "to": "companies", "label": "Billing contact"},
                {"from": "deals", "to": "contacts"},
            ],
        },
    )
    c = HubSpotConnector(
        config, write_batch_size=2, retry=RetryPolicy(base=0.01, cap=0.05), progress=False
    )
    yield c
    c.close()


def test_create_edges_outcomes(sb, connector):
    asked = edge_table(
        [
            Edge("contacts", "101", "companies", "9002"),  # new
            Edge("companies", "9001", "contacts", "102"),  # stored; given reversed
            Edge("contacts", "102", "companies", "9003", "Billing contact"),  # new label
            Edge("contacts", "104", "companies", "9002", "Primary"),  # new primary
            Edge("contacts", "105", "companies", "9003", "Nope"),  # no such label
            Edge("contacts", "101", "companies", "9002"),  # repeated in this call
            Edge("deals", "501", "companies", "9001"),  # pair not audited
            Edge("contacts", "106", "companies", "9001"),  # no contact 106: a 207 error
            Edge("deals", "501", "contacts", "105"),  # another pair
        ]
    )
    result = connector.create_edges(asked)
    out = result.outcomes
    assert out["status"].tolist() == [
        "ok", "already", "ok", "ok", "failed", "already", "failed", "failed", "ok"
    ]  # fmt: skip
    assert out.iloc[1][["from_object", "from_id", "to_id"]].tolist() == ["contacts", "102", "9001"]
    assert out["message"].iloc[4] == (
        "no association label 'Nope' from contacts to companies in HubSpot "
        "(labels there: 'Primary', 'Billing contact')"
    )
    assert "deals→companies is not audited" in out["message"].iloc[6]
    assert out["message"].iloc[7] == "CONTACT 106 does not exist"
    assert out["message"][out["status"] != "failed"].isna().all()
    assert truth_links(sb, PAIR) == [
        ("101", "9001", None),
        ("101", "9001", "Primary"),
        ("101", "9002", None),
        ("102", "9001", None),
        ("102", "9003", None),
        ("102", "9003", "Billing contact"),
        ("103", "9002", None),
        ("103", "9002", "Billing contact"),
        ("104", "9002", None),
        ("104", "9002", "Primary"),
    ]
    assert truth_links(sb, ("deals", "contacts")) == [("501", "105", None)]
    # batches of 2 record pairs per request: 3 new contact→company pairs, 1 deal→contact
    # (+ the missing contact's pair)
    assert sb.stats(TOKEN)["by_endpoint"]["assoc.batch_create"] == 3
    again = connector.create_edges(asked)
    assert again.outcomes["status"].tolist() == [
        "already", "already", "already", "already", "failed", "already", "failed", "failed",
        "already",
    ]  # fmt: skip


def test_remove_edges_exact_label(sb, connector):
    result = connector.remove_edges(
        edge_table(
            [
                Edge("contacts", "103", "companies", "9002", "Billing contact"),  # the label only
                Edge("contacts", "101", "companies", "9001"),  # unlabeled: the pair goes
                Edge("contacts", "105", "companies", "9001"),  # absent
                Edge("contacts", "102", "companies", "9001", "Primary"),  # absent label
            ]
        )
    )
    assert result.outcomes["status"].tolist() == ["ok", "ok", "already", "already"]
    assert truth_links(sb, PAIR) == [("102", "9001", None), ("103", "9002", None)]
    assert connector.remove_edges(edge_table([Edge(*PAIR[:1], "103", PAIR[1], "9002")])).ok == 1
    assert truth_links(sb, PAIR) == [("102", "9001", None)]


def test_a_label_created_after_the_first_read_is_found(sb, connector):
    connector.read_associations(PAIR)  # caches the label definitions
    sb.backend.create_label(TOKEN, "contacts", "companies", "Decision maker")
    result = connector.create_edges(
        edge_table([Edge("contacts", "105", "companies", "9003", "Decision maker")])
    )
    assert result.outcomes["status"].tolist() == ["ok"]
    assert ("105", "9003", "Decision maker") in truth_links(sb, PAIR)


def test_writes_survive_faults_including_drops_after_the_write(sb, connector):
    sb.set_faults(
        rate=0.5,
        seed=3,
        weights={"drop_after": 1, "drop": 1, "server_error": 1, "rate_limit": 1},
        match="/batch/(create|archive)",
    )
    edges = [
        Edge("contacts", c, "companies", o) for c in ("103", "104", "105") for o in ("9001", "9003")
    ]
    created = connector.create_edges(edge_table(edges))
    assert created.all_done and created.ok == 6
    removed = connector.remove_edges(edge_table(edges[:3]))
    assert removed.all_done and removed.ok == 3
    assert sb.stats(TOKEN)["faults"].get("drop_after", 0) > 0
    sb.set_faults(rate=0)
    assert truth_links(sb, PAIR) == [
        ("101", "9001", None),
        ("101", "9001", "Primary"),
        ("102", "9001", None),
        ("103", "9002", None),
        ("103", "9002", "Billing contact"),
        ("104", "9003", None),
        ("105", "9001", None),
        ("105", "9003", None),
    ]


def test_create_and_delete_records(sb, connector):
    new = pd.DataFrame(
        {"email": ["new1@x.io", "new2@x.io", "new3@x.io"], "firstname": ["N1", None, "N3"]}
    )
    made = connector.create_records("contacts", new)
    assert made["email"].tolist() == new["email"].tolist()
    ids = made["record_id"].tolist()
    stored = sb.backend.records_frame(TOKEN, "contacts", ["email"])
    assert rows(stored[stored["id"].isin(ids)], ["id", "email"]) == rows(
        made.rename(columns={"record_id": "id"}), ["id", "email"]
    )
    connector.create_edges(edge_table([Edge("contacts", ids[0], "companies", "9001")]))
    result = connector.delete_records("contacts", [ids[0], ids[1], "999", ids[0]])
    assert result.outcomes["status"].tolist() == ["ok", "ok", "already", "already"]
    assert set(sb.backend.records_frame(TOKEN, "contacts")["id"]) == {
        "101",
        "102",
        "103",
        "104",
        "105",
        ids[2],
    }
    assert (ids[0], "9001", None) not in truth_links(sb, PAIR)
    with pytest.raises(DataError, match="HubSpot assigns record ids; drop the column 'id'"):
        connector.create_records("contacts", pd.DataFrame({"id": ["1"], "email": ["z@x.io"]}))


def test_a_refused_token_stops_a_write(sb, connector, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    other = HubSpotConnector(connector._config, progress=False)
    with pytest.raises(AuthError, match=rf"\${TOKEN_ENV}"):
        other.create_edges(edge_table([Edge("contacts", "101", "companies", "9003")]))


@pytest.mark.parametrize("kind", ["bad_body", "html_body"])
def test_edge_writes_are_retried_past_broken_answers_and_verified(sb, connector, kind):
    """bad_body: the write ran but its answer is `{}` (a 204 comes back as `200 {}`);
    html_body: nothing ran. Edge writes are idempotent: retried, then the portal holds them."""
    sb.set_faults(rate=0.5, seed=5, weights={kind: 1}, match="/batch/(create|archive|labels/)")
    edges = [
        Edge("contacts", c, "companies", o) for c in ("103", "104", "105") for o in ("9001", "9003")
    ]
    created = connector.create_edges(edge_table(edges))
    assert created.all_done and created.ok == 6, created.outcomes
    labels = [Edge("contacts", "103", "companies", "9002", "Billing contact")]
    removed = connector.remove_edges(edge_table(edges[:3] + labels))
    assert removed.all_done and removed.ok == 4, removed.outcomes
    served = sb.stats(TOKEN)
    assert served["faults"][kind] >= 2
    usage = connector.usage().by_endpoint
    assert usage["assoc.batch_create"].retries > 0
    assert usage["assoc.batch_archive"].retries + usage["assoc.batch_archive_labels"].retries > 0
    sb.set_faults(rate=0)
    assert truth_links(sb, PAIR) == [
        ("101", "9001", None),
        ("101", "9001", "Primary"),
        ("102", "9001", None),
        ("103", "9002", None),
        ("104", "9003", None),
        ("105", "9001", None),
        ("105", "9003", None),
    ]


def test_record_creates_are_not_repeated_after_a_broken_answer(sb, connector):
    """A create answered `201 {}` made its records: sending it again would make them twice."""
    sb.set_faults(rate=1.0, weights={"bad_body": 1}, match="/objects/companies/batch/create")
    new = pd.DataFrame({"name": ["N1", "N2"], "domain": ["n1.io", "n2.io"]})
    with pytest.raises(HubSpotAPIError) as caught:
        connector.create_records("companies", new)
    assert str(caught.value) == (
        "HubSpot answered HTTP 201 while creating companies records (POST "
        "objects.batch_create) with a body that is not a valid response: no 'status'; the "
        "response was not used; it may have taken effect, so it was not sent again"
    )
    assert sb.stats(TOKEN)["by_endpoint"]["objects.batch_create"] == 1
    stored = sb.backend.records_frame(TOKEN, "companies", ["domain"])
    assert sorted(stored["domain"]) == ["n1.io", "n2.io", "x", "y", "z"]  # once each
