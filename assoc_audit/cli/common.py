"""The argparse set-up shared by the sub-command modules: config, thresholds, --allow-empty.

Every sub-command module has a ``register(subparsers, common)`` function
(:data:`assoc_audit.cli.COMMAND_MODULES`) and builds its options from these,
so the same option reads and fails the same way everywhere (DESIGN §8).
Nothing here imports the engine: ``assoc-audit --help`` stays fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from assoc_audit.errors import AssocAuditError
from assoc_audit.reasons import DEFAULT_FAIL_ON, REASONS, Reason, parse_reasons

__all__ = [
    "add_allow_empty_argument",
    "add_config_argument",
    "add_threshold_arguments",
    "thresholds",
]


def add_config_argument(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--config",
        "-c",
        type=Path,
        required=required,
        metavar="FILE",
        help="the integration config (YAML, DESIGN §5)",
    )


def add_threshold_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--fail-on`` and ``--max-findings`` (DESIGN §8) to a sub-command."""
    default = ",".join(r.value for r in DEFAULT_FAIL_ON)
    parser.add_argument(
        "--fail-on",
        metavar="REASONS",
        default=None,
        help=f"comma-separated reasons that count against --max-findings (default: {default}; "
        f"all: {', '.join(REASONS)})",
    )
    parser.add_argument(
        "--max-findings",
        metavar="N",
        default="0",
        help="exit 1 if more than N findings have a --fail-on reason (default 0)",
    )


def thresholds(args: argparse.Namespace) -> tuple[tuple[Reason, ...], int]:
    """The parsed ``--fail-on`` reasons and ``--max-findings`` N (errors: exit code 2)."""
    fail_on = parse_reasons(args.fail_on)
    text = str(args.max_findings).strip()
    try:
        limit = int(text)
    except ValueError:
        limit = -1
    if limit < 0:
        raise AssocAuditError(
            f"--max-findings: {text!r} is not a whole number >= 0", field="--max-findings"
        )
    return fail_on, limit


def add_allow_empty_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """``--allow-empty``: go on although a side read no records of an object whose baseline
    had more than 1,000 (see :mod:`assoc_audit.emptyread`)."""
    parser.add_argument(
        "--allow-empty",
        action="store_true",
        help=f"{what} even if a side read no records of an object its baseline had more than "
        "1,000 of (default: refuse, exit 2: the read may have failed silently)",
    )
