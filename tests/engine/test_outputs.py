"""The audit's output folder, finding_id, CSV quoting, and the snapshot round trip."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pyarrow.parquet as pq
from engine_support import world, world_config

from assoc_audit.audit import run_audit
from assoc_audit.config import parse_config
from assoc_audit.findings import FINDING_COLUMNS, finding_id
from assoc_audit.matching import RECORDS_COLUMNS

ASSOC = [
    {"from": "contacts", "to": "companies"},
    {"from": "contacts", "to": "companies", "label": "Primary", "app_label": "primary"},
]


def _result(tmp_path, **kw):
    config = world_config(ASSOC)
    h, a = world(
        config,
        [("c1", "k1", "Primary"), ("c2", "k2"), ("c3", "k404")],
        [("p1", "o1"), ("p4", "o4", "primary")],
    )
    return run_audit(config, hubspot=h, app=a, out=tmp_path / "out", **kw)


def _csv(path):
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _cells(df: pd.DataFrame) -> list[list[str]]:
    return [["" if v is pd.NA else str(v) for v in row] for row in df.itertuples(index=False)]


def test_output_files(tmp_path):
    result = _result(tmp_path)
    out = tmp_path / "out"
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert names == [
        "findings.csv",
        "findings.parquet",
        "records.csv",
        "snapshot/app/associations.parquet",
        "snapshot/app/meta.json",
        "snapshot/app/records.parquet",
        "snapshot/hubspot/associations.parquet",
        "snapshot/hubspot/meta.json",
        "snapshot/hubspot/records.parquet",
        "summary.json",
    ]
    rows = _csv(out / "findings.csv")
    assert tuple(rows[0]) == FINDING_COLUMNS
    assert rows[1:] == _cells(result.findings)
    parquet = pq.read_table(out / "findings.parquet").to_pandas()
    assert list(parquet.columns) == list(FINDING_COLUMNS)
    assert _cells(parquet) == _cells(result.findings)
    records = _csv(out / "records.csv")
    assert tuple(records[0]) == RECORDS_COLUMNS
    assert records[1:] == _cells(result.records)
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary == json.loads(json.dumps(result.summary.to_dict()))
    assert summary["findings"] == len(result.findings)
    assert sum(summary["by_reason"].values()) == len(result.findings)
    assert summary["config_digest"] == result.config.digest()
    assert summary["api_calls"] == 0
    for key in ("match", "reconcile", "render", "total_seconds"):
        assert summary["timings"][key] >= 0
    assert summary["findings_total"] == len(result.findings)
    assert summary["links_in_sync"] == result.summary.in_sync
    assert summary["links_checked"] == result.summary.in_sync + len(result.findings)
    assert summary["fail_on"] == [
        "ambiguous_match",
        "record_unmatched",
        "label_mismatch",
        "direction_blocked",
        "limit_exceeded",
        "sync_gap",
    ]
    failing = result.findings["reason"].isin(summary["fail_on"]).sum()
    assert summary["findings_failing"] == failing


def test_finding_ids_follow_design(tmp_path):
    result = _result(tmp_path)
    stored = {("hubspot", "c1", "k1"): "Primary", ("app", "p4", "o4"): "primary"}
    for row in result.findings.itertuples(index=False):
        own = row.present_in
        frm, to = getattr(row, f"{own}_from_id"), getattr(row, f"{own}_to_id")
        raw = stored.get((own, frm, to)) if row.label is not pd.NA else None
        assert row.finding_id == finding_id(own, row.from_object, row.to_object, raw, frm, to)


def test_summary_counts(tmp_path):
    s = _result(tmp_path).summary
    assert s.by_side == {"hubspot": 3, "app": 2}
    (pair,) = s.pairs
    assert (pair.hubspot_links, pair.app_links, pair.in_sync) == (4, 3, 1)
    assert pair.findings["hubspot"]["record_unmatched"] == 1
    assert s.links["hubspot_implied"] == 1 and s.links["app_implied"] == 1
    assert s.links["hubspot_missing"] == 1


def test_snapshot_reaudits_identically(tmp_path, write_config):
    first = _result(tmp_path)
    raw = {
        "name": "again",
        "hubspot": {"snapshot": str(tmp_path / "out" / "snapshot" / "hubspot")},
        "app": {
            "name": "Acme CRM",
            "kind": "files",
            "snapshot": str(tmp_path / "out/snapshot/app"),
        },
        "objects": first.config.model_dump(by_alias=True, exclude={"base_dir"})["objects"],
        "associations": ASSOC,
    }
    config = parse_config(json.loads(json.dumps(raw, default=str)))
    second = run_audit(config)
    pd.testing.assert_frame_equal(second.findings, first.findings)
    pd.testing.assert_frame_equal(second.records, first.records)


def test_dtypes(tmp_path):
    result = _result(tmp_path)
    assert list(result.findings.columns) == list(FINDING_COLUMNS)
    for col in FINDING_COLUMNS:
        want = "int64" if col == "step" else "string"
        assert str(result.findings[col].dtype) == want, col
    assert str(result.records["rule"].dtype) == "Int64"
