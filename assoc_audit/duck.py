"""The DuckDB connection the audit runs its relational work on.

One in-memory connection per audit holds every intermediate table; stages
register Arrow tables (zero copy) and read results back as Arrow or NumPy.
Nothing here is global: callers own and close their connection.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

__all__ = ["arrow", "available_cores", "connect", "numpy", "register", "scalar"]


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity, capped by a cgroup CPU quota
    (containers), rather than every core of the machine (``os.cpu_count()``)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def connect(threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A fresh in-memory connection using the available cores (or ``threads``)."""
    con = duckdb.connect(":memory:")
    con.execute(f"SET threads = {int(threads or available_cores())}")
    con.execute("SET preserve_insertion_order = true")
    return con


def register(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Make an Arrow table visible to SQL as ``name`` (replacing an earlier one)."""
    con.register(name, table)


def arrow(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> pa.Table:
    """Run a query and return its result as an Arrow table."""
    table: pa.Table = con.sql(sql, params=params).to_arrow_table()
    return table


def numpy(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> dict[str, np.ndarray]:
    """Run a query and return its columns as NumPy arrays (NULLs only in object columns)."""
    result: dict[str, Any] = con.execute(sql, params).fetchnumpy()
    return {k: np.asarray(v) for k, v in result.items()}


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    """Run a query that returns one value."""
    row = con.execute(sql, params).fetchone()
    return None if row is None else row[0]
