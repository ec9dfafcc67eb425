"""Headless notebook runs: papermill into report folders, HTML copies, run history.

``run_notebook("audit", config_path=...)`` executes ``notebooks/audit.ipynb``
with papermill into ``reports/<integration>/<timestamp>/`` (the executed
notebook, an HTML copy with the code hidden, and whatever the notebook writes
there: the audit's outputs), then appends a row to
``reports/<integration>/history.parquet`` (read by the trend chart).

Parameters: the notebook receives only parameters it declares (papermill's
``inspect_notebook``). ``config_path``, ``output_dir`` and ``baseline_dir``
(the newest earlier run of the same integration that holds a snapshot) are
filled in automatically, ``interactive`` is set to False (no widgets in a
headless run); others come from ``parameters`` (``-p NAME VALUE`` on the
command line), converted to the declared type.

Access tokens are never parameters: the kernel reads them from its
environment. Every text file the run writes is passed through
:func:`~assoc_audit.secrets.redact_text` with the values of the variables the
config names (tokens, database URLs and passwords) registered, so no secret
lands on disk in any of its forms (plain, JSON-escaped, URL-encoded) — also
when the run is interrupted (Ctrl-C, or SIGTERM, which raises
``KeyboardInterrupt`` while a notebook runs in the main thread).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assoc_audit.atomicfile import atomic_write_text
from assoc_audit.errors import AssocAuditError, NotebookError
from assoc_audit.notebook.cells import cell_error, failed_cell_index
from assoc_audit.notebook.history import append_history, history_row
from assoc_audit.outputs import default_report_folder, threshold_exceeded
from assoc_audit.reasons import DEFAULT_FAIL_ON, Reason
from assoc_audit.secrets import read_token, redact_text

__all__ = [
    "AUTO_PARAMETERS",
    "NOTEBOOK_DIR",
    "RunResult",
    "coerce_parameters",
    "find_notebook",
    "latest_run",
    "notebook_parameters",
    "run_notebook",
]

log = logging.getLogger(__name__)

#: The notebooks shipped with the project (a source checkout's ``notebooks/``).
NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
#: Parameters the runner fills in itself when a notebook declares them.
AUTO_PARAMETERS = ("config_path", "output_dir", "baseline_dir", "interactive")
#: Parameters that only the runner sets (``-p`` may not override them).
_RESERVED = ("config_path", "output_dir")
_TEXT_SUFFIXES = (".ipynb", ".html", ".json", ".csv", ".md", ".txt", ".log", ".yaml")


@dataclass(frozen=True)
class RunResult:
    """What one notebook run produced."""

    notebook: str
    folder: Path
    executed: Path
    html: Path
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    #: Exit code of the operations the notebook ran (a failed scenario, a refused apply).
    operations_code: int = 0

    @property
    def has_summary(self) -> bool:
        """True when the notebook wrote an audit ``summary.json``."""
        return "by_reason" in self.summary

    def exit_code(self, fail_on: Any = DEFAULT_FAIL_ON, max_findings: int = 0) -> int:
        """DESIGN §8: 1 if more than ``max_findings`` findings have a ``fail_on`` reason, or
        an operation the notebook ran was refused or failed (its own code; the highest wins)."""
        by_reason = dict(self.summary.get("by_reason") or {})
        threshold = 1 if threshold_exceeded(by_reason, fail_on, max_findings) else 0
        return max(threshold, self.operations_code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook,
            "folder": str(self.folder),
            "executed": str(self.executed),
            "html": str(self.html),
            "summary": self.summary,
            "seconds": round(self.seconds, 3),
            "operations_code": self.operations_code,
        }


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


def notebook_parameters(path: Path | str) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares: name → {inferred_type_name, default, help}."""
    import papermill

    params: dict[str, dict[str, Any]] = papermill.inspect_notebook(str(path))
    return params


def latest_run(integration_dir: Path, *, before: str | None = None) -> Path | None:
    """The newest run folder of an integration (older than ``before``) holding a snapshot."""
    if not integration_dir.is_dir():
        return None
    runs = sorted(
        (p for p in integration_dir.iterdir() if p.is_dir() and (p / "snapshot").is_dir()),
        key=lambda p: p.name,
    )
    runs = [p for p in runs if before is None or p.name < before]
    return runs[-1] if runs else None


def _convert(name: str, type_name: str, value: Any) -> Any:
    """A ``-p`` value (text) as the declared type; non-text values pass through."""
    if not isinstance(value, str):
        return value
    kind = type_name.replace(" ", "")
    optional = kind.startswith("Optional[") or kind in ("None", "Any")
    inner = kind[len("Optional[") : -1] if kind.startswith("Optional[") else kind
    text = value.strip()
    if optional and text.lower() in ("none", "null", ""):
        return None
    try:
        if inner == "int":
            return int(text)
        if inner == "float":
            return float(text)
    except ValueError:
        raise NotebookError(
            f"parameter {name}: {value!r} is not a valid {inner}", field=name
        ) from None
    if inner == "bool":
        low = text.lower()
        if low in ("true", "yes", "1"):
            return True
        if low in ("false", "no", "0"):
            return False
        raise NotebookError(f"parameter {name}: {value!r} is not true or false", field=name)
    return value


def coerce_parameters(
    declared: Mapping[str, Mapping[str, Any]], given: Mapping[str, Any], *, notebook: str = ""
) -> dict[str, Any]:
    """Check ``given`` against the declared parameters and convert text to their types."""
    where = f"{notebook}: " if notebook else ""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise NotebookError(
            f"{where}unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"(declared: {', '.join(sorted(declared)) or 'none'})",
            field=unknown[0],
        )
    reserved = sorted(set(given) & set(_RESERVED))
    if reserved:
        raise NotebookError(
            f"{where}{reserved[0]} is set by the runner (use --config; the output folder is "
            "reports/<name>/<timestamp>/)",
            field=reserved[0],
        )
    out = {}
    for name, value in given.items():
        type_name = str(declared[name].get("inferred_type_name") or "None")
        out[name] = _convert(name, type_name, value)
    return out


def _register_secrets(config_path: Path | None) -> None:
    """Register the values of every secret variable the config names (tokens, the SQL
    URL or password) and HubSpot's default token variable, whatever they look like."""
    names = {"HUBSPOT_ACCESS_TOKEN"}
    if config_path is not None:
        from assoc_audit.config import load_config

        config = load_config(config_path)
        names.add(config.hubspot.token_env)
        for name in (config.app.token_env, config.app.url_env, config.app.password_env):
            if name:
                names.add(name)
        if config.app.kind == "sql":
            from assoc_audit.connectors.sqlurl import database_url
            from assoc_audit.errors import ConnectorError

            with contextlib.suppress(ConnectorError):  # registers the URL's password
                database_url(config)
    for name in names:
        read_token(name)


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """While inside, SIGTERM raises KeyboardInterrupt (main thread only), so the run's
    ``finally`` (the secret scrub) runs when a scheduler stops it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"stopped by signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _integration_name(config_path: Path | None, fallback: str) -> str:
    if config_path is None:
        return fallback
    from assoc_audit.config import load_config

    return load_config(config_path).name


def run_notebook(
    notebook: str | Path,
    *,
    config_path: Path | str | None,
    parameters: Mapping[str, Any] | None = None,
    reports_dir: Path | str = Path("reports"),
    integration: str | None = None,
    baseline_dir: Path | str | None = None,
    fail_on: tuple[Reason, ...] | None = None,
    max_findings: int = 0,
    cell_timeout: float | None = 600,
    kernel_timeout: float = 120,
    now: datetime | None = None,
) -> RunResult:
    """Execute a notebook headlessly into a new report folder; see the module docstring.

    ``integration`` names the report folder (default: the config's ``name``,
    else the notebook's name). ``fail_on`` is passed to notebooks declaring a
    ``fail_on`` parameter; with ``max_findings`` it also decides the exit code
    recorded in the history (DESIGN §8). Raises :class:`NotebookError` naming the failing
    cell; the executed notebook, its HTML copy and a history row (flagged
    ``failed``) are still written, for diagnosis.
    """
    source = find_notebook(notebook)
    declared = notebook_parameters(source)
    params = coerce_parameters(declared, dict(parameters or {}), notebook=source.name)
    config = Path(config_path).resolve() if config_path is not None else None
    _register_secrets(config)
    name = integration or _integration_name(config, source.stem)

    started_at = (now or datetime.now(UTC)).astimezone(UTC)
    root = Path(reports_dir) / name
    folder = default_report_folder(name, now=started_at, root=reports_dir)
    folder.mkdir(parents=True)
    auto: dict[str, Any] = {"output_dir": str(folder.resolve()), "interactive": False}
    if config is not None:
        auto["config_path"] = str(config)
    base = baseline_dir if baseline_dir is not None else latest_run(root, before=folder.name)
    if base is not None:
        auto["baseline_dir"] = str(Path(base).resolve())
    if fail_on is not None:
        auto["fail_on"] = ",".join(r.value for r in fail_on)
    final = {k: v for k, v in auto.items() if k in declared}
    final.update(params)

    executed = folder / source.name
    html = folder / f"{source.stem}.html"
    tick = time.perf_counter()
    error = _execute(source, executed, final, cell_timeout, kernel_timeout)
    seconds = time.perf_counter() - tick
    _write_html(executed, html)
    summary = _read_summary(folder)
    operations = _operations_code(folder) if error is None else 0
    result = RunResult(source.stem, folder, executed, html, summary, seconds, operations)
    code = 2 if error is not None else result.exit_code(fail_on or DEFAULT_FAIL_ON, max_findings)
    append_history(
        root,
        history_row(
            run=folder.name,
            started_at=started_at,
            notebook=source.stem,
            folder=folder,
            summary=summary,
            failed=error is not None,
            exit_code=code,
            seconds=seconds,
        ),
    )
    if error is not None:
        raise error
    return result


def _execute(
    source: Path,
    executed: Path,
    parameters: Mapping[str, Any],
    cell_timeout: float | None,
    kernel_timeout: float,
) -> NotebookError | None:
    """Run ``source`` with papermill into ``executed``: the failing cell's error, or None.

    The run folder is scrubbed of secrets afterwards, also on Ctrl-C / SIGTERM.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    folder = executed.parent
    try:
        with _sigterm_interrupts(), _kernel_stderr(folder / "kernel.log"):
            papermill.execute_notebook(
                str(source),
                str(executed),
                parameters=dict(parameters),
                kernel_name="python3",
                progress_bar=False,
                log_output=False,
                start_timeout=int(kernel_timeout),
                execution_timeout=cell_timeout,
                cwd=str(source.parent),
                # the kernel's own log (not cell output): only errors, no transport notices
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
    except PapermillExecutionError as exc:
        return cell_error(source.name, executed, exc.cell_index, exc.ename, exc.evalue)
    except AssocAuditError:
        raise
    except Exception as exc:  # kernel died, a cell timed out, the kernel could not start
        index = failed_cell_index(executed)
        return cell_error(source.name, executed, index, type(exc).__name__, str(exc))
    finally:  # also on Ctrl-C / SIGTERM: no secret stays in what the kernel wrote so far
        _scrub_folder(folder)
    return None


@contextlib.contextmanager
def _kernel_stderr(log_file: Path) -> Iterator[None]:
    """Send this process's standard error (file descriptor 2) to ``log_file`` while a notebook
    runs: the kernel inherits it, so its own notices (and papermill's) land in the run folder,
    and the command keeps its one-line error contract."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(log_file, "ab") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
    if log_file.stat().st_size == 0:
        log_file.unlink()


def _operations_code(folder: Path) -> int:
    """Exit code of the operations a notebook ran (DESIGN §8): 1 if a scenario failed
    (``scenarios.json``), the apply's own code if it refused or failed (``apply.json``)."""
    code = 0
    for name in ("scenarios.json", "apply.json"):
        path = folder / name
        if not path.exists():
            continue
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        if name == "scenarios.json":
            code = max(code, 0 if data.get("passed", True) else 1)
        else:
            code = max(code, min(2, int(data.get("exit_code") or 0)))
    return code


def _scrub_folder(folder: Path) -> None:
    """Redact every known secret from the text files a run wrote (tokens never land on disk)."""
    for path in folder.rglob("*"):
        if not path.is_file() or path.suffix not in _TEXT_SUFFIXES:
            continue
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        clean = redact_text(text)
        if clean != text:
            log.warning("redacted secret-looking text from %s", path.name)
            atomic_write_text(path, clean)


def _write_html(executed: Path, html: Path) -> None:
    """An HTML copy of the executed notebook with code, prompts and papermill banners hidden."""
    if not executed.exists():
        return
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)  # type: ignore[no-untyped-call]
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    exporter.template_name = "lab"
    body, _ = exporter.from_notebook_node(nb)
    atomic_write_text(html, redact_text(body))


def _read_summary(folder: Path) -> dict[str, Any]:
    path = folder / "summary.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text("utf-8"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
