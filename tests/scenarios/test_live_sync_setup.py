"""Setting scenarios up against a sync that acts by itself (a live sync, as HubSpot's own).

The race, made deterministic: every record or link the runner creates is followed at once
by a data-sync pass over the whole portal (the worst timing a live sync can have), and
the awaited sync's sleeps run a pass too. On the old set-up (HubSpot's copy first, then
the app's, one after the other) the pass copied each HubSpot sample into the app before
the runner made its own, and the duplicates made every scenario ``ambiguous_match``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from scenario_support import assert_same, files_app, files_config_data, picture

from assoc_audit.config import load_config
from assoc_audit.connectors import connector_for
from assoc_audit.scenarios import plan_scenarios, run_scenarios
from assoc_audit.scenarios.datasync import DataSyncSimulator, SyncBehaviour
from assoc_audit.scenarios.plan import scenario_portals
from assoc_audit.scenarios.samples import live_first_side
from assoc_audit.scenarios.sync import AwaitSync


class _PassAfterWrites:
    """A connector whose every record or link create is followed by a sync pass."""

    def __init__(self, inner: Any, sync_pass: Callable[[], object]) -> None:
        self._inner = inner
        self._pass = sync_pass

    def create_records(self, obj: str, records: Any) -> Any:
        made = self._inner.create_records(obj, records)
        self._pass()
        return made

    def create_edges(self, edges: Any, *, check: bool = True) -> Any:
        result = self._inner.create_edges(edges, check=check)
        self._pass()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def _racing(
    d: Any, behaviour: SyncBehaviour | None = None, timeout: float = 30
) -> Iterator[dict[str, Any]]:
    """Connectors and an awaited sync where a whole-portal pass follows every write."""
    with (
        closing(connector_for(d.config, "hubspot")) as hub,
        closing(connector_for(d.config, "app")) as app,
    ):
        sim = DataSyncSimulator(d.config, hub, app, behaviour=behaviour)
        ticks = itertools.count()
        waiting = AwaitSync(
            timeout=timeout,
            interval=1,
            clock=lambda: float(next(ticks)),
            sleep=lambda _: sim.sync_once(),
        )
        yield {
            "hubspot": _PassAfterWrites(hub, sim.sync_once),
            "app": _PassAfterWrites(app, sim.sync_once),
            "sync": waiting,
        }


def _run(d: Any, behaviour: SyncBehaviour | None = None, timeout: float = 30) -> Any:
    plan = plan_scenarios(d.config, portals=scenario_portals(d.config))
    with _racing(d, behaviour, timeout) as race:
        return run_scenarios(
            d.config, assume_real=True, confirm=plan.digest, sync=race.pop("sync"), **race
        )


def test_a_sync_pass_between_the_two_sides_creates_no_duplicates(tmp_path, monkeypatch):
    with files_app(tmp_path, monkeypatch) as d:
        before = picture(d)
        report = _run(d)
        after = picture(d)
    assert_same(before, after)
    assert report.cleanup.ok, report.cleanup.summary()
    verdicts = {r.scenario.id: r.verdict for r in report.results}
    # not set up: S08, the duplicate of a contact (two-way: the sync would copy and pair
    # the contact before its duplicate exists), and S09, the label conflict on the two-way
    # contact→company association
    racy = {"S08": "error", "S09": "error"}
    assert {k: v for k, v in verdicts.items() if v != "pass"} == racy, report.render()
    by_id = {r.scenario.id: r for r in report.results}
    assert all(by_id[k].observed == "not set up" for k in racy)
    assert "not race-free against a live data sync" in by_id["S09"].explanation
    assert "association syncs both ways" in by_id["S09"].explanation
    assert (
        "the data sync copies new contacts records from HubSpot to Files CRM, so it would "
        "copy and pair the sample before its duplicate exists"
    ) in by_id["S08"].explanation
    # the deals' duplicates (in HubSpot; deals sync HubSpot → app) are race-free
    assert verdicts["S14"] == verdicts["S21"] == "pass"
    setup = report.sync["setup"]
    assert setup["mode"] == "live" and setup["not_race_free"] == ["S08", "S09"]
    assert setup["first"] == {
        "contacts": "hubspot",
        "companies": "hubspot",
        "deals": "app",
        "tickets": "hubspot",
    }
    # two-way objects: made in HubSpot only, the sync's copies adopted in the app
    assert set(setup["copies_adopted"]["app"]) == {"contacts", "companies"}
    assert not setup["copies_adopted"]["hubspot"]


def test_a_copy_that_never_comes_is_reported_in_the_results(tmp_path, monkeypatch):
    """A sync that copies no records (here: the simulator's record rule off): every scenario
    with a sample of a two-way object on both sides is an error saying the copy did not come;
    the sync-off scenario (HubSpot-only samples) still runs, and nothing is left behind."""
    with files_app(tmp_path, monkeypatch) as d:
        before = picture(d)
        report = _run(d, SyncBehaviour.broken("records"), timeout=3)
        after = picture(d)
    assert_same(before, after)
    assert report.cleanup.ok, report.cleanup.summary()
    by_id = {r.scenario.id: r for r in report.results}
    assert by_id.pop("S23").verdict == "pass"
    assert "not race-free" in by_id.pop("S08").explanation
    assert "not race-free" in by_id.pop("S09").explanation
    assert {r.verdict for r in by_id.values()} == {"error"}
    assert all("the data sync did not copy the " in r.explanation for r in by_id.values())
    assert "made in HubSpot to Files CRM within 3 s" in by_id["S01"].explanation
    assert report.sync["setup"]["copies_adopted"] == {"hubspot": {}, "app": {}}


def _objects(**syncs: str) -> dict[str, Any]:
    """The files app's objects, with some objects' sync directions changed."""
    objects: dict[str, Any] = files_config_data("http://unused", Path("unused"))["objects"]
    for obj, sync in syncs.items():
        objects[obj]["sync"] = sync
    return objects


def test_a_one_way_label_conflict_is_set_up_race_free(tmp_path, monkeypatch):
    """Contacts sync HubSpot → app: the app's label is made first (nothing carries it) and
    the conflict holds; contacts are made in the app first, companies copied by the sync."""
    objects = _objects(contacts="hubspot_to_app")
    with files_app(tmp_path, monkeypatch, objects=objects) as d:
        before = picture(d)
        report = _run(d)
        after = picture(d)
    assert_same(before, after)
    assert report.passed, report.render()
    kinds = {r.scenario.kind for r in report.results}
    assert "label_conflict" in kinds
    assert report.sync["setup"]["not_race_free"] == []
    assert report.sync["setup"]["first"]["contacts"] == "app"


@pytest.mark.parametrize(
    ("syncs", "obj", "expected"),
    [
        ({}, "contacts", ("hubspot", True)),  # two-way: HubSpot's sample, the sync's copy
        ({}, "deals", ("app", False)),  # HubSpot → app, HubSpot copies the app's id
        ({}, "tickets", ("hubspot", False)),  # off: nothing syncs
        ({"contacts": "app_to_hubspot"}, "contacts", ("hubspot", False)),
        ({"contacts": "hubspot_to_app"}, "contacts", ("app", False)),
        # app → HubSpot, but HubSpot's acme_id copies the app's id: the app goes first
        # and the sync's copy is HubSpot's sample
        ({"deals": "app_to_hubspot"}, "deals", ("app", True)),
    ],
)
def test_where_a_live_set_up_makes_a_record_first(tmp_path, syncs, obj, expected):
    data = files_config_data("http://127.0.0.1:9", tmp_path)
    data["objects"] = _objects(**syncs)
    path = tmp_path / "files.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert live_first_side(load_config(path), obj) == expected
