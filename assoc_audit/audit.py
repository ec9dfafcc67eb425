"""Running an audit end to end: :func:`run_audit` → :class:`AuditResult` (DESIGN §6).

::

    result = run_audit("demo.yaml")            # or an IntegrationConfig
    result.findings                            # one row per one-sided link
    result.summary.by_reason                   # counts
    result.write("reports/demo/now")           # findings.csv/.parquet, records.csv, ...

Both sides come from :func:`assoc_audit.connectors.load_side` unless given as
:class:`~assoc_audit.snapshot.SideTables`. Matching, the diff, reasons and
rendering run in one DuckDB connection on small integer surrogates.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import duck
from .baseline import register_baseline, register_no_baseline
from .config import IntegrationConfig, load_config
from .findings import findings_frame, render_findings
from .links import build_links, config_tables, register_config_tables, register_edges
from .matching import (
    Matches,
    match_records,
    records_frame,
    records_table,
    register_records,
)
from .outputs import write_outputs
from .reasons import DEFAULT_FAIL_ON, Reason
from .reconcile import DiffCounts, classify, diff
from .snapshot import SideTables
from .suggest import suggest
from .summary import (
    AuditSummary,
    PairSummary,
    action_counts,
    reason_counts,
    side_counts,
)
from .tables import arrow_text

__all__ = ["AuditResult", "AuditSummary", "run_audit"]

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class AuditResult:
    """An audit's tables and summary.

    ``findings`` has DESIGN §6's columns in order (text columns are
    ``string[pyarrow]``, ``step`` is int64); ``records`` is records.csv
    (``rule`` is nullable Int64).
    """

    findings: pd.DataFrame
    records: pd.DataFrame
    summary: AuditSummary
    hubspot: SideTables
    app: SideTables
    config: IntegrationConfig

    def failing(self, fail_on: Any = DEFAULT_FAIL_ON) -> int:
        """How many findings have one of the ``fail_on`` reasons."""
        return self.summary.failing(fail_on)

    def exceeds(self, fail_on: Any = DEFAULT_FAIL_ON, max_findings: int = 0) -> bool:
        """True if more than ``max_findings`` findings have a ``fail_on`` reason (exit 1)."""
        return self.failing(fail_on) > max_findings

    def write(self, folder: Path | str) -> Path:
        """Write findings.csv/.parquet, records.csv, summary.json and snapshot/ to ``folder``."""
        return write_outputs(self, Path(folder))


def _utc_now() -> datetime:
    return datetime.now(UTC)


def run_audit(
    config: IntegrationConfig | str | Path,
    *,
    hubspot: SideTables | None = None,
    app: SideTables | None = None,
    baseline: Path | str | None = None,
    out: Path | str | None = None,
    clock: Clock = _utc_now,
) -> AuditResult:
    """Audit an integration: match records, diff links, explain every one-sided link.

    ``config`` is a config object or a path to a config file. ``hubspot`` and
    ``app`` default to reading each side as the config says. ``baseline`` is a
    previous run's output folder (enables deletion detection). With ``out``,
    the outputs are written there too.
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    started_at = clock().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if not isinstance(config, IntegrationConfig):
        config = load_config(config)
    if hubspot is None:
        from .connectors import load_side

        tick = time.perf_counter()
        hubspot = load_side(config, "hubspot")
        timings["load_hubspot"] = time.perf_counter() - tick
    if app is None:
        from .connectors import load_side

        tick = time.perf_counter()
        app = load_side(config, "app")
        timings["load_app"] = time.perf_counter() - tick
    con = duck.connect()
    try:
        tick = time.perf_counter()
        matches = match_records(config, hubspot, app, con)
        timings["match"] = time.perf_counter() - tick

        tick = time.perf_counter()
        link_counts, diff_counts, baseline_counts = _reconcile(
            con, config, hubspot=hubspot, app=app, matches=matches, baseline=baseline
        )
        timings["reconcile"] = time.perf_counter() - tick

        tick = time.perf_counter()
        _register_suggestions(con, config, hubspot, app, matches)
        findings = findings_frame(render_findings(con, config))
        records = records_frame(records_table(con, config))
        timings["render"] = time.perf_counter() - tick
    finally:
        con.close()
    timings["audit"] = time.perf_counter() - start
    summary = _summary(
        config,
        hubspot=hubspot,
        app=app,
        matches=matches,
        findings=findings,
        link_counts=link_counts,
        diff_counts=diff_counts,
        started_at=started_at,
        timings=dict(timings),
        baseline=baseline,
        baseline_counts=baseline_counts,
    )
    result = AuditResult(findings, records, summary, hubspot, app, config)
    if out is not None:
        result.write(out)
    return result


def _reconcile(
    con: Any,
    config: IntegrationConfig,
    *,
    hubspot: SideTables,
    app: SideTables,
    matches: Matches,
    baseline: Path | str | None,
) -> tuple[dict[str, int], DiffCounts, dict[str, int]]:
    register_records(con, config, hubspot, matches.hubspot, "rec_h")
    register_records(con, config, app, matches.app, "rec_a")
    amb = matches.ambiguity
    duck.register(
        con,
        "match_ambiguity",
        pa.table(
            {
                "hubspot_row": pa.array(amb["hubspot_row"].to_numpy(), pa.int64()),
                "app_row": pa.array(amb["app_row"].to_numpy(), pa.int64()),
                "rule": pa.array(amb["rule"].to_numpy(), pa.int16()),
            }
        ),
    )
    limits = hubspot.meta.get("association_limits")
    register_config_tables(con, config_tables(config, limits if isinstance(limits, list) else None))
    counts: dict[str, int] = {}
    for side, tables, x in (("hubspot", hubspot, "h"), ("app", app, "a")):
        left_out = register_edges(con, config, tables, f"edges_{x}")
        got = build_links(
            con, side=0 if x == "h" else 1, edges=f"edges_{x}", records=f"rec_{x}", out=f"links_{x}"
        )
        con.unregister(f"edges_{x}")
        counts[f"{side}_rows_left_out"] = left_out
        for key, value in got.items():
            counts[f"{side}_{key}"] = value
    baseline_counts: dict[str, int] = {}
    if baseline is not None:
        baseline_counts = register_baseline(con, config, baseline)
    else:
        register_no_baseline(con)
    diff_counts = diff(con)
    classify(con, config)
    return counts, diff_counts, baseline_counts


def _names(config: IntegrationConfig, tables: SideTables) -> pa.Table:
    """Each record's name for messages: display name, else an identifier, else its id."""
    records = tables.records
    side = tables.side
    preferred: list[tuple[int, str]] = []
    for obj in config.audited_objects:
        for rule in config.match_rules(obj):
            col = rule.hubspot if side == "hubspot" else rule.app
            if col in records.columns and col not in ("record_id", "display_name"):
                rank = {"email": 0, "domain": 1}.get(rule.normalize, 2)
                preferred.append((rank, col))
    ordered = [c for _, c in sorted(dict.fromkeys(preferred), key=lambda rc: rc[0])]
    columns = ["display_name", *dict.fromkeys(ordered), "record_id"]
    arrays = []
    for col in columns:
        if col in records.columns:
            arrow = arrow_text(records[col])
            if arrow is not None:
                arrays.append(arrow.cast(pa.large_string()))
    name = pc.coalesce(*arrays) if len(arrays) > 1 else arrays[0]
    return pa.table({"row": pa.array(np.arange(len(records), dtype=np.int64)), "name": name})


def _register_suggestions(
    con: Any, config: IntegrationConfig, hubspot: SideTables, app: SideTables, matches: Matches
) -> None:
    duck.register(con, "names_h", _names(config, hubspot))
    duck.register(con, "names_a", _names(config, app))
    unmatched = Reason.RECORD_UNMATCHED.rank
    wanted_rows = duck.numpy(
        con,
        f"""
        SELECT DISTINCT s, CASE WHEN f < 0 OR fst <> 1 THEN f ELSE t END AS row
        FROM classified_
        WHERE reason = {unmatched}
          AND CASE WHEN f < 0 OR fst <> 1 THEN f >= 0 AND fst = 2 ELSE t >= 0 AND tst = 2 END
        """,
    )
    s = wanted_rows["s"].astype(np.int64)
    rows = wanted_rows["row"].astype(np.int64)
    wanted = {0: rows[s == 0], 1: rows[s == 1]}
    duck.register(con, "suggestions_raw_", suggest(config, hubspot, app, matches, wanted))
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE suggestions_ AS
        SELECT g.side, g.row, coalesce(na.name, nh.name) AS name, g.score
        FROM suggestions_raw_ g
        LEFT JOIN names_a na ON g.side = 0 AND na.row = g.cand
        LEFT JOIN names_h nh ON g.side = 1 AND nh.row = g.cand
        """
    )


def _summary(
    config: IntegrationConfig,
    *,
    hubspot: SideTables,
    app: SideTables,
    matches: Matches,
    findings: pd.DataFrame,
    link_counts: dict[str, int],
    diff_counts: DiffCounts,
    started_at: str,
    timings: dict[str, float],
    baseline: Path | str | None,
    baseline_counts: dict[str, int],
) -> AuditSummary:
    by_reason = reason_counts()
    by_reason.update({str(k): int(v) for k, v in findings["reason"].value_counts().items()})
    by_action = action_counts()
    by_action.update({str(k): int(v) for k, v in findings["action"].value_counts().items()})
    by_side = side_counts()
    by_side.update({str(k): int(v) for k, v in findings["present_in"].value_counts().items()})
    grouped = findings.groupby(
        ["from_object", "to_object", "present_in", "reason"], observed=True
    ).size()
    counted: list[tuple[tuple[str, ...], int]] = [
        (tuple(str(k) for k in key), int(n))  # type: ignore[attr-defined]
        for key, n in grouped.items()
    ]
    pairs = []
    for p, pair in enumerate(config.pairs):
        per_side: dict[str, dict[str, int]] = {side: reason_counts() for side in ("hubspot", "app")}
        for (frm, to, side, reason), n in counted:
            if (frm, to) == pair:
                per_side[side][reason] = n
        pairs.append(
            PairSummary(
                from_object=pair[0],
                to_object=pair[1],
                direction=config.direction(pair),
                hubspot_links=diff_counts.hubspot.get(p, 0),
                app_links=diff_counts.app.get(p, 0),
                in_sync=diff_counts.in_sync.get(p, 0),
                findings=per_side,
            )
        )
    links = {
        "hubspot": sum(diff_counts.hubspot.values()),
        "app": sum(diff_counts.app.values()),
        "in_sync": sum(diff_counts.in_sync.values()),
        **link_counts,
    }
    rows: dict[str, dict[str, Any]] = {
        side: {
            "records": tables.record_stats.to_dict(),
            "associations": tables.association_stats.to_dict(),
        }
        for side, tables in (("hubspot", hubspot), ("app", app))
    }
    rows["total"] = {
        "skipped": sum(
            t.record_stats.rows_skipped + t.association_stats.rows_skipped for t in (hubspot, app)
        ),
        "flipped": hubspot.association_stats.flipped + app.association_stats.flipped,
        "merged": hubspot.association_stats.merged + app.association_stats.merged,
    }
    api = {
        side: dict(tables.meta.get("api") or {"calls": 0, "retries": 0, "seconds": 0.0})
        for side, tables in (("hubspot", hubspot), ("app", app))
    }
    return AuditSummary(
        name=config.name,
        app_name=config.app.name,
        started_at=started_at,
        config_digest=config.digest(),
        findings=len(findings),
        by_reason=by_reason,
        by_action=by_action,
        by_side=by_side,
        pairs=tuple(pairs),
        links=links,
        matching=matches.counts,
        rows=rows,
        timings=timings,
        api=api,
        baseline=str(baseline) if baseline is not None else None,
        baseline_links=baseline_counts,
    )
