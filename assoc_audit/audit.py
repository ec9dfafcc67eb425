"""Running an audit end to end: :func:`run_audit` → :class:`AuditResult` (DESIGN §6).

::

    result = run_audit("demo.yaml")            # or an IntegrationConfig
    result.findings                            # one row per one-sided link
    result.summary.by_reason                   # counts
    result.write("reports/demo/now")           # findings.csv/.parquet, records.csv, ...

Both sides come from :func:`assoc_audit.connectors.load_side` unless given as
:class:`~assoc_audit.tables.SideTables`. Matching, the diff, reasons and
rendering run in one DuckDB connection on small integer surrogates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assoc_audit import duck
from assoc_audit.baseline import register_baseline, register_no_baseline
from assoc_audit.config import IntegrationConfig, load_config
from assoc_audit.configtables import config_tables, register_config_tables
from assoc_audit.emptyread import check_empty_reads
from assoc_audit.findings import findings_frame, render_findings
from assoc_audit.linkmap import build_links
from assoc_audit.matching import Matches, match_records, register_records
from assoc_audit.outputs import (
    records_frame,
    records_table,
    threshold_exceeded,
    write_outputs,
    write_outputs_summary,
)
from assoc_audit.reasons import DEFAULT_FAIL_ON, Reason, parse_reasons
from assoc_audit.reconcile import DiffCounts, SideRows, classify, diff, enrich, side_rows
from assoc_audit.stages import (
    CLASSIFIED,
    MATCH_AMBIGUITY,
    REC_A,
    REC_H,
    SUGGESTIONS,
    links_table,
    records_table_name,
)
from assoc_audit.suggest import suggest
from assoc_audit.summary import (
    AuditSummary,
    PairSummary,
    action_counts,
    reason_counts,
    side_counts,
)
from assoc_audit.tables import Side, SideTables, arrow_text

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
        return threshold_exceeded(self.summary.by_reason, fail_on, max_findings)

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
    fail_on: Iterable[Reason | str] | None = None,
    clock: Clock = _utc_now,
    connector_options: Mapping[str, Any] | None = None,
    allow_empty: bool = False,
) -> AuditResult:
    """Audit an integration: match records, diff links, explain every one-sided link.

    ``config`` is a config object or a path to a config file. ``hubspot`` and
    ``app`` default to reading each side as the config says. ``baseline`` is a
    previous run's output folder (enables deletion detection). With ``out``,
    the outputs are written there too. ``fail_on`` (default: DESIGN §8's) is
    recorded in the summary (``findings_failing``). ``connector_options`` go to
    the live connectors that read the sides (e.g. ``{"progress": False}``).
    With a baseline, a side that read no records of an object the baseline had
    more than 1,000 of raises :class:`~assoc_audit.errors.EmptyReadError`
    unless ``allow_empty`` (see :mod:`assoc_audit.emptyread`).
    """
    failing_reasons = parse_reasons(None if fail_on is None else [str(r) for r in fail_on])
    timings: dict[str, float] = {}
    start = time.perf_counter()
    started_at = clock().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if not isinstance(config, IntegrationConfig):
        config = load_config(config)
    hubspot, app = _load(config, hubspot, app, timings, dict(connector_options or {}))
    suspect = check_empty_reads(
        config, {"hubspot": hubspot, "app": app}, baseline, allow_empty=allow_empty
    )
    con = duck.connect()
    try:
        tick = time.perf_counter()
        matches = match_records(config, hubspot, app, con)
        timings["match"] = time.perf_counter() - tick

        tick = time.perf_counter()
        reconciled = _reconcile(
            con, config, hubspot=hubspot, app=app, matches=matches, baseline=baseline
        )
        timings["reconcile"] = time.perf_counter() - tick

        tick = time.perf_counter()
        findings = _render(con, config, hubspot, app, matches, reconciled)
    finally:
        con.close()
    # records.csv needs no connection: built after it closed, with its tables' memory back
    records = records_frame(records_table(config, hubspot, app, matches))
    timings["render"] = time.perf_counter() - tick
    timings["total_seconds"] = time.perf_counter() - start
    summary = _summary(
        config,
        hubspot=hubspot,
        app=app,
        matches=matches,
        findings=findings,
        link_counts=reconciled.link_counts,
        diff_counts=reconciled.diff,
        started_at=started_at,
        timings=dict(timings),
        baseline=baseline,
        baseline_counts=reconciled.baseline,
        fail_on=failing_reasons,
        empty_reads=tuple(r.to_dict() for r in suspect),
    )
    result = AuditResult(findings, records, summary, hubspot, app, config)
    if out is not None:  # summary.json adds the writing time and how snapshots were stored
        result = replace(result, summary=write_outputs_summary(result, Path(out)))
    return result


def _render(
    con: Any,
    config: IntegrationConfig,
    hubspot: SideTables,
    app: SideTables,
    matches: Matches,
    reconciled: _Reconciled,
) -> pd.DataFrame:
    """The findings, suggestions for unmatched records included."""
    _register_suggestions(con, config, hubspot=hubspot, app=app, matches=matches, rows=reconciled)
    return findings_frame(
        render_findings(
            con,
            config,
            hubspot=reconciled.hubspot,
            app=reconciled.app,
            labels=reconciled.labels,
            ambiguity=matches.ambiguity,
        )
    )


@dataclass(frozen=True)
class _Reconciled:
    link_counts: dict[str, int]
    diff: DiffCounts
    baseline: dict[str, int]
    hubspot: SideRows
    app: SideRows
    labels: tuple[pa.Array, pa.Array]


def _load(
    config: IntegrationConfig,
    hubspot: SideTables | None,
    app: SideTables | None,
    timings: dict[str, float],
    options: dict[str, Any],
) -> tuple[SideTables, SideTables]:
    """Read the sides not given, both at once (reading waits on I/O and native code)."""
    from assoc_audit.connectors import load_side

    def load(side: Side) -> SideTables:
        tick = time.perf_counter()
        tables = load_side(config, side, **options)
        timings[f"load_{side}"] = time.perf_counter() - tick
        return tables

    tick = time.perf_counter()
    if hubspot is None and app is None:
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="assoc-audit-load") as pool:
            h_future, a_future = pool.submit(load, "hubspot"), pool.submit(load, "app")
            hubspot, app = h_future.result(), a_future.result()
    else:
        hubspot = hubspot if hubspot is not None else load("hubspot")
        app = app if app is not None else load("app")
    if "load_hubspot" in timings or "load_app" in timings:
        timings["load"] = time.perf_counter() - tick
    return hubspot, app


def _reconcile(
    con: Any,
    config: IntegrationConfig,
    *,
    hubspot: SideTables,
    app: SideTables,
    matches: Matches,
    baseline: Path | str | None,
) -> _Reconciled:
    codes = matches.object_codes
    register_records(con, config, hubspot, matches.hubspot, REC_H, codes[0])
    register_records(con, config, app, matches.app, REC_A, codes[1])
    amb = matches.ambiguity
    duck.register(
        con,
        MATCH_AMBIGUITY,
        pa.table(
            {
                "hubspot_row": pa.array(amb["hubspot_row"].to_numpy(), pa.int64()),
                "app_row": pa.array(amb["app_row"].to_numpy(), pa.int64()),
                "rule": pa.array(amb["rule"].to_numpy(), pa.int16()),
            }
        ),
    )
    limits = hubspot.meta.get("limits")
    register_config_tables(con, config_tables(config, limits if isinstance(limits, list) else None))
    counts: dict[str, int] = {}
    built = {}
    both: tuple[tuple[Side, SideTables, str], ...] = (("hubspot", hubspot, "h"), ("app", app, "a"))
    for side, tables, x in both:
        got = build_links(
            con,
            config,
            tables,
            side=0 if x == "h" else 1,
            records=records_table_name(side),
            out=links_table(side),
        )
        built[x] = got
        for key, value in got.counts.items():
            counts[f"{side}_{key}"] = value
    baseline_counts: dict[str, int] = {}
    if baseline is not None:
        baseline_counts = register_baseline(con, config, baseline)
    else:
        register_no_baseline(con)
    diff_counts = diff(con)
    rows = {}
    for x, tables, match in (("h", hubspot, matches.hubspot), ("a", app, matches.app)):
        ids = arrow_text(tables.records["record_id"])
        assert ids is not None
        rows[x] = side_rows(
            match.status, match.partner, ids, _name_columns(config, tables), built[x].missing
        )
    enrich(con, rows["h"], rows["a"])
    classify(con, config)
    return _Reconciled(
        link_counts=counts,
        diff=diff_counts,
        baseline=baseline_counts,
        hubspot=rows["h"],
        app=rows["a"],
        labels=(built["h"].labels, built["a"].labels),
    )


def _name_columns(config: IntegrationConfig, tables: SideTables) -> tuple[pa.Array, ...]:
    """Where a record's name for messages comes from: display name, else an identifier."""
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
    arrays = []
    for col in ["display_name", *dict.fromkeys(ordered)]:
        if col in records.columns:
            arrow = arrow_text(records[col])
            if arrow is not None:
                arrays.append(
                    arrow if arrow.type == pa.large_string() else arrow.cast(pa.large_string())
                )
    return tuple(arrays)


def _register_suggestions(
    con: Any,
    config: IntegrationConfig,
    *,
    hubspot: SideTables,
    app: SideTables,
    matches: Matches,
    rows: _Reconciled,
) -> None:
    unmatched = Reason.RECORD_UNMATCHED.rank
    wanted_rows = duck.numpy(
        con,
        f"""
        SELECT DISTINCT s, CASE WHEN f < 0 OR fst <> 1 THEN f ELSE t END AS row
        FROM {CLASSIFIED}
        WHERE reason = {unmatched}
          AND CASE WHEN f < 0 OR fst <> 1 THEN f >= 0 AND fst = 2 ELSE t >= 0 AND tst = 2 END
        """,
    )
    s = wanted_rows["s"].astype(np.int64)
    wanted_at = wanted_rows["row"].astype(np.int64)
    found = suggest(config, hubspot, app, matches, {0: wanted_at[s == 0], 1: wanted_at[s == 1]})
    side = np.asarray(found.column("side").to_numpy(zero_copy_only=False))
    cand = np.asarray(found.column("cand").to_numpy(zero_copy_only=False))
    names = pc.if_else(
        pa.array(side == 0),
        rows.app.names_at(np.where(side == 0, cand, 0)),
        rows.hubspot.names_at(np.where(side == 1, cand, 0)),
    )
    duck.register(
        con,
        SUGGESTIONS,
        pa.table(
            {
                "side": found.column("side"),
                "row": found.column("row"),
                "name": names,
                "score": found.column("score"),
            }
        ),
    )


def _pair_summaries(
    config: IntegrationConfig, findings: pd.DataFrame, diff_counts: DiffCounts
) -> tuple[PairSummary, ...]:
    """Per audited pair: its direction, links per side, in sync, findings by side and reason."""
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
    return tuple(pairs)


def _row_counts(hubspot: SideTables, app: SideTables) -> dict[str, dict[str, Any]]:
    """Each side's validation counts (rows read, kept, skipped, flipped, merged) and totals."""
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
    return rows


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
    fail_on: tuple[Reason, ...],
    empty_reads: tuple[dict[str, Any], ...] = (),
) -> AuditSummary:
    by_reason = reason_counts()
    by_reason.update({str(k): int(v) for k, v in findings["reason"].value_counts().items()})
    by_action = action_counts()
    by_action.update({str(k): int(v) for k, v in findings["action"].value_counts().items()})
    by_side = side_counts()
    by_side.update({str(k): int(v) for k, v in findings["present_in"].value_counts().items()})
    pairs = _pair_summaries(config, findings, diff_counts)
    links = {
        "hubspot": sum(diff_counts.hubspot.values()),
        "app": sum(diff_counts.app.values()),
        "in_sync": sum(diff_counts.in_sync.values()),
        **link_counts,
    }
    rows = _row_counts(hubspot, app)
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
        pairs=pairs,
        links=links,
        matching=matches.counts,
        rows=rows,
        timings=timings,
        api=api,
        baseline=str(baseline) if baseline is not None else None,
        baseline_links=baseline_counts,
        fail_on=tuple(r.value for r in fail_on),
        empty_reads=empty_reads,
    )
