"""Writing an audit's output folder (DESIGN §6 "Outputs").

``findings.csv`` and ``findings.parquet``, ``records.csv``, ``summary.json``
and ``snapshot/`` (both sides' canonical tables, the base for the next run's
deletion detection). CSV files are UTF-8 with RFC 4180 quoting (fields with a
comma, quote or line break are quoted, quotes doubled), ``\\n`` line endings,
empty for null. Every file is written to a temporary name and moved into place.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import duck
from .snapshot import write_side

if TYPE_CHECKING:
    from .audit import AuditResult

__all__ = ["write_csv", "write_outputs"]


def _arrow(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, preserve_index=False)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a table as RFC 4180 CSV (header, empty for null), atomically."""
    tmp = path.with_name(path.name + ".tmp")
    con = duck.connect()
    try:
        duck.register(con, "out_", _arrow(df))
        target = str(tmp).replace("'", "''")
        con.execute(
            f"COPY (SELECT * FROM out_) TO '{target}' "
            "(FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR '')"
        )
    finally:
        con.close()
    os.replace(tmp, path)


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(_arrow(df), tmp, compression="zstd")
    os.replace(tmp, path)


def write_outputs(result: AuditResult, folder: Path) -> Path:
    """Write every output of ``result`` into ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(result.findings, folder / "findings.csv")
    _write_parquet(result.findings, folder / "findings.parquet")
    write_csv(result.records, folder / "records.csv")
    snapshot = folder / "snapshot"
    write_side(snapshot / "hubspot", result.hubspot)
    write_side(snapshot / "app", result.app)
    summary = folder / "summary.json"
    tmp = summary.with_name(summary.name + ".tmp")
    text = json.dumps(result.summary.to_dict(), indent=2, ensure_ascii=False, default=str)
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, summary)
    return folder
