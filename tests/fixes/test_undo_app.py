"""Undo on the app side: the inverse plan returns the stored association table exactly."""

from __future__ import annotations

from contextlib import closing

import pytest
from crash import Crash, CrashingConnector
from scenarios import app_side_world, hub_side_world

from assoc_audit.connectors import connector_for
from assoc_audit.errors import DigestMismatch, PlanError
from assoc_audit.fixes import apply_plan, make_plan, make_undo_plan, read_journal, undo_files
from assoc_audit.fixes.apply import default_journal


@pytest.mark.parametrize("kind", ["files", "sqlite"])
def test_apply_then_undo_restores_the_table(tmp_path, kind):
    world, folder = app_side_world(tmp_path, kind)
    original = world.stored()
    plan = make_plan(world.config, folder)
    path = plan.write(folder / "plan.json")
    result = apply_plan(plan, world.config, plan_file=path, confirm=plan.digest)
    assert result.exit_code == 0 and world.stored() != original
    undo = make_undo_plan(world.config, result.journal)
    assert undo.kind == "undo" and undo.source["plan_digest"] == plan.digest
    assert make_undo_plan(world.config, result.journal).digest == undo.digest  # stable
    assert undo.digest != plan.digest
    ops = {(op.action, op.from_id, op.to_id, op.label, op.old_label) for op in undo.operations}
    assert ("relabel", "p3", "o3", "primary", "billing") in ops
    assert ("create", "p2", "o2", "primary", None) in ops
    undo_file, undo_journal = undo_files(result.journal)
    assert undo_file.name == f"plan.{plan.digest[:12]}.undo.json"
    undo.write(undo_file)
    applied = world.stored()
    dry = apply_plan(undo, world.config, journal=undo_journal, plan_file=undo_file)
    assert dry.dry_run and dry.to_write == len(undo) and world.stored() == applied
    with pytest.raises(DigestMismatch):
        apply_plan(undo, world.config, journal=undo_journal, confirm=plan.digest)
    assert world.stored() == applied
    done = apply_plan(undo, world.config, journal=undo_journal, confirm=undo.digest)
    assert done.exit_code == 0 and done.verification.pairs_as_planned == len(
        {op.pair for op in undo.operations}
    )
    assert world.stored() == original
    again = apply_plan(undo, world.config, journal=undo_journal, confirm=undo.digest)
    assert again.written == again.already == 0 and world.stored() == original
    # undoing the undo applies the plan's changes again
    redo = make_undo_plan(world.config, undo_journal)
    apply_plan(redo, world.config, journal=tmp_path / "redo.jsonl", confirm=redo.digest)
    assert world.stored() == applied


def test_undo_needs_a_finished_apply(tmp_path):
    world, folder = app_side_world(tmp_path, "sqlite")
    original = world.stored()
    plan = make_plan(world.config, folder)
    path = plan.write(folder / "plan.json")
    journal = default_journal(path, plan.digest)
    with closing(connector_for(world.config, "app")) as real:
        conn = CrashingConnector(real, 2, after_write=True)
        with pytest.raises(Crash):
            apply_plan(plan, world.config, plan_file=path, confirm=plan.digest,
                       connectors={"app": conn}, chunk_size=2)  # fmt: skip
    assert not read_journal(journal).ended
    with pytest.raises(PlanError, match="did not finish"):
        make_undo_plan(world.config, journal)
    apply_plan(plan, world.config, plan_file=path, confirm=plan.digest)
    undo = make_undo_plan(world.config, journal)
    apply_plan(undo, world.config, journal=tmp_path / "u.jsonl", confirm=undo.digest)
    assert world.stored() == original


def test_undo_plan_for_hubspot_side_effects(tmp_path, portal):
    """The inverse of primary moves and implied removals, planned from a journal's states."""
    world, folder = hub_side_world(tmp_path, "files", portal)
    plan = make_plan(world.config, folder)
    # journal the plan as if it had been applied (the HubSpot write path is tested on the
    # emulator): before = labels at planning, after = the planned target
    from assoc_audit.fixes.effects import after_states
    from assoc_audit.fixes.journal import Journal, op_record
    from assoc_audit.fixes.model import SideModel
    from assoc_audit.fixes.states import States

    models = {s: SideModel.of(world.config, s) for s in ("hubspot", "app")}
    before = States(models)
    for op in plan.operations:
        before.put(op.pair, op.before)
    target = after_states(plan.operations, before)
    after = States(models)
    for key, labels in target.items():
        after.put(key, labels)
    path = tmp_path / "j.jsonl"
    with Journal.open(path, digest=plan.digest, kind="apply", targets=plan.targets,
                      operations=len(plan)) as j:  # fmt: skip
        j.start_session()
        j.append([{"t": "before", "states": before.to_json()}])
        j.append(op_record(op, "ok", None, 1) for op in plan.operations)
        j.append([{"t": "end", "session": 1, "at": "x", "after": after.to_json()}])
    undo = make_undo_plan(world.config, path)
    rows = [(op.side, op.action, op.from_id, op.to_id, op.label, op.old_label, op.cause,
             op.implied) for op in undo.operations]  # fmt: skip
    assert rows == [
        ("hubspot", "remove", "c1", "k1", None, None, None, False),
        ("hubspot", "remove", "c1", "k1", "Billing contact", None, 1, True),
        ("hubspot", "remove", "c2", "k2", None, None, None, False),
        ("hubspot", "remove", "c2", "k2", "Billing contact", None, 3, True),
        ("hubspot", "remove", "c3", "k3", None, None, None, False),
        ("hubspot", "remove", "c3", "k3", "Primary", None, 5, True),
        ("hubspot", "create", "c3", "k4", "Primary", None, None, False),
        ("hubspot", "relabel", "c4", "k4", "Billing contact", "Primary", None, False),
        ("hubspot", "create", "c4", "k5", "Primary", None, None, False),
        ("hubspot", "create", "c6", "k6", None, None, None, False),
        ("hubspot", "create", "c6", "k6", "Billing contact", None, None, False),
        ("hubspot", "create", "c7", "k2", None, None, None, False),
        ("hubspot", "create", "c7", "k2", "Billing contact", None, None, False),
        ("app", "remove", "p3", "o4", None, None, None, False),
        ("app", "remove", "p7", "o2", "billing", None, None, False),
    ]
