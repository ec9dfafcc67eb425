"""The pre-rollout scenario library and runner (DESIGN §2, §8 ``scenarios``, §10).

Before rolling a sync out, test association scenarios on a few records: create
sample records on both sides, link them on one side, let the sync run, check
that the link appears on the other side (or, for the negative cases, that it
does not, for the reason the audit gives), and delete everything created::

    from assoc_audit.scenarios import plan_scenarios, run_scenarios

    plan = plan_scenarios(config)        # what will run, and its digest
    report = run_scenarios(config)       # emulator: at once; real portal: confirm=plan.digest
    report.to_frame()                    # scenario, direction, expected, observed, verdict, …

Modules: :mod:`.library` (the scenarios a config calls for), :mod:`.model`
(what a scenario is), :mod:`.samples`
(tagged sample values), :mod:`.plan` (plan, digest, emulator detection),
:mod:`.runner` (setup, sync, check, clean-up), :mod:`.sync` (simulator or
awaited data sync), :mod:`.check` (scoped audit and verdicts),
:mod:`.results` (report), :mod:`.cli` (``assoc-audit scenarios``).
The offline data sync itself is :mod:`assoc_audit.scenarios.datasync`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assoc_audit import lazy

if TYPE_CHECKING:
    from assoc_audit.scenarios.library import build_library
    from assoc_audit.scenarios.model import Scenario
    from assoc_audit.scenarios.plan import ScenarioPlan, plan_scenarios
    from assoc_audit.scenarios.results import ScenarioReport, ScenarioResult
    from assoc_audit.scenarios.runner import ScenarioRunner, run_scenarios

__all__ = [
    "Scenario",
    "ScenarioPlan",
    "ScenarioReport",
    "ScenarioResult",
    "ScenarioRunner",
    "build_library",
    "plan_scenarios",
    "run_scenarios",
]

_WHERE = {
    "Scenario": ".model",
    "build_library": ".library",
    "ScenarioPlan": ".plan",
    "plan_scenarios": ".plan",
    "ScenarioReport": ".results",
    "ScenarioResult": ".results",
    "ScenarioRunner": ".runner",
    "run_scenarios": ".runner",
}

__getattr__, __dir__ = lazy.exports(__name__, _WHERE, __all__)
