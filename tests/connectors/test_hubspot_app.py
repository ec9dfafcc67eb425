"""HubSpot-to-HubSpot: the app side is a second portal (``app.kind: hubspot``)."""

from __future__ import annotations

import pandas as pd
import pytest
from hubspot_support import (
    APP_TOKEN,
    APP_TOKEN_ENV,
    TOKEN,
    TOKEN_ENV,
    rows,
    seeded,
    truth_links,
    write_config,
)

from assoc_audit.connectors import connector_for, load_side
from assoc_audit.errors import DataError
from assoc_audit.sandbox import Sandbox

LINK_COLUMNS = ["from_object", "from_id", "to_object", "to_id", "label"]


@pytest.fixture
def portals():
    with Sandbox(tokens=(TOKEN, APP_TOKEN), rate_limit=0) as sb:
        hub = seeded(sb, TOKEN, contacts=80)
        app = sb.backend
        app.register_object(APP_TOKEN, "organizations", properties=["website", "org_name"])
        people = pd.DataFrame(
            {
                "id": ["7", "8", "9"],
                "work_email": ["a@x.io", "b@x.io", None],
                "firstname": ["Ann", None, None],
                "lastname": ["Lee", None, None],
                "email": [None, "bee@x.io", None],
            }
        )
        app.load_records(APP_TOKEN, "contacts", people)
        orgs = pd.DataFrame(
            {"id": ["70", "71"], "website": ["x.io", "y.io"], "org_name": ["X Ltd", "Y Inc"]}
        )
        app.load_records(APP_TOKEN, "organizations", orgs)
        app.create_label(APP_TOKEN, "contacts", "organizations", "primary")
        app.create_label(APP_TOKEN, "contacts", "organizations", "billing")
        links = pd.DataFrame(
            [
                ("contacts", "7", "organizations", "70", "primary"),
                ("contacts", "8", "organizations", "70", None),
                ("contacts", "8", "organizations", "71", "billing"),
            ],
            columns=LINK_COLUMNS,
        )
        app.load_associations(APP_TOKEN, links)
        yield sb, hub


@pytest.fixture
def config(portals, tmp_path, monkeypatch):
    sb, _ = portals
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv(APP_TOKEN_ENV, APP_TOKEN)
    return write_config(
        tmp_path,
        {
            "name": "hub-to-hub",
            "hubspot": {"token_env": TOKEN_ENV, "base_url": sb.url},
            "app": {
                "name": "Second portal",
                "kind": "hubspot",
                "token_env": APP_TOKEN_ENV,
                "base_url": sb.url,
                "display_name": {"organizations": "org_name"},
            },
            "objects": {
                "contacts": {
                    "sync": "two_way",
                    "match": [{"hubspot": "email", "app": "work_email", "normalize": "email"}],
                },
                "companies": {
                    "sync": "two_way",
                    "app_object": "organizations",
                    "match": [{"hubspot": "domain", "app": "website", "normalize": "domain"}],
                },
            },
            "associations": [
                {"from": "contacts", "to": "companies"},
                {"from": "contacts", "to": "companies", "label": "Primary", "app_label": "primary"},
                {
                    "from": "contacts",
                    "to": "companies",
                    "label": "Billing contact",
                    "app_label": "billing",
                },
            ],
        },
    )


def test_both_sides_are_portals(portals, config):
    sb, _ = portals
    hubspot = load_side(config, "hubspot", progress=False)
    app = load_side(config, "app", progress=False)
    assert hubspot.side == "hubspot" and app.side == "app"
    assert rows(hubspot.associations[["from_id", "to_id", "label"]]) == truth_links(
        sb, ("contacts", "companies")
    )
    assert app.meta["kind"] == "hubspot" and app.meta["source"] == f"hubspot {sb.url} (app portal)"
    assert app.meta["objects"] == {"contacts": "contacts", "companies": "organizations"}
    assert rows(app.records, ["object", "record_id", "work_email", "website", "display_name"]) == [
        ("companies", "70", None, "x.io", "X Ltd"),
        ("companies", "71", None, "y.io", "Y Inc"),
        ("contacts", "7", "a@x.io", None, "Ann Lee"),
        ("contacts", "8", "b@x.io", None, "bee@x.io"),
        ("contacts", "9", None, None, None),
    ]
    # canonical object names, the app portal's own label text
    assert rows(app.associations, LINK_COLUMNS) == [
        ("contacts", "7", "companies", "70", None),
        ("contacts", "7", "companies", "70", "primary"),
        ("contacts", "8", "companies", "70", None),
        ("contacts", "8", "companies", "71", None),
        ("contacts", "8", "companies", "71", "billing"),
    ]
    assert "email" not in app.records.columns and "work_email" not in hubspot.records.columns
    # each side called its own portal
    assert sb.stats(APP_TOKEN)["requests"] == app.meta["api"]["calls"]
    assert sb.stats(TOKEN)["requests"] == hubspot.meta["api"]["calls"]


def test_app_portal_writes_use_its_names(portals, config):
    sb, _ = portals
    app = connector_for(config, "app", progress=False)
    result = app.create_edges(
        pd.DataFrame([("companies", "71", "contacts", "7", "billing")], columns=LINK_COLUMNS)
    )
    assert result.outcomes["status"].tolist() == ["ok"]
    assert ("7", "71", "billing") in rows(
        sb.backend.associations_frame(APP_TOKEN, "contacts", "organizations")[
            ["from_id", "to_id", "label"]
        ]
    )
    app.close()


@pytest.mark.usefixtures("portals")
def test_app_property_missing_names_the_app_portal(config, tmp_path):
    data = config.model_dump(mode="json", by_alias=True, exclude={"base_dir"})
    data["app"]["display_name"] = {"organizations": "legal_name"}
    broken = write_config(tmp_path, data)
    with pytest.raises(DataError, match=r"\(app portal\) organizations: no property 'legal_name'"):
        load_side(broken, "app", progress=False)
