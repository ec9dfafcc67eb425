"""The demo integration's data: deterministic, in sync apart from the planted drift."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from assoc_audit.config import load_config
from assoc_audit.demo.portal import DEMO_CONFIG, build_demo, prepare_demo, write_app_database

ROOT = Path(__file__).resolve().parent.parent
REASONS = {
    "object_sync_off",
    "unsupported_in_app",
    "ambiguous_match",
    "record_unmatched",
    "label_mismatch",
    "direction_blocked",
    "limit_exceeded",
    "sync_gap",
}


def test_examples_copy_is_the_packaged_config():
    assert (ROOT / "examples" / "demo.yaml").read_text() == DEMO_CONFIG.read_text()


def test_deterministic_and_scaled():
    a, b = build_demo(300), build_demo(300)
    assert a.portal_associations.equals(b.portal_associations)
    assert a.ground_truth.equals(b.ground_truth)
    big = build_demo(3000)
    assert len(big.portal_records["contacts"]) > len(a.portal_records["contacts"])
    assert big.ground_truth.equals(a.ground_truth)  # planted drift does not depend on scale


def test_ground_truth_covers_every_reason_and_both_sides():
    truth = build_demo(100).ground_truth
    assert set(truth["reason"]) == REASONS
    assert set(truth["present_in"]) == {"hubspot", "app"}
    assert truth["finding_id"].is_unique
    assert truth["finding_id"].str.fullmatch(r"[0-9a-f]{16}").all()


@pytest.fixture
def db(tmp_path):
    path = write_app_database(tmp_path / "acme.db", build_demo(50))
    con = sqlite3.connect(path)
    yield con
    con.close()


def links(con, frm, fid):
    rows = con.execute(
        "SELECT to_object, to_id, label FROM associations WHERE from_object=? AND from_id=? "
        "ORDER BY to_id, label",
        (frm, fid),
    ).fetchall()
    return rows


def test_view_shows_one_organization_per_person(db):
    counts = db.execute(
        "SELECT from_id, count(*) FROM associations WHERE from_object='persons' AND label IS NULL "
        "GROUP BY from_id HAVING count(*) > 1"
    ).fetchall()
    assert counts == []


def test_writes_through_the_view(db):
    assert links(db, "persons", 2) == [("organizations", 2, None), ("organizations", 2, "primary")]
    # setting another organization replaces it (one per person); it is not primary by itself
    db.execute("INSERT INTO associations VALUES ('persons', 2, 'organizations', 3, NULL)")
    assert links(db, "persons", 2) == [("organizations", 3, None)]
    db.execute("INSERT INTO associations VALUES ('persons', 2, 'organizations', 3, 'primary')")
    db.execute("INSERT INTO associations VALUES ('persons', 2, 'organizations', 3, 'billing')")
    assert links(db, "persons", 2) == [
        ("organizations", 3, None),
        ("organizations", 3, "billing"),
        ("organizations", 3, "primary"),
    ]
    db.execute(
        "DELETE FROM associations WHERE from_object='persons' AND from_id=2 AND label='primary'"
    )
    assert links(db, "persons", 2) == [("organizations", 3, None), ("organizations", 3, "billing")]
    # removing the unlabeled link removes the pair's labels too
    db.execute(
        "DELETE FROM associations WHERE from_object='persons' AND from_id=2 AND label IS NULL"
    )
    assert links(db, "persons", 2) == []
    db.execute("INSERT INTO associations VALUES ('deals', 1, 'persons', 7, 'participant')")
    assert ("persons", 7, "participant") in links(db, "deals", 1)
    db.execute("DELETE FROM associations WHERE from_object='deals' AND from_id=1 AND to_id=7")
    assert ("persons", 7, "participant") not in links(db, "deals", 1)
    with pytest.raises(sqlite3.IntegrityError, match="does not store"):
        db.execute("INSERT INTO associations VALUES ('deals', 1, 'organizations', 3, 'reseller')")


def test_prepare_demo_writes_a_loadable_config(tmp_path):
    config_path = prepare_demo(tmp_path, base_url="http://127.0.0.1:9999", data=build_demo(50))
    config = load_config(config_path)
    assert config.hubspot.base_url == "http://127.0.0.1:9999"
    assert (tmp_path / "acme.db").exists() and (tmp_path / "ground_truth.csv").exists()
