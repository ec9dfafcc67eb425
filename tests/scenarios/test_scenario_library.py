"""The scenario library a config calls for, the plan and its digest."""

from __future__ import annotations

import copy

import pytest

from assoc_audit.config import parse_config
from assoc_audit.errors import AssocAuditError
from assoc_audit.scenarios.library import MAX_LIMIT_TESTED, build_library, side_label
from assoc_audit.scenarios.plan import Target, plan_scenarios
from assoc_audit.scenarios.samples import (
    can_exclude,
    depends_on_other,
    duplicate_side,
    key_rule,
    new_tag,
    record_values,
)


def _config(data):
    return parse_config(data, base_dir=".")


def _summary(scenarios):
    return [(s.kind, s.pair, s.label, s.flow, s.expected, s.reason) for s in scenarios]


CC, DP, DC, TC = (
    ("contacts", "companies"),
    ("deals", "contacts"),
    ("deals", "companies"),
    ("tickets", "companies"),
)
H2A, A2H = "hubspot_to_app", "app_to_hubspot"


def test_demo_library(base_config):
    scenarios = build_library(_config(base_config))
    assert [s.id for s in scenarios] == [f"S{n:02d}" for n in range(1, len(scenarios) + 1)]
    assert _summary(scenarios) == [
        ("round_trip", CC, None, H2A, "appears", None),
        ("round_trip", CC, None, A2H, "appears", None),
        ("round_trip", CC, "Primary", H2A, "appears", None),
        ("round_trip", CC, "Primary", A2H, "appears", None),
        ("round_trip", CC, "Billing contact", H2A, "appears", None),
        ("round_trip", CC, "Billing contact", A2H, "appears", None),
        ("record_missing", CC, None, H2A, "absent", "record_unmatched"),
        ("duplicates", CC, None, H2A, "absent", "ambiguous_match"),
        ("label_conflict", CC, "Primary", H2A, "absent", "label_mismatch"),
        ("limit", CC, None, H2A, "absent", "limit_exceeded"),
        ("round_trip", DP, None, H2A, "appears", None),
        ("one_way", DP, None, A2H, "absent", "direction_blocked"),
        ("record_missing", DP, None, H2A, "absent", "record_unmatched"),
        ("duplicates", DP, None, H2A, "absent", "ambiguous_match"),
        ("round_trip", DC, None, H2A, "appears", None),
        ("one_way", DC, None, A2H, "absent", "direction_blocked"),
        ("unsupported", DC, "Reseller", H2A, "absent", "unsupported_in_app"),
        ("record_missing", DC, None, H2A, "absent", "record_unmatched"),
        ("duplicates", DC, None, H2A, "absent", "ambiguous_match"),
        ("limit", DC, None, H2A, "absent", "limit_exceeded"),
        ("sync_off", TC, None, H2A, "absent", "object_sync_off"),
    ]
    for s in scenarios:
        assert s.probe in s.links
        assert s.probe.side == s.source
        keys = {r.key for r in s.records}
        assert all({link.from_key, link.to_key} <= keys for link in s.links)
        assert "expected reason" in s.expectation or s.expected == "appears"


def test_expectations_use_each_sides_label_text(base_config):
    by_id = {s.id: s for s in build_library(_config(base_config))}
    assert by_id["S05"].expectation == (
        "A contact→company 'Billing contact' link made in HubSpot appears in Acme CRM as 'billing'."
    )
    assert by_id["S06"].expectation == (
        "A contact→company 'billing' link made in Acme CRM appears in HubSpot as 'Billing contact'."
    )
    assert "as 'participant'" in by_id["S11"].expectation


def test_blocked_and_app_to_hubspot_directions(base_config):
    data = copy.deepcopy(base_config)
    data["objects"]["contacts"]["sync"] = "app_to_hubspot"  # + deals hubspot_to_app: blocked
    scenarios = build_library(_config(data))
    dp = [s for s in scenarios if s.pair == DP]
    assert {(s.kind, s.flow) for s in dp} == {
        ("one_way", H2A),
        ("one_way", A2H),
        ("duplicates", A2H),  # made on the side without the duplicates
    }  # blocked: no round trip, no record_missing (nothing carries)
    cc = [s for s in scenarios if s.pair == CC and s.kind == "round_trip"]
    assert {s.flow for s in cc} == {A2H}
    assert not [s for s in scenarios if s.pair == CC and s.kind == "limit"]  # app is never target


def test_whole_pair_unsupported_and_limits(base_config):
    data = copy.deepcopy(base_config)
    data["objects"]["tickets"] = {"sync": "two_way", "match": [{"hubspot": "subject", "app": "t"}]}
    data["associations"][0]["app_max_per_record"] = MAX_LIMIT_TESTED + 1
    data["associations"][2]["app_max_per_record"] = 2
    scenarios = build_library(_config(data))
    tc = [s for s in scenarios if s.pair == TC]
    assert _summary(tc) == [("unsupported", TC, None, H2A, "absent", "unsupported_in_app")]
    limits = [s for s in scenarios if s.kind == "limit"]
    assert [(s.pair, s.label) for s in limits] == [(CC, "Billing contact"), (DC, None)]
    billing = limits[0]
    assert [r.key for r in billing.records] == ["from", "to1", "to2", "to3"]
    assert [(lk.side, lk.to_key) for lk in billing.links] == [
        ("app", "to1"),
        ("app", "to2"),
        ("hubspot", "to1"),
        ("hubspot", "to2"),
        ("hubspot", "to3"),
    ]


def test_kinds_and_only_filter_and_unknown_names(base_config):
    config = _config(base_config)
    assert {s.kind for s in build_library(config, kinds=("limit",))} == {"limit"}
    plan = plan_scenarios(config, only=["s01", "S07"])
    assert [s.id for s in plan.scenarios] == ["S01", "S07"]
    with pytest.raises(AssocAuditError, match="unknown scenario kind 'nope'"):
        build_library(config, kinds=("nope",))
    with pytest.raises(AssocAuditError, match="unknown scenario S99"):
        plan_scenarios(config, only=["S99"])
    with pytest.raises(AssocAuditError, match="no scenario is left"):
        plan_scenarios(config, kinds=["limit"], only=["S01"])


def test_plan_digest_is_stable_and_bound_to_the_targets(base_config):
    config = _config(base_config)
    a, b = plan_scenarios(config), plan_scenarios(config)
    assert a.digest == b.digest and len(a.digest) == 64
    other = copy.deepcopy(base_config)
    other["hubspot"]["base_url"] = "http://127.0.0.1:9999"
    assert plan_scenarios(_config(other)).digest != a.digest
    fewer = plan_scenarios(config, kinds=["round_trip"])
    assert fewer.digest != a.digest
    text = a.render()
    assert all(s.id in text for s in a.scenarios) and text.endswith(a.digest)
    assert a.to_dict()["records"] == a.records_needed()
    frame = a.to_frame()
    assert list(frame["scenario"]) == [s.id for s in a.scenarios]
    assert frame.loc[0, "direction"] == "HubSpot → Acme CRM"
    assert frame.loc[frame["kind"] == "one_way", "expected"].eq("absent: direction_blocked").all()
    assert Target.of(config).hubspot == "https://api.hubapi.com"


def test_side_labels(base_config):
    config = _config(base_config)
    assert side_label(config, CC, "Billing contact", "app") == "billing"
    assert side_label(config, CC, "Billing contact", "hubspot") == "Billing contact"
    assert side_label(config, DP, None, "app") == "participant"
    assert side_label(config, CC, None, "app") is None


def test_sample_values_match_through_the_key_rule(base_config):
    config = _config(base_config)
    tag = new_tag()
    assert tag.startswith("aa") and len(tag) == 12 and tag != new_tag()
    assert key_rule(config, "contacts").hubspot == "email"  # the rule without a record id
    assert key_rule(config, "deals").app == "id"
    h = record_values(config, "contacts", "hubspot", tag=tag, name="s01-from", identity="s01-from")
    a = record_values(config, "contacts", "app", tag=tag, name="s01-from", identity="s01-from")
    assert h["email"] == a["email"] == f"s01-from.{tag}@assoc-audit.invalid"
    assert "acme_id" not in h and tag in h["lastname"]
    c = record_values(config, "companies", "app", tag=tag, name="x", identity="x")
    assert c["website"] == f"x.{tag}.assoc-audit.invalid"
    # deals match HubSpot acme_id to the app's id: the HubSpot record copies it
    assert depends_on_other(config, "deals", "hubspot")
    assert not depends_on_other(config, "deals", "app")
    d = record_values(config, "deals", "hubspot", tag=tag, name="d", identity="d", partner_id="77")
    assert d["acme_id"] == "77" and d["pipeline"] == "default" and tag in d["dealname"]
    excluded = record_values(
        config, "contacts", "hubspot", tag=tag, name="e", identity="e", identified=False
    )
    assert "email" not in excluded and tag in excluded["lastname"]


def test_where_samples_can_be_duplicated_or_excluded(base_config):
    config = _config(base_config)
    assert duplicate_side(config, "contacts") == "app"  # HubSpot keeps emails unique
    assert duplicate_side(config, "companies") == "app"
    assert duplicate_side(config, "deals") == "hubspot"  # the app's id cannot repeat
    assert duplicate_side(config, "tickets") is None
    assert can_exclude(config, "contacts", "hubspot")
    assert not can_exclude(config, "contacts", "app")  # every person has an id


def test_package_exports_resolve():
    import assoc_audit.scenarios as pkg

    assert pkg.__all__ == sorted(pkg.__all__, key=lambda n: (not n[0].isupper(), n))
    for name in pkg.__all__:
        assert getattr(pkg, name) is not None
    with pytest.raises(AttributeError):
        _ = pkg.nothing_here


def test_emulator_detection_needs_loopback_and_our_health_endpoint(monkeypatch):
    from assoc_audit.sandbox import Sandbox
    from assoc_audit.scenarios.plan import is_sandbox_url

    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # never used for loopback
    with Sandbox(rate_limit=0) as sb:
        assert is_sandbox_url(sb.url)
        assert is_sandbox_url(sb.url.replace("127.0.0.1", "localhost"))
        assert not is_sandbox_url(sb.url + "/nothing-here")
    assert not is_sandbox_url("https://api.hubapi.com")  # not loopback: never even asked
    assert not is_sandbox_url("http://127.0.0.1:9")  # nothing listens
    assert not is_sandbox_url(None)
