"""Fix plans against the sandbox emulator through the official client (HubSpot side) and
SQLite (app side): the demo apply and undo, digests, 10% faults on 5,000 operations."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import bulk
import pandas as pd
import pytest
from emu_support import actual, target

from assoc_audit import load_config, run_audit
from assoc_audit.connectors.hubspot import HubSpotConnector
from assoc_audit.connectors.hubspot.ratelimit import RetryPolicy
from assoc_audit.demo.portal import DEMO_TOKEN, DEMO_TOKEN_ENV, prepare_demo, seed_demo_portal
from assoc_audit.errors import DigestMismatch
from assoc_audit.fixes import apply_plan, make_plan, make_undo_plan, read_journal, undo_files
from assoc_audit.sandbox import Sandbox

WRITES = ("assoc.batch_create", "assoc.batch_archive", "assoc.batch_archive_labels")


def demo_tables(sb, config, db) -> tuple[list, list]:
    frames = [sb.backend.associations_frame(DEMO_TOKEN, f, t) for f, t in config.pairs]
    hub = pd.concat(frames).astype(object)
    hub_rows = sorted(
        (tuple(r) for r in hub.where(hub.notna(), None).itertuples(index=False)), key=str
    )
    con = sqlite3.connect(db)
    try:
        app_rows = sorted(con.execute("SELECT * FROM associations").fetchall(), key=str)
    finally:
        con.close()
    return hub_rows, app_rows


@pytest.fixture
def demo(tmp_path, monkeypatch):
    monkeypatch.setenv(DEMO_TOKEN_ENV, DEMO_TOKEN)
    with Sandbox(
        tokens=(DEMO_TOKEN,), rate_limit=100_000
    ) as sb:  # headers tell the client: no waiting
        data = seed_demo_portal(sb.backend, DEMO_TOKEN, scale=400)
        config = load_config(prepare_demo(tmp_path, base_url=sb.url, data=data))
        run_audit(config, out=tmp_path / "audit")
        plan = make_plan(config, tmp_path / "audit")
        path = plan.write(tmp_path / "audit" / "plan.json")
        yield sb, config, plan, path, tmp_path / "acme.db"


def test_demo_apply_resolves_everything_then_undo_restores_both_sides(demo, tmp_path):
    sb, config, plan, path, db = demo
    original = demo_tables(sb, config, db)
    assert {op.side for op in plan.operations} == {"hubspot", "app"}
    result = apply_plan(plan, config, plan_file=path, confirm=plan.digest)
    assert result.exit_code == 0, result.lines()
    assert result.verification.findings_resolved == result.verification.findings_total == 6
    after = run_audit(config, out=tmp_path / "after")
    assert set(after.findings["action"]) <= {"none", "review"}
    changed = demo_tables(sb, config, db)
    assert changed != original
    undo = make_undo_plan(config, result.journal)
    undo_file, undo_journal = undo_files(result.journal)
    undo.write(undo_file)
    done = apply_plan(undo, config, journal=undo_journal, plan_file=undo_file, confirm=undo.digest)
    assert done.exit_code == 0, done.lines()
    assert demo_tables(sb, config, db) == original  # labels included, both sides


def test_wrong_or_missing_digest_writes_nothing_on_either_side(demo):
    sb, config, plan, path, db = demo
    original = demo_tables(sb, config, db)
    sb.reset_stats(DEMO_TOKEN)
    dry = apply_plan(plan, config, plan_file=path)
    assert dry.dry_run and dry.to_write == len(plan) and dry.exit_code == 0
    calls = sb.stats(DEMO_TOKEN)["by_endpoint"]
    assert calls and not set(calls) & set(WRITES)  # it read, never wrote
    sb.reset_stats(DEMO_TOKEN)
    for wrong in ("0" * 64, plan.digest[::-1], "yes"):
        with pytest.raises(DigestMismatch):
            apply_plan(plan, config, plan_file=path, confirm=wrong)
    assert sb.stats(DEMO_TOKEN)["requests"] == 0  # refused before any call
    assert demo_tables(sb, config, db) == original


@pytest.mark.slow
def test_5000_operations_with_10pct_faults_complete_exactly(tmp_path, monkeypatch):
    monkeypatch.setenv(bulk.TOKEN_ENV, bulk.TOKEN)
    with Sandbox(
        tokens=(bulk.TOKEN,), rate_limit=100_000
    ) as sb:  # headers tell the client: no waiting
        b = bulk.build(tmp_path, sb)
        assert len(b.plan) == 5000
        db = tmp_path / "app.db"
        original = actual(sb, db)
        expected = target(b.plan, b.config, bulk.hubspot_table(sb), bulk.app_table(db))
        weights = {"rate_limit": 1, "server_error": 1, "drop": 1, "drop_after": 1}
        sb.set_faults(rate=0.10, seed=11, weights=weights)
        sb.reset_stats(bulk.TOKEN)
        # small batches: ~10x the requests of a normal apply, so many more of them fail
        fast = RetryPolicy(base=0.02, cap=0.2)  # the same retries, shorter waits
        small = HubSpotConnector(b.config, write_batch_size=10, retry=fast, progress=False)
        with closing(small) as hub:
            result = apply_plan(b.plan, b.config, plan_file=b.plan_path, confirm=b.plan.digest,
                                connectors={"hubspot": hub}, chunk_size=100)  # fmt: skip
        stats = sb.stats(bulk.TOKEN)
        assert stats["faults_injected"] >= 30 and len(stats["faults"]) == 4, stats
        assert result.exit_code == 0, result.lines()
        assert (result.written, result.already, result.failed) == (5000, 0, ())
        assert actual(sb, db) == expected  # every pair of both sides: nothing missing or extra
        rows = bulk.app_table(db)
        assert len(rows) == len(set(rows))  # no duplicate rows in the app
        lines = [json.loads(x) for x in result.journal.read_text("utf-8").splitlines()]
        settled = [r["op"] for r in lines if r["t"] == "op"]
        assert sorted(settled) == list(range(1, 5001))
        # undo under the same faults returns both sides to where they were
        undo = make_undo_plan(b.config, result.journal)
        undo_file, undo_journal = undo_files(result.journal)
        undo.write(undo_file)
        with closing(HubSpotConnector(b.config, retry=fast, progress=False)) as hub:
            done = apply_plan(undo, b.config, journal=undo_journal, confirm=undo.digest,
                              connectors={"hubspot": hub})  # fmt: skip
        assert done.exit_code == 0, done.lines()
        assert actual(sb, db) == original
        assert read_journal(undo_journal).ended


def test_hubspot_to_hubspot_both_sides_move_primaries_then_undo(tmp_path, monkeypatch):
    """An app side of kind hubspot is written with HubSpot's rules too (implied side effects)."""
    import yaml

    monkeypatch.setenv("FIX_HUB_A", "sandbox-fix-a")
    monkeypatch.setenv("FIX_HUB_B", "sandbox-fix-b")
    tokens = ("sandbox-fix-a", "sandbox-fix-b")
    with Sandbox(tokens=tokens, rate_limit=100_000) as sb:
        for token, base in zip(tokens, (0, 500), strict=True):
            sb.backend.create_label(token, "contacts", "companies", "Billing contact")
            sb.backend.load_records(token, "contacts", pd.DataFrame(
                {"id": [str(base + i) for i in (1, 2, 3)],
                 "email": [f"c{i}@x.io" for i in (1, 2, 3)]}))  # fmt: skip
            sb.backend.load_records(token, "companies", pd.DataFrame(
                {"id": [str(base + 100 + i) for i in (1, 2, 3)],
                 "domain": [f"k{i}.io" for i in (1, 2, 3)]}))  # fmt: skip

        def links(token, rows):
            frame = pd.DataFrame(
                [("contacts", f, "companies", t, lab) for f, t, lab in rows],
                columns=["from_object", "from_id", "to_object", "to_id", "label"],
            )
            sb.backend.load_associations(token, frame)

        links(tokens[0], [("1", "101", None), ("1", "101", "Primary"),
                          ("2", "101", None), ("2", "101", "Billing contact")])  # fmt: skip
        links(tokens[1], [("501", "602", None), ("501", "602", "Primary"), ("501", "601", None),
                          ("503", "603", None)])  # fmt: skip
        data = {
            "name": "hub-to-hub",
            "hubspot": {"token_env": "FIX_HUB_A", "base_url": sb.url},
            "app": {
                "name": "Other portal",
                "kind": "hubspot",
                "token_env": "FIX_HUB_B",
                "base_url": sb.url,
            },
            "objects": {
                "contacts": {"sync": "two_way", "match": [{"hubspot": "email", "app": "email"}]},
                "companies": {"sync": "two_way", "match": [{"hubspot": "domain", "app": "domain"}]},
            },
            "associations": [
                {"from": "contacts", "to": "companies"},
                {"from": "contacts", "to": "companies", "label": "Primary"},
                {"from": "contacts", "to": "companies", "label": "Billing contact"},
            ],
        }
        path = tmp_path / "c.yaml"
        path.write_text(yaml.safe_dump(data), "utf-8")
        config = load_config(path)

        def both():
            out = []
            for token in tokens:
                frame = sb.backend.associations_frame(token, "contacts", "companies").astype(object)
                out.append(sorted(map(tuple, frame.where(frame.notna(), None).values), key=str))
            return out

        original = both()
        run_audit(config, out=tmp_path / "audit")
        plan = make_plan(config, tmp_path / "audit")
        rows = [(op.side, op.action, op.from_id, op.to_id, op.label, op.implied)
                for op in plan.operations]  # fmt: skip
        assert rows == [
            ("hubspot", "create", "1", "102", None, False),
            ("hubspot", "create", "3", "103", None, False),
            ("app", "create", "501", "601", "Primary", False),
            ("app", "remove", "501", "602", "Primary", True),  # HubSpot moves the primary
            ("app", "create", "502", "601", None, False),
            ("app", "create", "502", "601", "Billing contact", False),
        ]
        path = plan.write(tmp_path / "plan.json")
        result = apply_plan(plan, config, plan_file=path, confirm=plan.digest)
        assert result.exit_code == 0 and result.verification.pairs_as_planned == 5
        assert set(run_audit(config, out=tmp_path / "after").findings["action"]) <= {"none"}
        undo = make_undo_plan(config, result.journal)
        done = apply_plan(undo, config, journal=tmp_path / "undo.jsonl", confirm=undo.digest)
        assert done.exit_code == 0 and both() == original
