"""The HubSpot connector reading a seeded emulator portal through the official client."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hubspot_support import (
    TOKEN,
    TOKEN_ENV,
    VirtualTime,
    check_exact,
    config_data,
    rows,
    seeded,
    truth_links,
    write_config,
)

from assoc_audit.connectors import Connector, connector_for, load_side
from assoc_audit.connectors.hubspot import HubSpotConnector
from assoc_audit.connectors.hubspot.ratelimit import RetryPolicy
from assoc_audit.errors import AuthError, DataError
from assoc_audit.sandbox import Sandbox
from assoc_audit.sandbox.clock import Clock
from assoc_audit.tables import ASSOCIATION_COLUMNS

COLUMNS = list(ASSOCIATION_COLUMNS)
FAST_RETRY = RetryPolicy(attempts=8, base=0.02, cap=0.2)


@pytest.fixture
def sb():
    with Sandbox(tokens=(TOKEN, "other-portal"), rate_limit=0) as box:
        yield box


@pytest.fixture
def portal(sb):
    return seeded(sb)


@pytest.fixture
def config(sb, tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return write_config(tmp_path, config_data(sb.url))


def test_read_side_is_exactly_the_seeded_portal(sb, portal, config):
    side = load_side(config, "hubspot", progress=False)
    check_exact(side, portal, sb)
    labels = set(side.associations["label"].dropna())
    assert {"Primary", "Billing contact", "Decision maker", "Reseller"} <= labels
    assert side.records["updated_at"].notna().all()
    assert str(side.records["updated_at"].dtype) == "datetime64[us, UTC]"
    # every call is accounted for, and matches what the emulator served
    api = side.meta["api"]
    served = sb.stats(TOKEN)
    assert api["calls"] + api["retries"] == served["requests"]
    assert api["by_endpoint"]["objects.list"]["calls"] == served["by_endpoint"]["objects.list_page"]
    # one batch read per pair (240 contacts < the batch limit of 1000)
    assert served["by_endpoint"]["assoc.batch_read"] == 4
    assert side.meta["labels"]["contacts→companies"] == [
        "Primary",
        "Billing contact",
        "Decision maker",
    ]
    assert side.meta["limits"] == []
    json.dumps(side.meta)  # meta.json material


def test_connector_protocol_and_partial_reads(sb, portal, config):
    connector = connector_for(config, "hubspot", progress=False)
    assert isinstance(connector, Connector)
    assert connector.side == "hubspot" and connector.kind == "hubspot"
    assert connector.describe() == f"hubspot {sb.url}" and TOKEN not in connector.describe()
    contacts = connector.read_records("contacts", ["email", "hs_object_id"])
    assert list(contacts.columns) == ["object", "record_id", "email", "display_name", "updated_at"]
    assert len(contacts) == len(portal.contacts)
    some = [*portal.deals["id"].tolist()[:7], "999999999"]  # one id that does not exist
    links = connector.read_associations(("deals", "companies"), from_ids=some)
    truth = [r for r in truth_links(sb, ("deals", "companies")) if r[0] in some]
    assert rows(links, ["from_id", "to_id", "label"]) == truth
    whole = connector.read_associations(("deals", "contacts"))
    assert rows(whole, ["from_id", "to_id", "label"]) == truth_links(sb, ("deals", "contacts"))
    with pytest.raises(DataError, match="pair companies→deals is not audited"):
        connector.read_associations(("companies", "deals"))
    assert connector.usage().calls == sb.stats(TOKEN)["requests"]
    connector.close()


@pytest.mark.parametrize("fault_seed", [1, 2, 3])
def test_injected_faults_change_nothing(sb, portal, config, fault_seed):
    """5% faults (429, 5xx, slow, dropped connections, POST included): the same tables."""
    sb.set_faults(rate=0.05, seed=fault_seed, slow_seconds=0.02)
    connector = HubSpotConnector(config, retry=FAST_RETRY, batch_read_size=50, progress=False)
    side = connector.read_side()
    check_exact(side, portal, sb)
    served = sb.stats(TOKEN)
    assert served["faults_injected"] > 0
    retried = served["faults_injected"] - served["faults"].get("slow", 0)
    assert side.meta["api"]["retries"] == retried
    assert side.meta["api"]["calls"] + retried == served["requests"]


def test_every_fault_kind_on_batch_reads(sb, portal, config):
    """Dropped connections and 5xx on POST batch reads are retried (urllib3 would not)."""
    sb.set_faults(rate=0.5, seed=4, match="/batch/read", weights={"drop": 1, "server_error": 1})
    connector = HubSpotConnector(config, retry=FAST_RETRY, batch_read_size=40, progress=False)
    side = connector.read_side()
    check_exact(side, portal, sb)
    served = sb.stats(TOKEN)
    assert served["faults"]["drop"] > 0 and served["faults"]["server_error"] > 0
    assert (
        side.meta["api"]["by_endpoint"]["assoc.batch_read"]["retries"] == served["faults_injected"]
    )


def test_stays_under_the_rate_limit_on_virtual_time(tmp_path, monkeypatch):
    """A 10-per-10-s portal: the limiter learns the limit from the headers; no 429 at all.

    One worker: virtual time jumps when a thread sleeps, which would also age requests
    other threads have in flight (real sleeps and requests overlap); the concurrent case
    runs on real time in the next test.
    """
    clock = VirtualTime()
    with Sandbox(tokens=(TOKEN,), rate_limit=10, clock=Clock(monotonic=clock)) as sb:
        portal = seeded(sb, contacts=400)
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        config = write_config(tmp_path, config_data(sb.url))
        connector = HubSpotConnector(
            config,
            workers=1,
            batch_read_size=100,
            clock=clock,
            sleep=clock.sleep,
            progress=False,
        )
        side = connector.read_side()
        check_exact(side, portal, sb)
        served = sb.stats(TOKEN)
        assert served["rate_limited"] == 0 and served["by_status"].get("429") is None
        assert served["requests"] >= 20
        rate = side.meta["api"]["rate_limit"]
        assert rate["max_per_window"] == 10 and rate["window_seconds"] == 10.0
        assert rate["throttled"] > 0
        # the requests took at least (requests / 10 - 1) windows of virtual time
        assert rate["waited_seconds"] >= (served["requests"] // 10 - 1) * 10


@pytest.mark.slow
def test_concurrent_reads_stay_under_the_rate_limit(tmp_path, monkeypatch):
    """Six threads on a 15-per-10-s portal, real time: no 429 (about 10 s)."""
    with Sandbox(tokens=(TOKEN,), rate_limit=15) as sb:
        portal = seeded(sb)
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        config = write_config(tmp_path, config_data(sb.url))
        connector = HubSpotConnector(config, workers=6, batch_read_size=50, progress=False)
        side = connector.read_side()
        check_exact(side, portal, sb)
        served = sb.stats(TOKEN)
        assert served["requests"] > 15 and served["rate_limited"] == 0
        assert side.meta["api"]["rate_limit"]["throttled"] > 0


def test_other_traffic_on_the_token_is_counted(tmp_path, monkeypatch):
    """Requests another client made in the window show in Remaining and are waited out."""
    clock = VirtualTime()
    with Sandbox(tokens=(TOKEN,), rate_limit=10, clock=Clock(monotonic=clock)) as sb:
        portal = seeded(sb, contacts=150)
        other = sb.client(TOKEN, retry=False).crm.objects.basic_api
        for _ in range(8):
            other.get_page("contacts", limit=1)
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        config = write_config(tmp_path, config_data(sb.url))
        connector = HubSpotConnector(
            config, workers=1, clock=clock, sleep=clock.sleep, progress=False
        )
        side = connector.read_side()
        check_exact(side, portal, sb)
        assert sb.stats(TOKEN)["rate_limited"] == 0
        assert side.meta["api"]["rate_limit"]["foreign_requests_seen"] >= 7


def test_429_retry_after_is_honoured(tmp_path, monkeypatch):
    clock = VirtualTime()
    with Sandbox(
        tokens=(TOKEN,),
        rate_limit=0,
        clock=Clock(monotonic=clock),
        faults={"rate": 0.3, "seed": 5, "weights": {"rate_limit": 1}},
        limits={"retry_after": True},
    ) as sb:
        portal = seeded(sb, contacts=150)
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        config = write_config(tmp_path, config_data(sb.url))
        # One worker: faults are placed by request number, so with several threads a heavily
        # loaded machine could hand one call a long run of the 30% injected 429s.
        connector = HubSpotConnector(
            config, workers=1, clock=clock, sleep=clock.sleep, progress=False
        )
        side = connector.read_side()
        check_exact(side, portal, sb)
        injected = sb.stats(TOKEN)["faults"]["rate_limit"]
        assert injected > 0 and side.meta["api"]["retries"] == injected
        # Retry-After: 1 on every injected 429; the limiter held every thread that long
        assert side.meta["api"]["rate_limit"]["waited_seconds"] >= 1.0
        assert all(s <= 1.0 + 1e-9 for s in clock.slept)


def test_batch_limit_and_per_id_pages(sb, portal, config):
    """A portal that takes 100 ids per batch read and 2 links per id page."""
    sb.set_limits(assoc_batch_read_max=100, assoc_batch_read_page=2)
    connector = HubSpotConnector(config, progress=False)
    side = connector.read_side()
    check_exact(side, portal, sb)
    served = sb.stats(TOKEN)
    assert served["by_status"]["400"] == 1  # the 1000-id batch, refused once
    # 240 contacts, 60 deals (twice), 24 tickets: 3 + 1 + 1 + 1 first reads, then follow-ups
    assert served["by_endpoint"]["assoc.batch_read"] > 7
    assert connector._fetcher.batch_read_size == 100


def test_custom_object_by_type_id(sb, tmp_path, monkeypatch):
    type_id = sb.backend.register_object(TOKEN, "cars", properties=["vin", "model"]).type_id
    cars = pd.DataFrame({"id": ["11", "12", "13"], "vin": ["V1", "V2", None], "model": list("abc")})
    sb.backend.load_records(TOKEN, "cars", cars)
    people = pd.DataFrame({"id": ["1", "2"], "email": ["a@x.io", "b@x.io"]})
    sb.backend.load_records(TOKEN, "contacts", people)
    sb.backend.load_associations(
        TOKEN,
        pd.DataFrame(
            [("cars", "11", "contacts", "1", None), ("cars", "13", "contacts", "2", None)],
            columns=["from_object", "from_id", "to_object", "to_id", "label"],
        ),
    )
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    data = config_data(sb.url)
    data["objects"] = {
        type_id: {"sync": "two_way", "match": [{"hubspot": "vin", "app": "vin"}]},
        "contacts": {"sync": "two_way", "match": [{"hubspot": "email", "app": "email"}]},
    }
    data["associations"] = [{"from": type_id, "to": "contacts"}]
    side = load_side(write_config(tmp_path, data), "hubspot", progress=False)
    cars_read = side.records[side.records["object"] == type_id]
    assert rows(cars_read, ["record_id", "vin", "display_name"]) == [
        ("11", "V1", None),
        ("12", "V2", None),
        ("13", None, None),
    ]
    assert rows(side.associations) == [
        (type_id, "11", "contacts", "1", None),
        (type_id, "13", "contacts", "2", None),
    ]


def test_labels_are_read_in_the_pairs_direction(sb, portal, tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    data = config_data(sb.url)
    data["associations"] = [{"from": "companies", "to": "contacts"}]
    connector = HubSpotConnector(write_config(tmp_path, data), progress=False)
    links = connector.read_associations(("companies", "contacts"))
    labels = set(links["label"].dropna())
    # the inverse of contact→company Primary (type 2) is still HubSpot's primary: "Primary";
    # user labels read with their inverse text
    assert labels == {"Primary", "Billed company", "Decided for"}
    assert rows(links, ["from_id", "to_id", "label"]) == truth_links(sb, ("companies", "contacts"))


def test_number_properties_become_whole_number_text(sb, tmp_path, monkeypatch):
    number = {"name": "acme_id", "label": "Acme id", "type": "number", "fieldType": "number"}
    sb.backend.create_property(TOKEN, "contacts", {**number, "groupName": "contactinformation"})
    people = pd.DataFrame(
        {"id": ["1", "2", "3", "4"], "email": list("abcd"), "acme_id": ["42.0", "1e3", "2.5", None]}
    )
    sb.backend.load_records(TOKEN, "contacts", people)
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    data = config_data(sb.url)
    data["objects"]["contacts"]["match"].insert(0, {"hubspot": "acme_id", "app": "id"})
    connector = HubSpotConnector(write_config(tmp_path, data), progress=False)
    got = connector.read_records("contacts")
    assert rows(got, ["record_id", "acme_id"]) == [
        ("1", "42"),
        ("2", "1000"),
        ("3", "2.5"),
        ("4", None),
    ]


def test_a_match_property_the_portal_lacks_is_an_error(sb, portal, tmp_path, monkeypatch):
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    data = config_data(sb.url)
    data["objects"]["deals"]["match"] = [{"hubspot": "acme_deal_id", "app": "id"}]
    with pytest.raises(DataError) as err:
        load_side(write_config(tmp_path, data), "hubspot", progress=False)
    assert str(err.value) == (
        f"HubSpot {sb.url} deals: no property 'acme_deal_id'; a match rule of objects.deals "
        "names it"
    )
    assert err.value.field == "acme_deal_id"


def test_token_problems_name_the_variable_never_the_token(sb, portal, tmp_path, monkeypatch):
    config = write_config(tmp_path, config_data(sb.url))
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(AuthError, match=rf"^\${TOKEN_ENV} is not set") as err:
        load_side(config, "hubspot")
    assert err.value.token_env == TOKEN_ENV
    monkeypatch.setenv(TOKEN_ENV, "wrong-token-value")
    with pytest.raises(AuthError) as err:
        load_side(config, "hubspot", progress=False)
    text = str(err.value)
    assert f"${TOKEN_ENV}" in text and "401 INVALID_AUTHENTICATION" in text
    assert "wrong-token-value" not in text and err.value.status == 401
    assert err.value.correlation_id


def test_snapshot_round_trip(sb, portal, config, tmp_path):
    live = load_side(config, "hubspot", save_to=tmp_path / "snap" / "hubspot", progress=False)
    meta = json.loads((tmp_path / "snap" / "hubspot" / "meta.json").read_text())
    assert meta["api"]["calls"] == live.meta["api"]["calls"] and meta["limits"] == []
    data = config_data(sb.url)
    data["hubspot"] = {"token_env": TOKEN_ENV, "snapshot": "snap/hubspot"}
    before = sb.stats(TOKEN)["requests"]
    again = load_side(write_config(tmp_path, data), "hubspot")
    assert sb.stats(TOKEN)["requests"] == before  # no API call
    assert rows(again.records) == rows(live.records)
    assert rows(again.associations, COLUMNS) == rows(live.associations, COLUMNS)


def test_configured_limits_are_in_meta(sb, portal, config):
    sb.backend.set_association_limit(TOKEN, "contacts", "companies", None, 3)
    sb.backend.set_association_limit(TOKEN, "contacts", "companies", "Billing contact", 1)
    sb.backend.set_association_limit(TOKEN, "companies", "contacts", None, 50)  # other direction
    side = load_side(config, "hubspot", progress=False)
    limits = [
        (x["from_object"], x["to_object"], x["label"], x["max_per_record"])
        for x in side.meta["limits"]
    ]
    assert sorted(limits, key=str) == sorted(
        [("contacts", "companies", None, 3), ("contacts", "companies", "Billing contact", 1)],
        key=str,
    )


def test_bad_rows_from_the_api_name_source_row_and_column(sb, portal, config):
    """What HubSpot returns is validated like any source (here: pages a faulty API could send)."""
    connector = HubSpotConnector(config, progress=False)
    plan = connector._plan("contacts", None)
    page = pd.DataFrame(
        {
            "record_id": pd.Series(["1", "2", "1"], dtype="string"),
            "email": ["a@x.io", "b@x.io", "c@x.io"],
            "firstname": [None] * 3,
            "lastname": [None] * 3,
            "updated_ms": [0.0, 0.0, 0.0],
        }
    )
    with pytest.raises(DataError) as err:
        connector._records(plan, page)
    assert str(err.value) == (
        f"HubSpot {sb.url} contacts records: rows 1, 3, column 'record_id': duplicate id '1' "
        "for object 'contacts'"
    )
    links = pd.DataFrame(
        {
            "from_id": pd.Series(["1", "2"], dtype="string"),
            "to_id": pd.Series(["9", None], dtype="string"),
            "type_id": [279, 279],
        }
    )
    with pytest.raises(DataError) as err:
        connector._links(("contacts", "companies"), links, {})
    assert str(err.value) == (
        f"HubSpot {sb.url} contacts→companies associations: row 2, column 'to_id': empty id"
    )
