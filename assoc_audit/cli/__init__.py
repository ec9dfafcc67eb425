"""The ``assoc-audit`` command line (DESIGN §8).

Exit codes are a contract: 0 clean, 1 threshold exceeded (or an operation
refused or failed, a scenario failed), 2 error. An error always wins. Expected
errors (:class:`~assoc_audit.errors.AssocAuditError`) print one line (or a
config summary plus one line per problem) and no traceback unless ``--debug``.

One module per command group, each registering its sub-commands through a
``register(subparsers, parent)`` function listed in :data:`COMMAND_MODULES`:
:mod:`.check`, :mod:`.audit`, :mod:`.notebooks` (``run``, ``demo``, ``doc``),
:mod:`.fixes` (``plan``, ``apply``, ``undo``), :mod:`.sandbox`,
:mod:`.scenarios`; options they share are built once in :mod:`.common`. This
module only wires them together; command modules import the engine inside
their handlers, so ``assoc-audit --help`` stays fast. The emulator's own
:class:`~assoc_audit.sandbox.errors.SandboxError` is treated like an
:class:`~assoc_audit.errors.AssocAuditError`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from assoc_audit import __version__
from assoc_audit.errors import AssocAuditError, SandboxError
from assoc_audit.secrets import redact_text

__all__ = ["COMMAND_MODULES", "EXIT_ERROR", "EXIT_OK", "EXIT_THRESHOLD", "main"]

EXIT_OK = 0
EXIT_THRESHOLD = 1
EXIT_ERROR = 2

#: Modules that add sub-commands, in the order they appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "assoc_audit.cli.check",
    "assoc_audit.cli.audit",
    "assoc_audit.cli.notebooks",
    "assoc_audit.cli.fixes",
    "assoc_audit.cli.sandbox",
    "assoc_audit.cli.scenarios",
)

Handler = Callable[[argparse.Namespace], int]


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact_text(super().format(record))


def _configure_logging(debug: bool, stream: TextIO) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(_RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("assoc_audit")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    root.propagate = False


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show debug logs and full tracebacks",
    )
    parser = argparse.ArgumentParser(
        prog="assoc-audit",
        description="Audit and repair HubSpot association mapping with data sync, link by link.",
        epilog="Exit codes: 0 clean, 1 threshold exceeded or operation refused/failed, 2 error.",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"assoc-audit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    _configure_logging(debug, sys.stderr)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return handler(args)
    except (AssocAuditError, SandboxError) as exc:
        if debug:
            raise
        for line in exc.lines():
            print(redact_text(line), file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # an unexpected error is still an error (exit 2), told briefly
        if debug:
            raise
        text = redact_text(f"{type(exc).__name__}: {exc}").splitlines()[0]
        print(f"internal error: {text} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_ERROR
