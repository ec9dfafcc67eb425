"""The ``bad_body`` and ``html_body`` faults, and ``GET /account-info/v3/details``."""

from __future__ import annotations

import json

from sandbox_helpers import Raw, contacts_frame

from assoc_audit.sandbox.faults import FaultSettings, decide


def test_bad_body_runs_the_request_and_loses_its_body(sb, raw):
    sb.backend.load_records("tok-a", "contacts", contacts_frame(3))
    sb.set_faults(rate=1.0, weights={"bad_body": 1})
    resp = raw("GET", "/crm/v3/objects/contacts")
    assert resp.status == 200 and resp.data == b"{}"
    assert resp.headers["Content-Type"] == "application/json;charset=utf-8"
    assert resp.headers["X-HubSpot-Correlation-Id"]
    resp = raw("POST", "/crm/v3/objects/contacts", {"properties": {"email": "new@example.com"}})
    assert resp.status == 201 and resp.data == b"{}"
    assert sb.backend.count_records("tok-a", "contacts") == 4  # it ran
    resp = raw("POST", "/crm/v3/objects/contacts/batch/archive", {"inputs": [{"id": "101"}]})
    assert resp.status == 200 and resp.data == b"{}"  # a 204 cannot carry a body
    assert sb.backend.count_records("tok-a", "contacts") == 3
    resp = raw("GET", "/crm/v3/objects/contacts/999")
    assert resp.status == 404 and resp.data == b"{}"  # errors lose their body too
    # the connection is still usable: the body length was right
    sb.set_faults(rate=0)
    assert raw.json("GET", "/crm/v3/objects/contacts")[1]["results"]
    assert sb.stats("tok-a")["faults"] == {"bad_body": 4}


def test_html_body_runs_nothing_and_answers_like_a_captive_portal(sb, raw):
    sb.set_faults(rate=1.0, weights={"html_body": 1}, match="/crm/v3/objects/contacts$")
    resp = raw("POST", "/crm/v3/objects/contacts", {"properties": {"email": "x@example.com"}})
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/html")
    assert resp.data.lstrip().lower().startswith(b"<!doctype html>")
    assert "X-HubSpot-Correlation-Id" not in resp.headers
    assert sb.backend.count_records("tok-a", "contacts") == 0  # nothing ran
    stats = sb.stats("tok-a")
    assert stats["faults"] == {"html_body": 1} and stats["by_status"] == {"200": 1}


def test_new_fault_kinds_weigh_nothing_by_default_and_keep_old_patterns():
    assert FaultSettings().weights["bad_body"] == FaultSettings().weights["html_body"] == 0
    assert FaultSettings().updated({"weights": {"drop": 1}}).weights["bad_body"] == 0
    # the pattern the kinds before bad_body/html_body gave for these settings
    s = FaultSettings(rate=0.3, seed=3)
    got = [(i, f.kind, f.status) for i in range(30) if (f := decide(s, 2, i, "/x"))]
    assert got == [
        (1, "slow", None), (3, "server_error", 503), (10, "drop", None), (11, "slow", None),
        (12, "drop", None), (13, "drop", None), (20, "server_error", 502), (22, "drop", None),
        (23, "server_error", 502), (27, "server_error", 500), (28, "rate_limit", 429),
    ]  # fmt: skip


def test_account_details_answer_each_portals_own_id(sb, raw):
    status, body = raw.json("GET", "/account-info/v3/details")
    assert status == 200
    assert body == {
        "portalId": sb.backend.portal("tok-a").hub_id,
        "accountType": "STANDARD",
        "timeZone": "UTC",
        "companyCurrency": "USD",
        "additionalCurrencies": [],
        "utcOffset": "+00:00",
        "utcOffsetMilliseconds": 0,
        "uiDomain": "app.hubspot.com",
        "dataHostingLocation": "na1",
    }
    other = Raw(sb.url, "tok-b").json("GET", "/account-info/v3/details")[1]
    assert other["portalId"] == sb.backend.portal("tok-b").hub_id != body["portalId"]
    status, err = Raw(sb.url, token=None).json("GET", "/account-info/v3/details")
    assert status == 401 and err["category"] == "INVALID_AUTHENTICATION"
    assert sb.stats("tok-a")["by_endpoint"] == {"account.details": 1}


def test_account_details_through_the_sdk_call_path(sb):
    """The generated ApiClient's call_api reaches it (SDK 12 has no account-info API)."""
    api = sb.client("tok-a").crm.objects.basic_api
    data, status, _headers = api.api_client.call_api(
        "/account-info/v3/details",
        "GET",
        response_types_map={200: "object"},
        auth_settings=["oauth2"],
        _return_http_data_only=False,
    )
    assert status == 200 and data["portalId"] == sb.backend.portal("tok-a").hub_id
    assert json.loads(json.dumps(data)) == data
