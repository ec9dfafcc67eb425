"""Which cell of an executed notebook failed, told for people (``assoc-audit run``'s errors).

A failing cell is named by its number in the source notebook (papermill's
injected-parameters and error cells not counted) and its first line of code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assoc_audit.errors import NotebookError
from assoc_audit.secrets import redact_text

__all__ = ["cell_error", "failed_cell_index"]


def _cell_source_line(cell: Any) -> str:
    for line in str(cell.get("source", "")).splitlines():
        text = line.strip()
        if text and not text.startswith("#"):
            return text if len(text) <= 70 else text[:67] + "..."
    return ""


def failed_cell_index(executed: Path) -> int | None:
    """The cell that failed, was running, or started last, in an executed notebook.

    A timed-out or killed cell is not always marked failed by papermill; it is
    the last cell that started.
    """
    if not executed.exists():
        return None
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)  # type: ignore[no-untyped-call]
    info = [c.get("metadata", {}).get("papermill", {}) for c in nb.cells]
    for status in ("failed", "running"):
        for i, meta in enumerate(info):
            if meta.get("status") == status:
                return i
    started = [i for i, meta in enumerate(info) if meta.get("start_time")]
    return started[-1] if started else None


def cell_error(
    notebook: str, executed: Path, index: int | None, ename: str, evalue: str | None
) -> NotebookError:
    """A NotebookError naming the failing cell by its number in the source notebook."""
    where = "a cell"
    number: int | None = None
    if index is not None and executed.exists():
        import nbformat

        nb = nbformat.read(str(executed), as_version=4)  # type: ignore[no-untyped-call]
        cells = [c for c in nb.cells if "papermill-error-cell-tag" not in _tags(c)]
        if 0 <= index < len(cells):
            cell = cells[index]
            number = 1 + sum(1 for c in cells[:index] if "injected-parameters" not in _tags(c))
            where = f"cell {number}"
            first = _cell_source_line(cell)
            if first:
                where += f" ({first})"
    text = redact_text(str(evalue or "")).strip().splitlines()
    detail = f"{ename}: {text[0]}" if text else ename
    return NotebookError(
        f"{notebook}: {where} failed: {detail} — see {executed}",
        file=str(executed),
        cell=number,
    )


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []) or [])
