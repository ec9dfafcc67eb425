"""Headless notebook runs: papermill into report folders, HTML copies, run history.

``run_notebook("audit", config_path)`` executes ``notebooks/audit.ipynb`` with
papermill into ``reports/<integration>/<timestamp>/``, writes an HTML copy with
the code hidden, and appends a row to ``reports/<integration>/history.parquet``
(read by the trend chart). The notebook receives only the parameters it
declares (checked with papermill's ``inspect_notebook``): ``config_path``,
``output_dir`` and ``baseline_dir`` are filled in automatically, others come
from ``-p NAME VALUE``. Access tokens are never parameters: the kernel reads
them from its environment, and every file written is scanned so no token value
appears in it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import AssocAuditError, NotebookError
from .secrets import redact_text

__all__ = [
    "NOTEBOOK_DIR",
    "RunResult",
    "find_notebook",
    "latest_run",
    "notebook_parameters",
    "run_notebook",
    "timestamp",
]

log = logging.getLogger(__name__)

#: The notebooks shipped with the project (a source checkout's ``notebooks/``).
NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
_AUTO = ("config_path", "output_dir", "baseline_dir")


@dataclass(frozen=True)
class RunResult:
    """What one notebook run produced."""

    notebook: str
    folder: Path
    executed: Path
    html: Path
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook,
            "folder": str(self.folder),
            "executed": str(self.executed),
            "html": str(self.html),
            "summary": self.summary,
            "seconds": round(self.seconds, 3),
        }


def timestamp(now: datetime | None = None) -> str:
    """A run folder name: UTC, sortable, e.g. ``20261128T130500Z``."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def find_notebook(name: str | Path) -> Path:
    """``audit`` → ``notebooks/audit.ipynb``; a path to an ``.ipynb`` file is used as given."""
    path = Path(name)
    if path.suffix == ".ipynb" or path.exists():
        if not path.is_file():
            raise NotebookError(f"{path}: notebook not found", file=str(path))
        return path
    candidate = NOTEBOOK_DIR / f"{name}.ipynb"
    if not candidate.is_file():
        names = sorted(p.stem for p in NOTEBOOK_DIR.glob("*.ipynb"))
        raise NotebookError(
            f"no notebook named {str(name)!r} (available: {', '.join(names) or 'none'})",
            file=str(candidate),
        )
    return candidate


def notebook_parameters(path: Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares: name → {inferred_type_name, default, help}."""
    import papermill

    params: dict[str, dict[str, Any]] = papermill.inspect_notebook(str(path))
    return params


def latest_run(integration_dir: Path, *, before: str | None = None) -> Path | None:
    """The newest earlier run folder of an integration that holds an audit snapshot."""
    if not integration_dir.is_dir():
        return None
    runs = sorted(
        (p for p in integration_dir.iterdir() if p.is_dir() and (p / "snapshot").is_dir()),
        key=lambda p: p.name,
    )
    runs = [p for p in runs if before is None or p.name < before]
    return runs[-1] if runs else None


def run_notebook(
    notebook: str | Path,
    *,
    config_path: Path | None,
    integration: str,
    parameters: dict[str, Any] | None = None,
    reports_dir: Path = Path("reports"),
    baseline_dir: Path | None = None,
    cell_timeout: float | None = 600,
    kernel_timeout: float = 120,
    now: datetime | None = None,
) -> RunResult:
    """Execute a notebook headlessly into a new report folder; see the module docstring.

    Raises :class:`NotebookError` naming the failing cell (the executed notebook
    and its HTML copy are still written, for diagnosis).
    """
    import time

    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = find_notebook(notebook)
    declared = notebook_parameters(source)
    given = dict(parameters or {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise NotebookError(
            f"{source.name}: unknown parameter{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)} (declared: {', '.join(sorted(declared)) or 'none'})",
            file=str(source),
            field=unknown[0],
        )
    stamp = timestamp(now)
    root = reports_dir / integration
    folder = root / stamp
    folder.mkdir(parents=True, exist_ok=False)
    auto: dict[str, Any] = {"output_dir": str(folder.resolve())}
    if config_path is not None:
        auto["config_path"] = str(Path(config_path).resolve())
    base = baseline_dir if baseline_dir is not None else latest_run(root, before=stamp)
    if base is not None:
        auto["baseline_dir"] = str(Path(base).resolve())
    params = {k: v for k, v in auto.items() if k in declared}
    params.update(given)

    executed = folder / source.name
    html = folder / f"{source.stem}.html"
    env_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    started = time.perf_counter()
    failure: PapermillExecutionError | None = None
    old_path = os.environ.get("PATH")
    os.environ["PATH"] = env_path  # the kernel must be this environment's Python
    try:
        papermill.execute_notebook(
            str(source),
            str(executed),
            parameters=params,
            kernel_name="python3",
            progress_bar=False,
            start_timeout=int(kernel_timeout),
            execution_timeout=cell_timeout,
            cwd=str(source.parent),
        )
    except PapermillExecutionError as exc:
        failure = exc
    except Exception as exc:  # kernel died, timed out, could not start
        if isinstance(exc, AssocAuditError):
            raise
        raise NotebookError(
            f"{source.name}: {type(exc).__name__}: {redact_text(str(exc)).splitlines()[0]}",
            file=str(source),
        ) from None
    finally:
        if old_path is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = old_path
    seconds = time.perf_counter() - started
    _scrub_file(executed)
    _write_html(executed, html)
    summary = _read_summary(folder)
    _append_history(
        root, stamp, source.stem, folder, summary, failed=failure is not None, seconds=seconds
    )
    if failure is not None:
        evalue = redact_text(str(failure.evalue or "")).splitlines()
        raise NotebookError(
            f"{source.name}: cell {failure.cell_index} (execution {failure.exec_count}) failed: "
            f"{failure.ename}: {evalue[0] if evalue else ''} — see {executed}",
            file=str(executed),
            cell=failure.cell_index,
        )
    return RunResult(source.stem, folder, executed, html, summary, seconds)


def _scrub_file(path: Path) -> None:
    """Redact every known secret from a written text file (tokens must never land on disk)."""
    if not path.exists():
        return
    text = path.read_text("utf-8")
    clean = redact_text(text)
    if clean != text:
        log.warning("redacted secret-looking text from %s", path.name)
        path.write_text(clean, "utf-8")


def _write_html(executed: Path, html: Path) -> None:
    if not executed.exists():
        return
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)  # type: ignore[no-untyped-call]
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(nb)
    html.write_text(redact_text(body), "utf-8")


def _read_summary(folder: Path) -> dict[str, Any]:
    path = folder / "summary.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _append_history(
    root: Path,
    stamp: str,
    notebook: str,
    folder: Path,
    summary: dict[str, Any],
    *,
    failed: bool,
    seconds: float,
) -> None:
    row: dict[str, Any] = {
        "run": stamp,
        "started_at": pd.Timestamp(datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)),
        "notebook": notebook,
        "folder": str(folder),
        "failed": failed,
        "seconds": round(seconds, 3),
        "findings": summary.get("findings_total"),
        "links_in_sync": summary.get("links_in_sync"),
    }
    for reason, count in (summary.get("by_reason") or {}).items():
        row[f"reason_{reason}"] = count
    history = root / "history.parquet"
    frame = pd.DataFrame([row])
    if history.exists():
        frame = pd.concat([pd.read_parquet(history), frame], ignore_index=True)
    tmp = history.with_suffix(".parquet.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(history)
