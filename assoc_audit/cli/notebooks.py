"""Sub-commands around notebooks and documents: ``run``, ``demo`` and ``doc`` (DESIGN §8).

``assoc-audit run NOTEBOOK --config C [-p NAME VALUE]… [--fail-on REASONS]
[--max-findings N]`` executes ``notebooks/NOTEBOOK.ipynb`` headlessly into
``reports/<name>/<timestamp>/`` (see :mod:`assoc_audit.notebook.runner`). Exit codes:
2 if a cell fails (the message names it) or on any other error; otherwise 1
if and only if the notebook wrote an audit summary with more than N findings
having a ``--fail-on`` reason; else 0.

``assoc-audit demo`` seeds the sandbox and runs the audit notebook on it
(:mod:`assoc_audit.notebook.demorun`); exit 0 when it worked, whatever it found.

``assoc-audit doc --config C [--from-run DIR] [--out DIR]`` writes the
integration set-up document (:mod:`assoc_audit.notebook.setup_doc`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from assoc_audit.cli.common import add_config_argument, add_threshold_arguments, thresholds
from assoc_audit.reasons import REASONS, Reason

__all__ = ["register", "summary_lines"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "run",
        parents=[common],
        help="execute a notebook headlessly into a report folder (papermill)",
        description="Execute notebooks/NOTEBOOK.ipynb with papermill into "
        "reports/<name>/<timestamp>/: the executed notebook, an HTML copy with the code hidden, "
        "the audit outputs, and a row in reports/<name>/history.parquet. The previous run of the "
        "same integration is passed as the baseline (deletion detection).",
        epilog="Exit codes: 0 clean, 1 more than N findings with a --fail-on reason, "
        "2 error (a failing cell is named).",
    )
    p.add_argument("notebook", metavar="NOTEBOOK", help="audit, mismatches, integration_setup, …")
    add_config_argument(p)
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a notebook parameter (only parameters the notebook declares; repeatable)",
    )
    add_threshold_arguments(p)
    _add_run_options(p)
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="baseline run folder (default: the previous run of this integration)",
    )
    p.set_defaults(handler=_run)

    d = sub.add_parser(
        "demo",
        parents=[common],
        help="audit the bundled demo portal and app offline; prints the report's path",
        description="Start the sandbox emulator in-process, seed the demo portal and the demo app "
        "(Acme CRM), run notebooks/audit.ipynb headlessly and print the HTML report's path and "
        "the summary. Uses the sandbox token only, even when HUBSPOT_ACCESS_TOKEN is set.",
    )
    d.add_argument(
        "--scale",
        type=int,
        default=2000,
        metavar="N",
        help="demo portal size in base contacts (default 2000)",
    )
    _add_run_options(d)
    d.set_defaults(handler=_demo)

    doc = sub.add_parser(
        "doc",
        parents=[common],
        help="write the integration set-up document (Markdown and HTML)",
        description="Write integration-setup.md and integration-setup.html: objects and their "
        "sync directions, match rules, association pairs and labels with their app equivalents, "
        "unsupported ones, limits and known limitations, with what the portal reports (its labels "
        "and limits, read live or from a run's snapshot).",
    )
    add_config_argument(doc)
    doc.add_argument(
        "--from-run",
        type=Path,
        metavar="DIR",
        help="describe the portal from a previous run's snapshot instead of reading it",
    )
    doc.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="output folder (default: reports/<name>/)",
    )
    doc.add_argument(
        "--reports-dir", type=Path, default=Path("reports"), metavar="DIR", help=argparse.SUPPRESS
    )
    doc.set_defaults(handler=_doc)


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--reports-dir",
        type=Path,
        default=Path("reports"),
        metavar="DIR",
        help="where report folders go (default: reports/ under the current directory)",
    )
    p.add_argument(
        "--cell-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="fail a cell that runs longer (default 600)",
    )
    p.add_argument(
        "--kernel-timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="fail when the kernel does not start within this time (default 120)",
    )


def summary_lines(
    summary: Mapping[str, Any], fail_on: tuple[Reason, ...], max_findings: int
) -> list[str]:
    """A few lines for a terminal from a ``summary.json`` mapping."""
    by_reason = dict(summary.get("by_reason") or {})
    findings = int(summary.get("findings_total", summary.get("findings", 0)) or 0)
    failing = sum(int(by_reason.get(r.value, 0) or 0) for r in fail_on)
    lines = [
        f"{summary.get('name', '?')}: {findings:,} finding{'s' if findings != 1 else ''}, "
        f"{int(summary.get('links_in_sync', 0) or 0):,} links in sync, {failing:,} counting "
        f"against --max-findings {max_findings}"
    ]
    failing_names = {r.value for r in fail_on}
    for reason in REASONS:
        n = int(by_reason.get(reason, 0) or 0)
        if n:
            mark = "*" if reason in failing_names else " "
            lines.append(f"  {mark} {reason:<20} {n:,}")
    return lines


def _run(args: argparse.Namespace) -> int:
    fail_on, max_findings = thresholds(args)
    from assoc_audit.notebook.runner import run_notebook

    given = {name: value for name, value in args.parameter}
    result = run_notebook(
        args.notebook,
        config_path=args.config,
        parameters=given,
        reports_dir=args.reports_dir,
        baseline_dir=args.baseline,
        fail_on=fail_on if args.fail_on is not None else None,
        max_findings=max_findings,
        cell_timeout=args.cell_timeout,
        kernel_timeout=args.kernel_timeout,
    )
    _print_run(result.summary, fail_on, max_findings, result.folder, result.html)
    return result.exit_code(fail_on, max_findings)


def _print_run(
    summary: Mapping[str, Any],
    fail_on: tuple[Reason, ...],
    max_findings: int,
    folder: Path,
    html: Path,
    echo: Callable[[str], None] = print,
) -> None:
    if "by_reason" in summary:
        for line in summary_lines(summary, fail_on, max_findings):
            echo(line)
    echo(f"run folder: {folder}")
    echo(f"report: {html}")


def _demo(args: argparse.Namespace) -> int:
    from assoc_audit.notebook.demorun import run_demo
    from assoc_audit.reasons import DEFAULT_FAIL_ON

    result = run_demo(
        scale=args.scale,
        reports_dir=args.reports_dir,
        cell_timeout=args.cell_timeout,
        kernel_timeout=args.kernel_timeout,
    )
    _print_run(result.summary, DEFAULT_FAIL_ON, 0, result.folder, result.html)
    return 0


def _doc(args: argparse.Namespace) -> int:
    from assoc_audit.config import load_config
    from assoc_audit.notebook.setup_doc import build_setup_doc, portal_from_folder, read_portal

    config = load_config(args.config)
    portal = portal_from_folder(args.from_run) if args.from_run else read_portal(config)
    doc = build_setup_doc(config, portal)
    folder = args.out if args.out is not None else args.reports_dir / config.name
    md, html = doc.write(folder)
    print(f"{config.name}: integration set-up document")
    print(f"  {md}")
    print(f"  {html}")
    return 0
