"""Helpers that keep the notebooks thin: connect, audit, display.

A notebook's code cells are one or two calls each into this module and
:mod:`assoc_audit.notebook.report`::

    integration = nb.open_integration(config_path, scale=scale)   # None = the demo sandbox
    audit = nb.audit(integration, output_dir=output_dir, baseline_dir=baseline_dir)
    nb.show_summary(audit)
    nb.show(report.plot_by_reason_pair(audit.findings))

With no config, :func:`open_integration` starts the bundled sandbox emulator
in this process (a background thread on loopback), seeds the demo portal,
writes the demo's app database and config into a temporary folder and points
the config's token variable at the sandbox token, so a notebook opened in
JupyterLab runs offline with its defaults. Real tokens are never involved.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from assoc_audit.notebook.report import (
    FINDINGS_COLUMN_CLASSES,
    findings_display,
    summary_html,
    table_html,
)
from assoc_audit.notebook.templating import macro

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from assoc_audit.audit import AuditResult
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.demo.portal import DemoData
    from assoc_audit.notebook.explore import RecordView
    from assoc_audit.notebook.setup_doc import SetupDoc
    from assoc_audit.sandbox.server import Sandbox

__all__ = [
    "Audit",
    "Integration",
    "audit",
    "default_reports_dir",
    "files_table",
    "load_run",
    "open_integration",
    "run_details",
    "show",
    "show_exports",
    "show_findings",
    "show_record",
    "show_run_details",
    "show_setup_doc",
    "show_summary",
    "show_table",
    "show_text",
    "show_trend",
    "show_widget",
]

#: What each output file holds, for the export section.
OUTPUT_FILES: dict[str, str] = {
    "findings.csv": "every one-sided link with its reason, action and explanation (CSV)",
    "findings.parquet": "the same findings as Parquet",
    "records.csv": "how records were paired: matched, unmatched, ambiguous",
    "summary.json": "the counts, timings and API calls shown above",
    "snapshot/": "both sides' tables as read (the next run's baseline; re-audit offline)",
}


def default_reports_dir() -> Path:
    """``reports/`` of the project when run from its ``notebooks/`` folder, else ``./reports``."""
    cwd = Path.cwd()
    if cwd.name == "notebooks" and (cwd.parent / "reports").is_dir():
        return cwd.parent / "reports"
    return cwd / "reports"


@dataclass
class Integration:
    """The integration a notebook works on, and the sandbox it started (if any)."""

    config: IntegrationConfig
    config_path: Path
    sandbox: Sandbox | None = None
    demo: DemoData | None = None
    _workdir: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.config.name

    def describe(self) -> pd.DataFrame:
        """Where each side is read from (no tokens, no passwords)."""
        from assoc_audit.secrets import redact_url

        cfg = self.config
        if cfg.hubspot.snapshot is not None:
            hubspot = f"snapshot {cfg.resolve(cfg.hubspot.snapshot)}"
        elif self.sandbox is not None:
            scale = f", scale {self.demo.scale}" if self.demo is not None else ""
            hubspot = f"the bundled sandbox emulator on loopback (demo portal{scale})"
        else:
            hubspot = f"HubSpot API at {cfg.hubspot.base_url or 'https://api.hubapi.com'}"
        app = cfg.app
        if app.snapshot is not None:
            where = f"snapshot {cfg.resolve(app.snapshot)}"
        elif app.kind == "files":
            where = f"files in {cfg.resolve(app.path or '.')}"
        elif app.kind == "sql":
            where = f"SQL database {redact_url(app.url or '')}"
        else:
            where = f"HubSpot portal at {app.base_url or 'https://api.hubapi.com'}"
        rows = [
            ("integration", cfg.name),
            ("config", str(self.config_path)),
            ("HubSpot side", hubspot),
            (f"app side ({app.name})", where),
            ("token variable", cfg.hubspot.token_env),
        ]
        return pd.DataFrame(rows, columns=["what", "value"])

    def close(self) -> None:
        """Stop the sandbox this integration started and remove its temporary folder."""
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> Integration:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_integration(config_path: str | Path | None = None, *, scale: int = 300) -> Integration:
    """The integration of ``config_path``; None = the demo, on a sandbox started here.

    ``scale`` (demo only) is the demo portal's number of base contacts.
    """
    from assoc_audit.config import load_config

    if config_path is not None:
        path = Path(config_path)
        return Integration(load_config(path), path)
    from assoc_audit.demo.portal import DEMO_TOKEN, DEMO_TOKEN_ENV, prepare_demo, seed_demo_portal
    from assoc_audit.sandbox.server import Sandbox

    workdir = tempfile.TemporaryDirectory(prefix="assoc-audit-demo-")
    sandbox = Sandbox(tokens=(DEMO_TOKEN,)).start()
    try:
        data = seed_demo_portal(sandbox.backend, DEMO_TOKEN, scale=scale)
        path = prepare_demo(workdir.name, base_url=sandbox.url, data=data)
        # The demo config reads its (sandbox, non-secret) token from this variable.
        os.environ[DEMO_TOKEN_ENV] = DEMO_TOKEN
        config = load_config(path)
    except BaseException:
        sandbox.stop()
        workdir.cleanup()
        raise
    return Integration(config, path, sandbox, data, workdir)


@dataclass(frozen=True)
class Audit:
    """One audit run from a notebook: its result, output folder and the earlier runs."""

    result: AuditResult
    folder: Path
    history: pd.DataFrame

    @property
    def findings(self) -> pd.DataFrame:
        return self.result.findings

    @property
    def summary(self) -> dict[str, Any]:
        """``summary.json`` as a mapping, plus ``run`` (the output folder's name)."""
        return {**self.result.summary.to_dict(), "run": self.folder.name}


def audit(
    integration: Integration,
    *,
    output_dir: str | Path | None = None,
    baseline_dir: str | Path | None = None,
    fail_on: str | None = None,
    progress: bool = False,
    allow_empty: bool = False,
) -> Audit:
    """Audit the integration and write DESIGN §6's outputs.

    ``output_dir`` defaults to ``reports/<name>/<timestamp>/`` (see
    :func:`default_reports_dir`); the run history is read from its parent
    folder. ``fail_on``: comma-separated reasons (None = DESIGN §8's default).
    ``progress`` shows the HubSpot read's progress bars (widgets in JupyterLab;
    headless runs leave them off so reports stay clean). ``allow_empty``: go on
    although a side read no records of an object its baseline had more than
    1,000 of (see :mod:`assoc_audit.emptyread`).
    """
    from assoc_audit.audit import run_audit
    from assoc_audit.notebook.history import read_history
    from assoc_audit.outputs import default_report_folder
    from assoc_audit.reasons import parse_reasons

    reasons = parse_reasons(fail_on)
    folder = (
        Path(output_dir)
        if output_dir is not None
        else default_report_folder(integration.name, root=default_reports_dir())
    )
    result = run_audit(
        integration.config,
        baseline=baseline_dir,
        out=folder,
        fail_on=reasons,
        connector_options={"progress": progress},
        allow_empty=allow_empty,
    )
    return Audit(result, folder, read_history(folder.parent))


def load_run(run_dir: str | Path, integration: Integration) -> Audit:
    """Re-audit a previous run's snapshot (no connector is read) with the integration's config.

    The run's baseline (recorded in its ``summary.json``) is used again when it
    still exists. Nothing is written.
    """
    import json

    from assoc_audit.audit import run_audit
    from assoc_audit.notebook.history import read_history
    from assoc_audit.snapshot import read_side

    folder = Path(run_dir)
    snap = folder / "snapshot"
    config = integration.config
    hubspot = read_side(snap / "hubspot", side="hubspot", config=config)
    app = read_side(snap / "app", side="app", config=config)
    baseline = None
    summary_file = folder / "summary.json"
    if summary_file.exists():
        recorded = json.loads(summary_file.read_text("utf-8")).get("baseline")
        if recorded and Path(recorded).is_dir():
            baseline = recorded
    result = run_audit(config, hubspot=hubspot, app=app, baseline=baseline)
    return Audit(result, folder, read_history(folder.parent))


# ---------------------------------------------------------------------------
# Display (IPython is imported only when showing something)


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)  # type: ignore[no-untyped-call]


def _html(text: str) -> Any:
    from IPython.display import HTML

    return HTML(text)  # type: ignore[no-untyped-call]


def show(fig: Figure) -> None:
    """Show a figure as a PNG image (the same in JupyterLab and in the HTML report)."""
    import io

    from IPython.display import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", facecolor="white")
    _display(Image(data=buf.getvalue(), format="png"))  # type: ignore[no-untyped-call]


def show_trend(audit: Audit, *, last: int = 30) -> None:
    """Findings per reason across the integration's recorded runs and this one."""
    from assoc_audit.notebook.report import plot_trend, trend_table

    table = trend_table(audit.history, current=audit.summary, last=last)
    show(plot_trend(audit.history, current=audit.summary))
    earlier = len(table) - 1
    if earlier <= 0:
        show_text("No earlier runs of this integration are recorded yet.")
    else:
        show_text(
            f"This run and {earlier} earlier run{'s' if earlier != 1 else ''} "
            f"(from reports/{audit.result.config.name}/history.parquet)."
        )


def show_text(text: str) -> None:
    """A paragraph of plain text (escaped) as HTML."""
    _display(_html(macro("tables.html.j2", "caption")(text)))


def show_table(
    frame: pd.DataFrame,
    *,
    caption: str | None = None,
    column_classes: dict[str, str] | None = None,
) -> None:
    """A table without its index, text escaped, nulls empty."""
    head = macro("tables.html.j2", "caption")(caption) if caption else ""
    body = table_html(frame, column_classes=column_classes)
    _display(_html(macro("tables.html.j2", "style")() + head + body))


def _verdict(audit: Audit) -> str:
    summary = audit.result.summary
    failing = summary.failing(summary.fail_on)
    if summary.findings == 0:
        return "Every audited link is in sync."
    if failing == 0:
        return (
            f"No drift: the {summary.findings:,} finding(s) describe the configuration "
            "(unsynced objects, unsupported labels), not failures."
        )
    return (
        f"{failing:,} finding(s) with a failing reason: a scheduled run "
        "(assoc-audit run audit) exits 1 with the default --max-findings 0."
    )


def show_summary(audit: Audit) -> None:
    """The headline block: links checked, in sync, findings by reason, API calls, time."""

    _display(_html(summary_html(audit.summary, verdict=_verdict(audit))))


def show_findings(findings: Audit | pd.DataFrame, *, max_rows: int = 200) -> None:
    """A findings table (failing reasons first), capped at ``max_rows`` rows."""
    frame = findings.findings if isinstance(findings, Audit) else findings
    fail_on = findings.result.summary.fail_on if isinstance(findings, Audit) else None
    total = len(frame)
    shown = findings_display(frame, max_rows=max_rows, fail_on=fail_on)
    if total == 0:
        caption = "No findings."
    elif len(shown) == total:
        caption = f"All {total:,} findings: failing reasons first, each in reason order."
    else:
        caption = (
            f"The first {len(shown):,} of {total:,} findings (failing reasons first, each in "
            "reason order); findings.csv has them all."
        )
    show_table(shown, caption=caption, column_classes=FINDINGS_COLUMN_CLASSES)


def show_exports(audit: Audit) -> None:
    """What the audit wrote, file by file."""
    rows = []
    for name, what in OUTPUT_FILES.items():
        if (audit.folder / name.rstrip("/")).exists():
            rows.append((name, what))
    show_table(
        pd.DataFrame(rows, columns=["file", "holds"]),
        caption=f"Written to the run folder {audit.folder.name}/ "
        f"(under reports/{audit.result.config.name}/ for scheduled runs).",
    )


def run_details(integration: Integration, audit: Audit) -> pd.DataFrame:
    """Where the sides came from, the config digest, baseline, timings and API usage."""
    summary = audit.result.summary
    rows = [tuple(r) for r in integration.describe().itertuples(index=False)]
    rows.append(("config digest", summary.config_digest[:16]))
    rows.append(("baseline (deletion detection)", summary.baseline or "none"))
    for side, usage in summary.api.items():
        calls = int(usage.get("calls", 0) or 0)
        retries = int(usage.get("retries", 0) or 0)
        rows.append((f"API calls, {side} side", f"{calls:,} ({retries:,} retried)"))
    total = summary.rows.get("total", {})
    rows.append(
        (
            "rows skipped / flipped / merged",
            f"{total.get('skipped', 0):,} / {total.get('flipped', 0):,} / "
            f"{total.get('merged', 0):,}",
        )
    )
    for stage, seconds in summary.timings.items():
        name = "total" if stage == "total_seconds" else stage.replace("_", " ")
        rows.append((f"time: {name}", f"{seconds:.2f} s"))
    return pd.DataFrame(rows, columns=["what", "value"])


def show_run_details(integration: Integration, audit: Audit) -> None:
    """The "about this run" table (see :func:`run_details`)."""
    show_table(run_details(integration, audit))


def show_record(view: RecordView) -> None:
    """One record's links side by side (see :func:`assoc_audit.notebook.explore.record_links`)."""
    _display(_html(macro("tables.html.j2", "heading")(view.title)))
    show_table(view.links, column_classes={"why": "aa-wide", "HubSpot": "aa-nowrap"})


def show_setup_doc(doc: SetupDoc) -> None:
    """The integration set-up document, rendered."""
    style = macro("tables.html.j2", "style")()
    _display(_html(style + doc.to_html(standalone=False, table_class="aa-table")))


def show_widget(widget: Any) -> None:
    """Display an ipywidgets widget (JupyterLab)."""
    _display(widget)


def files_table(paths: Any) -> pd.DataFrame:
    """The names of written files and the folder they are in."""
    rows = [(Path(p).name, Path(p).parent.name) for p in paths]
    return pd.DataFrame(rows, columns=["file", "folder"])
