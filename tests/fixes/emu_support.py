"""Helpers for fix tests against the emulator: the target state of a plan, both sides' tables."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import bulk

from assoc_audit.fixes import FixPlan
from assoc_audit.fixes.effects import after_states
from assoc_audit.fixes.model import SideModel
from assoc_audit.fixes.states import States


def grouped(side: str, rows: list[tuple], names: dict[str, str] | None = None) -> dict:
    """Table rows (from_object, from_id, to_object, to_id, label) as pair → label set."""
    out: dict = defaultdict(set)
    for fo, fid, to, tid, label in rows:
        if names:
            fo, to = names.get(fo, fo), names.get(to, to)
        out[(side, fo, str(fid), to, str(tid))].add(label)
    return {k: frozenset(v) for k, v in out.items()}


def target(plan: FixPlan, config, hub_rows: list[tuple], app_rows: list[tuple]) -> dict:
    """Both sides' pair states once every operation of ``plan`` is done, from the tables
    before (every pair, touched or not)."""
    names = {"persons": "contacts", "organizations": "companies"}
    models = {s: SideModel.of(config, s) for s in ("hubspot", "app")}
    now = {**grouped("hubspot", hub_rows), **grouped("app", app_rows, names)}
    states = States(models)
    for key, labels in now.items():
        states.put(key, labels)
    out = {k: models[k[0]].normalise(v) for k, v in now.items()}
    out.update(after_states(plan.operations, states))
    return {k: v for k, v in out.items() if v}


def actual(sandbox, db: Path) -> dict:
    names = {"persons": "contacts", "organizations": "companies"}
    hub = grouped("hubspot", bulk.hubspot_table(sandbox))
    app = grouped("app", [tuple(r) for r in bulk.app_table(db)], names)
    return {**hub, **app}
