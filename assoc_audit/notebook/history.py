"""Run history: one row per notebook run in ``reports/<integration>/history.parquet``.

The runner appends a row after every run (failed runs too, flagged); the
audit notebook's trend chart reads it (:func:`read_history`). Columns:

``run`` (the run folder's name, a UTC timestamp like ``20261128T130500Z``),
``started_at`` (UTC), ``notebook``, ``folder``, ``failed``, ``exit_code``,
``seconds`` (wall time of the run), ``findings``, ``findings_failing``,
``links_checked``, ``links_in_sync``, ``api_calls``, and ``reason_<code>``
for every reason (nulls when the run wrote no ``summary.json``).

The file is rewritten atomically and fsynced (:mod:`assoc_audit.atomicfile`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from assoc_audit.atomicfile import atomic_write
from assoc_audit.errors import DataError
from assoc_audit.reasons import REASONS

__all__ = ["HISTORY_FILE", "append_history", "history_row", "read_history"]

HISTORY_FILE = "history.parquet"

_INT_COLUMNS = (
    "exit_code",
    "findings",
    "findings_failing",
    "links_checked",
    "links_in_sync",
    "api_calls",
    *(f"reason_{r}" for r in REASONS),
)


def _count(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def history_row(
    *,
    run: str,
    started_at: datetime,
    notebook: str,
    folder: Path | str,
    summary: Mapping[str, Any] | None,
    failed: bool,
    exit_code: int,
    seconds: float,
) -> dict[str, Any]:
    """One history row from a run's facts and its ``summary.json`` (or None)."""
    summary = summary or {}
    by_reason = summary.get("by_reason") or {}
    row: dict[str, Any] = {
        "run": run,
        "started_at": pd.Timestamp(started_at.astimezone(UTC)),
        "notebook": notebook,
        "folder": str(folder),
        "failed": bool(failed),
        "exit_code": int(exit_code),
        "seconds": round(float(seconds), 3),
        "findings": _count(summary.get("findings_total", summary.get("findings"))),
        "findings_failing": _count(summary.get("findings_failing")),
        "links_checked": _count(summary.get("links_checked")),
        "links_in_sync": _count(summary.get("links_in_sync")),
        "api_calls": _count(summary.get("api_calls")),
    }
    for reason in REASONS:
        row[f"reason_{reason}"] = _count(by_reason.get(reason, 0)) if by_reason else None
    return row


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in _INT_COLUMNS:
        if col in out.columns:
            out[col] = pd.array(out[col].tolist(), dtype="Int64")
    if "failed" in out.columns:
        out["failed"] = out["failed"].astype(bool)
    for col in ("run", "notebook", "folder"):
        if col in out.columns:
            out[col] = out[col].astype(str)
    return out


def read_history(integration_dir: Path | str) -> pd.DataFrame:
    """The runs recorded for an integration (empty table when there are none), oldest first."""
    path = Path(integration_dir) / HISTORY_FILE
    if not path.exists():
        return _typed(pd.DataFrame(columns=list(history_row_columns())))
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # any unreadable file is bad input, named
        raise DataError(f"{path}: unreadable run history: {exc}", file=str(path)) from None
    return _typed(frame).sort_values("run", kind="stable").reset_index(drop=True)


def history_row_columns() -> tuple[str, ...]:
    return tuple(
        history_row(
            run="",
            started_at=datetime(2000, 1, 1, tzinfo=UTC),
            notebook="",
            folder="",
            summary=None,
            failed=False,
            exit_code=0,
            seconds=0.0,
        )
    )


def append_history(integration_dir: Path | str, row: Mapping[str, Any]) -> Path:
    """Append ``row`` to the integration's history file (created if needed)."""
    root = Path(integration_dir)
    root.mkdir(parents=True, exist_ok=True)
    path = root / HISTORY_FILE
    frame = pd.DataFrame([dict(row)])
    if path.exists():
        frame = pd.concat([read_history(root), _typed(frame)], ignore_index=True)
    frame = _typed(frame)
    atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    return path
