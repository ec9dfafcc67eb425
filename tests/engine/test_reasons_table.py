"""Table-driven: every reason and action of DESIGN §6, and their precedence."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from engine_support import brief, world, world_config, world_records

from assoc_audit.audit import run_audit
from assoc_audit.reasons import Reason

CC = "contacts", "companies"
PRIMARY = [
    {"from": "contacts", "to": "companies"},
    {"from": "contacts", "to": "companies", "label": "Primary", "app_label": "primary"},
    {"from": "contacts", "to": "companies", "label": "Billing contact", "app_label": "billing"},
]


@dataclass
class Case:
    name: str
    expected: list[tuple]
    hubspot: list[tuple] = field(default_factory=list)
    app: list[tuple] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    hubspot_records: list[tuple] | None = None
    app_records: list[tuple] | None = None
    hubspot_meta: dict[str, Any] | None = None


def _dup_email_records(side: str, email: str = "e1@x.io") -> list[tuple]:
    records = world_records(side)
    if side == "hubspot":
        records.append(("contacts", "c99", {"email": email}, "Contact 1 (copy)"))
    return records


CASES = [
    # -- 1 object_sync_off ------------------------------------------------------
    Case(
        "object off: tickets sync off",
        hubspot=[("tickets", "t1", "companies", "k1", None)],
        config={
            "associations": [{"from": "tickets", "to": "companies"}],
            "objects_extra": {"tickets": {"sync": "off"}},
        },
        expected=[("hubspot", "t1", "k1", None, "object_sync_off", "none")],
    ),
    Case(
        "object missing from objects counts as off; app side too",
        app=[("tickets", "T1", "companies", "o1", None)],
        config={"associations": [{"from": "tickets", "to": "companies"}]},
        expected=[("app", "T1", "o1", None, "object_sync_off", "none")],
    ),
    Case(
        "object_sync_off beats unsupported_in_app",
        hubspot=[("tickets", "t1", "companies", "k1", None)],
        config={"associations": [{"from": "tickets", "to": "companies", "app_supported": False}]},
        expected=[("hubspot", "t1", "k1", None, "object_sync_off", "none")],
    ),
    Case(
        "object off on both sides: same link is one-sided on each side",
        hubspot=[("tickets", "t1", "companies", "k1", None)],
        app=[("tickets", "T1", "companies", "o1", None)],
        config={"associations": [{"from": "tickets", "to": "companies"}]},
        expected=[
            ("app", "T1", "o1", None, "object_sync_off", "none"),
            ("hubspot", "t1", "k1", None, "object_sync_off", "none"),
        ],
    ),
    # -- 2 unsupported_in_app ---------------------------------------------------
    Case(
        "whole pair unsupported",
        hubspot=[("c1", "k1"), ("c2", "k2", "Anything")],
        config={"associations": [{"from": "contacts", "to": "companies", "app_supported": False}]},
        expected=[
            ("hubspot", "c1", "k1", None, "unsupported_in_app", "none"),
            ("hubspot", "c2", "k2", None, "unsupported_in_app", "none"),
            ("hubspot", "c2", "k2", "Anything", "unsupported_in_app", "none"),
        ],
    ),
    Case(
        "whole pair unsupported: a link on both sides is still in sync",
        hubspot=[("c1", "k1")],
        app=[("p1", "o1")],
        config={"associations": [{"from": "contacts", "to": "companies", "app_supported": False}]},
        expected=[],
    ),
    Case(
        "label marked unsupported; label without entry; app label without entry",
        hubspot=[("c1", "k1", "Reseller"), ("c2", "k2", "Foo")],
        app=[("p1", "o1"), ("p2", "o2"), ("p3", "o3", "foo")],
        config={
            "associations": [
                {"from": "contacts", "to": "companies"},
                {
                    "from": "contacts",
                    "to": "companies",
                    "label": "Reseller",
                    "app_supported": False,
                },
            ]
        },
        expected=[
            ("app", "p3", "o3", None, "sync_gap", "create_in_hubspot"),
            ("app", "p3", "o3", "foo", "unsupported_in_app", "none"),
            ("hubspot", "c1", "k1", "Reseller", "unsupported_in_app", "none"),
            ("hubspot", "c2", "k2", "Foo", "unsupported_in_app", "none"),
        ],
    ),
    Case(
        "same text on both sides without a supported entry never matches",
        hubspot=[("c1", "k1", "Reseller")],
        app=[("p1", "o1", "Reseller")],
        config={
            "associations": [
                {"from": "contacts", "to": "companies"},
                {
                    "from": "contacts",
                    "to": "companies",
                    "label": "Reseller",
                    "app_supported": False,
                },
            ]
        },
        expected=[
            ("app", "p1", "o1", "Reseller", "unsupported_in_app", "none"),
            ("hubspot", "c1", "k1", "Reseller", "unsupported_in_app", "none"),
        ],
    ),
    Case(
        "unsupported_in_app beats ambiguous and unmatched",
        hubspot=[("c99", "k1", "Foo"), ("c1", "k404", "Foo")],
        hubspot_records=_dup_email_records("hubspot"),
        expected=[
            ("hubspot", "c1", "k404", None, "ambiguous_match", "review"),
            ("hubspot", "c1", "k404", "Foo", "unsupported_in_app", "none"),
            ("hubspot", "c99", "k1", None, "ambiguous_match", "review"),
            ("hubspot", "c99", "k1", "Foo", "unsupported_in_app", "none"),
        ],
    ),
    # -- 3 ambiguous_match ------------------------------------------------------
    Case(
        "ambiguous from-record (two HubSpot contacts share an email)",
        hubspot=[("c1", "k1"), ("c99", "k2")],
        app=[("p1", "o3")],
        hubspot_records=_dup_email_records("hubspot"),
        expected=[
            ("app", "p1", "o3", None, "ambiguous_match", "review"),
            ("hubspot", "c1", "k1", None, "ambiguous_match", "review"),
            ("hubspot", "c99", "k2", None, "ambiguous_match", "review"),
        ],
    ),
    Case(
        "ambiguous beats unmatched (from ambiguous, to not read)",
        hubspot=[("c1", "k404")],
        hubspot_records=_dup_email_records("hubspot"),
        expected=[("hubspot", "c1", "k404", None, "ambiguous_match", "review")],
    ),
    # -- 4 record_unmatched -----------------------------------------------------
    Case(
        "unmatched endpoint and endpoint not read",
        hubspot=[("c1", "k404"), ("c7", "k1")],
        hubspot_records=[*world_records("hubspot"), ("contacts", "c7", {"email": "new@x.io"}, "N")],
        expected=[
            ("hubspot", "c1", "k404", None, "record_unmatched", "none"),
            ("hubspot", "c7", "k1", None, "record_unmatched", "none"),
        ],
    ),
    Case(
        "direction-blocked and unmatched reports record_unmatched",
        app=[("p7", "o1")],
        app_records=[*world_records("app"), ("contacts", "p7", {"email": "new@x.io"}, "N")],
        config={"contacts": "hubspot_to_app"},
        expected=[("app", "p7", "o1", None, "record_unmatched", "none")],
    ),
    Case(
        "record_unmatched beats label_mismatch-like differences",
        hubspot=[("c7", "k1", "Primary")],
        app=[("p7", "o1", "billing")],
        hubspot_records=[*world_records("hubspot"), ("contacts", "c7", {"email": "h@x.io"}, "H")],
        app_records=[*world_records("app"), ("contacts", "p7", {"email": "a@x.io"}, "A")],
        config={"associations": PRIMARY},
        expected=[
            ("app", "p7", "o1", None, "record_unmatched", "none"),
            ("app", "p7", "o1", "Billing contact", "record_unmatched", "none"),
            ("hubspot", "c7", "k1", None, "record_unmatched", "none"),
            ("hubspot", "c7", "k1", "Primary", "record_unmatched", "none"),
        ],
    ),
    # -- 5 label_mismatch -------------------------------------------------------
    Case(
        "label mismatch two-way, HubSpot wins: relabel in app on both rows",
        hubspot=[("c1", "k1", "Primary")],
        app=[("p1", "o1", "billing")],
        config={"associations": PRIMARY},
        expected=[
            ("app", "p1", "o1", "Billing contact", "label_mismatch", "relabel_in_app"),
            ("hubspot", "c1", "k1", "Primary", "label_mismatch", "relabel_in_app"),
        ],
    ),
    Case(
        "label mismatch two-way, app wins",
        hubspot=[("c1", "k1", "Primary")],
        app=[("p1", "o1", "billing")],
        config={"associations": PRIMARY, "conflict_winner": "app"},
        expected=[
            ("app", "p1", "o1", "Billing contact", "label_mismatch", "relabel_in_hubspot"),
            ("hubspot", "c1", "k1", "Primary", "label_mismatch", "relabel_in_hubspot"),
        ],
    ),
    Case(
        "label mismatch one-way to app: relabel in app, even for the app's row",
        hubspot=[("c1", "k1", "Primary")],
        app=[("p1", "o1", "billing")],
        config={"associations": PRIMARY, "contacts": "hubspot_to_app", "conflict_winner": "app"},
        expected=[
            ("app", "p1", "o1", "Billing contact", "label_mismatch", "relabel_in_app"),
            ("hubspot", "c1", "k1", "Primary", "label_mismatch", "relabel_in_app"),
        ],
    ),
    Case(
        "label mismatch one-way to HubSpot",
        hubspot=[("c1", "k1", "Primary")],
        app=[("p1", "o1", "billing")],
        config={"associations": PRIMARY, "companies": "app_to_hubspot"},
        expected=[
            ("app", "p1", "o1", "Billing contact", "label_mismatch", "relabel_in_hubspot"),
            ("hubspot", "c1", "k1", "Primary", "label_mismatch", "relabel_in_hubspot"),
        ],
    ),
    Case(
        "label mismatch with the direction blocked: action none",
        hubspot=[("c1", "k1", "Primary")],
        app=[("p1", "o1", "billing")],
        config={
            "associations": PRIMARY,
            "contacts": "hubspot_to_app",
            "companies": "app_to_hubspot",
        },
        expected=[
            ("app", "p1", "o1", "Billing contact", "label_mismatch", "none"),
            ("hubspot", "c1", "k1", "Primary", "label_mismatch", "none"),
        ],
    ),
    Case(
        "two labels against one is not a mismatch",
        hubspot=[("c1", "k1", "Primary"), ("c1", "k1", "Billing contact")],
        app=[("p1", "o1", "other")],
        config={
            "associations": [
                *PRIMARY,
                {"from": "contacts", "to": "companies", "label": "Other", "app_label": "other"},
            ]
        },
        expected=[
            ("app", "p1", "o1", "Other", "sync_gap", "create_in_hubspot"),
            ("hubspot", "c1", "k1", "Billing contact", "sync_gap", "create_in_app"),
            ("hubspot", "c1", "k1", "Primary", "sync_gap", "create_in_app"),
        ],
    ),
    Case(
        "label mismatch beats direction_blocked",
        hubspot=[("c1", "k1", "Billing contact")],
        app=[("p1", "o1", "primary")],
        config={"associations": PRIMARY, "contacts": "hubspot_to_app", "mirror_deletions": True},
        expected=[
            ("app", "p1", "o1", "Primary", "label_mismatch", "relabel_in_app"),
            ("hubspot", "c1", "k1", "Billing contact", "label_mismatch", "relabel_in_app"),
        ],
    ),
    # -- 6 direction_blocked ----------------------------------------------------
    Case(
        "one-way to app: app-only link is blocked",
        app=[("p1", "o1")],
        config={"contacts": "hubspot_to_app"},
        expected=[("app", "p1", "o1", None, "direction_blocked", "none")],
    ),
    Case(
        "one-way to app with mirror_deletions: remove from app",
        app=[("p1", "o1")],
        hubspot=[("c2", "k2")],
        config={"contacts": "hubspot_to_app", "mirror_deletions": True},
        expected=[
            ("app", "p1", "o1", None, "direction_blocked", "remove_from_app"),
            ("hubspot", "c2", "k2", None, "sync_gap", "create_in_app"),
        ],
    ),
    Case(
        "one-way to HubSpot with mirror_deletions: remove from HubSpot",
        hubspot=[("c1", "k1")],
        config={"companies": "app_to_hubspot", "mirror_deletions": True},
        expected=[("hubspot", "c1", "k1", None, "direction_blocked", "remove_from_hubspot")],
    ),
    Case(
        "opposite one-ways block both ways, mirror_deletions does not act",
        hubspot=[("c1", "k1")],
        app=[("p2", "o2")],
        config={
            "contacts": "hubspot_to_app",
            "companies": "app_to_hubspot",
            "mirror_deletions": True,
        },
        expected=[
            ("app", "p2", "o2", None, "direction_blocked", "none"),
            ("hubspot", "c1", "k1", None, "direction_blocked", "none"),
        ],
    ),
    Case(
        "same one-way twice is that one-way",
        hubspot=[("c1", "k1")],
        app=[("p2", "o2")],
        config={"contacts": "app_to_hubspot", "companies": "app_to_hubspot"},
        expected=[
            ("app", "p2", "o2", None, "sync_gap", "create_in_hubspot"),
            ("hubspot", "c1", "k1", None, "direction_blocked", "none"),
        ],
    ),
    # -- 7 limit_exceeded -------------------------------------------------------
    Case(
        "app limit 1: target already holds a linked pair",
        hubspot=[("c1", "k1"), ("c1", "k2")],
        app=[("p1", "o1")],
        config={"associations": [{"from": "contacts", "to": "companies", "app_max_per_record": 1}]},
        expected=[("hubspot", "c1", "k2", None, "limit_exceeded", "none")],
    ),
    Case(
        "competition by to_id (length, text)",
        hubspot=[("c1", "k3"), ("c1", "k10"), ("c1", "k2")],
        config={"associations": [{"from": "contacts", "to": "companies", "app_max_per_record": 2}]},
        expected=[
            ("hubspot", "c1", "k2", None, "sync_gap", "create_in_app"),
            ("hubspot", "c1", "k3", None, "sync_gap", "create_in_app"),
            ("hubspot", "c1", "k10", None, "limit_exceeded", "none"),
        ],
    ),
    Case(
        "the pair that is Primary on the source side first",
        hubspot=[("c1", "k3"), ("c1", "k10", "Primary"), ("c1", "k2")],
        config={
            "associations": [
                {"from": "contacts", "to": "companies", "app_max_per_record": 2},
                {"from": "contacts", "to": "companies", "label": "Primary", "app_label": "primary"},
            ]
        },
        expected=[
            ("hubspot", "c1", "k2", None, "sync_gap", "create_in_app"),
            ("hubspot", "c1", "k3", None, "limit_exceeded", "none"),
            ("hubspot", "c1", "k10", None, "sync_gap", "create_in_app"),
            ("hubspot", "c1", "k10", "Primary", "sync_gap", "create_in_app"),
        ],
    ),
    Case(
        "limits count per from-record",
        hubspot=[("c1", "k1"), ("c2", "k1")],
        app=[("p2", "o2")],
        config={"associations": [{"from": "contacts", "to": "companies", "app_max_per_record": 1}]},
        expected=[
            ("app", "p2", "o2", None, "sync_gap", "create_in_hubspot"),
            ("hubspot", "c1", "k1", None, "sync_gap", "create_in_app"),
            ("hubspot", "c2", "k1", None, "limit_exceeded", "none"),
        ],
    ),
    Case(
        "different primaries two-way, HubSpot wins: HubSpot's row moves, app's row exceeds",
        hubspot=[("c1", "k1"), ("c1", "k2", "Primary")],
        app=[("p1", "o1", "primary"), ("p1", "o2")],
        config={"associations": PRIMARY},
        expected=[
            ("app", "p1", "o1", "Primary", "limit_exceeded", "none"),
            ("hubspot", "c1", "k2", "Primary", "sync_gap", "create_in_app"),
        ],
    ),
    Case(
        "different primaries two-way, app wins",
        hubspot=[("c1", "k1"), ("c1", "k2", "Primary")],
        app=[("p1", "o1", "primary"), ("p1", "o2")],
        config={"associations": PRIMARY, "conflict_winner": "app"},
        expected=[
            ("app", "p1", "o1", "Primary", "sync_gap", "create_in_hubspot"),
            ("hubspot", "c1", "k2", "Primary", "limit_exceeded", "none"),
        ],
    ),
    Case(
        "different primaries one-way: source moves, target blocked",
        hubspot=[("c1", "k1"), ("c1", "k2", "Primary")],
        app=[("p1", "o1", "primary"), ("p1", "o2")],
        config={"associations": PRIMARY, "contacts": "hubspot_to_app", "conflict_winner": "app"},
        expected=[
            ("app", "p1", "o1", "Primary", "direction_blocked", "none"),
            ("hubspot", "c1", "k2", "Primary", "sync_gap", "create_in_app"),
        ],
    ),
    Case(
        "one primary per record on HubSpot: a second app primary exceeds",
        hubspot=[("c1", "k1", "Primary"), ("c1", "k2")],
        app=[("p1", "o1", "primary"), ("p1", "o2", "primary")],
        config={"associations": PRIMARY},
        expected=[("app", "p1", "o2", "Primary", "limit_exceeded", "none")],
    ),
    Case(
        "HubSpot's configured limits from the connector",
        app=[("p1", "o1"), ("p1", "o2")],
        hubspot_meta={
            "limits": [
                {
                    "from_object": "contacts",
                    "to_object": "companies",
                    "label": None,
                    "max_per_record": 1,
                }
            ]
        },
        expected=[
            ("app", "p1", "o1", None, "sync_gap", "create_in_hubspot"),
            ("app", "p1", "o2", None, "limit_exceeded", "none"),
        ],
    ),
    # -- 8 sync_gap -------------------------------------------------------------
    Case(
        "sync gaps both ways, implied unlabeled links",
        hubspot=[("c1", "k1", "Primary")],
        app=[("p2", "o2", "primary"), ("p3", "o3")],
        config={"associations": PRIMARY},
        expected=[
            ("app", "p2", "o2", None, "sync_gap", "create_in_hubspot"),
            ("app", "p2", "o2", "Primary", "sync_gap", "create_in_hubspot"),
            ("app", "p3", "o3", None, "sync_gap", "create_in_hubspot"),
            ("hubspot", "c1", "k1", None, "sync_gap", "create_in_app"),
            ("hubspot", "c1", "k1", "Primary", "sync_gap", "create_in_app"),
        ],
    ),
    Case(
        "an implied unlabeled link matches a stored one",
        hubspot=[("c1", "k1", "Primary")],
        app=[("p1", "o1")],
        config={"associations": PRIMARY},
        expected=[("hubspot", "c1", "k1", "Primary", "sync_gap", "create_in_app")],
    ),
    Case(
        "an unlabeled entry's app_label is the unlabeled link",
        hubspot=[("deals", "g1", "contacts", "c1", None), ("deals", "g2", "contacts", "c2", None)],
        app=[
            ("deals", "D1", "contacts", "p1", "participant"),
            ("deals", "D3", "contacts", "p3", "participant"),
            ("deals", "D3", "contacts", "p3", None),
        ],
        config={
            "associations": [{"from": "deals", "to": "contacts", "app_label": "participant"}],
            "deals": "two_way",
        },
        expected=[
            ("app", "D3", "p3", None, "sync_gap", "create_in_hubspot"),
            ("hubspot", "g2", "c2", None, "sync_gap", "create_in_app"),
        ],
    ),
]


def _run(case: Case):
    config_kw = dict(case.config)
    associations = config_kw.pop("associations", None)
    objects_extra = config_kw.pop("objects_extra", None)
    sync = {k: config_kw.pop(k) for k in ("contacts", "companies", "deals") if k in config_kw}
    config = world_config(associations, **sync, extra_objects=objects_extra, **config_kw)
    h, a = world(
        config,
        case.hubspot,
        case.app,
        hubspot_records=case.hubspot_records,
        app_records=case.app_records,
        hubspot_meta=case.hubspot_meta,
    )
    return run_audit(config, hubspot=h, app=a)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reason_and_action(case: Case):
    result = _run(case)
    assert brief(result) == case.expected
    for row in result.findings.itertuples():
        assert row.step == Reason(row.reason).step


def test_every_reason_and_action_is_covered():
    reasons = {e[4] for c in CASES for e in c.expected}
    actions = {e[5] for c in CASES for e in c.expected}
    assert reasons == set(Reason)
    assert actions >= {
        "none",
        "review",
        "create_in_app",
        "create_in_hubspot",
        "remove_from_app",
        "remove_from_hubspot",
        "relabel_in_app",
        "relabel_in_hubspot",
    }
