"""The run history file read by the trend chart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assoc_audit.errors import DataError
from assoc_audit.notebook.history import append_history, history_row, read_history
from assoc_audit.reasons import REASONS

SUMMARY = {
    "findings_total": 5,
    "findings_failing": 3,
    "links_checked": 105,
    "links_in_sync": 100,
    "api_calls": 7,
    "by_reason": {"sync_gap": 3, "object_sync_off": 2},
}


def _row(run, summary, failed=False):
    return history_row(
        run=run,
        started_at=datetime.strptime(run, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC),
        notebook="audit",
        folder=f"/r/{run}",
        summary=summary,
        failed=failed,
        exit_code=2 if failed else 1,
        seconds=1.23456,
    )


def test_rows_append_and_read_back_typed(tmp_path):
    assert read_history(tmp_path).empty
    append_history(tmp_path, _row("20261128T130500Z", SUMMARY))
    append_history(tmp_path, _row("20261127T130500Z", None, failed=True))
    history = read_history(tmp_path)
    assert history["run"].tolist() == ["20261127T130500Z", "20261128T130500Z"]  # oldest first
    last = history.iloc[1]
    assert (last["findings"], last["reason_sync_gap"], last["reason_label_mismatch"]) == (5, 3, 0)
    assert last["seconds"] == 1.235 and last["exit_code"] == 1 and not last["failed"]
    assert str(history["findings"].dtype) == "Int64"
    assert history["findings"].isna().tolist() == [True, False]
    assert {f"reason_{r}" for r in REASONS} <= set(history.columns)
    assert not list(tmp_path.glob("*.tmp"))


def test_unreadable_history_is_a_data_error(tmp_path):
    (tmp_path / "history.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="unreadable run history"):
        read_history(tmp_path)
