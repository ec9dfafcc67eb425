"""Deletion detection against a baseline run (DESIGN §6 "Deletions").

A baseline is a previous run's output folder (its ``snapshot/`` holds both
sides' tables) or a snapshot folder itself (with ``hubspot/`` and ``app/``).
Only its associations are read; they are mapped with *today's* records,
matches and config, and the links the baseline had on both sides become the
table ``baseline_both`` (p, fm, tm, lab) that reconciliation consults.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from assoc_audit.errors import SnapshotError
from assoc_audit.linkmap import build_links, drop_links
from assoc_audit.snapshot import side_meta
from assoc_audit.stages import BASELINE_BOTH, REC_A, REC_H
from assoc_audit.tables import SideTables, empty_records, validate_associations

if TYPE_CHECKING:
    import duckdb

    from assoc_audit.config import IntegrationConfig

__all__ = ["baseline_folder", "register_baseline", "register_no_baseline"]


def baseline_folder(path: Path | str) -> Path:
    """The folder holding the baseline's ``hubspot/`` and ``app/`` side folders."""
    root = Path(path)
    for candidate in (root / "snapshot", root):
        if (candidate / "hubspot").is_dir() and (candidate / "app").is_dir():
            return candidate
    raise SnapshotError(
        f"{root}: not a baseline: expected a previous run's folder with snapshot/hubspot and "
        "snapshot/app (or a snapshot folder with hubspot/ and app/)",
        file=str(root),
    )


def _read_associations(folder: Path, side: str, config: IntegrationConfig) -> SideTables:
    path = folder / "associations.parquet"
    if not path.exists():
        raise SnapshotError(f"{folder}: snapshot has no associations.parquet", file=str(path))
    side_meta(folder)  # refuses a linked snapshot whose source was rewritten in place
    try:
        df = pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise SnapshotError(f"{path}: unreadable Parquet file: {exc}", file=str(path)) from None
    associations, stats = validate_associations(df, source=str(path), pairs=config.pairs)
    return SideTables(
        "hubspot" if side == "hubspot" else "app",
        empty_records(),
        associations,
        {"source": f"baseline {folder}"},
        association_stats=stats,
    )


def register_baseline(
    con: duckdb.DuckDBPyConnection, config: IntegrationConfig, path: Path | str
) -> dict[str, int]:
    """Create ``baseline_both`` from the baseline at ``path``; returns link counts.

    Needs today's ``rec_h``/``rec_a`` and the config tables.
    """
    folder = baseline_folder(path)
    counts: dict[str, int] = {}
    for side, code, records in (("hubspot", 0, REC_H), ("app", 1, REC_A)):
        tables = _read_associations(folder / side, side, config)
        x = "h" if code == 0 else "a"
        build_links(con, config, tables, side=code, records=records, out=f"blinks_{x}")
        counts[side] = len(tables.associations)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {BASELINE_BOTH} AS
        SELECT h.p, h.fm::BIGINT AS fm, h.tm::BIGINT AS tm, h.lab FROM blinks_h h
        JOIN blinks_a a ON a.p = h.p AND a.fm = h.fm AND a.tm = h.tm AND a.lab = h.lab
        WHERE h.lab >= 0
        """
    )
    counts["both"] = int(con.execute(f"SELECT count(*) FROM {BASELINE_BOTH}").fetchall()[0][0])
    for name in ("blinks_h", "blinks_a"):
        drop_links(con, name)
    return counts


def register_no_baseline(con: duckdb.DuckDBPyConnection) -> None:
    """An empty ``baseline_both``: no deletion detection."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {BASELINE_BOTH} "
        "(p INTEGER, fm BIGINT, tm BIGINT, lab INTEGER)"
    )
