"""Helpers that keep ``notebooks/sandbox_scenarios.ipynb`` thin.

::

    integration = nb.open_integration(config_path, scale=scale)   # None = the demo sandbox
    plan = sn.plan(integration, kinds=kinds)
    sn.show_plan(integration, plan)
    report = sn.run(integration, plan, confirm_digest=confirm_digest, timeout=timeout)
    sn.show_results(report)
    sn.show_exports(sn.write(integration, report, output_dir))

Against anything but the sandbox emulator, :func:`run` writes nothing unless
``confirm_digest`` is the plan's digest (DESIGN §10): without it the notebook
shows the plan and says how to confirm; a wrong digest fails the cell.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from assoc_audit.notebook.session import default_reports_dir, show_table, show_text
from assoc_audit.scenarios.plan import ScenarioPlan, local_target, plan_scenarios, scenario_portals
from assoc_audit.scenarios.runner import run_scenarios

if TYPE_CHECKING:
    from assoc_audit.notebook.session import Integration
    from assoc_audit.scenarios.results import ScenarioReport

__all__ = ["plan", "run", "show_exports", "show_plan", "show_results", "write"]

_WRITTEN = {
    "scenarios.json": "every scenario, its verdict and findings, the sync's events, the clean-up",
    "scenarios.csv": "the results table",
}


def plan(integration: Integration, *, kinds: str | None = None) -> ScenarioPlan:
    """The integration's scenario plan (``kinds``: comma-separated, None = all)."""
    wanted = None if kinds is None else [k.strip() for k in kinds.split(",") if k.strip()]
    config = integration.config
    portals = {} if local_target(config) is None else scenario_portals(config)
    return plan_scenarios(config, kinds=wanted, portals=portals)


def _target_text(integration: Integration, plan: ScenarioPlan) -> str:
    why = local_target(integration.config)
    if why is None:
        return (
            "Target: the sandbox emulator. The plan runs at once; the data-sync simulator "
            "does HubSpot's syncing."
        )
    return (
        f"Target: a real portal or app ({why}). Nothing is written until confirm_digest is "
        f"set to this plan's digest after you have reviewed it: {plan.digest}"
    )


def show_plan(integration: Integration, plan: ScenarioPlan) -> None:
    """The scenarios with their expectations, where they run, and the digest."""
    counts = plan.records_needed()
    show_text(_target_text(integration, plan))
    show_table(
        plan.to_frame(),
        caption=f"{len(plan.scenarios)} scenarios; {counts['hubspot']} sample records in "
        f"HubSpot and {counts['app']} in {plan.app_name}, all deleted afterwards",
    )
    show_text(f"Plan digest: {plan.digest}")


def run(
    integration: Integration,
    plan: ScenarioPlan,
    *,
    confirm_digest: str | None = None,
    timeout: float = 900.0,
    progress: bool = True,
) -> ScenarioReport | None:
    """Run the plan; None (and a note) when a real target was not confirmed."""
    if local_target(integration.config) is not None and confirm_digest is None:
        show_text("Not run: review the plan above, then set confirm_digest to its digest.")
        return None
    kinds = sorted({s.kind for s in plan.scenarios})
    only = [s.id for s in plan.scenarios]
    return run_scenarios(
        integration.config,
        confirm=confirm_digest,
        kinds=kinds,
        only=only,
        timeout=timeout,
        echo=print if progress else _silent,
    )


def _silent(_: str) -> None:
    """Print nothing."""


def show_results(report: ScenarioReport | None) -> None:
    """The results table, the summary and the clean-up."""
    if report is None:
        show_text("No results: the plan was not run.")
        return
    frame = report.to_frame()
    show_table(frame, caption=report.summary())
    show_text(report.cleanup.summary())


def write(
    integration: Integration, report: ScenarioReport | None, output_dir: str | Path | None
) -> list[Path]:
    """Write scenarios.json and scenarios.csv (default ``reports/NAME/scenarios/TIMESTAMP/``)."""
    if report is None:
        return []
    if output_dir is None:
        from assoc_audit.outputs import default_report_folder

        output_dir = default_report_folder(
            "scenarios", root=default_reports_dir() / integration.name
        )
    folder = report.write(output_dir)
    return [folder / "scenarios.json", folder / "scenarios.csv"]


def show_exports(paths: list[Path]) -> None:
    """The files written, with what each holds."""
    if not paths:
        show_text("Nothing was written.")
        return
    rows = [(p.name, _WRITTEN.get(p.name, "")) for p in paths]
    show_table(
        pd.DataFrame(rows, columns=["file", "holds"]),
        caption=f"Written to the folder {paths[0].parent.name}/",
    )
