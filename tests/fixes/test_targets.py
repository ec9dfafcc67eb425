"""What a plan's digest binds (the resolved target of every write) and one apply per target."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import bulk
import pytest
from emu_support import actual, target
from scenarios import app_side_world

from assoc_audit.errors import DigestMismatch, PlanError, TargetLocked
from assoc_audit.fixes import apply_plan, make_plan, make_undo_plan, read_journal
from assoc_audit.fixes.apply import default_journal
from assoc_audit.fixes.lock import target_locks
from assoc_audit.sandbox import Sandbox


def _planned(tmp_path: Path, kind: str = "files"):
    world, folder = app_side_world(tmp_path, kind)
    plan = make_plan(world.config, folder)
    return world, plan, plan.write(folder / "plan.json")


def test_plan_records_the_route_of_every_app_write(tmp_path):
    _world, plan, _ = _planned(tmp_path)
    app = plan.targets["app"]
    assert app["kind"] == "files" and app["path"] == str((tmp_path / "app").resolve())
    assert sorted(app["routes"]) == ["contacts→companies", "deals→contacts"]
    route = app["routes"]["contacts→companies"]
    assert route["from"] == {"object": "contacts", "app_object": "persons", "table": "persons"}
    assert route["to"]["app_object"] == "organizations"
    assert route["associations_table"] == "associations"
    assert route["labels"] == [[None, None], ["Billing contact", "billing"], ["Primary", "primary"]]
    assert app["routes"]["deals→contacts"]["unlabeled"] == [None, "participant"]
    # the HubSpot side is not written: its location only, no portal id
    assert plan.targets["hubspot"] == {"kind": "hubspot", "url": "http://127.0.0.1:9"}


def _edited(config, **changes):
    """A copy of ``config`` with one edit, as a user would make it after review."""
    if "tables" in changes:
        app = config.app.model_copy(update={"tables": changes["tables"]})
        return config.model_copy(update={"app": app})
    if "app_object" in changes:
        obj = config.objects["companies"].model_copy(update={"app_object": changes["app_object"]})
        return config.model_copy(update={"objects": {**config.objects, "companies": obj}})
    entries = tuple(
        e.model_copy(update={"app_label": changes["app_label"]})
        if e.label == "Billing contact"
        else e
        for e in config.associations
    )
    return config.model_copy(update={"associations": entries})


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            {"tables": {"associations": "links2"}},
            "app.routes.contacts→companies.associations_table",
        ),
        ({"app_object": "orgs"}, "app.routes.contacts→companies.to.app_object"),
        ({"app_label": "invoice"}, "app.routes.contacts→companies.labels"),
    ],
)
def test_editing_where_writes_land_after_review_refuses_the_apply(tmp_path, change, named):
    world, plan, path = _planned(tmp_path)
    # a second associations file the edited config would send the writes to
    shutil.copy(tmp_path / "app" / "associations.csv", tmp_path / "app" / "links2.csv")
    before = {p.name: p.read_bytes() for p in (tmp_path / "app").iterdir()}
    edited = _edited(world.config, **change)
    with pytest.raises(DigestMismatch, match=f"other targets .*{named}") as caught:
        apply_plan(plan, edited, plan_file=path, confirm=plan.digest)
    assert "nothing was written" in str(caught.value)
    with pytest.raises(PlanError, match=named):  # the dry run says so too
        apply_plan(plan, edited, plan_file=path)
    assert {p.name: p.read_bytes() for p in (tmp_path / "app").iterdir()} == before
    assert not default_journal(path, plan.digest).exists()
    # the same edit made before planning is simply another plan, with another digest
    assert make_plan(edited, path.parent).digest != plan.digest


def test_undo_refuses_a_config_that_moved_the_writes(tmp_path):
    world, plan, path = _planned(tmp_path)
    apply_plan(plan, world.config, plan_file=path, confirm=plan.digest)
    journal = default_journal(path, plan.digest)
    edited = _edited(world.config, tables={"associations": "links2"})
    with pytest.raises(PlanError, match=r"other targets than the config writes to: app\.routes"):
        make_undo_plan(edited, journal)
    undo = make_undo_plan(world.config, journal)
    assert undo.targets["app"]["routes"].keys() <= plan.targets["app"]["routes"].keys()


def test_a_held_target_lock_refuses_an_apply_with_any_journal(tmp_path):
    world, plan, path = _planned(tmp_path)
    before = world.stored()
    holder = tmp_path / "elsewhere" / "holder.journal.jsonl"
    with (
        target_locks(plan.targets, ("app",), journal=holder, plan_file=path),
        pytest.raises(TargetLocked, match=f"another apply is writing to files .*{holder.name}"),
    ):
        apply_plan(plan, world.config, journal=tmp_path / "mine.jsonl", confirm=plan.digest)
    assert world.stored() == before and not (tmp_path / "mine.jsonl").exists()
    # released: the same apply now runs
    assert apply_plan(plan, world.config, journal=tmp_path / "mine.jsonl", confirm=plan.digest)
    assert world.stored() != before


@pytest.mark.slow
def test_two_applies_started_together_with_different_journals(tmp_path, monkeypatch):
    """Two real processes apply one plan at once, each with its own --journal: one writes,
    the other exits 2 at once naming the first one's journal; the end state is the plan's."""
    monkeypatch.setenv(bulk.TOKEN_ENV, bulk.TOKEN)
    slow_writes = {"rate": 1.0, "weights": {"slow": 1.0}, "slow_seconds": 0.25,
                   "match": r"/batch/(create|archive)"}  # fmt: skip
    with Sandbox(tokens=(bulk.TOKEN,), rate_limit=100_000) as sb:
        b = bulk.build(tmp_path, sb, scale=0.3)
        db = tmp_path / "app.db"
        expected = target(b.plan, b.config, bulk.hubspot_table(sb), bulk.app_table(db))
        sb.set_faults(**slow_writes)
        env = {**os.environ, bulk.TOKEN_ENV: bulk.TOKEN}
        journals = [tmp_path / "a.journal.jsonl", tmp_path / "b.journal.jsonl"]
        exe = Path(sys.executable).with_name("assoc-audit")
        procs = [
            subprocess.Popen(
                [
                    str(exe),
                    "apply",
                    "--config",
                    str(b.config_path),
                    "--plan",
                    str(b.plan_path),
                    "--confirm",
                    b.plan.digest,
                    "--journal",
                    str(j),
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for j in journals
        ]
        started = time.monotonic()
        ended: dict[int, float] = {}
        while len(ended) < len(procs) and time.monotonic() - started < 300:
            for i, proc in enumerate(procs):
                if i not in ended and proc.poll() is not None:
                    ended[i] = time.monotonic() - started
            time.sleep(0.01)
        outcomes = [
            (p.returncode, *p.communicate(timeout=10), ended[i]) for i, p in enumerate(procs)
        ]
        sb.set_faults(rate=0.0)
        assert sorted(code for code, *_ in outcomes) == [0, 2], outcomes
        winner = next(i for i, o in enumerate(outcomes) if o[0] == 0)
        loser = 1 - winner
        _code, out, err, _ = outcomes[loser]
        assert "another apply is writing to" in err and str(journals[winner]) in err, err
        assert len(err.strip().splitlines()) == 1 and not out
        assert not journals[loser].exists()
        assert outcomes[loser][3] < outcomes[winner][3]  # it did not wait for the winner
        assert actual(sb, db) == expected
    state = read_journal(journals[winner])
    assert state.ended and len(state.settled) == len(b.plan)


def test_two_portals_behind_one_base_url_never_share_a_digest(tmp_path, monkeypatch):
    from scenarios import PORTAL_TOKEN_ENV, hub_side_world

    with Sandbox(tokens=("fix-portal-a", "fix-portal-b"), rate_limit="off") as sb:
        monkeypatch.setenv(PORTAL_TOKEN_ENV, "fix-portal-a")
        world, folder = hub_side_world(tmp_path, "files", sb.url)
        plan = make_plan(world.config, folder)
        ids = {t: sb.backend.portal(t).hub_id for t in ("fix-portal-a", "fix-portal-b")}
        assert plan.targets["hubspot"]["portal_id"] == ids["fix-portal-a"]
        path = plan.write(folder / "plan.json")
        # the same config and base URL, the token now of another portal
        monkeypatch.setenv(PORTAL_TOKEN_ENV, "fix-portal-b")
        other = make_plan(world.config, folder)
        assert other.targets["hubspot"]["portal_id"] == ids["fix-portal-b"]
        assert other.digest != plan.digest
        sb.reset_stats("fix-portal-b")
        with pytest.raises(DigestMismatch, match=r"hubspot\.portal_id is \d+ in the plan but"):
            apply_plan(plan, world.config, plan_file=path, confirm=plan.digest)
        writes = {k: v for k, v in sb.stats("fix-portal-b")["by_endpoint"].items() if "batch" in k}
        assert writes == {}  # only the account details were read from portal b
        assert not default_journal(path, plan.digest).exists()
