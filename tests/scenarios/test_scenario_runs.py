"""Running the scenario library through the connectors: it passes on the demo, it fails
when the simulator is broken on purpose, and the clean-up always restores both sides."""

from __future__ import annotations

import json
import threading
from contextlib import closing

import pandas as pd
import pytest
from scenario_support import assert_same, demo, files_app, files_config_data, picture

from assoc_audit.connectors import connector_for
from assoc_audit.errors import DigestMismatch, PlanError
from assoc_audit.scenarios import plan_scenarios, run_scenarios
from assoc_audit.scenarios.datasync import DataSyncSimulator, SyncBehaviour
from assoc_audit.scenarios.plan import scenario_portals
from assoc_audit.scenarios.results import TABLE_COLUMNS
from assoc_audit.scenarios.sync import AwaitSync, SimulatedSync


@pytest.mark.slow
def test_the_demo_library_passes_and_the_cleanup_restores_every_table(tmp_path, monkeypatch):
    with demo(tmp_path, monkeypatch, scale=2000) as d:
        before = picture(d)
        lines: list[str] = []
        report = run_scenarios(d.config, echo=lines.append)
        after = picture(d)
    assert_same(before, after)
    assert report.passed, report.render()
    assert report.emulator and report.counts() == {"pass": 23, "fail": 0, "error": 0}
    assert report.cleanup.ok and report.cleanup.leftovers == {"hubspot": {}, "app": {}}
    # every sample record and the company the sync copied into the app were deleted
    deleted = report.cleanup.deleted
    assert sum(deleted["hubspot"].values()) == 50 and sum(deleted["app"].values()) == 45
    assert lines[0].startswith("creating sample records") and "clean-up" in lines[-1]
    frame = report.to_frame()
    assert list(frame.columns) == list(TABLE_COLUMNS)
    negative = frame.loc[frame["expected"] != "appears"]
    assert (negative["observed"] == negative["expected"].str.replace("absent", "only in HubSpot"))[
        negative["direction"].str.startswith("HubSpot")
    ].all()
    assert negative["finding"].str.contains("assoc-audit " + report.tag).all()
    out = report.write(tmp_path / "report")
    data = json.loads((out / "scenarios.json").read_text("utf-8"))
    assert data["passed"] and data["digest"] == plan_scenarios(d.config).digest
    assert data["sync"]["mode"] == "simulator" and len(data["sync"]["passes"]) == 2
    assert pd.read_csv(out / "scenarios.csv")["verdict"].eq("pass").all()


BROKEN = [
    ("directions", {"S12", "S16", "S18"}, "though direction_blocked should have stopped it"),
    ("matching", {"S08", "S14", "S21"}, "though ambiguous_match should have stopped it"),
    ("limits", {"S10", "S22"}, "though limit_exceeded should have stopped it"),
    ("conflicts", {"S09"}, "though label_mismatch should have stopped it"),
    ("labels", {"S03", "S04", "S05", "S06", "S17"}, "sync_gap: The '"),
]


@pytest.mark.parametrize(("rule", "failing", "why"), BROKEN, ids=[b[0] for b in BROKEN])
def test_breaking_the_simulator_fails_exactly_the_matching_scenarios(
    tmp_path, monkeypatch, rule, failing, why
):
    with demo(tmp_path, monkeypatch, scale=200) as d:
        before = picture(d)
        report = run_scenarios(d.config, behaviour=SyncBehaviour.broken(rule))
        after = picture(d)
    assert_same(before, after)
    failed = {r.scenario.id: r for r in report.results if r.verdict != "pass"}
    assert set(failed) == failing
    assert all(r.verdict == "fail" and why in r.explanation for r in failed.values())
    assert not report.passed and report.cleanup.ok
    assert report.sync["behaviour"][rule] is False


def test_carrying_unsupported_labels_fails_the_unsupported_scenario(tmp_path, monkeypatch):
    """The files app stores any label, so only the simulator can keep 'Reseller' out of it."""
    with files_app(tmp_path, monkeypatch) as d:
        report = run_scenarios(d.config, behaviour=SyncBehaviour.broken("support"))
        assert [p.name for p in d.folder.iterdir()] and all(
            len(p.read_text("utf-8").splitlines()) == 1 for p in d.folder.glob("*.csv")
        )
    failed = [r for r in report.results if r.verdict != "pass"]
    assert [r.scenario.kind for r in failed] == ["unsupported"]
    assert "reached Files CRM, though unsupported_in_app" in failed[0].explanation
    assert report.cleanup.ok


def test_a_refused_setup_marks_only_its_scenarios(tmp_path, monkeypatch):
    """Without the 'Billing contact' label in the portal, the scenarios that need it fail;
    the others pass and the clean-up still removes everything."""
    with files_app(tmp_path, monkeypatch, labels=("Reseller",)) as d:
        before = picture(d)
        report = run_scenarios(d.config)
        after = picture(d)
    assert_same(before, after)
    verdicts = {r.scenario.id: r.verdict for r in report.results}
    bad = {k: v for k, v in verdicts.items() if v != "pass"}
    assert bad == {"S05": "error", "S06": "fail"}
    by_id = {r.scenario.id: r for r in report.results}
    assert "linking in hubspot: no association label 'Billing contact'" in by_id["S05"].explanation
    assert "sync_gap" in by_id["S06"].explanation
    assert "The sync's write to HubSpot failed: no association label" in by_id["S06"].explanation
    assert report.sync["passes"][0]["counts"]["failed"] == 1


class _Interrupted(SimulatedSync):
    def run(self, scope, ready):
        super().run(scope, ready)
        raise KeyboardInterrupt


def test_an_interrupt_still_cleans_up(tmp_path, monkeypatch):
    with demo(tmp_path, monkeypatch, scale=100) as d:
        before = picture(d)
        with (
            closing(connector_for(d.config, "hubspot")) as hub,
            closing(connector_for(d.config, "app")) as app,
        ):
            sync = _Interrupted(DataSyncSimulator(d.config, hub, app))
            with pytest.raises(KeyboardInterrupt):
                run_scenarios(d.config, hubspot=hub, app=app, sync=sync)
            assert sync.created_records()["app"]  # the sync had copied a record
        after = picture(d)
    assert_same(before, after)


def test_a_real_portal_needs_the_digest_and_waits_for_the_data_sync(tmp_path, monkeypatch):
    """Treated as a real portal: nothing runs without the plan's digest; with it, the run
    waits for the data sync (here the simulator on an interval over the whole portal, as
    HubSpot's own sync would run) and the tag sweep removes what that sync created.

    The set-up is race-free against that sync (test_live_sync_setup.py); the scenarios that
    cannot be — the label conflict on the two-way contact→company association, and the
    duplicate of a two-way contact, which the sync would copy and pair before the
    duplicate exists — are reported as such."""
    with files_app(tmp_path, monkeypatch) as d:
        before = picture(d)
        # a real target's plan binds the portal behind its base URL
        plan = plan_scenarios(d.config, portals=scenario_portals(d.config))
        assert plan.target.portals and plan.digest != plan_scenarios(d.config).digest
        with pytest.raises(DigestMismatch):  # a plan reviewed without the portal's id
            run_scenarios(d.config, assume_real=True, confirm=plan_scenarios(d.config).digest)
        with pytest.raises(PlanError, match=f"--confirm {plan.digest}"):
            run_scenarios(d.config, assume_real=True)
        with pytest.raises(DigestMismatch):
            run_scenarios(d.config, assume_real=True, confirm="0" * 64)
        assert_same(before, picture(d))
        with (
            closing(connector_for(d.config, "hubspot")) as hub,
            closing(connector_for(d.config, "app")) as app,
            DataSyncSimulator(d.config, hub, app) as background,
        ):
            background.start(0.1)
            waiting = AwaitSync(timeout=120, interval=0.1)
            report = run_scenarios(
                d.config, assume_real=True, confirm=plan.digest, sync=waiting, hubspot=hub, app=app
            )
            background.stop()
        after = picture(d)
    verdicts = {r.scenario.id: r.verdict for r in report.results}
    racy = {"S08": "error", "S09": "error"}
    assert {k: v for k, v in verdicts.items() if v != "pass"} == racy, report.render()
    for r in report.results:
        if r.scenario.id in racy:
            assert r.scenario.kind in ("duplicates", "label_conflict")
            assert "not race-free against a live data sync" in r.explanation
    assert report.cleanup.ok, report.cleanup.summary()
    assert not report.emulator and report.sync["mode"] == "await"
    assert not report.sync["timed_out"]
    assert_same(before, after)


def test_a_sync_that_never_comes_fails_the_round_trips(tmp_path, monkeypatch):
    """Objects syncing HubSpot → app only: the set-up makes each sample record itself (the
    app's first), so only the links wait for the sync. (Two-way objects' samples would wait
    for the sync's copies: test_live_sync_setup.py.)"""
    ticks = iter(range(1000))
    waiting = AwaitSync(
        timeout=3, interval=1, clock=lambda: float(next(ticks)), sleep=lambda s: None
    )
    objects = files_config_data("http://unused", tmp_path)["objects"]
    for obj in ("contacts", "companies"):
        objects[obj]["sync"] = "hubspot_to_app"
    with files_app(tmp_path, monkeypatch, objects=objects) as d:
        kinds = ["round_trip", "one_way"]
        plan = plan_scenarios(d.config, kinds=kinds, portals=scenario_portals(d.config))
        report = run_scenarios(
            d.config,
            kinds=kinds,
            assume_real=True,
            confirm=plan.digest,
            sync=waiting,
        )
    assert report.sync["timed_out"] and report.sync["polls"] >= 2
    verdicts = {r.scenario.kind: set() for r in report.results}
    for r in report.results:
        verdicts[r.scenario.kind].add(r.verdict)
    assert verdicts == {"round_trip": {"fail"}, "one_way": {"pass"}}
    assert all("sync_gap" in r.explanation for r in report.results if r.verdict == "fail")


def test_the_simulator_thread_is_not_left_running(tmp_path, monkeypatch):
    with files_app(tmp_path, monkeypatch) as d:
        run_scenarios(d.config, only=["S01"])
    assert not [t for t in threading.enumerate() if t.name == "assoc-audit-datasync"]


def test_a_hubspot_to_hubspot_integration(tmp_path, monkeypatch):
    """The app is a second portal: its contacts' emails are unique too, and a deal's display
    property is also its match key (the excluded sample must carry neither)."""
    import yaml

    from assoc_audit.config import load_config
    from assoc_audit.sandbox import Sandbox

    monkeypatch.setenv("TOK_A", "portal-a")
    monkeypatch.setenv("TOK_B", "portal-b")
    with Sandbox(tokens=("portal-a", "portal-b"), rate_limit=0) as sb:
        for token in ("portal-a", "portal-b"):
            sb.backend.create_label(token, "contacts", "companies", "Billing contact")
        data = {
            "name": "h2h",
            "hubspot": {"token_env": "TOK_A", "base_url": sb.url},
            "app": {"name": "Portal B", "kind": "hubspot", "token_env": "TOK_B", "base_url": sb.url},
            "objects": {
                "contacts": {"sync": "two_way",
                             "match": [{"hubspot": "email", "app": "email", "normalize": "email"}]},
                "companies": {"sync": "two_way", "match": [{"hubspot": "domain", "app": "domain"}]},
                "deals": {"sync": "hubspot_to_app",
                          "match": [{"hubspot": "dealname", "app": "dealname"}]},
            },
            "associations": [
                {"from": "contacts", "to": "companies"},
                {"from": "contacts", "to": "companies", "label": "Primary"},
                {"from": "contacts", "to": "companies", "label": "Billing contact"},
                {"from": "deals", "to": "contacts"},
                {"from": "deals", "to": "companies"},
            ],
        }  # fmt: skip
        path = tmp_path / "h2h.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        config = load_config(path)
        report = run_scenarios(config)
        left = {t: sb.backend.count_records(t, "contacts") for t in ("portal-a", "portal-b")}
    assert report.passed, report.render()
    duplicates = [r.scenario for r in report.results if r.scenario.kind == "duplicates"]
    twins = [r for s in duplicates for r in s.records if r.key.endswith("_twin")]
    assert len(twins) == 3 and "contacts" not in {r.obj for r in twins}  # emails are unique
    assert left == {"portal-a": 0, "portal-b": 0}
