"""Writing an audit's output folder (DESIGN §6 "Outputs").

``findings.csv`` and ``findings.parquet``, ``records.csv``, ``summary.json``
and ``snapshot/`` (both sides' canonical tables, the base for the next run's
deletion detection). CSV files are UTF-8 with RFC 4180 quoting (fields with a
comma, quote or line break are quoted, quotes doubled), ``\\n`` line endings,
empty for null. Every file is written atomically and fsynced
(:mod:`assoc_audit.atomicfile`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import duck
from .atomicfile import atomic_write, atomic_write_text
from .snapshot import write_side

if TYPE_CHECKING:
    from .audit import AuditResult

__all__ = ["write_csv", "write_outputs"]


def _arrow(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, preserve_index=False)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a table as RFC 4180 CSV (header, empty for null), atomically."""
    table = _arrow(df)

    def write(tmp: Path) -> None:
        con = duck.connect()
        try:
            duck.register(con, "out_", table)
            target = str(tmp).replace("'", "''")
            con.execute(
                f"COPY (SELECT * FROM out_) TO '{target}' "
                "(FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR '')"
            )
        finally:
            con.close()

    atomic_write(path, write)


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    table = _arrow(df)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def write_outputs(result: AuditResult, folder: Path) -> Path:
    """Write every output of ``result`` into ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(result.findings, folder / "findings.csv")
    _write_parquet(result.findings, folder / "findings.parquet")
    write_csv(result.records, folder / "records.csv")
    snapshot = folder / "snapshot"
    write_side(snapshot / "hubspot", result.hubspot)
    write_side(snapshot / "app", result.app)
    text = json.dumps(result.summary.to_dict(), indent=2, ensure_ascii=False, default=str)
    atomic_write_text(folder / "summary.json", text + "\n")
    return folder
