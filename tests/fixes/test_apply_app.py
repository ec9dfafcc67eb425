"""Applying plans to the app side (CSV files and SQLite): confirmation, conflicts, journal,
resume, verification."""

from __future__ import annotations

import json
from contextlib import closing

import pytest
from crash import Crash, CrashingConnector
from scenarios import app_side_world

from assoc_audit.connectors import connector_for
from assoc_audit.errors import DigestMismatch, PlanError
from assoc_audit.fixes import apply_plan, make_plan, read_journal
from assoc_audit.fixes.apply import default_journal
from assoc_audit.fixes.model import SideModel
from assoc_audit.fixes.states import States, read_states

KINDS = ["files", "sqlite"]


def planned(tmp_path, kind):
    world, folder = app_side_world(tmp_path, kind)
    plan = make_plan(world.config, folder)
    path = plan.write(folder / "plan.json")
    return world, plan, path


def target_reached(world, plan) -> bool:
    """Every operation of the plan is in effect on the live app."""
    states = States({"app": SideModel.of(world.config, "app")})
    with closing(connector_for(world.config, "app")) as conn:
        read_states(states, {"app": conn}, {"app": [op.pair for op in plan.operations]})
    return all(op.in_effect(states.labels(op.pair)) for op in plan.operations)


def journal_lines(path):
    return [json.loads(x) for x in path.read_text("utf-8").splitlines()]


@pytest.mark.parametrize("kind", KINDS)
def test_dry_run_and_wrong_digest_write_nothing(tmp_path, kind):
    world, plan, path = planned(tmp_path, kind)
    before = world.stored()
    dry = apply_plan(plan, world.config, plan_file=path)
    # p6's unlabeled link is implied by its label, not stored: that removal is already in effect
    assert dry.dry_run and dry.exit_code == 0 and (dry.to_write, dry.already) == (13, 1)
    assert any("confirm with: --confirm " + plan.digest in line for line in dry.lines())
    for wrong in ("0" * 64, plan.digest[:-1] + "x", plan.digest[:12], ""):
        with pytest.raises(DigestMismatch, match="not this plan's digest; nothing was written"):
            apply_plan(plan, world.config, plan_file=path, confirm=wrong)
    assert world.stored() == before
    assert not default_journal(path, plan.digest).exists()


@pytest.mark.parametrize("kind", KINDS)
def test_apply_verify_and_apply_again(tmp_path, kind):
    world, plan, path = planned(tmp_path, kind)
    result = apply_plan(plan, world.config, plan_file=path, confirm=plan.digest)
    assert result.exit_code == 0, result.lines()
    assert (result.written, result.already, result.failed) == (13, 1, ())
    v = result.verification
    assert v.operations_in_effect == v.operations_expected == len(plan)
    assert v.findings_resolved == v.findings_total == 13
    assert target_reached(world, plan)
    # the next audit has nothing left to repair
    again = make_plan(world.config, world.audit("after"))
    assert len(again) == 0
    journal = default_journal(path, plan.digest)
    state = read_journal(journal)
    assert sorted(state.settled) == list(range(1, len(plan) + 1)) and state.ended
    stored = world.stored()
    size = journal.stat().st_size
    second = apply_plan(plan, world.config, plan_file=path, confirm=plan.digest.upper())
    assert second.exit_code == 0 and second.written == second.already == 0
    assert second.settled_before == len(plan)
    assert "nothing to do" in second.lines()[0]
    assert world.stored() == stored and journal.stat().st_size == size
    # a fresh journal finds everything in effect: writes nothing either
    third = apply_plan(plan, world.config, journal=tmp_path / "j2.jsonl", confirm=plan.digest)
    assert (third.written, third.already, third.exit_code) == (0, len(plan), 0)
    assert world.stored() == stored


@pytest.mark.parametrize("kind", KINDS)
def test_conflict_lists_pairs_and_writes_nothing(tmp_path, kind):
    world, plan, path = planned(tmp_path, kind)
    links = [tuple(r) for r in world.stored()]
    # someone gave p3 a billing label already (the relabel's target: not a conflict) and
    # moved p5's link to another label (a conflict), and linked p1 to o1 (planned: fine)
    changed = [r for r in links if r[1] != "p5"]
    changed += [("persons", "p5", "organizations", "o5", "primary"),
                ("persons", "p1", "organizations", "o1", "")]  # fmt: skip
    world.set_app_links([tuple(v or None for v in r) for r in changed])
    before = world.stored()
    result = apply_plan(plan, world.config, plan_file=path, confirm=plan.digest)
    assert result.exit_code == 1
    assert [c.pair for c in result.conflicts] == [("app", "contacts", "p5", "companies", "o5")]
    text = "\n".join(result.lines())
    assert "nothing was written" in text and "p5" in text and "; now primary;" in text
    assert world.stored() == before
    assert not default_journal(path, plan.digest).exists()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("after_write", [False, True])
def test_resume_after_a_crash(tmp_path, kind, after_write):
    world, plan, path = planned(tmp_path, kind)
    journal = default_journal(path, plan.digest)
    crashes = 0
    for at in (2, 3, 1):
        with closing(connector_for(world.config, "app")) as real:
            conn = CrashingConnector(real, at, after_write=after_write)
            try:
                apply_plan(plan, world.config, plan_file=path, confirm=plan.digest,
                           connectors={"app": conn}, chunk_size=2)  # fmt: skip
            except Crash:
                crashes += 1
    assert crashes == 3
    result = apply_plan(plan, world.config, plan_file=path, confirm=plan.digest, chunk_size=2)
    assert result.exit_code == 0 and target_reached(world, plan)
    state = read_journal(journal)
    ops = [r for r in journal_lines(journal) if r["t"] == "op"]
    assert sorted(r["op"] for r in ops) == list(range(1, len(plan) + 1))  # each exactly once
    assert list(state.settled.values()).count("already") == 1  # the one never needed
    if after_write:
        assert any(r["message"] == "found done after an interrupted run" for r in ops)


def test_torn_last_line_is_ignored_and_cut(tmp_path):
    world, plan, path = planned(tmp_path, "files")
    journal = default_journal(path, plan.digest)
    with closing(connector_for(world.config, "app")) as real:
        conn = CrashingConnector(real, 2, after_write=False)
        with pytest.raises(Crash):
            apply_plan(plan, world.config, plan_file=path, confirm=plan.digest,
                       connectors={"app": conn}, chunk_size=2)  # fmt: skip
    with open(journal, "ab") as fh:
        fh.write(b'{"t":"op","op":9,"sta')
    state = read_journal(journal)
    assert 9 not in state.status
    result = apply_plan(plan, world.config, plan_file=path, confirm=plan.digest)
    assert result.exit_code == 0
    lines = journal.read_text("utf-8").splitlines()
    assert all(json.loads(x) for x in lines)


def test_journal_of_another_plan_and_concurrent_apply(tmp_path):
    world, plan, _ = planned(tmp_path, "files")
    journal = tmp_path / "j.jsonl"
    apply_plan(plan, world.config, journal=journal, confirm=plan.digest)
    other = make_plan(world.config, world.audit("later"))
    assert other.digest != plan.digest
    with pytest.raises(PlanError, match="belongs to another plan"):
        apply_plan(other, world.config, journal=journal, confirm=other.digest)
    from assoc_audit.fixes import Journal

    with (
        Journal.open(journal, digest=plan.digest, kind="apply", targets=plan.targets, operations=1),
        pytest.raises(PlanError, match="another apply is writing this journal"),
    ):
        apply_plan(plan, world.config, journal=journal, confirm=plan.digest)


def test_plan_for_other_targets_is_refused(tmp_path):
    world, plan, path = planned(tmp_path, "files")
    moved = world.config.model_copy(
        update={"hubspot": world.config.hubspot.model_copy(update={"base_url": "http://x.test"})}
    )
    with pytest.raises(DigestMismatch, match="other targets"):
        apply_plan(plan, moved, plan_file=path, confirm=plan.digest)
    with pytest.raises(PlanError, match="other targets"):
        apply_plan(plan, moved, plan_file=path)


def test_dry_run_reports_conflicts_but_exits_0(tmp_path):
    world, plan, path = planned(tmp_path, "sqlite")
    # every stored link replaced: p3's label changed, p2's link (whose primary moves) is gone
    world.set_app_links([("persons", "p3", "organizations", "o3", "other")])
    dry = apply_plan(plan, world.config, plan_file=path)
    assert dry.dry_run and dry.exit_code == 0
    assert [c.pair[2] for c in dry.conflicts] == ["p2", "p3"]
    assert dry.lines()[0].startswith("dry run (apply): it would be refused: 2 touched pairs")
