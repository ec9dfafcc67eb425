"""Charts and summary tables for notebooks and HTML reports.

Every function takes the audit's typed outputs (the findings table of DESIGN
§6, the ``summary.json`` mapping, the run history of :mod:`assoc_audit.notebook.history`)
and returns a pandas table, an HTML fragment or a matplotlib figure;
notebooks only call and display them. Charts are made for a static HTML
report: titles, labelled axes, counts on the bars, one colour per reason
throughout, nothing that needs interaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from assoc_audit.notebook.templating import macro, render
from assoc_audit.reasons import DEFAULT_FAIL_ON, REASONS, Reason

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "REASON_COLORS",
    "REASON_MEANINGS",
    "REASON_ORDER",
    "SIDE_COLORS",
    "STEP_NAMES",
    "findings_by_reason_pair",
    "findings_by_step",
    "findings_display",
    "headline",
    "plot_by_reason_pair",
    "plot_by_step",
    "plot_trend",
    "reason_table",
    "summary_html",
    "table_html",
    "trend_table",
]

#: Reasons in DESIGN §6 precedence order.
REASON_ORDER: tuple[str, ...] = REASONS
#: One colour per reason, used by every chart (colour-blind-safe Okabe–Ito palette + greys).
REASON_COLORS: dict[str, str] = {
    "object_sync_off": "#9e9e9e",
    "unsupported_in_app": "#cc79a7",
    "ambiguous_match": "#e69f00",
    "record_unmatched": "#d55e00",
    "label_mismatch": "#0072b2",
    "direction_blocked": "#56b4e9",
    "limit_exceeded": "#009e73",
    "sync_gap": "#c0392b",
}
#: The side a link is present on → colour.
SIDE_COLORS: dict[str, str] = {"hubspot": "#ff7a59", "app": "#33475b"}
#: One line per reason, for people (DESIGN §6's table).
REASON_MEANINGS: dict[str, str] = {
    "object_sync_off": "an endpoint's object is not synced",
    "unsupported_in_app": "the app has no equivalent for this pair or label",
    "ambiguous_match": "an endpoint has duplicates, so it cannot be paired",
    "record_unmatched": "an endpoint has no counterpart on the other side",
    "label_mismatch": "linked on both sides, labelled differently",
    "direction_blocked": "the sync direction does not carry it from this side",
    "limit_exceeded": "the other side has no free slot for this link",
    "sync_gap": "nothing blocks it: the sync should have carried it",
}
#: Troubleshooting steps (DESIGN §6).
STEP_NAMES: dict[int, str] = {
    0: "0 · nothing blocks it",
    1: "1 · records sync",
    2: "2 · sync direction",
    3: "3 · app-level support",
    4: "4 · matching criteria",
}


def _pair(findings: pd.DataFrame) -> pd.Series:
    return findings["from_object"].astype(str) + " → " + findings["to_object"].astype(str)


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _api_calls(summary: Mapping[str, Any]) -> int:
    if "api_calls" in summary:
        return _int(summary.get("api_calls"))
    api = summary.get("api") or {}
    return sum(_int(v.get("calls")) for v in api.values() if isinstance(v, Mapping))


def _seconds(summary: Mapping[str, Any]) -> float | None:
    total = (summary.get("timings") or {}).get("total_seconds")
    return None if total is None else float(total)


def headline(summary: Mapping[str, Any]) -> pd.DataFrame:
    """The headline numbers of one audit as a two-column table (what, value)."""
    by_reason = summary.get("by_reason") or {}
    rows: list[tuple[str, Any]] = [
        ("links checked", _int(summary.get("links_checked"))),
        ("links in sync", _int(summary.get("links_in_sync"))),
        ("findings", _int(summary.get("findings_total", summary.get("findings")))),
        ("findings that fail the run", _int(summary.get("findings_failing"))),
    ]
    rows += [(f"  {reason}", _int(by_reason.get(reason))) for reason in REASON_ORDER]
    rows.append(("API calls made", _api_calls(summary)))
    seconds = _seconds(summary)
    if seconds is not None:
        rows.append(("audit time (s)", round(seconds, 2)))
    return pd.DataFrame(rows, columns=["what", "value"])


def reason_table(summary: Mapping[str, Any]) -> pd.DataFrame:
    """Findings per reason and side, with step and meaning; every reason listed."""
    per_side: dict[str, dict[str, int]] = {"hubspot": {}, "app": {}}
    for pair in summary.get("pairs") or []:
        for side, counts in (pair.get("findings") or {}).items():
            for reason, n in counts.items():
                per_side.setdefault(side, {})
                per_side[side][reason] = per_side[side].get(reason, 0) + _int(n)
    fail_on = set(summary.get("fail_on") or ())
    by_reason = summary.get("by_reason") or {}
    rows = []
    for reason in REASON_ORDER:
        rows.append(
            {
                "reason": reason,
                "step": Reason(reason).step,
                "meaning": REASON_MEANINGS[reason],
                "only in HubSpot": per_side["hubspot"].get(reason, 0),
                "only in app": per_side["app"].get(reason, 0),
                "total": _int(by_reason.get(reason)),
                "fails the run": "yes" if reason in fail_on else "",
            }
        )
    return pd.DataFrame(rows)


def _card(label: str, value: str, note: str = "", tone: str = "") -> dict[str, Any]:
    return {"label": label, "value": value, "note": note, "tone": tone, "seconds": None}


def summary_html(summary: Mapping[str, Any], *, verdict: str | None = None) -> str:
    """The report's opening block: headline cards, then findings per reason
    (``templates/summary.html.j2``; timings and timestamps in ``aa-seconds`` /
    ``aa-time`` spans so tests can mask them)."""
    checked = _int(summary.get("links_checked"))
    in_sync = _int(summary.get("links_in_sync"))
    findings = _int(summary.get("findings_total", summary.get("findings")))
    failing = _int(summary.get("findings_failing"))
    pct = f"{100.0 * in_sync / checked:.1f}% of links checked" if checked else "no links checked"
    time_card = _card("audit time", "", "read, match, diff, explain")
    time_card["seconds"] = _seconds(summary)
    cards = [
        _card("links checked", f"{checked:,}", "each link compared once"),
        _card("in sync", f"{in_sync:,}", pct, "aa-good"),
        _card(
            "findings",
            f"{findings:,}",
            "links present on one side only",
            "aa-bad" if failing else "",
        ),
        _card(
            "fail the run",
            f"{failing:,}",
            "findings with a reason marked ✱ below",
            "aa-bad" if failing else "aa-good",
        ),
        _card("API calls", f"{_api_calls(summary):,}", "HubSpot and app connectors"),
        time_card,
    ]
    by_reason = summary.get("by_reason") or {}
    fail_on = set(summary.get("fail_on") or ())
    rows = [
        {
            "reason": reason,
            "color": REASON_COLORS[reason],
            "mark": reason in fail_on and _int(by_reason.get(reason)) > 0,
            "step": Reason(reason).step,
            "meaning": REASON_MEANINGS[reason],
            "n": _int(by_reason.get(reason)),
        }
        for reason in REASON_ORDER
    ]
    return render(
        "summary.html.j2",
        name=str(summary.get("name", "")),
        app=str(summary.get("app_name", "the app")),
        started=str(summary.get("started_at", "")),
        verdict=verdict,
        cards=cards,
        rows=rows,
    )


def findings_by_reason_pair(findings: pd.DataFrame) -> pd.DataFrame:
    """Counts with object pairs as rows and reasons as columns (precedence order)."""
    if findings.empty:
        return pd.DataFrame(index=pd.Index([], name="object pair"))
    table = pd.crosstab(_pair(findings), findings["reason"].astype(str))
    order = [r for r in REASON_ORDER if r in table.columns]
    table = table[order + [c for c in table.columns if c not in order]]
    table.index.name = "object pair"
    table.columns.name = "reason"
    return table


def findings_by_step(findings: pd.DataFrame) -> pd.DataFrame:
    """Counts per troubleshooting step (rows, in step order) and side the link is on."""
    if findings.empty:
        return pd.DataFrame(columns=["hubspot", "app"], index=pd.Index([], name="step"))
    steps = findings["step"].astype(int).map(STEP_NAMES)
    table = pd.crosstab(steps, findings["present_in"].astype(str))
    table = table.reindex(columns=["hubspot", "app"], fill_value=0)
    table.index.name = "step"
    table.columns.name = "present in"
    return table.sort_index()


def trend_table(
    history: pd.DataFrame,
    *,
    current: Mapping[str, Any] | None = None,
    last: int = 30,
) -> pd.DataFrame:
    """Findings per reason over the last ``last`` successful runs, oldest first.

    ``history`` has one row per run (``run``, ``started_at``, ``failed``,
    ``reason_<code>`` columns; see :mod:`assoc_audit.notebook.history`); ``current``
    (a summary mapping with ``run``) adds this run when it is not in the
    history yet, and runs recorded after it are left out (re-running an old
    run's notebook draws the same trend). Rows are indexed by run name;
    columns are the reasons in precedence order.
    """
    frames = []
    if not history.empty and "run" in history.columns:
        runs = history
        if current is not None and current.get("run"):
            runs = runs.loc[runs["run"].astype(str) <= str(current["run"])]
        if "failed" in runs.columns:
            runs = runs.loc[~runs["failed"].fillna(False).astype(bool)]
        if "findings" in runs.columns:
            runs = runs.loc[runs["findings"].notna()]
        cols = {c: c.removeprefix("reason_") for c in runs.columns if c.startswith("reason_")}
        part = runs.set_index("run")[list(cols)].rename(columns=cols)
        frames.append(part)
    if current is not None:
        run = str(current.get("run") or current.get("started_at") or "this run")
        if not frames or run not in frames[0].index:
            by_reason = current.get("by_reason") or {}
            frames.append(
                pd.DataFrame([{r: _int(by_reason.get(r)) for r in REASON_ORDER}], index=[run])
            )
    if not frames:
        return pd.DataFrame(columns=list(REASON_ORDER), index=pd.Index([], name="run"))
    table = pd.concat(frames).reindex(columns=list(REASON_ORDER)).fillna(0).astype(int)
    table = table.sort_index().tail(last)
    table.index.name = "run"
    return table


def _bar_labels(ax: Any, *, min_share: float = 0.04) -> None:
    """Counts inside stacked bar segments that are wide enough to hold them."""
    widths = [abs(v) for c in ax.containers for v in c.datavalues]
    total = max(widths) if widths else 0
    for container in ax.containers:
        labels = [
            f"{int(v):,}" if v and total and abs(v) / total >= min_share else ""
            for v in container.datavalues
        ]
        ax.bar_label(container, labels=labels, label_type="center", fontsize=9, color="white")


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=13, color="#516f90")
    ax.set_axis_off()


def _finish(fig: Figure, ax: Any, title: str) -> Figure:
    """The plot's title, left-aligned, and a tight layout."""
    ax.set_title(title, loc="left", fontweight="bold", fontsize=13)
    fig.tight_layout()
    return fig


def _legend(ax: Any, title: str) -> None:
    """The legend to the right of the plot, outside it."""
    ax.legend(
        title=title,
        fontsize=9,
        title_fontsize=9,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
    )


def _style(ax: Any, *, counts: str = "x") -> None:
    from matplotlib.ticker import MaxNLocator

    (ax.xaxis if counts == "x" else ax.yaxis).set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#e5e8eb", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=10)


def plot_by_reason_pair(
    findings: pd.DataFrame, *, title: str = "Findings by reason and object pair"
) -> Figure:
    """Horizontal stacked bars: one bar per object pair, one colour per reason."""
    from matplotlib.figure import Figure

    table = findings_by_reason_pair(findings)
    fig = Figure(figsize=(10, 0.6 * max(len(table), 2) + 1.9), dpi=100)
    ax = fig.add_subplot()
    if table.empty:
        _empty(ax, "No findings: every audited link is in sync")
    else:
        shown = table.iloc[::-1]
        colors: list[Any] = [REASON_COLORS.get(str(c), "#777777") for c in shown.columns]
        shown.plot.barh(stacked=True, ax=ax, width=0.65, color=colors)
        _bar_labels(ax)
        _style(ax)
        ax.set_xlabel("links present on one side only", fontsize=11)
        ax.set_ylabel("")
        totals = shown.sum(axis=1)
        for y, total in enumerate(totals):
            ax.text(total, y, f"  {int(total):,}", va="center", fontsize=10, color="#33475b")
        ax.set_xlim(0, max(float(totals.max()), 1.0) * 1.12)
        _legend(ax, "reason")
    return _finish(fig, ax, title)


def plot_by_step(
    findings: pd.DataFrame, *, title: str = "Findings by troubleshooting step"
) -> Figure:
    """Bars per troubleshooting step, split by the side the link is on."""
    from matplotlib.figure import Figure

    table = findings_by_step(findings)
    fig = Figure(figsize=(10, 3.4), dpi=100)
    ax = fig.add_subplot()
    if table.empty:
        _empty(ax, "No findings")
    else:
        shown = table.rename(columns={"hubspot": "only in HubSpot", "app": "only in the app"})
        shown.plot.barh(
            stacked=True,
            ax=ax,
            width=0.65,
            color=[SIDE_COLORS["hubspot"], SIDE_COLORS["app"]],
        )
        _bar_labels(ax)
        _style(ax)
        ax.set_xlabel("links present on one side only", fontsize=11)
        ax.set_ylabel("")
        ax.invert_yaxis()
        _legend(ax, "link present")
    return _finish(fig, ax, title)


def plot_trend(
    history: pd.DataFrame,
    *,
    current: Mapping[str, Any] | None = None,
    reasons: Sequence[str] | None = None,
    title: str = "Findings across runs",
) -> Figure:
    """Findings per reason across runs (stacked bars, oldest left), with the total on top."""
    from matplotlib.figure import Figure

    table = trend_table(history, current=current)
    if reasons is not None:
        table = table[[r for r in reasons if r in table.columns]]
    table = table.loc[:, (table != 0).any(axis=0)] if not table.empty else table
    fig = Figure(figsize=(10, 3.6 if len(table) >= 2 else 1.2), dpi=100)
    ax = fig.add_subplot()
    if len(table) < 2:
        _empty(ax, "The trend appears from the second run of this integration on")
    else:
        labels = [_run_label(str(r)) for r in table.index]
        shown = table.copy()
        shown.index = pd.Index(labels, name="run")
        colors: list[Any] = [REASON_COLORS.get(str(c), "#777777") for c in shown.columns]
        shown.plot.bar(stacked=True, ax=ax, width=0.7, color=colors)
        _style(ax, counts="y")
        ax.grid(axis="x", visible=False)
        ax.grid(axis="y", color="#e5e8eb", linewidth=0.8)
        totals = shown.sum(axis=1)
        for x, total in enumerate(totals):
            ax.text(x, total, f"{int(total):,}", ha="center", va="bottom", fontsize=9)
        ax.set_ylim(0, max(float(totals.max()), 1.0) * 1.15)
        ax.set_ylabel("findings", fontsize=11)
        ax.set_xlabel("run (UTC)", fontsize=11)
        ax.tick_params(axis="x", labelrotation=30 if len(shown) > 6 else 0)
        _legend(ax, "reason")
    return _finish(fig, ax, title)


def _run_label(run: str) -> str:
    """``20261128T130500Z`` → ``11-28`` over ``13:05:00``; other names unchanged."""
    if len(run) >= 16 and run[8] == "T" and run[:8].isdigit():
        return f"{run[4:6]}-{run[6:8]}\n{run[9:11]}:{run[11:13]}:{run[13:15]}" + run[16:]
    return run


#: Columns of the findings table as shown to people, in order ("why" last: it gets the room).
_DISPLAY_COLUMNS = (
    "only in",
    "object pair",
    "label",
    "reason",
    "action",
    "HubSpot ids",
    "app ids",
    "why",
)


def _ids(frm: pd.Series, to: pd.Series) -> pd.Series:
    """``from → to`` ids of one side ("" when that side has neither)."""
    f = frm.astype(object).where(frm.notna(), "").astype(str)
    t = to.astype(object).where(to.notna(), "").astype(str)
    both = f.where(f != "", "—").str.cat(t.where(t != "", "—"), sep=" → ")
    return both.where((f != "") | (t != ""), "")


def findings_display(
    findings: pd.DataFrame,
    *,
    max_rows: int | None = 200,
    fail_on: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The findings table for people: readable headers, no index, ``why`` last.

    Rows with a ``fail_on`` reason (default: DESIGN §8's) come first, each
    group in reason precedence order, then in the file's own order.
    ``max_rows`` caps the rows shown.
    """
    if findings.empty:
        return pd.DataFrame(columns=list(_DISPLAY_COLUMNS))
    failing = {str(r) for r in (fail_on if fail_on is not None else DEFAULT_FAIL_ON)}
    rank = {r: i + (0 if r in failing else len(REASON_ORDER)) for i, r in enumerate(REASON_ORDER)}
    order = findings["reason"].astype(str).map(rank).fillna(2 * len(REASON_ORDER))
    ranked = pd.DataFrame({"rank": order.to_numpy(), "pos": range(len(findings))})
    positions = ranked.sort_values(["rank", "pos"], kind="stable")["pos"].to_numpy()
    if max_rows is not None:
        positions = positions[:max_rows]
    frame = findings.iloc[positions]
    label = frame["label"].astype(object).where(frame["label"].notna(), "(unlabeled)")
    out = pd.DataFrame(
        {
            "only in": frame["present_in"].astype(str).to_numpy(),
            "object pair": _pair(frame).to_numpy(),
            "label": label.to_numpy(),
            "reason": frame["reason"].astype(str).to_numpy(),
            "action": frame["action"].astype(str).to_numpy(),
            "HubSpot ids": _ids(frame["hubspot_from_id"], frame["hubspot_to_id"]).to_numpy(),
            "app ids": _ids(frame["app_from_id"], frame["app_to_id"]).to_numpy(),
            "why": frame["detail"].astype(object).where(frame["detail"].notna(), "").to_numpy(),
        }
    )
    return out.reset_index(drop=True)


#: Column classes of the findings table: ids never wrap, ``why`` gets the room.
FINDINGS_COLUMN_CLASSES: dict[str, str] = {
    "HubSpot ids": "aa-nowrap",
    "app ids": "aa-nowrap",
    "why": "aa-wide",
}


def table_html(
    frame: pd.DataFrame,
    *,
    classes: str = "aa-table",
    column_classes: Mapping[str, str] | None = None,
) -> str:
    """A plain HTML table (no index; text escaped; nulls empty) with a class per column."""
    column_classes = column_classes or {}
    columns = [(str(c), column_classes.get(str(c), "")) for c in frame.columns]
    values = frame.astype(object).where(frame.notna(), "")
    rows = [[str(v) for v in row] for row in values.itertuples(index=False, name=None)]
    return macro("tables.html.j2", "table")(columns, rows, classes=classes)
