"""Fix plans: confirmed, journaled, crash-safe and undoable repairs (DESIGN §7).

::

    plan = make_plan(config, "reports/demo/20261128T130500Z")   # from an audit folder
    plan.write("plan.json"); print(plan.digest)                  # a person reviews it
    result = apply_plan(plan, config, confirm=digest, plan_file="plan.json")
    undo = make_undo_plan(config, result.journal)                # the inverse, own digest
    apply_plan(undo, config, confirm=undo.digest, journal=...)

Modules: :mod:`.model` (operations, label sets, side models), :mod:`.digest`,
:mod:`.planning` (findings → operations), :mod:`.effects` (side effects),
:mod:`.plan` (plan files), :mod:`.states` (pair states, re-reads),
:mod:`.journal`, :mod:`.apply` (with :mod:`.writer`), :mod:`.undo`, :mod:`.result`
(the commands are in :mod:`assoc_audit.cli.fixes`).
"""

from assoc_audit.fixes.apply import apply_plan, default_journal
from assoc_audit.fixes.journal import Journal, JournalState, read_journal
from assoc_audit.fixes.model import Operation
from assoc_audit.fixes.plan import FixPlan, PlanSummary, read_plan
from assoc_audit.fixes.planning import make_plan, read_findings
from assoc_audit.fixes.result import ApplyResult, PairConflict, Verification
from assoc_audit.fixes.undo import make_undo_plan, undo_files

__all__ = [
    "ApplyResult",
    "FixPlan",
    "Journal",
    "JournalState",
    "Operation",
    "PairConflict",
    "PlanSummary",
    "Verification",
    "apply_plan",
    "default_journal",
    "make_plan",
    "make_undo_plan",
    "read_findings",
    "read_journal",
    "read_plan",
    "undo_files",
]
