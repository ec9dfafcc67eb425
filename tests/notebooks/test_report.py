"""Report tables, the summary block and charts, checked by content."""

from __future__ import annotations

import pandas as pd
import pytest

from assoc_audit.notebook import report
from assoc_audit.reasons import REASONS


@pytest.fixture(scope="module")
def findings(demo_audit):
    return demo_audit[1].findings


@pytest.fixture(scope="module")
def summary(demo_audit):
    return {**demo_audit[1].summary.to_dict(), "run": "20261128T130500Z"}


def test_headline_and_reason_table(summary, findings):
    head = dict(report.headline(summary).itertuples(index=False))
    assert head["findings"] == len(findings) == 24
    assert head["links checked"] == summary["links_in_sync"] + 24
    assert head["  sync_gap"] == 4 and head["API calls made"] == summary["api_calls"] > 0
    table = report.reason_table(summary)
    assert list(table["reason"]) == list(REASONS)
    row = table.set_index("reason").loc["record_unmatched"]
    assert (row["only in HubSpot"], row["only in app"], row["total"]) == (2, 3, 5)
    assert row["fails the run"] == "yes"
    assert table.set_index("reason").loc["object_sync_off", "fails the run"] == ""
    assert (table["only in HubSpot"] + table["only in app"] == table["total"]).all()


def test_summary_html_has_the_numbers_and_escapes_text(summary):
    text = report.summary_html({**summary, "app_name": "<Acme & Co>"}, verdict="x < y")
    assert "<Acme" not in text and "&lt;Acme &amp; Co&gt;" in text and "x &lt; y" in text
    assert f">{summary['links_in_sync']:,}<" in text
    assert ">24<" in text and ">19<" in text
    assert '<span class="aa-seconds">' in text and '<span class="aa-time">' in text
    assert text.count("<tr>") == 1 + len(REASONS)


def test_crosstabs(findings):
    by_pair = report.findings_by_reason_pair(findings)
    assert by_pair.loc["contacts → companies", "sync_gap"] == 3
    assert by_pair.loc["deals → contacts"].sum() == 3
    assert int(by_pair.to_numpy().sum()) == 24
    assert list(by_pair.columns) == [r for r in REASONS if r in set(findings["reason"])]
    by_step = report.findings_by_step(findings)
    assert list(by_step.columns) == ["hubspot", "app"]
    assert by_step.loc["2 · sync direction"].tolist() == [0, 1]
    assert int(by_step.to_numpy().sum()) == 24
    assert report.findings_by_reason_pair(findings.iloc[:0]).empty


def test_findings_display_orders_failing_reasons_first(findings):
    shown = report.findings_display(findings)
    assert list(shown.columns) == [
        "only in",
        "object pair",
        "label",
        "reason",
        "action",
        "HubSpot ids",
        "app ids",
        "why",
    ]
    reasons = list(shown["reason"])
    assert reasons.index("object_sync_off") > reasons.index("sync_gap")
    assert reasons[0] == "ambiguous_match" and reasons[-1] == "unsupported_in_app"
    row = shown.loc[shown["why"].str.contains("Ghost participant")].iloc[0]
    assert row["HubSpot ids"].endswith("→ —") and row["app ids"].endswith("→ 999999999")
    assert len(report.findings_display(findings, max_rows=5)) == 5
    everything = report.findings_display(findings, fail_on=list(REASONS))
    assert everything["reason"].iloc[0] == "object_sync_off"


def _history(*runs):
    rows = []
    for run, sync_gap, failed in runs:
        row = {"run": run, "failed": failed, "findings": sync_gap}
        row.update({f"reason_{r}": 0 for r in REASONS})
        row["reason_sync_gap"] = sync_gap
        rows.append(row)
    return pd.DataFrame(rows)


def test_trend_table_with_history_and_the_current_run(summary):
    history = _history(
        ("20261126T000000Z", 7, False),
        ("20261127T000000Z", 9, True),  # failed runs are left out
        ("20261129T000000Z", 1, False),  # after the current run: left out
    )
    table = report.trend_table(history, current=summary)
    assert list(table.index) == ["20261126T000000Z", "20261128T130500Z"]
    assert table["sync_gap"].tolist() == [7, 4]
    assert list(table.columns) == list(REASONS)
    assert report.trend_table(pd.DataFrame()).empty
    assert len(report.trend_table(history, current=summary, last=1)) == 1


def test_charts_are_labelled(findings, summary):
    fig = report.plot_by_reason_pair(findings)
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "Findings by reason and object pair"
    assert ax.get_xlabel() == "links present on one side only"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "contacts → companies" in labels
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [r for r in REASONS if r in set(findings["reason"])]
    step = report.plot_by_step(findings).axes[0]
    assert [t.get_text() for t in step.get_legend().get_texts()] == [
        "only in HubSpot",
        "only in the app",
    ]
    empty = report.plot_trend(pd.DataFrame(), current=summary).axes[0]
    assert "second run" in empty.texts[0].get_text()
    trend = report.plot_trend(_history(("20261127T000000Z", 2, False)), current=summary).axes[0]
    assert [t.get_text() for t in trend.get_xticklabels()] == ["11-27\n00:00:00", "11-28\n13:05:00"]
    assert trend.get_ylabel() == "findings"


def test_table_html_escapes_and_classes():
    frame = pd.DataFrame({"a": ["<b>", None], "why": ["x & y", "z"]})
    text = report.table_html(frame, column_classes={"why": "aa-wide"})
    assert "&lt;b&gt;" in text and "x &amp; y" in text and "None" not in text
    assert text.count('<td class="aa-wide">') == 2
