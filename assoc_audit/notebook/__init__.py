"""The notebook side: helpers that keep notebooks thin, widgets, reports, headless runs.

A notebook's cells are one or two calls into this package::

    from assoc_audit import notebook as nb
    from assoc_audit.notebook import report

    integration = nb.open_integration(config_path, scale=scale)   # None = the demo sandbox
    audit = nb.audit(integration, output_dir=output_dir, baseline_dir=baseline_dir)
    nb.show_summary(audit)
    nb.show(report.plot_by_reason_pair(audit.findings))

Modules: :mod:`.session` (connect, audit, display: the names below),
:mod:`.report` (charts and HTML summaries, from :mod:`.templates`),
:mod:`.explore` and :mod:`.widgets` (drilling into findings), :mod:`.setup_doc`
(the integration set-up document), :mod:`.fixes` and :mod:`.scenarios` (the
apply-fixes and sandbox-scenarios notebooks' helpers), :mod:`.runner`
(papermill runs, report folders), :mod:`.history` (the run history),
:mod:`.demorun` (``assoc-audit demo``). The engine never imports this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assoc_audit import lazy

if TYPE_CHECKING:
    from assoc_audit.notebook.session import (
        Audit,
        Integration,
        audit,
        default_reports_dir,
        files_table,
        load_run,
        open_integration,
        run_details,
        show,
        show_exports,
        show_findings,
        show_record,
        show_run_details,
        show_setup_doc,
        show_summary,
        show_table,
        show_text,
        show_trend,
        show_widget,
    )

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

__getattr__, __dir__ = lazy.exports(__name__, dict.fromkeys(__all__, ".session"), __all__)
