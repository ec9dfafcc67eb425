"""Wire fidelity: rate limits and 429s, 401s, error bodies, headers, fault injection."""

from __future__ import annotations

import json

import pytest
import urllib3
from hubspot.crm.contacts.exceptions import ApiException, ServiceException, UnauthorizedException
from sandbox_helpers import Raw, contacts_frame
from urllib3.util.retry import Retry

from assoc_audit.sandbox import Sandbox
from assoc_audit.sandbox.clock import Clock


@pytest.fixture
def limited(fake_clock):
    with Sandbox(tokens=("tok-a", "tok-b"), rate_limit=5, clock=Clock(monotonic=fake_clock)) as box:
        yield box


def test_429_storm_headers_and_body(limited, fake_clock):
    raw = Raw(limited.url)
    seen = []
    for _ in range(8):
        resp = raw("GET", "/crm/v3/objects/contacts")
        seen.append((resp.status, resp.headers.get("X-HubSpot-RateLimit-Remaining")))
        assert resp.headers["X-HubSpot-RateLimit-Max"] == "5"
        assert resp.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        assert "Retry-After" not in resp.headers
    assert seen == [
        (200, "4"),
        (200, "3"),
        (200, "2"),
        (200, "1"),
        (200, "0"),
        (429, "0"),
        (429, "0"),
        (429, "0"),
    ]
    body = json.loads(resp.data)
    assert body["status"] == "error" and body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["groupName"]
    assert body["correlationId"] == resp.headers["X-HubSpot-Correlation-Id"]
    # the limit is per token: the other portal is untouched
    assert Raw(limited.url, "tok-b")("GET", "/crm/v3/objects/contacts").status == 200
    stats = limited.stats("tok-a")
    assert stats["rate_limited"] == 3 and stats["by_status"] == {"200": 5, "429": 3}
    # the window slides: after 10 s the token may call again
    fake_clock.advance(10.0)
    assert raw("GET", "/crm/v3/objects/contacts").status == 200
    limited.set_limits(retry_after=True)
    for _ in range(5):
        resp = raw("GET", "/crm/v3/objects/contacts")
    assert resp.status == 429 and resp.headers["Retry-After"] == "10"


def test_429_through_the_sdk(limited):
    api = limited.client("tok-a").crm.contacts.basic_api
    for _ in range(5):
        api.get_page()
    with pytest.raises(ApiException) as err:
        api.get_page()
    assert err.value.status == 429
    assert json.loads(err.value.body)["policyName"] == "TEN_SECONDLY_ROLLING"


def test_v4_batch_and_search_counting_is_configurable(limited):
    raw = Raw(limited.url)
    limited.set_limits(rate_per_10s=2, assoc_batch_counts_ten_secondly=False)
    body = {"inputs": [{"id": "1"}]}
    statuses = [
        raw("POST", "/crm/v4/associations/contacts/companies/batch/read", body).status
        for _ in range(4)
    ]
    assert statuses == [207, 207, 207, 207]
    limited.set_limits(assoc_batch_counts_ten_secondly=True)
    assert raw("POST", "/crm/v4/associations/contacts/companies/batch/read", body).status == 207
    assert raw("POST", "/crm/v4/associations/contacts/companies/batch/read", body).status == 207
    assert raw("POST", "/crm/v4/associations/contacts/companies/batch/read", body).status == 429


def test_daily_limit(limited):
    limited.set_limits(rate_per_10s=0, daily=3)
    raw = Raw(limited.url)
    responses = [raw("GET", "/crm/v3/objects/contacts") for _ in range(4)]
    assert [r.status for r in responses] == [200, 200, 200, 429]
    assert responses[2].headers["X-HubSpot-RateLimit-Daily"] == "3"
    assert responses[2].headers["X-HubSpot-RateLimit-Daily-Remaining"] == "0"
    assert json.loads(responses[3].data)["policyName"] == "DAILY"


def test_401_body(sb):
    api = sb.client("not-a-sandbox-token").crm.contacts.basic_api
    with pytest.raises(UnauthorizedException) as err:
        api.get_page()
    body = json.loads(err.value.body)
    assert err.value.status == 401 and body["category"] == "INVALID_AUTHENTICATION"
    assert body["status"] == "error" and body["message"].startswith(
        "Authentication credentials not found"
    )
    assert body["correlationId"] == err.value.headers["X-HubSpot-Correlation-Id"]
    assert Raw(sb.url, token=None)("GET", "/crm/v3/objects/contacts").status == 401


def test_every_response_is_json_with_a_correlation_id(sb, raw):
    for method, path, body in [
        ("GET", "/crm/v3/objects/contacts", None),
        ("GET", "/crm/v3/nothing/here", None),
        ("PUT", "/crm/v3/objects/contacts", {}),
        ("POST", "/crm/v3/objects/contacts/batch/archive", {"inputs": []}),
    ]:
        resp = raw(method, path, body)
        assert resp.headers["X-HubSpot-Correlation-Id"]
        if resp.status != 204:
            assert resp.headers["Content-Type"] == "application/json;charset=utf-8"
    assert raw("GET", "/crm/v3/nothing/here").status == 404
    assert raw("PUT", "/crm/v3/objects/contacts", {}).status == 405
    resp = raw.pool.request(
        "POST",
        sb.url + "/crm/v3/objects/contacts",
        body=b"{not json",
        headers={"Authorization": "Bearer tok-a"},
    )
    assert resp.status == 400 and json.loads(resp.data)["category"] == "VALIDATION_ERROR"


def test_injected_faults_are_observed_and_deterministic(sb, raw):
    sb.backend.load_records("tok-a", "contacts", contacts_frame(2))
    sb.set_faults(rate=0.5, seed=7, weights={"rate_limit": 1, "server_error": 1, "drop": 1})

    def run() -> list[str]:
        sb.reset_stats("tok-a")
        outcome = []
        for _ in range(24):
            try:
                outcome.append(str(raw("GET", "/crm/v3/objects/contacts").status))
            except urllib3.exceptions.ProtocolError:
                outcome.append("dropped")
        return outcome

    first, second = run(), run()
    assert first == second  # the same seed gives the same faults at the same request numbers
    assert {"200", "429", "dropped"} <= set(first) and any(s.startswith("5") for s in first)
    stats = sb.stats("tok-a")
    assert stats["faults_injected"] == len([s for s in first if s != "200"])
    sb.set_faults(seed=8)
    assert run() != first


def test_faults_through_the_sdk(sb):
    sb.set_faults(rate=1.0, weights={"server_error": 1})
    api = sb.client("tok-a", retry=Retry(total=0, raise_on_status=False)).crm.contacts.basic_api
    with pytest.raises(ServiceException) as err:
        api.get_page()
    assert 500 <= err.value.status <= 504 and json.loads(err.value.body)["status"] == "error"
    sb.set_faults(weights={"drop": 1})
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        api.get_page()
    sb.set_faults(weights={"slow": 1}, slow_seconds=0.05)
    assert api.get_page().results == []
    assert sb.stats("tok-a")["faults"]["slow"] == 1


def test_drop_after_runs_the_request(sb, raw):
    sb.set_faults(rate=1.0, weights={"drop_after": 1})
    with pytest.raises(urllib3.exceptions.ProtocolError):
        raw("POST", "/crm/v3/objects/contacts", {"properties": {"email": "lost@example.com"}})
    assert (
        sb.backend.count_records("tok-a", "contacts") == 1
    )  # written, though the client never heard


def test_faults_can_target_paths(sb, raw):
    sb.set_faults(rate=1.0, weights={"server_error": 1}, match=r"/search$")
    assert raw("GET", "/crm/v3/objects/contacts").status == 200
    assert raw("POST", "/crm/v3/objects/contacts/search", {}).status >= 500
