"""The ``assoc-audit audit`` command (DESIGN §8).

``assoc-audit audit --config C [--out DIR] [--baseline DIR] [--fail-on REASONS]
[--max-findings N]`` runs an audit without notebooks, writes DESIGN §6's
outputs (default folder ``reports/<name>/<timestamp>/`` under the current
directory, timestamp like ``20261128T130500Z`` in UTC) and prints a short
summary. Exit code 1 if and only if more than N findings (default 0) have one
of the ``--fail-on`` reasons (default: all but ``object_sync_off`` and
``unsupported_in_app``); an unknown reason, a negative N or any other error is
exit code 2, checked before anything is read. With ``--baseline``, a side that
read no records of an object the baseline had more than 1,000 of is an error
(exit 2, nothing written) unless ``--allow-empty``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assoc_audit.cli.common import (
    add_allow_empty_argument,
    add_config_argument,
    add_threshold_arguments,
    thresholds,
)
from assoc_audit.reasons import Reason

if TYPE_CHECKING:
    from assoc_audit.audit import AuditResult

__all__ = ["print_summary", "register"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "audit",
        parents=[common],
        help="run an audit and write findings, records and a summary",
        description="Match records, diff both sides' association links and explain every "
        "one-sided link with exactly one reason. Writes findings.csv/.parquet, records.csv, "
        "summary.json and snapshot/ to the output folder.",
        epilog="Exit codes: 0 clean, 1 more than N findings with a --fail-on reason, 2 error.",
    )
    add_config_argument(p)
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: reports/<name>/<timestamp>/ under the current directory)",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="a previous run's output folder: enables deletion detection",
    )
    add_threshold_arguments(p)
    add_allow_empty_argument(p, "audit")
    p.set_defaults(handler=_audit)


def print_summary(
    result: AuditResult,
    folder: Path | None,
    fail_on: tuple[Reason, ...],
    max_findings: int,
    echo: Callable[[str], None] = print,
) -> None:
    """A few lines for a terminal: totals, counts by reason, the output folder."""
    summary = result.summary
    failing = summary.failing(fail_on)
    echo(
        f"{summary.name}: {summary.findings} finding{'s' if summary.findings != 1 else ''}, "
        f"{summary.in_sync} links in sync, {failing} counting against --max-findings "
        f"{max_findings}"
    )
    for reason, n in summary.by_reason.items():
        if n:
            mark = "*" if reason in fail_on else " "
            echo(f"  {mark} {reason:<20} {n}")
    if folder is not None:
        echo(f"report: {folder}")


def _audit(args: argparse.Namespace) -> int:
    fail_on, max_findings = thresholds(args)
    from assoc_audit.audit import run_audit
    from assoc_audit.config import load_config
    from assoc_audit.outputs import default_report_folder

    config = load_config(args.config)
    folder = args.out if args.out is not None else default_report_folder(config.name)
    result = run_audit(
        config, baseline=args.baseline, out=folder, fail_on=fail_on, allow_empty=args.allow_empty
    )
    print_summary(result, folder, fail_on, max_findings)
    return 1 if result.exceeds(fail_on, max_findings) else 0
