"""``assoc-audit scenarios``: the pre-rollout scenario library (DESIGN §8).

Prints the scenario plan first (each scenario's expectation) and its digest.
Against the sandbox emulator the run starts at once, the data-sync simulator
doing the syncing; against anything else nothing is written unless
``--confirm`` is the plan's digest (without it: exit 1, "not run"; another
digest: exit 2), and the run waits for HubSpot's data sync (``--timeout``).
Then the results table, a summary and the clean-up line; ``scenarios.json``
and ``scenarios.csv`` go to ``--out`` (default
``reports/<name>/scenarios/<timestamp>/``).

Exit codes: 0 every scenario passed and the clean-up left nothing; 1 a
scenario failed (or could not be set up), the clean-up left records, or the
run was not confirmed; 2 an error (a wrong ``--confirm`` digest included).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assoc_audit.cli.common import add_config_argument

__all__ = ["register"]


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "scenarios",
        parents=[common],
        help="run the pre-rollout scenario library (emulator: at once; real portal: --confirm)",
        description="Create tagged sample records on both sides, link them, let the data sync "
        "run, check with the audit that each link appears (or does not, for the expected "
        "reason) on the other side, and delete everything created. Against anything but the "
        "sandbox emulator, prints the plan and its digest and writes only with --confirm.",
        epilog="Exit codes: 0 all passed, 1 a scenario failed or the run was not confirmed, "
        "2 error.",
    )
    add_config_argument(p)
    p.add_argument("--confirm", metavar="DIGEST", help="the scenario plan's digest (real portals)")
    p.add_argument(
        "--kinds",
        metavar="KINDS",
        help="only these kinds (comma-separated: round_trip, one_way, unsupported, sync_off, "
        "record_missing, duplicates, label_conflict, limit)",
    )
    p.add_argument(
        "--only", metavar="IDS", help="only these scenarios (comma-separated, e.g. S01,S07)"
    )
    p.add_argument(
        "--plan", action="store_true", help="print the plan and its digest only; write nothing"
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="where to write scenarios.json and scenarios.csv "
        "(default: reports/<name>/scenarios/<timestamp>/)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="real portals: how long to wait for HubSpot's data sync (default 900)",
    )
    p.add_argument(
        "--interval",
        type=float,
        default=20.0,
        metavar="SECONDS",
        help="real portals: how often to look for synced links (default 20)",
    )
    p.set_defaults(handler=_scenarios)


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt during the run, so the clean-up still runs."""

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _echo(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _scenarios(args: argparse.Namespace) -> int:
    from assoc_audit.config import load_config
    from assoc_audit.errors import DigestMismatch
    from assoc_audit.outputs import default_report_folder
    from assoc_audit.scenarios.plan import local_target, plan_scenarios, scenario_portals
    from assoc_audit.scenarios.runner import run_scenarios

    config = load_config(args.config)
    kinds, only = _names(args.kinds), _names(args.only)
    why = local_target(config)
    portals = {} if why is None else scenario_portals(config)
    plan = plan_scenarios(config, kinds=kinds, only=only, portals=portals)
    print(plan.render(), flush=True)
    if args.plan:
        return 0
    if args.confirm is not None and args.confirm != plan.digest:
        raise DigestMismatch(
            f"--confirm {args.confirm[:16]}… is not this scenario plan's digest; nothing was "
            "written"
        )
    if why is not None and args.confirm is None:
        _echo(f"not run: {why}. Review the plan above; to run it: --confirm {plan.digest}")
        return 1
    with _terminate_as_interrupt():
        report = run_scenarios(
            config,
            confirm=args.confirm,
            kinds=kinds,
            only=only,
            echo=_echo,
            timeout=args.timeout,
            interval=args.interval,
        )
    print(report.render(), flush=True)
    folder = args.out or default_report_folder("scenarios", root=Path("reports") / config.name)
    report.write(folder)
    print(f"report: {folder}")
    return 0 if report.passed else 1
