"""Snapshot folders: one side's canonical tables saved as Parquet (DESIGN §4).

A snapshot folder holds ``hubspot/`` and ``app/``, each with
``records.parquet``, ``associations.parquet`` and an optional ``meta.json``
(when it was read, from where, which identifier columns). Users may prepare
side folders themselves (from a warehouse or an export); they are validated
exactly like any connector's output.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import SnapshotError
from .tables import TableStats, validate_associations, validate_records

if TYPE_CHECKING:
    from .config import IntegrationConfig

__all__ = ["Side", "SideTables", "identifier_columns", "read_side", "write_side"]

Side = Literal["hubspot", "app"]


@dataclass(frozen=True)
class SideTables:
    """One side's validated canonical tables, with what validation counted."""

    side: Side
    records: pd.DataFrame
    associations: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    record_stats: TableStats = field(default_factory=TableStats)
    association_stats: TableStats = field(default_factory=TableStats)


def identifier_columns(config: IntegrationConfig, side: Side) -> tuple[str, ...]:
    """Every identifier column a side's records table needs, over all audited objects."""
    cols: dict[str, None] = {}
    for obj in config.audited_objects:
        for col in config.identifier_columns(side, obj):
            cols.setdefault(col)
    return tuple(cols)


def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def write_side(folder: Path | str, tables: SideTables, **meta: Any) -> Path:
    """Write a side's tables to ``folder`` (created if needed); returns the folder."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    _atomic_parquet(tables.records, out / "records.parquet")
    _atomic_parquet(tables.associations, out / "associations.parquet")
    info = {
        "side": tables.side,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **tables.meta,
        **meta,
        "records": len(tables.records),
        "associations": len(tables.associations),
    }
    (out / "meta.json").write_text(json.dumps(info, indent=2, default=str) + "\n", "utf-8")
    return out


def read_side(folder: Path | str, *, side: Side, config: IntegrationConfig) -> SideTables:
    """Read and validate a snapshot side folder for ``config``."""
    root = Path(folder)
    if not root.is_dir():
        raise SnapshotError(f"{root}: snapshot folder not found", file=str(root))
    meta: dict[str, Any] = {}
    meta_file = root / "meta.json"
    if meta_file.exists():
        try:
            meta = json.loads(meta_file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise SnapshotError(
                f"{meta_file}: unreadable meta.json: {exc}", file=str(meta_file)
            ) from None
    frames = {}
    for name in ("records", "associations"):
        path = root / f"{name}.parquet"
        if not path.exists():
            raise SnapshotError(f"{root}: snapshot has no {name}.parquet", file=str(path))
        try:
            frames[name] = pq.read_table(path).to_pandas()
        except (OSError, pa.ArrowException) as exc:
            raise SnapshotError(f"{path}: unreadable Parquet file: {exc}", file=str(path)) from None
    records, rstats = validate_records(
        frames["records"],
        source=str(root / "records.parquet"),
        identifiers=identifier_columns(config, side),
        objects=config.audited_objects,
    )
    associations, astats = validate_associations(
        frames["associations"],
        source=str(root / "associations.parquet"),
        pairs=config.pairs,
    )
    meta.setdefault("source", f"snapshot {root}")
    return SideTables(side, records, associations, meta, rstats, astats)
