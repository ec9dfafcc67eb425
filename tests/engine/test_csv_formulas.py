"""CSV outputs neutralise spreadsheet formulas (OWASP CSV injection); Parquet keeps raw values."""

from __future__ import annotations

import csv

import pandas as pd
import pyarrow.parquet as pq
from engine_support import make_config, make_side

from assoc_audit.audit import run_audit
from assoc_audit.fixes.model import Operation
from assoc_audit.fixes.plan import FixPlan
from assoc_audit.outputs import write_csv
from assoc_audit.scenarios.plan import plan_scenarios
from assoc_audit.scenarios.results import CleanupResult, ScenarioReport, ScenarioResult

EVIL = '=HYPERLINK("http://x","y")'
AT = "@SUM(A1:A9)"
TAB = "\tcmd"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cells(path):
    with path.open(newline="", encoding="utf-8") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def _no_formula(cells):
    return [c for c in cells if c and c[0] in FORMULA_PREFIXES]


def _audit(tmp_path):
    config = make_config()
    hubspot = make_side(
        config,
        "hubspot",
        [
            ("contacts", "c1", {"email": "a@x.io"}, "Ann"),
            ("contacts", AT, {"email": "z@x.io"}, "Zed"),  # unmatched
            ("companies", "k1", {"domain": "x.io"}, "X"),
        ],
        [("contacts", AT, "companies", "k1", None)],
    )
    app = make_side(
        config,
        "app",
        [
            ("contacts", EVIL, {"email": "a@x.io"}, EVIL),  # matches c1
            ("contacts", TAB, {"email": "-b@x.io"}, "+cmd"),  # unmatched
            ("companies", "o1", {"domain": "x.io"}, "X"),
        ],
        [
            ("contacts", EVIL, "companies", "o1", "+cmd"),  # an unmapped app label
            ("contacts", TAB, "companies", "o1", None),
        ],
    )
    return run_audit(config, hubspot=hubspot, app=app, out=tmp_path / "out")


def test_audit_csvs_neutralise_formulas_and_parquet_keeps_them(tmp_path):
    result = _audit(tmp_path)
    out = tmp_path / "out"
    findings = result.findings
    # the formulas really are in the findings and records
    assert EVIL in set(findings["app_from_id"].dropna()) and "+cmd" in set(findings["label"])
    assert AT in set(findings["hubspot_from_id"].dropna())
    assert EVIL in set(result.records["app_id"].dropna())
    for name in ("findings.csv", "records.csv"):
        cells = _cells(out / name)
        assert not _no_formula(cells), name
    cells = _cells(out / "findings.csv")
    assert "'" + EVIL in cells and "'+cmd" in cells and "'" + AT in cells and "'" + TAB in cells
    assert "'" + EVIL in _cells(out / "records.csv")
    raw = pq.read_table(out / "findings.parquet").to_pandas()
    assert EVIL in set(raw["app_from_id"].dropna()) and "+cmd" in set(raw["label"].dropna())
    assert TAB in set(raw["app_from_id"].dropna())
    snap = pq.read_table(out / "snapshot" / "app" / "records.parquet").to_pandas()
    assert EVIL in set(snap["record_id"])


def test_plan_csv_neutralises_formulas(tmp_path):
    op = Operation(
        op_id=1,
        side="app",
        action="create",
        from_object="contacts",
        from_id=EVIL,
        to_object="companies",
        to_id="-1",
        label="+cmd",
        finding_ids=("0123456789abcdef",),
        labels_before=("@x",),
    )
    plan = FixPlan(
        kind="apply",
        operations=(op,),
        targets={"hubspot": {}, "app": {}},
        integration="t",
        created_at="2026-01-01T00:00:00Z",
    )
    plan.write(tmp_path / "plan.json")
    cells = _cells(tmp_path / "plan.csv")
    assert not _no_formula(cells)
    assert {"'" + EVIL, "'-1", "'+cmd"} <= set(cells)


def test_scenarios_csv_uses_the_same_writer(tmp_path):
    config = make_config(
        associations=[{"from": "contacts", "to": "companies", "label": "-x", "app_label": "@y"}]
    )
    scenario = plan_scenarios(config).scenarios[0]
    result = ScenarioResult(scenario, "fail", "=1+1", explanation="-not found")
    report = ScenarioReport(
        name="t",
        app_name="=App",
        digest="0" * 64,
        target={"hubspot": "http://127.0.0.1:1"},
        emulator=True,
        tag="t",
        started_at="",
        seconds=0.0,
        results=(result,),
        sync={},
        cleanup=CleanupResult(),
    )
    report.write(tmp_path)
    cells = _cells(tmp_path / "scenarios.csv")
    assert not _no_formula(cells)
    assert "'=1+1" in cells and "'-not found" in cells


def test_only_text_cells_change(tmp_path):
    frame = pd.DataFrame(
        {
            "text": pd.array(["=a", "+b", "-c", "@d", "\te", "\rf", "g=", "", None], "string"),
            "number": [-1, 2, 3, 4, 5, 6, 7, 8, 9],
        }
    )
    write_csv(frame, tmp_path / "t.csv")
    with (tmp_path / "t.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert [r[0] for r in rows[1:]] == ["'=a", "'+b", "'-c", "'@d", "'\te", "'\rf", "g=", "", ""]
    assert rows[1][1] == "-1"
