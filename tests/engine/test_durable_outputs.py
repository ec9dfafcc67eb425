"""Every output is written atomically and fsynced (file and folder), like the journal."""

from __future__ import annotations

from datetime import UTC, datetime

from disk_probe import Disk
from engine_support import config_from_snapshots, world, world_config

from assoc_audit.audit import run_audit
from assoc_audit.notebook.history import append_history, history_row
from assoc_audit.notebook.setup_doc import build_setup_doc
from assoc_audit.scenarios.results import CleanupResult, ScenarioReport

AUDIT_FILES = (
    "findings.csv",
    "findings.parquet",
    "records.csv",
    "summary.json",
    "snapshot/hubspot/records.parquet",
    "snapshot/hubspot/associations.parquet",
    "snapshot/hubspot/meta.json",
    "snapshot/app/records.parquet",
    "snapshot/app/associations.parquet",
    "snapshot/app/meta.json",
)


def _audit(out):
    config = world_config()
    h, a = world(config, [("c1", "k1"), ("c2", "k2")], [("p1", "o1")])
    return run_audit(config, hubspot=h, app=a, out=out)


def test_audit_outputs_are_durable(tmp_path, monkeypatch):
    disk = Disk(monkeypatch)
    _audit(tmp_path / "out")
    not_durable = [f for f in AUDIT_FILES if not disk.durable(tmp_path / "out" / f)]
    assert not not_durable


def test_copied_snapshot_is_durable(tmp_path, monkeypatch):
    first = _audit(tmp_path / "first")
    snap = tmp_path / "first" / "snapshot"
    config = config_from_snapshots(first, snap)
    disk = Disk(monkeypatch)
    run_audit(config, out=tmp_path / "second")
    for side in ("hubspot", "app"):
        for name in ("records.parquet", "associations.parquet", "meta.json"):
            assert disk.durable(tmp_path / "second" / "snapshot" / side / name), (side, name)


def test_scenario_report_is_durable(tmp_path, monkeypatch):
    disk = Disk(monkeypatch)
    report = ScenarioReport(
        name="x",
        app_name="Acme CRM",
        digest="0" * 64,
        target={"hubspot": "http://127.0.0.1:1", "app": "files"},
        emulator=True,
        tag="t",
        started_at="2026-01-01T00:00:00Z",
        seconds=0.0,
        results=(),
        sync={},
        cleanup=CleanupResult(),
    )
    report.write(tmp_path / "scen")
    assert disk.durable(tmp_path / "scen" / "scenarios.json")
    assert disk.durable(tmp_path / "scen" / "scenarios.csv")


def test_setup_doc_is_durable(tmp_path, monkeypatch):
    disk = Disk(monkeypatch)
    md, page = build_setup_doc(world_config()).write(tmp_path / "doc")
    assert disk.durable(md) and disk.durable(page)


def test_history_is_durable(tmp_path, monkeypatch):
    disk = Disk(monkeypatch)
    row = history_row(
        run="20260101T000000Z",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        notebook="audit",
        folder=tmp_path,
        summary=None,
        failed=False,
        exit_code=0,
        seconds=1.0,
    )
    path = append_history(tmp_path, row)
    assert disk.durable(path)
    disk.events.clear()
    append_history(tmp_path, {**row, "run": "20260102T000000Z"})
    assert disk.durable(path)
