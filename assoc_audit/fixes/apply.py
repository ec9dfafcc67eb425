"""Applying a fix plan (DESIGN §7, ``assoc-audit apply``/``undo``).

:func:`apply_plan` without ``confirm`` is a dry run: it re-reads the touched
pairs and says what would be written. Both first resolve the plan's targets
again from the current config and the live portals (:mod:`.targets`): any
difference from the plan's refuses it, nothing written (exit 2). With
``confirm`` equal to the plan's digest, it holds the lock of every target it
writes (:mod:`.lock`: a second apply to the same target exits 2 at once,
whatever its journal) for the whole run and:

1. re-reads the touched pairs of the operations not yet settled in the
   journal; a pair whose labels are neither those seen at planning nor ones the
   plan's operations on that pair lead to is a conflict: nothing is written and
   the pairs are listed (exit 1). Pairs this apply already wrote to (a resumed
   run) are exempt: a side may apply its own rules to a write (an app moving a
   person's only organization).
2. journals operations already in effect as ``already`` (``ok`` when an
   interrupted run had sent them), then writes the rest through the connectors,
   side by side: removes first (label removals, then unlabeled links), then
   creates; a relabel removes its old label, then adds the new one. Operations
   go in chunks of up to ``chunk_size`` record pairs of one object pair (the
   connectors batch them at the API limits); each chunk's intent is journaled
   before it is sent and each operation's outcome right after; rows that fail
   are retried ``retries`` times. Implied operations (HubSpot side effects) are
   not sent: they share their cause's outcome.
3. reads the touched pairs again and reports what is in effect, which findings
   are resolved, and pairs a side changed beyond the plan; the ``end`` record
   keeps those label sets for ``undo``.

A journal makes the run resumable: settled operations are never sent again;
an operation journaled as sent but not settled is re-checked against the live
side first. A finished plan applied again writes nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assoc_audit.errors import DigestMismatch, PlanError
from assoc_audit.fixes.effects import after_states
from assoc_audit.fixes.journal import Journal, JournalState, now_text, read_journal
from assoc_audit.fixes.lock import target_locks
from assoc_audit.fixes.model import SIDES, Operation, PairKey, SideModel, format_labels
from assoc_audit.fixes.plan import FixPlan
from assoc_audit.fixes.result import ApplyResult, PairConflict, Verification
from assoc_audit.fixes.states import States, read_states
from assoc_audit.fixes.targets import (
    check_targets,
    hubspot_sides,
    portal_ids_of,
    resolve_targets,
    written_sides,
)
from assoc_audit.fixes.writer import Progress, Run

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.connectors.base import Connector

__all__ = ["apply_plan", "default_journal"]

_PREVIEW = 10


def default_journal(plan_file: Path | str, digest: str) -> Path:
    """The journal beside a plan file: ``plan.json`` → ``plan.<digest[:12]>.journal.jsonl``."""
    path = Path(plan_file)
    stem = path.stem if path.suffix == ".json" else path.name
    return path.with_name(f"{stem}.{digest[:12]}.journal.jsonl")


def _conflicts(
    plan: FixPlan, states: States, pairs: Sequence[PairKey], models: Mapping[str, SideModel]
) -> list[PairConflict]:
    by_pair: dict[PairKey, list[Operation]] = {}
    for op in plan.operations:
        by_pair.setdefault(op.pair, []).append(op)
    out = []
    for key in pairs:
        ops = by_pair[key]
        model = models[key[0]]
        before = model.normalise(ops[0].before)
        now = states.labels(key)
        created = {x for op in ops for x in op.creates()}
        removed = {x for op in ops for x in op.removes()}
        if not ((now - before) <= created and (before - now) <= removed):
            base = States(models)
            base.put(key, before)
            target = after_states(ops, base)[key]
            out.append(PairConflict(key, before, now, target))
    return out


def _models(config: IntegrationConfig) -> dict[str, SideModel]:
    return {s: SideModel.of(config, s) for s in SIDES}


def _verify(
    plan: FixPlan,
    states: States,
    settled: Mapping[int, str],
    settled_now: set[int],
) -> Verification:
    expected = [op for op in plan.operations if op.op_id in settled]
    missing = [op.op_id for op in expected if not op.in_effect(states.labels(op.pair))]
    now = [n for n in missing if n in settled_now]
    earlier = [n for n in missing if n not in settled_now]
    missing_set = set(missing)
    findings: dict[str, bool] = {}
    for op in plan.operations:
        ok = op.op_id in settled and op.op_id not in missing_set
        for f in op.finding_ids:
            findings[f] = findings.get(f, True) and ok
    base = States(states.models)
    for op in plan.operations:
        base.put(op.pair, op.before)
    target = after_states(expected, base)
    pairs = sorted({op.pair for op in plan.operations})
    other = []
    for key in pairs:
        want = target.get(key, base.labels(key))
        got = states.labels(key)
        if want != got:
            other.append(f"{key[0]} {key[1]} {key[2]} → {key[3]} {key[4]}: planned "
                         f"{format_labels(want)}, now {format_labels(got)}")  # fmt: skip
    return Verification(
        operations_in_effect=len(expected) - len(missing),
        operations_expected=len(expected),
        missing=tuple(now),
        missing_earlier=tuple(earlier),
        findings_resolved=sum(findings.values()),
        findings_total=len(findings),
        pairs_checked=len(pairs),
        pairs_as_planned=len(pairs) - len(other),
        pairs_other=tuple(other),
    )


def _progress_bar(enabled: bool | None) -> tuple[Progress | None, Callable[[], None]]:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None, lambda: None
    from tqdm.auto import tqdm

    bar = tqdm(total=0, unit="op", desc="apply", leave=False)

    def update(what: str, done: int, total: int) -> None:
        bar.total = total
        bar.set_description(what)
        bar.n = done
        bar.refresh()

    return update, bar.close


def apply_plan(
    plan: FixPlan,
    config: IntegrationConfig,
    *,
    confirm: str | None = None,
    journal: Path | str | None = None,
    plan_file: Path | str | None = None,
    connectors: Mapping[str, Connector] | None = None,
    chunk_size: int = 1000,
    retries: int = 2,
    progress: bool | None = False,
) -> ApplyResult:
    """Dry-run or apply ``plan`` (see the module docstring).

    ``journal`` defaults to :func:`default_journal` beside ``plan_file`` (one
    of them is needed to confirm). ``connectors`` (side → connector) default
    to :func:`~assoc_audit.connectors.connector_for`, opened only for the sides
    the plan writes and closed at the end. Raises
    :class:`~assoc_audit.errors.DigestMismatch` (exit 2, nothing written) for a
    wrong digest or when the config now resolves other targets (:mod:`.targets`),
    and :class:`~assoc_audit.errors.TargetLocked` (exit 2) when another apply
    holds a target's lock (:mod:`.lock`).
    """
    # the config alone first (no connection needed), then with the live portals' ids
    planned: dict[str, Any] = {s: dict(plan.targets.get(s) or {}).get("portal_id") for s in SIDES}
    check_targets(plan.targets, resolve_targets(config, plan.operations, planned), confirm=confirm)
    if confirm is not None and confirm.strip().lower() != plan.digest:
        raise DigestMismatch(
            f"--confirm {confirm.strip()[:16]}… is not this plan's digest; nothing was written "
            "(review the plan with a dry run and confirm with the digest it prints)"
        )
    if journal is None and plan_file is not None:
        journal = default_journal(plan_file, plan.digest)
    if confirm is not None and journal is None:
        raise PlanError("a journal file is needed to apply a plan")
    journal_path = Path(journal) if journal is not None else None
    models = _models(config)
    sides = set(written_sides(plan.operations))
    with ExitStack() as stack:
        conns: dict[str, Connector] = dict(connectors or {})
        for side in sorted(sides - set(conns)):
            from assoc_audit.connectors import connector_for

            conns[side] = stack.enter_context(closing(connector_for(config, side, progress=False)))
        portals = portal_ids_of(config, sorted(sides & set(hubspot_sides(config))), conns)
        check_targets(
            plan.targets, resolve_targets(config, plan.operations, portals), confirm=confirm
        )
        open_journal: Journal | None = None
        if confirm is not None and journal_path is not None:
            locks = target_locks(
                plan.targets, tuple(sorted(sides)), journal=journal_path, plan_file=plan_file
            )
            stack.enter_context(locks)
            open_journal = stack.enter_context(_open_journal(plan, journal_path, plan_file))
            known = open_journal.state
        else:
            known = _known(plan, journal_path)
        usage_before: dict[str, Any] = {s: conns[s].usage() for s in sides}
        return _apply(
            plan,
            models,
            conns,
            known,
            open_journal,
            journal_path,
            usage_before,
            chunk_size=chunk_size,
            retries=retries,
            progress=progress,
            stack=stack,
        )


def _open_journal(plan: FixPlan, path: Path, plan_file: Path | str | None) -> Journal:
    return Journal.open(
        path,
        digest=plan.digest,
        kind=plan.kind,
        targets=plan.targets,
        operations=len(plan),
        plan_file=str(plan_file) if plan_file is not None else None,
    )


def _known(plan: FixPlan, path: Path | None) -> JournalState:
    """What a dry run knows from the plan's journal (nothing when it is another plan's)."""
    if path is not None and path.exists():
        known = read_journal(path)
        if known.digest == plan.digest:
            return known
    return JournalState(path or Path("-"))


def _apply(
    plan: FixPlan,
    models: Mapping[str, SideModel],
    conns: Mapping[str, Connector],
    known: JournalState,
    journal: Journal | None,
    journal_path: Path | None,
    usage_before: Mapping[str, Any],
    *,
    chunk_size: int,
    retries: int,
    progress: bool | None,
    stack: ExitStack,
) -> ApplyResult:
    settled_before = dict(known.settled)
    unsettled = [op for op in plan.operations if op.op_id not in settled_before]
    touched = sorted({op.pair for op in unsettled})
    states = States(models)
    wanted: dict[str, list[PairKey]] = {}
    for key in touched:
        wanted.setdefault(key[0], []).append(key)
    read_states(states, conns, wanted)
    written_before = {op.pair for op in plan.operations if op.op_id in known.attempted}
    conflicts = _conflicts(plan, states, [k for k in touched if k not in written_before], models)
    in_effect = [op for op in unsettled if op.in_effect(states.labels(op.pair))]
    todo = [op for op in unsettled if not op.in_effect(states.labels(op.pair))]

    common: dict[str, Any] = {
        "kind": plan.kind,
        "digest": plan.digest,
        "journal": journal_path,
        "operations": len(plan),
        "settled_before": len(settled_before),
    }
    if conflicts:
        return ApplyResult(dry_run=journal is None, conflicts=tuple(conflicts), **common)
    if journal is None:
        preview = [op.describe() for op in todo if not op.implied][:_PREVIEW]
        return ApplyResult(
            dry_run=True,
            already=len(in_effect),
            to_write=len(todo),
            preview=tuple(preview),
            **common,
        )
    update, close_bar = _progress_bar(progress)
    stack.callback(close_bar)
    run = Run(plan, conns, journal, chunk_size=chunk_size, retries=retries, progress=update)
    if unsettled:
        run.ensure_session()
        if known.before is None:
            journal.append([{"t": "before", "states": states.to_json(touched)}])
        for op in in_effect:
            written = op.op_id in known.attempted
            run.status[op.op_id] = "ok" if written else "already"
            run.messages[op.op_id] = "found done after an interrupted run" if written else None
        run.record(in_effect)
        run.run(todo)
    verification, counts, failed = _finish(plan, models, conns, journal, run, known, unsettled)
    usage = {s: _since(conns[s].usage(), usage_before[s]) for s in usage_before}
    return ApplyResult(
        dry_run=False,
        written=counts["written"],
        already=counts["already"],
        failed=failed,
        verification=verification,
        api=usage,
        **common,
    )


def _finish(
    plan: FixPlan,
    models: Mapping[str, SideModel],
    conns: Mapping[str, Connector],
    journal: Journal,
    run: Run,
    known: JournalState,
    unsettled: Sequence[Operation],
) -> tuple[Verification, dict[str, int], tuple[tuple[int, str], ...]]:
    """Read every touched pair again, verify, and journal the ``end`` record (step 3)."""
    settled_now = {n for n, s in run.status.items() if s in ("ok", "already")}
    after = States(models)
    all_pairs: dict[str, list[PairKey]] = {}
    for key in sorted({op.pair for op in plan.operations}):
        all_pairs.setdefault(key[0], []).append(key)
    read_states(after, conns, all_pairs)
    verification = _verify(plan, after, journal.state.settled, settled_now)
    failed = tuple(
        (n, str(journal.state.messages.get(n) or "failed"))
        for n, s in sorted(journal.state.status.items())
        if s == "failed"
    )
    counts = {
        "written": sum(1 for s in run.status.values() if s == "ok"),
        "already": sum(1 for s in run.status.values() if s == "already"),
        "failed": len(failed),
    }
    if unsettled or not known.ended:
        run.ensure_session()
        journal.append(
            [
                {
                    "t": "end",
                    "session": run.session,
                    "at": now_text(),
                    "counts": counts,
                    "verification": verification.to_dict(),
                    "after": after.to_json(sorted({op.pair for op in plan.operations})),
                }
            ]
        )
    return verification, counts, failed


def _since(now: Any, before: Any) -> dict[str, Any]:
    data: dict[str, Any] = now.to_dict()
    old: dict[str, Any] = before.to_dict()
    out: dict[str, Any] = {
        "calls": data["calls"] - old["calls"],
        "retries": data["retries"] - old["retries"],
        "by_endpoint": {},
    }
    for name, use in data["by_endpoint"].items():
        prev = old["by_endpoint"].get(name, {"calls": 0, "retries": 0})
        calls = use["calls"] - prev["calls"]
        if calls:
            out["by_endpoint"][name] = {"calls": calls, "retries": use["retries"] - prev["retries"]}
    return out
