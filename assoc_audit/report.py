"""Charts and summary tables for notebooks and HTML reports.

Every function takes the audit's typed outputs (the findings table of DESIGN
§6, the ``summary.json`` mapping, the run history) and returns a pandas table
or a matplotlib figure; notebooks only call and display them. Charts are
readable in a static HTML report: titles, labelled axes, counts on bars, no
interactivity required.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "REASON_ORDER",
    "STEP_NAMES",
    "findings_by_reason_pair",
    "findings_by_step",
    "headline",
    "plot_by_reason_pair",
    "plot_by_step",
    "plot_trend",
    "trend_table",
]

#: Reasons in DESIGN §6 precedence order.
REASON_ORDER: tuple[str, ...] = (
    "object_sync_off",
    "unsupported_in_app",
    "ambiguous_match",
    "record_unmatched",
    "label_mismatch",
    "direction_blocked",
    "limit_exceeded",
    "sync_gap",
)
#: Troubleshooting steps (DESIGN §6).
STEP_NAMES: dict[int, str] = {
    0: "0 · nothing blocks it",
    1: "1 · records sync",
    2: "2 · sync direction",
    3: "3 · app-level support",
    4: "4 · matching criteria",
}


def _pair(findings: pd.DataFrame) -> pd.Series:
    return findings["from_object"].astype(str) + "→" + findings["to_object"].astype(str)


def headline(summary: Mapping[str, Any]) -> pd.DataFrame:
    """The headline numbers of one audit as a two-column table (what, value)."""
    by_reason = summary.get("by_reason") or {}
    api = summary.get("api") or {}
    timings = summary.get("timings") or {}
    rows: list[tuple[str, Any]] = [
        ("links checked", summary.get("links_checked")),
        ("links in sync", summary.get("links_in_sync")),
        ("findings", summary.get("findings_total")),
        ("findings that fail the run", summary.get("findings_failing")),
    ]
    rows += [(f"  {reason}", by_reason.get(reason, 0)) for reason in REASON_ORDER]
    calls = sum(int(v.get("calls", 0)) for v in api.values() if isinstance(v, Mapping))
    rows.append(("API calls made", calls))
    total = timings.get("total_seconds")
    rows.append(("audit time (s)", round(float(total), 2) if total is not None else None))
    table = pd.DataFrame(rows, columns=["what", "value"])
    return table[table["value"].notna()].reset_index(drop=True)


def findings_by_reason_pair(findings: pd.DataFrame) -> pd.DataFrame:
    """Counts with reasons as rows (precedence order) and object pairs as columns."""
    if findings.empty:
        return pd.DataFrame(index=pd.Index([], name="reason"))
    table = pd.crosstab(findings["reason"], _pair(findings))
    order = [r for r in REASON_ORDER if r in table.index]
    table = table.reindex(order + [r for r in table.index if r not in order])
    table.columns.name = "object pair"
    return table


def findings_by_step(findings: pd.DataFrame) -> pd.DataFrame:
    """Counts per troubleshooting step and side the link is on."""
    if findings.empty:
        return pd.DataFrame(columns=["step", "hubspot", "app"]).set_index("step")
    steps = findings["step"].astype(int).map(STEP_NAMES)
    table = pd.crosstab(steps, findings["present_in"])
    table = table.reindex(columns=["hubspot", "app"], fill_value=0)
    table.index.name = "step"
    return table.sort_index()


def trend_table(history: pd.DataFrame, *, last: int = 30) -> pd.DataFrame:
    """Findings per reason over the last ``last`` successful audit runs."""
    if history.empty or "findings" not in history:
        return pd.DataFrame()
    runs = history.copy()
    if "failed" in runs.columns:
        runs = runs.loc[~runs["failed"].astype(bool)]
    runs = runs.loc[runs["findings"].notna()].sort_values(by="run").tail(last)
    cols = [c for c in runs.columns if c.startswith("reason_")]
    table = runs.set_index("started_at")[cols].fillna(0).astype(int)
    table.columns = [c.removeprefix("reason_") for c in cols]
    order = [r for r in REASON_ORDER if r in table.columns]
    return table[order]


def _bar_labels(ax: Any) -> None:
    for container in ax.containers:
        labels = [f"{v:g}" if v else "" for v in container.datavalues]
        ax.bar_label(container, labels=labels, label_type="center", fontsize=8, color="white")


def plot_by_reason_pair(findings: pd.DataFrame, *, title: str = "Findings by reason") -> Figure:
    """Horizontal stacked bars: one bar per reason, stacked by object pair."""
    import matplotlib.pyplot as plt

    table = findings_by_reason_pair(findings)
    fig, ax = plt.subplots(figsize=(9, 0.55 * max(len(table), 1) + 1.6))
    if table.empty:
        ax.text(
            0.5,
            0.5,
            "No findings: every audited link is in sync",
            ha="center",
            va="center",
            fontsize=12,
        )
        ax.set_axis_off()
    else:
        table.iloc[::-1].plot.barh(stacked=True, ax=ax, width=0.7)
        _bar_labels(ax)
        ax.set_xlabel("one-sided links")
        ax.set_ylabel("")
        ax.legend(title="object pair", loc="lower right", fontsize=8)
    ax.set_title(title, loc="left", fontweight="bold")
    fig.tight_layout()
    return fig


def plot_by_step(
    findings: pd.DataFrame, *, title: str = "Findings by troubleshooting step"
) -> Figure:
    """Bars per troubleshooting step, split by the side the link is on."""
    import matplotlib.pyplot as plt

    table = findings_by_step(findings)
    fig, ax = plt.subplots(figsize=(9, 3.2))
    if table.empty:
        ax.text(0.5, 0.5, "No findings", ha="center", va="center", fontsize=12)
        ax.set_axis_off()
    else:
        table.plot.barh(stacked=True, ax=ax, width=0.7, color=["#ff7a59", "#33475b"])
        _bar_labels(ax)
        ax.set_xlabel("one-sided links")
        ax.set_ylabel("")
        ax.invert_yaxis()
        ax.legend(title="link present in", fontsize=8)
    ax.set_title(title, loc="left", fontweight="bold")
    fig.tight_layout()
    return fig


def plot_trend(history: pd.DataFrame, *, reasons: Sequence[str] | None = None) -> Figure:
    """Findings per reason across previous runs (stacked area), newest on the right."""
    import matplotlib.pyplot as plt

    table = trend_table(history)
    if reasons is not None and not table.empty:
        table = table[[r for r in reasons if r in table.columns]]
    fig, ax = plt.subplots(figsize=(9, 3.4))
    if len(table) < 2:
        ax.text(
            0.5,
            0.5,
            "The trend appears after two or more runs",
            ha="center",
            va="center",
            fontsize=12,
        )
        ax.set_axis_off()
    else:
        table.plot.area(ax=ax, linewidth=0)
        ax.set_ylabel("findings")
        ax.set_xlabel("run")
        ax.legend(fontsize=8, loc="upper left", ncol=2)
    ax.set_title("Findings over time", loc="left", fontweight="bold")
    fig.tight_layout()
    return fig
