"""The data-sync simulator: the same decisions as the audit's reasons, records, removals,
primaries, failures, switches and interval runs."""

from __future__ import annotations

import threading
import time
from contextlib import closing

import pandas as pd
import pytest
from scenario_support import demo, files_app

from assoc_audit.audit import run_audit
from assoc_audit.connectors import connector_for
from assoc_audit.demo.portal import DEMO_TOKEN
from assoc_audit.errors import SandboxError
from assoc_audit.scenarios.datasync import DataSyncSimulator, SyncBehaviour, SyncScope
from assoc_audit.scenarios.portal_side import PortalSide

CC = ("contacts", "companies")


def _settle(sim: DataSyncSimulator, scope: SyncScope | None = None, passes: int = 4):
    last = None
    for _ in range(passes):
        last = sim.sync_once(scope)
        if not (last.count("created") or last.count("removed") or len(last.record_events)):
            return last
    raise AssertionError(f"the simulator did not settle: {last.summary()}")


def _finding_rows(findings: pd.DataFrame) -> list[tuple]:
    out = []
    for r in findings.astype(object).where(findings.notna(), None).to_dict("records"):
        side = r["present_in"]
        out.append(
            (side, r["from_object"], r["to_object"], r["label"] or None,
             r[f"{side}_from_id"], r[f"{side}_to_id"], r["reason"])
        )  # fmt: skip
    return sorted(out, key=str)


def _skip_rows(events: pd.DataFrame) -> list[tuple]:
    skipped = events.loc[events["action"] == "skipped"]
    clean = skipped.astype(object).where(skipped.notna(), None)
    return sorted(
        (
            (r["source"], r["from_object"], r["to_object"], r["label"],
             r["source_from_id"], r["source_to_id"], r["reason"])
            for r in clean.to_dict("records")
        ),
        key=str,
    )  # fmt: skip


@pytest.mark.parametrize("through", ["portal_side", "hubspot_connector"])
def test_settled_sync_leaves_exactly_what_the_audit_explains(tmp_path, monkeypatch, through):
    """On the whole demo, after the simulator settles: no sync_gap is left, and every link it
    skips is a finding with the same reason (two independent implementations agree)."""
    with demo(tmp_path, monkeypatch, scale=300) as d:
        cfg = d.config
        with (
            closing(connector_for(cfg, "hubspot")) as hub,
            closing(connector_for(cfg, "app")) as app,
        ):
            side = PortalSide(cfg, d.sb.backend, DEMO_TOKEN) if through == "portal_side" else hub
            before = run_audit(cfg, hubspot=side.read_side(), app=app.read_side())
            assert before.summary.by_reason["sync_gap"] == 4
            sim = DataSyncSimulator(cfg, side, app)
            first = sim.sync_once()
            assert first.count("created") == 8 and first.count("failed") == 0
            assert len(first.created_records()["app"]["contacts"]) == 1  # Holly, HubSpot-only
            assert len(first.created_records()["hubspot"]["contacts"]) == 1  # Arthur, app-only
            last = _settle(sim)
            after = run_audit(cfg, hubspot=side.read_side(), app=app.read_side())
    assert after.summary.by_reason["sync_gap"] == 0
    explained = after.findings.loc[after.findings["reason"] != "object_sync_off"]
    assert _skip_rows(last.events) == _finding_rows(explained)


def test_records_are_copied_when_they_can_match_and_excluded_otherwise(tmp_path, monkeypatch):
    with files_app(tmp_path, monkeypatch) as d:
        cfg, backend = d.config, d.sb.backend
        backend.load_records(
            DEMO_TOKEN,
            "contacts",
            pd.DataFrame(
                {"id": ["11", "12"], "email": ["Hub@Example.invalid", None], "firstname": ["Hu", "No"],
                 "lastname": ["B", "Email"]}
            ),
        )  # fmt: skip
        backend.load_records(
            DEMO_TOKEN, "deals", pd.DataFrame({"id": ["21"], "dealname": ["D"], "acme_id": ["555"]})
        )
        (d.folder / "persons.csv").write_text(
            "id,full_name,email\n7,App Person,app@example.invalid\n", encoding="utf-8"
        )
        (d.folder / "deals.csv").write_text("id,name\n8,App deal\n", encoding="utf-8")
        with closing(connector_for(cfg, "app")) as app:
            sim = DataSyncSimulator(cfg, PortalSide(cfg, backend, DEMO_TOKEN), app)
            done = sim.sync_once()
            again = sim.sync_once()
            persons = app.read_records("contacts")
            deals = app.read_records("deals")
        contacts = backend.records_frame(DEMO_TOKEN, "contacts", ["email", "acme_id", "firstname"])
    events = done.record_events.set_index(["object", "source_id"])
    assert events.loc[("contacts", "12"), "action"] == "record_excluded"
    assert events.loc[("contacts", "11"), "action"] == "record_created"
    assert events.loc[("contacts", "7"), "action"] == "record_created"
    assert events.loc[("deals", "21"), "action"] == "record_created"
    assert ("deals", "8") not in events.index  # deals sync HubSpot → app only
    assert len(again.record_events) == 0  # copies match: nothing more to do
    copied = persons.set_index("email").loc["Hub@Example.invalid"]
    assert copied["display_name"] == "Hu B"
    assert deals["record_id"].tolist() == ["8", "555"]  # the app's id from HubSpot's acme_id
    hub_copy = contacts.set_index("email").loc["app@example.invalid"]
    assert hub_copy["acme_id"] == "7" and hub_copy["firstname"] == "App"


def _pair_frame(frm, fid, to, tid, label=None):
    return pd.DataFrame(
        {
            "from_object": [frm],
            "from_id": [fid],
            "to_object": [to],
            "to_id": [tid],
            "label": [label],
        }
    )


def _two_companies_and_a_contact(d):
    backend = d.sb.backend
    backend.load_records(
        DEMO_TOKEN, "contacts", pd.DataFrame({"id": ["1"], "email": ["c@x.invalid"]})
    )
    backend.load_records(
        DEMO_TOKEN,
        "companies",
        pd.DataFrame(
            {"id": ["10", "11"], "domain": ["a.invalid", "b.invalid"], "name": ["A", "B"]}
        ),
    )
    (d.folder / "persons.csv").write_text("id,full_name,email\n5,C,c@x.invalid\n", encoding="utf-8")
    (d.folder / "organizations.csv").write_text(
        "id,name,website\n50,A,https://a.invalid/\n51,B,b.invalid\n", encoding="utf-8"
    )


def _app_links(app):
    links = app.read_associations(CC)
    return sorted(
        ((r.from_id, r.to_id, None if pd.isna(r.label) else r.label)
         for r in links.itertuples(index=False)),
        key=lambda t: (t[0], t[1], t[2] is not None, t[2] or ""),
    )  # fmt: skip


def test_removals_follow_the_direction(tmp_path, monkeypatch):
    with files_app(tmp_path, monkeypatch) as d:
        _two_companies_and_a_contact(d)
        cfg, backend = d.config, d.sb.backend
        hub = PortalSide(cfg, backend, DEMO_TOKEN)
        hub.create_edges(_pair_frame("contacts", "1", "companies", "10", "Billing contact"))
        with closing(connector_for(cfg, "app")) as app:
            sim = DataSyncSimulator(cfg, hub, app)
            sim.sync_once()
            assert _app_links(app) == [("5", "50", None), ("5", "50", "billing")]
            hub.remove_edges(_pair_frame("contacts", "1", "companies", "10"))  # the whole pair
            gone = sim.sync_once()
            assert gone.count("removed") == 2
            assert _app_links(app) == []
            # without removals, the app's copy comes back to HubSpot instead
            hub.create_edges(_pair_frame("contacts", "1", "companies", "10"))
            sim.sync_once()
            hub.remove_edges(_pair_frame("contacts", "1", "companies", "10"))
            broken = DataSyncSimulator(cfg, hub, app, behaviour=SyncBehaviour.broken("removals"))
            broken.sync_once()
            assert len(hub.read_associations(CC)) == 1


def test_a_two_way_primary_moves_only_for_the_conflict_winner(tmp_path, monkeypatch):
    for winner, expect_app, expect_hub in (
        ("hubspot", [("5", "50", None), ("5", "51", None), ("5", "51", "primary")], "11"),
        ("app", [("5", "50", "primary"), ("5", "51", None)], "10"),  # the app stores one row
    ):
        folder = tmp_path / winner
        folder.mkdir()
        with files_app(folder, monkeypatch, conflict_winner=winner) as d:
            _two_companies_and_a_contact(d)
            cfg, backend = d.config, d.sb.backend
            hub = PortalSide(cfg, backend, DEMO_TOKEN)
            hub.create_edges(_pair_frame("contacts", "1", "companies", "11", "Primary"))
            (d.folder / "associations.csv").write_text(
                "from_object,from_id,to_object,to_id,label\npersons,5,organizations,50,primary\n",
                encoding="utf-8",
            )
            cfg_nolimit = cfg.model_copy(
                update={"associations": tuple(
                    e.model_copy(update={"app_max_per_record": None}) for e in cfg.associations
                )}
            )  # fmt: skip
            with closing(connector_for(cfg_nolimit, "app")) as app:
                sim = DataSyncSimulator(cfg_nolimit, hub, app)
                _settle(sim)
                assert _app_links(app) == expect_app
                primary = hub.read_associations(CC)
                primary = primary.loc[primary["label"] == "Primary", "to_id"].tolist()
                assert primary == [expect_hub]


def test_a_refused_row_fails_alone(tmp_path, monkeypatch):
    """With unsupported labels carried on purpose, the demo app refuses the 'Reseller' row
    (its trigger aborts the statement) and HubSpot the app's 'influencer' (no such label):
    only those rows fail, the rest of each batch is written."""
    with demo(tmp_path, monkeypatch, scale=50) as d:
        cfg, backend = d.config, d.sb.backend
        hub = PortalSide(cfg, backend, DEMO_TOKEN)
        with closing(connector_for(cfg, "app")) as app:
            sim = DataSyncSimulator(cfg, hub, app, behaviour=SyncBehaviour.broken("support"))
            done = sim.sync_once()
    failed = done.events.loc[done.events["action"] == "failed"].set_index("label")
    assert sorted(failed.index) == ["Reseller", "influencer"]
    assert "does not store this kind of link" in failed.loc["Reseller", "message"]
    assert failed.loc["influencer", "target"] == "hubspot"
    assert done.count("created") >= 9  # the 8 gaps and the app's copy of 'Decision maker'
    assert "Decision maker" in done.events.loc[done.events["action"] == "created", "label"].tolist()


def test_scope_limits_reads_and_writes(tmp_path, monkeypatch):
    with files_app(tmp_path, monkeypatch) as d:
        _two_companies_and_a_contact(d)
        cfg, backend = d.config, d.sb.backend
        hub = PortalSide(cfg, backend, DEMO_TOKEN)
        hub.create_edges(
            pd.concat(
                [
                    _pair_frame("contacts", "1", "companies", "10"),
                    _pair_frame("contacts", "1", "companies", "11", "Billing contact"),
                ]
            )
        )
        scope = SyncScope.of({"hubspot": {"contacts": ["1"], "companies": ["10"]},
                              "app": {"contacts": ["5"], "companies": ["50"]}})  # fmt: skip
        with closing(connector_for(cfg, "app")) as app:
            DataSyncSimulator(cfg, hub, app).sync_once(scope)
            assert _app_links(app) == [("5", "50", None)]


def test_interval_runs_until_stopped(tmp_path, monkeypatch):
    with files_app(tmp_path, monkeypatch) as d:
        _two_companies_and_a_contact(d)
        cfg, backend = d.config, d.sb.backend
        hub = PortalSide(cfg, backend, DEMO_TOKEN)
        with closing(connector_for(cfg, "app")) as app, DataSyncSimulator(cfg, hub, app) as sim:
            sim.start(0.05)
            with pytest.raises(SandboxError, match="already running"):
                sim.start(0.05)
            hub.create_edges(_pair_frame("contacts", "1", "companies", "10"))
            arrived = threading.Event()
            for _ in range(400):
                if _app_links(app) == [("5", "50", None)]:
                    arrived.set()
                    break
                time.sleep(0.025)
            sim.stop()
            passes = sim.passes
            time.sleep(0.2)
            assert sim.passes == passes  # stopped
        assert arrived.is_set()
        assert sim.last_error is None


def test_behaviour_switches():
    assert SyncBehaviour.broken("directions", "limits").to_dict() == {
        "directions": False, "support": True, "matching": True, "labels": True,
        "conflicts": True, "limits": False, "records": True, "removals": True,
    }  # fmt: skip
    with pytest.raises(SandboxError, match="unknown data-sync rule 'nope'"):
        SyncBehaviour.broken("nope")
    with pytest.raises(SandboxError, match="positive"):
        DataSyncSimulator.start(DataSyncSimulator.__new__(DataSyncSimulator), 0)
