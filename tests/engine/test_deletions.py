"""Deletions against a baseline (DESIGN §6 "Deletions"), including mirror_deletions."""

from __future__ import annotations

import pytest
from engine_support import brief, world, world_config

from assoc_audit.audit import run_audit
from assoc_audit.errors import SnapshotError
from assoc_audit.snapshot import write_side

BOTH = [("c1", "k1"), ("c2", "k2")], [("p1", "o1"), ("p2", "o2")]


def _baseline(tmp_path, config, hubspot_links, app_links, nested=True):
    h, a = world(config, hubspot_links, app_links)
    root = tmp_path / "previous"
    base = root / "snapshot" if nested else root
    write_side(base / "hubspot", h)
    write_side(base / "app", a)
    return root


@pytest.mark.parametrize(
    ("sync", "now_h", "now_a", "expected"),
    [
        (  # removed in the app; two-way carries app changes: remove from HubSpot
            {},
            [("c1", "k1"), ("c2", "k2")],
            [("p2", "o2")],
            [("hubspot", "c1", "k1", None, "sync_gap", "remove_from_hubspot")],
        ),
        (  # removed in HubSpot; two-way: remove from the app
            {},
            [("c2", "k2")],
            [("p1", "o1"), ("p2", "o2")],
            [("app", "p1", "o1", None, "sync_gap", "remove_from_app")],
        ),
        (  # removed in the app, but app changes do not reach HubSpot
            {"contacts": "hubspot_to_app"},
            [("c1", "k1"), ("c2", "k2")],
            [("p2", "o2")],
            [("hubspot", "c1", "k1", None, "direction_blocked", "none")],
        ),
        (  # removed in HubSpot, one-way to app: the app should follow
            {"contacts": "hubspot_to_app"},
            [("c2", "k2")],
            [("p1", "o1"), ("p2", "o2")],
            [("app", "p1", "o1", None, "sync_gap", "remove_from_app")],
        ),
        (  # mirror_deletions does not act on the source side's deletion-blocked link
            {"contacts": "hubspot_to_app", "mirror_deletions": True},
            [("c1", "k1"), ("c2", "k2")],
            [("p2", "o2")],
            [("hubspot", "c1", "k1", None, "direction_blocked", "none")],
        ),
        (  # blocked both ways: a deletion cannot propagate
            {"contacts": "hubspot_to_app", "companies": "app_to_hubspot"},
            [("c2", "k2")],
            [("p1", "o1"), ("p2", "o2")],
            [("app", "p1", "o1", None, "direction_blocked", "none")],
        ),
        (  # new links are not deletions
            {},
            [("c1", "k1"), ("c2", "k2"), ("c3", "k3")],
            [("p1", "o1"), ("p2", "o2")],
            [("hubspot", "c3", "k3", None, "sync_gap", "create_in_app")],
        ),
    ],
)
def test_deletions(tmp_path, sync, now_h, now_a, expected):
    config = world_config(**sync)
    base = _baseline(tmp_path, config, *BOTH)
    h, a = world(config, now_h, now_a)
    result = run_audit(config, hubspot=h, app=a, baseline=base)
    assert brief(result) == expected
    assert result.summary.baseline == str(base)


def test_no_baseline_no_deletions():
    config = world_config()
    h, a = world(config, [("c1", "k1"), ("c2", "k2")], [("p2", "o2")])
    assert brief(run_audit(config, hubspot=h, app=a)) == [
        ("hubspot", "c1", "k1", None, "sync_gap", "create_in_app")
    ]


def test_deletion_never_takes_a_limit_slot(tmp_path):
    config = world_config(
        [{"from": "contacts", "to": "companies", "app_max_per_record": 1}],
    )
    base = _baseline(tmp_path, config, [("c1", "k1")], [("p1", "o1")])
    # removed in the app; HubSpot also has a new link for the same contact: the free slot
    # (the app holds nothing now) goes to the new link, the deletion is not counted
    h, a = world(config, [("c1", "k1"), ("c1", "k2")], [])
    assert brief(run_audit(config, hubspot=h, app=a, baseline=base)) == [
        ("hubspot", "c1", "k1", None, "sync_gap", "remove_from_hubspot"),
        ("hubspot", "c1", "k2", None, "sync_gap", "create_in_app"),
    ]


def test_deletion_after_reasons_1_to_5(tmp_path):
    config = world_config()
    base = _baseline(tmp_path, config, [("c1", "k1")], [("p1", "o1")])
    records = [r for r in __import__("engine_support").world_records("app") if r[1] != "p1"]
    h, a = world(config, [("c1", "k1")], [], app_records=records)
    assert brief(run_audit(config, hubspot=h, app=a, baseline=base)) == [
        ("hubspot", "c1", "k1", None, "record_unmatched", "none")
    ]


def test_baseline_mapped_with_todays_matches(tmp_path):
    config = world_config()
    # in the baseline the app's link used other ids; today's records map them the same way
    base = _baseline(tmp_path, config, [("c1", "k1")], [("p1", "o1")], nested=False)
    h, a = world(config, [("c1", "k1")], [])
    assert brief(run_audit(config, hubspot=h, app=a, baseline=base)) == [
        ("hubspot", "c1", "k1", None, "sync_gap", "remove_from_hubspot")
    ]


def test_bad_baseline_folder(tmp_path):
    config = world_config()
    h, a = world(config)
    with pytest.raises(SnapshotError, match="not a baseline"):
        run_audit(config, hubspot=h, app=a, baseline=tmp_path)
