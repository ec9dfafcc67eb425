"""Plans from real audit folders: operations, side effects, label texts, files, digest."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from scenarios import APP_SIDE_OPS, HUB_SIDE_OPS, app_side_world, hub_side_world, op_rows

from assoc_audit.errors import DataError, PlanError
from assoc_audit.fixes import make_plan, read_findings, read_plan
from assoc_audit.fixes.digest import canonical_json, plan_digest
from assoc_audit.fixes.plan import FixPlan
from assoc_audit.fixes.planning import plan_targets


@pytest.mark.parametrize("kind", ["files", "sqlite"])
def test_app_side_plan(tmp_path, kind):
    world, folder = app_side_world(tmp_path, kind)
    plan = make_plan(world.config, folder)
    assert op_rows(plan) == APP_SIDE_OPS
    # every actionable finding is resolved by exactly the operations that name it
    findings = read_findings(folder)
    actionable = set(findings.loc[~findings["action"].isin(["none", "review"]), "finding_id"])
    named = [f for op in plan.operations for f in op.finding_ids]
    assert set(named) == actionable and len(named) == len(actionable)
    by = {(op.from_id, op.to_id, op.label): op for op in plan.operations}
    assert by[("p2", "o2", "primary")].labels_before == (None, "primary")
    assert by[("p6", "o6", None)].labels_before == ("billing",)  # no unlabeled row stored


def test_hubspot_side_effects_are_implied(tmp_path, portal):
    world, folder = hub_side_world(tmp_path, "sqlite", portal)
    plan = make_plan(world.config, folder)
    assert op_rows(plan) == HUB_SIDE_OPS
    summary = plan.summary()
    assert (summary.operations, summary.implied, summary.side_effects) == (15, 4, 4)
    assert summary.by_action == {
        "create in app": 2,
        "create in hubspot": 6,
        "relabel in hubspot": 1,
        "remove in hubspot": 6,
    }


def test_plan_files_round_trip_and_csv(tmp_path):
    world, folder = app_side_world(tmp_path, "files")
    plan = make_plan(world.config, folder)
    path = plan.write(tmp_path / "out" / "plan.json")
    again = read_plan(path)
    assert again.digest == plan.digest and again.operations == plan.operations
    data = json.loads(path.read_text("utf-8"))
    assert data["digest"] == plan.digest and data["kind"] == "apply"
    assert data["targets"] == plan_targets(world.config, plan.operations)
    assert data["summary"]["operations"] == len(plan)
    csv = pd.read_csv(tmp_path / "out" / "plan.csv", dtype=str, keep_default_na=False)
    assert list(csv.columns[:4]) == ["op_id", "side", "action", "from_object"]
    assert len(csv) == len(plan)
    row = csv.loc[csv["old_label"] == "primary"].iloc[0]
    assert (row["action"], row["label"], row["labels_before"]) == (
        "relabel",
        "billing",
        '[null, "primary"]',
    )
    assert ";" in row["finding_ids"]


def test_digest_covers_operations_and_targets(tmp_path):
    world, folder = app_side_world(tmp_path, "files")
    plan = make_plan(world.config, folder)
    body = {"operations": [op.to_dict() for op in plan.operations], "targets": plan.targets}
    import hashlib

    assert plan.digest == hashlib.sha256(canonical_json(body).encode()).hexdigest()
    other = dict(plan.targets, hubspot={"kind": "hubspot", "url": "https://other.example"})
    assert plan_digest(plan.operations, other) != plan.digest
    assert make_plan(world.config, folder).digest == plan.digest  # stable
    edited = json.loads(plan.write(tmp_path / "p.json").read_text("utf-8"))
    edited["operations"][0]["to_id"] = "k9"
    (tmp_path / "p.json").write_text(json.dumps(edited), "utf-8")
    with pytest.raises(PlanError, match="changed after it was made"):
        read_plan(tmp_path / "p.json")


def test_empty_plan(tmp_path):
    from fixes_support import hub, make_world

    world = make_world(
        tmp_path, "files", [hub(1, 1)], [("persons", "p1", "organizations", "o1", None)]
    )
    plan = make_plan(world.config, world.audit())
    assert len(plan) == 0 and plan.summary().lines() == ["0 operations: nothing to repair"]


def test_bad_findings_folders(tmp_path):
    world, folder = app_side_world(tmp_path, "files")
    with pytest.raises(DataError, match=r"no findings\.parquet or findings\.csv"):
        make_plan(world.config, tmp_path / "nowhere")
    (folder / "findings.parquet").unlink()
    frame = pd.read_csv(folder / "findings.csv", dtype=str, keep_default_na=False)
    frame.loc[frame["action"] == "relabel_in_app", "action"] = "explode"
    frame.to_csv(folder / "findings.csv", index=False)
    with pytest.raises(DataError, match="unknown action 'explode'"):
        make_plan(world.config, folder)
    frame.drop(columns=["detail"]).to_csv(folder / "findings.csv", index=False)
    with pytest.raises(DataError, match="missing column 'detail'"):
        make_plan(world.config, folder)


def test_contradictions_are_refused(tmp_path):
    world, folder = app_side_world(tmp_path, "files")
    frame = pd.read_parquet(folder / "findings.parquet")
    # a second "create Primary" for p2 (already gets o3) is two primaries for one record
    pick = (frame["app_to_id"] == "o3") & (frame["label"] == "Primary")
    extra = frame.loc[pick & (frame["action"] == "create_in_app")].copy()
    extra["app_to_id"] = "o4"
    extra["hubspot_to_id"] = "k4"
    extra["finding_id"] = "0000000000000000"
    pd.concat([frame, extra]).to_parquet(folder / "findings.parquet")
    with pytest.raises(PlanError, match="two 'primary' links planned"):
        make_plan(world.config, folder)


def test_plan_is_a_frozen_value():
    plan = FixPlan("apply", (), {"hubspot": {}, "app": {}}, "x", "t")
    with pytest.raises(AttributeError):
        plan.kind = "undo"  # type: ignore[misc]
