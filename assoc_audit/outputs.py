"""Writing an audit's output folder (DESIGN §6 "Outputs").

``findings.csv`` and ``findings.parquet``, ``records.csv``, ``summary.json``
and ``snapshot/`` (both sides' canonical tables, the base for the next run's
deletion detection). CSV files are UTF-8 with RFC 4180 quoting (fields with a
comma, quote or line break are quoted, quotes doubled), ``\\n`` line endings,
empty for null. Every file is written atomically and fsynced
(:mod:`assoc_audit.atomicfile`).

**Spreadsheet formulas are neutralised in every CSV** :func:`write_csv` writes
(findings, records, fix plans, scenario results): a text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``
(OWASP's rule against CSV injection), so a spreadsheet shows the text instead
of running it. Ids, names and labels come from the portal and the app, that is
from anyone who can edit a record there. Parquet files keep the raw values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from assoc_audit import duck
from assoc_audit.atomicfile import atomic_write, atomic_write_text
from assoc_audit.reasons import Reason, count_failing
from assoc_audit.snapshot import write_side

if TYPE_CHECKING:
    from assoc_audit.audit import AuditResult

__all__ = [
    "FORMULA_PREFIXES",
    "TIMESTAMP_FORMAT",
    "default_report_folder",
    "threshold_exceeded",
    "write_csv",
    "write_outputs",
]

#: Report folder names: the run's start in UTC, sortable (``20261128T130500Z``).
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"

#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _arrow(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, preserve_index=False)


def _is_text(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def _csv_select(schema: pa.Schema) -> str:
    """The SELECT list of a CSV export: formula-like text cells get a leading ``'``.

    Done in SQL (one vectorised CASE per text column), not per row in Python.
    """
    starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_PREFIXES)
    items = []
    for field in schema:
        col = '"' + field.name.replace('"', '""') + '"'
        if _is_text(field.type):
            items.append(
                f"CASE WHEN left({col}, 1) IN ({starts}) THEN chr(39) || {col} "
                f"ELSE {col} END AS {col}"
            )
        else:
            items.append(col)
    return ", ".join(items) or "*"


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write a table as RFC 4180 CSV (header, empty for null), atomically.

    Text cells that a spreadsheet would run as a formula get a leading ``'``
    (see the module docstring); everything else is written as it is.
    """
    table = _arrow(df)
    select = _csv_select(table.schema)

    def write(tmp: Path) -> None:
        con = duck.connect()
        try:
            duck.register(con, "out_", table)
            target = str(tmp).replace("'", "''")
            con.execute(
                f"COPY (SELECT {select} FROM out_) TO '{target}' "
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


def default_report_folder(
    name: str, *, now: datetime | None = None, root: Path | str = "reports"
) -> Path:
    """``<root>/<name>/<UTC timestamp>/``, with ``-2``, ``-3``… if that folder exists."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    base = Path(root) / name / moment.strftime(TIMESTAMP_FORMAT)
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def threshold_exceeded(
    by_reason: Mapping[str, int], fail_on: Iterable[Reason | str], max_findings: int
) -> bool:
    """DESIGN §8's exit-1 rule, the one place it is decided: more than ``max_findings``
    findings have one of the ``fail_on`` reasons."""
    return count_failing(dict(by_reason), fail_on) > max_findings
