"""``assoc-audit plan`` / ``apply`` / ``undo`` (DESIGN §8).

- ``plan --config C --findings DIR [--out FILE]`` writes the plan (default
  ``DIR/plan.json``, plus ``plan.csv``) and prints its digest and summary.
- ``apply --config C --plan FILE [--confirm DIGEST] [--journal FILE]``: without
  ``--confirm`` a dry run; with the plan's digest, applies it (journal default:
  ``plan.<digest[:12]>.journal.jsonl`` beside the plan).
- ``undo --config C --journal FILE [--confirm DIGEST]``: the inverse plan of a
  finished apply (written beside the journal as ``….undo.json``), dry run or
  applied under the same rules.

Exit codes: 0 clean or dry run; 1 conflicts (nothing written, pairs listed),
failed operations or effects missing after the run; 2 errors, including a
``--confirm`` that is not the plan's digest (nothing written).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assoc_audit.cli.common import add_allow_empty_argument, add_config_argument

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.fixes.plan import FixPlan
    from assoc_audit.fixes.result import ApplyResult

__all__ = ["register"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "plan",
        parents=[common],
        help="turn an audit's actionable findings into a fix plan with a digest",
        description="Write the operations that resolve the actionable findings of an audit "
        "output folder (JSON and CSV), each with its target side, link, label, the findings "
        "it resolves and the label set seen at planning; print the plan's digest and summary.",
    )
    add_config_argument(p)
    p.add_argument(
        "--findings",
        type=Path,
        required=True,
        metavar="DIR",
        help="an audit output folder (findings.parquet/.csv and snapshot/)",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="the plan file (default DIR/plan.json; a CSV is written beside it)",
    )
    add_allow_empty_argument(p, "plan from an audit")
    p.set_defaults(handler=_plan)

    p = sub.add_parser(
        "apply",
        parents=[common],
        help="apply a fix plan (a dry run unless --confirm gives its digest)",
        description="Without --confirm, a dry run: re-read the touched pairs and print what would "
        "change. With the plan's digest: re-read, write in batches with retries, journal every "
        "outcome, verify. Resumes from the journal after a crash.",
        epilog="Exit codes: 0 done or dry run, 1 conflicts (nothing written) or failures, "
        "2 error (a wrong --confirm writes nothing).",
    )
    add_config_argument(p)
    p.add_argument("--plan", type=Path, required=True, metavar="FILE", help="the plan file")
    p.add_argument("--confirm", metavar="DIGEST", help="the plan's digest: write for real")
    p.add_argument(
        "--journal",
        type=Path,
        metavar="FILE",
        help="the journal (default: plan.<digest>.journal.jsonl beside the plan)",
    )
    p.set_defaults(handler=_apply)

    p = sub.add_parser(
        "undo",
        parents=[common],
        help="undo what an apply journal records (a dry run unless --confirm)",
        description="Build the inverse plan of a finished apply from its journal (its own "
        "digest; written beside the journal as ….undo.json) and apply it under the same rules.",
        epilog="Exit codes: 0 done or dry run, 1 conflicts (nothing written) or failures, "
        "2 error (a wrong --confirm writes nothing).",
    )
    add_config_argument(p)
    p.add_argument(
        "--journal",
        type=Path,
        required=True,
        metavar="FILE",
        help="the journal of the apply to undo",
    )
    p.add_argument("--confirm", metavar="DIGEST", help="the undo plan's digest: write for real")
    p.set_defaults(handler=_undo)


def _plan(args: argparse.Namespace) -> int:
    from assoc_audit.config import load_config
    from assoc_audit.fixes.planning import make_plan

    config = load_config(args.config)
    plan = make_plan(config, args.findings, allow_empty=args.allow_empty)
    out = args.out if args.out is not None else args.findings / "plan.json"
    plan.write(out)
    print(f"plan: {out}")
    print(f"digest: {plan.digest}")
    for line in plan.summary().lines():
        print(line)
    if len(plan):
        print(
            f"review it, then apply: assoc-audit apply --config {args.config} --plan {out} "
            f"--confirm {plan.digest}"
        )
    return 0


def _apply(args: argparse.Namespace) -> int:
    from assoc_audit.config import load_config
    from assoc_audit.fixes.plan import read_plan

    config = load_config(args.config)
    plan = read_plan(args.plan)
    heading = f"plan: {args.plan} ({plan.kind}, digest {plan.digest})"
    result = _run_plan(args, config, plan, heading, journal=args.journal, plan_file=args.plan)
    if result.journal is not None and not result.dry_run and result.kind == "apply":
        print(f"to undo: assoc-audit undo --config {args.config} --journal {result.journal}")
    return result.exit_code


def _undo(args: argparse.Namespace) -> int:
    from assoc_audit.config import load_config
    from assoc_audit.fixes.undo import make_undo_plan, undo_files

    config = load_config(args.config)
    plan = make_undo_plan(config, args.journal)
    plan_file, journal = undo_files(args.journal)
    plan.write(plan_file)
    heading = f"undo plan: {plan_file} (digest {plan.digest})"
    return _run_plan(args, config, plan, heading, journal=journal, plan_file=plan_file).exit_code


def _run_plan(
    args: argparse.Namespace,
    config: IntegrationConfig,
    plan: FixPlan,
    heading: str,
    *,
    journal: Path | str | None,
    plan_file: Path | str,
) -> ApplyResult:
    """Apply (or, without ``--confirm``, dry-run) ``plan``, printing what it did; a dry run
    first shows the plan's summary under ``heading``."""
    from assoc_audit.fixes.apply import apply_plan

    if args.confirm is None:
        print(heading)
        for line in plan.summary().lines():
            print(line)
    result = apply_plan(
        plan, config, confirm=args.confirm, journal=journal, plan_file=plan_file, progress=None
    )
    for line in result.lines():
        print(line)
    return result
