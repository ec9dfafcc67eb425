"""A malformed 2xx answer (a lost body, a captive portal's page) is an error, never "no rows".

Through the official client against the emulator's ``bad_body`` (the request runs, its
status comes back with ``{}``) and ``html_body`` (nothing runs; ``200 text/html``) faults.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hubspot_support import TOKEN, TOKEN_ENV, check_exact, config_data, seeded, write_config

from assoc_audit.connectors.hubspot import HubSpotConnector
from assoc_audit.connectors.hubspot.ratelimit import RetryPolicy
from assoc_audit.errors import HubSpotAPIError
from assoc_audit.sandbox import Sandbox

QUICK = RetryPolicy(attempts=3, base=0.01, cap=0.02)
FAST_RETRY = RetryPolicy(attempts=8, base=0.02, cap=0.2)

# (endpoint, path the fault matches, HTTP method, what the message says it was doing,
#  what a `{}` body lacks)
READS = [
    ("account.details", r"^/account-info/v3/details$", "GET",
     "reading the account details (portal id)", "no 'portalId' number"),
    ("assoc.labels", r"^/crm/v4/associations/contacts/companies/labels$", "GET",
     "reading the association labels of contacts→companies", "no 'results' list"),
    ("properties.batch_read", r"^/crm/v3/properties/contacts/batch/read$", "POST",
     "reading the contacts properties email", "no 'status'"),
    ("assoc.limits", r"/definitions/configurations/all$", "GET",
     "reading the association limits configured in the portal", "no 'results' list"),
    ("objects.list", r"^/crm/v3/objects/contacts$", "GET", "listing contacts",
     "no 'results' list"),
    ("assoc.batch_read", r"^/crm/v4/associations/contacts/companies/batch/read$", "POST",
     "reading contacts→companies associations", "no 'status'"),
    ("objects.batch_read", r"^/crm/v3/objects/contacts/batch/read$", "POST",
     "reading contacts records", "no 'status'"),
]  # fmt: skip


@pytest.fixture
def sb():
    with Sandbox(tokens=(TOKEN,), rate_limit=0) as box:
        yield box


@pytest.fixture
def portal(sb):
    return seeded(sb)


@pytest.fixture
def config(sb, tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return write_config(tmp_path, config_data(sb.url))


def _read(connector: HubSpotConnector, endpoint: str, portal) -> None:
    if endpoint == "objects.batch_read":  # the read before deleting records
        connector.delete_records("contacts", portal.contacts["id"].tolist()[:3])
    else:
        connector.read_side()


@pytest.mark.parametrize("kind", ["bad_body", "html_body"])
@pytest.mark.parametrize(("endpoint", "path", "method", "what", "lacks"), READS)
def test_every_read_fails_on_a_persistently_broken_answer(
    sb, portal, config, kind, endpoint, path, method, what, lacks
):
    sb.set_faults(rate=1.0, seed=1, weights={kind: 1}, match=path)
    connector = HubSpotConnector(config, retry=QUICK, progress=False)
    with pytest.raises(HubSpotAPIError) as caught:
        _read(connector, endpoint, portal)
    err = caught.value
    missing = lacks if kind == "bad_body" else "Content-Type 'text/html', not JSON"
    status = err.status if kind == "bad_body" else 200
    assert err.status == status and status in (200, 207)
    assert str(err) == (
        f"HubSpot answered HTTP {status} while {what} ({method} {endpoint}) with a body that "
        f"is not a valid response: {missing}; the response was not used"
    )
    assert TOKEN not in str(err) and TOKEN not in repr(err.to_dict())
    served = sb.stats(TOKEN)
    assert served["faults"][kind] == QUICK.attempts  # retried like a 5xx, then reported
    assert connector.usage().by_endpoint[endpoint].retries == QUICK.attempts - 1
    assert sb.backend.count_records(TOKEN, "contacts") == len(portal.contacts)  # nothing deleted


@pytest.mark.parametrize("kind", ["bad_body", "html_body"])
def test_transient_broken_answers_are_retried_to_the_exact_tables(sb, portal, config, kind):
    clean = HubSpotConnector(config, batch_read_size=50, progress=False).read_side()
    sb.reset_stats()
    sb.set_faults(rate=0.2, seed=7, weights={kind: 1})
    connector = HubSpotConnector(config, retry=FAST_RETRY, batch_read_size=50, progress=False)
    side = connector.read_side()
    check_exact(side, portal, sb)
    for name in ("records", "associations"):
        got, want = getattr(side, name), getattr(clean, name)
        assert got.reset_index(drop=True).equals(want.reset_index(drop=True)), name
    assert side.meta["limits"] == clean.meta["limits"] == []
    assert side.meta["portal_id"] == sb.backend.portal(TOKEN).hub_id
    served = sb.stats(TOKEN)
    assert served["faults"][kind] > 3
    assert side.meta["api"]["retries"] == served["faults_injected"]
    assert side.meta["api"]["calls"] + side.meta["api"]["retries"] == served["requests"]


def ns(**fields):
    return SimpleNamespace(**fields)


def test_answer_shapes_name_what_is_missing():
    from assoc_audit.connectors.hubspot.shapes import SHAPES, content_problem

    assert content_problem({"Content-Type": "application/json;charset=utf-8"}) is None
    assert content_problem({"content-type": "application/problem+json"}) is None
    assert content_problem({"Content-Type": "text/html; charset=utf-8"}) == (
        "Content-Type 'text/html', not JSON"
    )
    assert content_problem({}) == "no Content-Type (a JSON body was expected)"

    def problem(endpoint, data, status=200):
        return SHAPES[endpoint].check(data, status)

    record = ns(id="51", properties={"email": "a@x.io"})
    assert problem("objects.list", ns(results=[record], paging=None)) is None
    assert problem("objects.list", ns(results=None, paging=None)) == "no 'results' list"
    end = ns(next=ns(after=""))
    assert problem("objects.list", ns(results=[record], paging=end)) == (
        "'paging' without a 'next.after' cursor"
    )
    assert problem("objects.list", ns(results=[record], paging=ns(next=None))) == (
        "'paging' without a 'next.after' cursor"
    )
    assert problem("objects.list", ns(results=[record, ns(id="", properties={})], paging=None)) == (
        "result 2 has no 'id'"
    )
    assert problem("objects.list", ns(results=[ns(id="5", properties=None)], paging=None)) == (
        "result 1 has no 'properties' object"
    )

    def read(*results, errors=None):
        return ns(status="COMPLETE", started_at=1, completed_at=2, results=list(results),
                  errors=errors)  # fmt: skip

    kind = ns(type_id=279, category="HUBSPOT_DEFINED", label=None)
    good = ns(_from=ns(id="51"), to=[ns(to_object_id="9", association_types=[kind])], paging=None)
    assert problem("assoc.batch_read", read(good)) is None
    no_to = ns(_from=ns(id="51"), to=[ns(to_object_id=None, association_types=[])], paging=None)
    assert problem("assoc.batch_read", read(good, no_to)) == "result 2 has no 'to[0].toObjectId'"
    no_type = ns(
        _from=ns(id="51"),
        to=[ns(to_object_id="9", association_types=[ns(type_id=None, category=None)])],
        paging=None,
    )
    assert problem("assoc.batch_read", read(no_type)) == (
        "result 1 has no 'to[0].associationTypes[0].typeId' number"
    )
    no_from = ns(_from=None, to=[], paging=None)
    assert problem("assoc.batch_read", read(no_from)) == "result 1 has no 'from.id'"
    assert problem("assoc.batch_read", read(good), status=207) == "a 207 without an 'errors' list"
    odd = ns(category=None, message="x")
    assert problem("assoc.batch_read", read(good, errors=[odd]), status=207) == (
        "error 1 has no 'category'"
    )
    assert problem("assoc.batch_read", ns(status="COMPLETE", started_at=None)) == ("no 'startedAt'")
    assert problem("account.details", {"portalId": 123}) is None
    assert problem("account.details", {"portalId": True}) == "no 'portalId' number"
    assert problem("account.details", {"portalId": "123"}) == "no 'portalId' number"
    assert problem("account.details", "<html>…</html>") == "not a JSON object"
    assert problem("assoc.labels", ns(results=[ns(type_id=1, category="")])) == (
        "result 1 has no 'category'"
    )


def test_every_call_has_a_known_shape():
    from assoc_audit.connectors.base import UsageMeter
    from assoc_audit.connectors.hubspot.api import ApiCaller
    from assoc_audit.connectors.hubspot.ratelimit import RateLimiter

    c = ApiCaller(limiter=RateLimiter(), meter=UsageMeter(), token_env="T", host="h")
    with pytest.raises(ValueError, match="no response shape is known for the endpoint 'nope'"):
        c.call("nope", "doing", lambda **kw: ({}, 200, {}))
