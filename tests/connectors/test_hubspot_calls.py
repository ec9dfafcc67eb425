"""The call layer's rules where the emulator cannot reach: 403 scopes, 423, odd statuses,
daily limits, odd 207 errors; and the small pure helpers (numbers, labels, limiter)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pandas as pd
import pytest
from hubspot_support import VirtualTime

from assoc_audit.connectors.base import UsageMeter
from assoc_audit.connectors.hubspot.api import ApiCaller, api_error
from assoc_audit.connectors.hubspot.fetch import Fetcher, max_from_message
from assoc_audit.connectors.hubspot.ratelimit import RateLimiter, RetryPolicy
from assoc_audit.connectors.hubspot.schema import PairTypes, whole_number_text
from assoc_audit.connectors.hubspot.shapes import Shape
from assoc_audit.errors import AuthError, ConnectorError, HubSpotAPIError, RateLimited


class HttpError(Exception):
    """Shaped like any generated package's ApiException (status, reason, body, headers)."""

    def __init__(self, status: int, body: dict | None = None, headers: dict | None = None):
        super().__init__(status)
        self.status = status
        self.reason = "reason"
        self.body = json.dumps(body) if body is not None else ""
        self.headers = headers or {}


JSON = {"Content-Type": "application/json;charset=utf-8"}
#: A shape that takes any JSON answer (these tests are about statuses and retries).
LOOSE = Shape("GET", lambda data, status: None)
NO_BODY = Shape("POST", lambda data, status: None, body=False)


class LooseCaller(ApiCaller):
    """An ApiCaller whose made-up endpoints ("x") take any JSON answer."""

    def call(self, endpoint, what, fn, *args, **kwargs):
        kwargs.setdefault("shape", LOOSE)
        return super().call(endpoint, what, fn, *args, **kwargs)


def caller(clock: VirtualTime, attempts: int = 4) -> ApiCaller:
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    return LooseCaller(
        limiter=limiter,
        meter=UsageMeter(),
        token_env="MY_TOKEN",
        host="https://api.example",
        policy=RetryPolicy(attempts=attempts, base=1.0, cap=8.0),
        clock=clock,
        sleep=clock.sleep,
        rand=lambda: 0.0,
    )


def script(*outcomes):
    """A stand-in for an SDK ``*_with_http_info`` method: raises or returns in turn."""
    calls = []

    def fn(*args, **kwargs):
        calls.append(kwargs.get("_request_timeout"))
        item = outcomes[len(calls) - 1]
        if isinstance(item, BaseException):
            raise item
        return item

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def test_403_names_the_variable_and_the_missing_scopes():
    body = {
        "status": "error",
        "message": "This app hasn't been granted all required scopes to make this call.",
        "correlationId": "c-403",
        "category": "MISSING_SCOPES",
        "errors": [{"message": "…", "context": {"requiredScopes": ["crm.objects.deals.read"]}}],
    }
    err = api_error(HttpError(403, body), what="listing deals", token_env="MY_TOKEN")
    assert isinstance(err, AuthError)
    assert err.scopes == ("crm.objects.deals.read",) and err.token_env == "MY_TOKEN"
    assert str(err) == (
        "the token in $MY_TOKEN may not do this: listing deals was refused (403 MISSING_SCOPES: "
        "This app hasn't been granted all required scopes to make this call.); missing scopes: "
        "crm.objects.deals.read (correlation id c-403)"
    )
    hinted = api_error(
        HttpError(403, {"message": "no"}), what="x", token_env="T", scopes=["tickets"]
    )
    assert "this call needs the scopes tickets" in str(hinted)


def test_error_bodies_become_fields_and_never_carry_tokens():
    body = {
        "message": "bad pat-na1-12345678-abcd here",
        "category": "VALIDATION_ERROR",
        "correlationId": "c-1",
        "subCategory": "crm.X",
    }
    err = api_error(HttpError(400, body), what="creating links", token_env="T")
    assert type(err) is HubSpotAPIError
    assert (err.status, err.category, err.correlation_id) == (400, "VALIDATION_ERROR", "c-1")
    assert "pat-na1" not in str(err) and "[crm.X]" in str(err)
    header_only = api_error(
        HttpError(502, None, {"X-HubSpot-Correlation-Id": "c-h"}), what="x", token_env="T"
    )
    assert header_only.correlation_id == "c-h"


def test_unexpected_success_statuses_are_errors():
    clock = VirtualTime()
    c = caller(clock)
    undocumented = script(*[(None, 200, JSON)] * 4)  # retried like a 5xx, then reported
    with pytest.raises(HubSpotAPIError, match=r"HTTP 200 .* \(expected 201, 207\)"):
        c.call("x", "creating links", undocumented, ok=(201, 207))
    assert len(undocumented.calls) == 4
    with pytest.raises(HubSpotAPIError, match="HTTP 200"):  # the SDK's None for a known code
        c.call("x", "reading", script(*[(None, 200, JSON)] * 4), ok=(200,))
    reply = c.call("x", "archiving", script((None, 204, {})), ok=(204,), shape=NO_BODY)
    assert reply.status == 204 and reply.data is None
    passing = script((None, 200, JSON), ("ok", 201, JSON))  # a transient odd answer passes
    assert c.call("x", "creating links", passing, ok=(201,)).data == "ok"


def test_423_waits_at_least_two_seconds_and_pauses_everyone():
    clock = VirtualTime()
    c = caller(clock)
    fn = script(HttpError(423, {"message": "locked"}), ("ok", 200, JSON))
    start = clock()
    assert c.call("x", "writing", fn).data == "ok"
    assert clock() - start >= 2.0 and len(fn.calls) == 2
    assert c.meter.usage().retries == 1 and c.meter.usage().calls == 1
    assert fn.calls[0] == (10.0, 120.0)  # every call has a timeout


def test_429_daily_is_final_and_retry_after_is_honoured():
    clock = VirtualTime()
    c = caller(clock)
    daily = HttpError(
        429,
        {
            "message": "You have reached your daily limit.",
            "policyName": "DAILY",
            "errorType": "RATE_LIMIT",
        },
    )
    with pytest.raises(RateLimited) as err:
        c.call("x", "listing contacts", script(daily))
    assert err.value.policy == "DAILY"
    burst = HttpError(429, {"policyName": "TEN_SECONDLY_ROLLING"}, {"Retry-After": "3"})
    start = clock()
    c.call("x", "listing", script(burst, ("ok", 200, JSON)))
    assert clock() - start >= 3.0
    with pytest.raises(RateLimited, match="TEN_SECONDLY_ROLLING"):
        c.call("x", "listing", script(*[burst] * 4))
    migration = HttpError(477, {"message": "Migration in progress"}, {"Retry-After": "86400"})
    with pytest.raises(HubSpotAPIError, match="477"):
        c.call("x", "listing", script(migration))


def test_dropped_connections_are_retried_then_reported():
    import urllib3

    clock = VirtualTime()
    c = caller(clock, attempts=3)
    drop = urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError())
    assert c.call("x", "reading", script(drop, ("ok", 200, JSON))).data == "ok"
    with pytest.raises(
        ConnectorError,
        match=r"cannot reach HubSpot at https://api.example while "
        r"reading \(3 tries\): ProtocolError",
    ):
        c.call("x", "reading", script(drop, drop, drop))
    with pytest.raises(TypeError):  # a programming error is not retried
        c.call("x", "reading", script(TypeError("bug")))


def test_daily_remaining_zero_stops_further_calls():
    clock = VirtualTime()
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.observe(
        {"X-HubSpot-RateLimit-Daily": "5", "X-HubSpot-RateLimit-Daily-Remaining": "0"}, clock()
    )
    with pytest.raises(RateLimited, match="daily API limit"):
        limiter.acquire()


def test_limiter_learns_the_window_and_a_cap_keeps_room():
    clock = VirtualTime()
    limiter = RateLimiter(max_per_window=4, clock=clock, sleep=clock.sleep, margin=0.0)
    for _ in range(4):
        assert limiter.acquire() == 0
    limiter.observe(
        {
            "X-HubSpot-RateLimit-Max": "190",
            "X-HubSpot-RateLimit-Remaining": "186",
            "X-HubSpot-RateLimit-Interval-Milliseconds": "2000",
        },
        clock(),
    )
    assert limiter.limit == 4 and limiter.window == 2.0
    assert limiter.acquire() == pytest.approx(2.0)


def batch(results=(), errors=()):
    return SimpleNamespace(results=list(results), errors=list(errors), num_errors=len(errors))


def result(fid, to_ids, after=None):
    to = [
        SimpleNamespace(
            to_object_id=t,
            association_types=[
                SimpleNamespace(category="HUBSPOT_DEFINED", type_id=279, label=None)
            ],
        )
        for t in to_ids
    ]
    paging = SimpleNamespace(next=SimpleNamespace(after=after)) if after else None
    return SimpleNamespace(_from=SimpleNamespace(id=fid), to=to, paging=paging)


def no_links(fid):
    return SimpleNamespace(
        category="OBJECT_NOT_FOUND",
        message=f"No company for {fid}.",
        sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
        context={"fromObjectId": [fid]},
    )


def test_a_207_is_success_only_when_every_error_is_no_associations():
    inputs = [("1", None), ("2", None), ("3", None)]
    ok = Fetcher._parse_links(
        batch([result("1", [9]), result("2", [8], "c2")], [no_links("3")]), inputs, "reading"
    )
    assert ok.frame["to_id"].tolist() == ["9", "8"] and ok.follow == [("2", "c2")]
    odd = SimpleNamespace(
        category="INTERNAL_ERROR", message="partial failure", sub_category=None, context={}
    )
    with pytest.raises(
        HubSpotAPIError,
        match="HubSpot reported errors while reading: INTERNAL_ERROR: partial failure",
    ):
        Fetcher._parse_links(batch([result("1", [9])], [odd, no_links("3")]), inputs, "reading")
    with pytest.raises(HubSpotAPIError, match=r"did not answer for 1 of 3 ids .*first: 2"):
        Fetcher._parse_links(batch([result("1", [9])], [no_links("3")]), inputs, "reading")


def test_helpers():
    values = pd.Series(["42.0", "+7", "1e3", "2.5", "-0", "007", "abc", None], dtype="string")
    assert whole_number_text(values).tolist() == ["42", "7", "1000", "2.5", "0", "7", "abc", pd.NA]
    assert max_from_message("Batch input size 1000 exceeds the maximum of 100 inputs", 1000) == 100
    assert max_from_message("limit must be less than or equal to 100", 100) is None
    assert max_from_message("something else", 10) is None
    defs = [
        SimpleNamespace(category="HUBSPOT_DEFINED", type_id=279, label=None),
        SimpleNamespace(
            category="HUBSPOT_DEFINED", type_id=1, label="Contact with Primary Company"
        ),
        SimpleNamespace(category="USER_DEFINED", type_id=1007, label="Primary"),
        SimpleNamespace(category="USER_DEFINED", type_id=1009, label=" Billing "),
        SimpleNamespace(category="INTEGRATOR_DEFINED", type_id=5000, label=""),
    ]
    types = PairTypes.from_definitions(("contacts", "companies"), defs)
    assert types.label_map() == {
        1: "Primary",
        279: None,
        1007: "Primary",
        1009: "Billing",
        5000: None,
    }
    assert types.for_label("Primary").type_id == 1  # the HubSpot-defined primary wins
    assert types.for_label(None).type_id == 279  # the HubSpot-defined unlabeled type
    assert types.for_label("Billing").category == "USER_DEFINED"
    assert types.for_label("Nope") is None
    assert (
        types.label_map({77: ("USER_DEFINED", "New"), 279: ("HUBSPOT_DEFINED", "x")})[77] == "New"
    )
