"""Undo: the inverse plan of a finished apply, built from its journal (DESIGN §7).

The journal keeps the label sets of every touched pair read just before the
first write (``before``) and just after the last run (``after`` in its ``end``
record). The inverse plan takes each pair this apply wrote to back from
``after`` to ``before``: labels it gained are removed, labels it lost are
created (one removed and one created label on a pair make one ``relabel``),
with every side effect listed as in any plan. Side effects the side applied by
its own rules are undone too, since the target is the pair's original label
set, not only the inverse of each operation.

Its targets are resolved from the current config, with the portal ids the
journal recorded (the apply verified them live); they must be part of the
targets the journal records (same locations, tables and label mappings), and
the apply of the undo plan checks the live portals again. The inverse plan is
a pure function of the journal and the config, so its digest is the same each
time it is computed: ``undo`` without ``--confirm`` prints it, and
``undo --confirm DIGEST`` applies it (with its own journal, resumable the same
way). An apply that did not finish (no ``end`` record after its last
operation) must be finished first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from assoc_audit.errors import PlanError
from assoc_audit.fixes.effects import Draft, expand, finalise
from assoc_audit.fixes.journal import read_journal
from assoc_audit.fixes.model import SIDES, PairKey, SideModel, label_key
from assoc_audit.fixes.plan import FixPlan
from assoc_audit.fixes.states import States
from assoc_audit.fixes.targets import difference_within, resolve_targets

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig

__all__ = ["make_undo_plan", "undo_files"]


def undo_files(journal: Path | str) -> tuple[Path, Path]:
    """Where ``undo`` keeps the inverse plan and its journal, beside the apply journal:
    ``plan.<digest>.journal.jsonl`` → ``plan.<digest>.undo.json`` and
    ``plan.<digest>.undo.journal.jsonl``."""
    path = Path(journal)
    name = path.name
    for suffix in (".jsonl", ".journal"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return path.with_name(f"{name}.undo.json"), path.with_name(f"{name}.undo.journal.jsonl")


def _diff(
    key: PairKey, current: frozenset[str | None], target: frozenset[str | None]
) -> list[Draft]:
    side, fo, fid, to, tid = key
    gone = sorted(current - target, key=label_key)
    new = sorted(target - current, key=label_key)
    labelled_gone = [x for x in gone if x is not None]
    labelled_new = [x for x in new if x is not None]
    if len(labelled_gone) == 1 and len(labelled_new) == 1 and len(gone) + len(new) == 2:
        return [Draft(side, "relabel", fo, fid, to, tid, labelled_new[0], labelled_gone[0])]
    drafts = [Draft(side, "remove", fo, fid, to, tid, x) for x in gone]
    drafts += [Draft(side, "create", fo, fid, to, tid, x) for x in new]
    return drafts


def make_undo_plan(config: IntegrationConfig, journal: Path | str) -> FixPlan:
    """The inverse plan of the apply recorded in ``journal`` (see the module docstring)."""
    path = Path(journal)
    state = read_journal(path)
    header = state.header
    if header is None:
        raise PlanError(f"{path}: the journal is empty: nothing was applied", file=str(path))
    if not state.ended or state.end is None:
        raise PlanError(
            f"{path}: the apply this journal records did not finish; run the same apply "
            "(same plan and --confirm) again to finish it, then undo",
            file=str(path),
        )
    recorded = dict(header.get("targets") or {})
    models: dict[str, SideModel] = {s: SideModel.of(config, s) for s in SIDES}
    before, after = States(models), States(models)
    try:
        before.load_json(state.before or {})
        after.load_json(state.end.get("after") or {})
    except (ValueError, TypeError) as exc:
        raise PlanError(f"{path}: malformed pair states: {exc}", file=str(path)) from None
    wrote = state.attempted | {n for n, s in state.status.items() if s == "ok"}
    scope: set[PairKey] = set()
    for n in wrote:
        rec = state.ops.get(n)
        if rec is None:
            continue
        scope.add((rec["side"], rec["from_object"], rec["from_id"], rec["to_object"], rec["to_id"]))
    drafts: list[Draft] = []
    for key in sorted(scope):
        current, target = after.labels(key), before.labels(key)
        if current != target:
            drafts += _diff(key, current, target)
    operations = finalise(expand(drafts, after, exact=True), after)
    portals: dict[str, Any] = {s: dict(recorded.get(s) or {}).get("portal_id") for s in SIDES}
    targets = resolve_targets(config, operations, portals)
    difference = difference_within(recorded, targets)
    if difference is not None:
        raise PlanError(
            f"{path}: this journal was written for other targets than the config writes to: "
            f"{difference}",
            file=str(path),
        )
    return FixPlan(
        kind="undo",
        operations=operations,
        targets=targets,
        integration=config.name,
        created_at=str(state.end.get("at") or header.get("created_at") or ""),
        source={"journal": str(path.resolve()), "plan_digest": header.get("digest")},
    )
