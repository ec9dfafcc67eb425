"""``assoc-audit sandbox serve``: run the emulator as a service (DESIGN §8).

Each ``--token`` is one portal that accepts that token (default: the fixed,
non-secret ``sandbox-token``, printed at start-up). ``--seed`` fills every
portal before the port opens:

- ``none`` (the default without ``--scale``): portals start empty, or keep
  what ``--data`` holds;
- ``synthetic`` (the default when ``--scale`` is given): a synthetic portal of
  ``--scale`` contacts (default 1000), with companies, deals, tickets,
  labels and primaries (:mod:`assoc_audit.demo.synthetic`);
- ``demo``: the demo portal (``assoc_audit.demo.portal.seed_demo_portal``,
  ``--scale``, when given, passed as its ``scale``), and the demo's app side in
  ``--app-dir`` (default ``.sandbox/demo``): the Acme CRM database, the ground
  truth, and ``demo.yaml`` pointing at this server, ready for
  ``assoc-audit audit --config <app-dir>/demo.yaml``.

Seeding replaces what a portal held (also in a ``--data`` file). Tokens that
look like real HubSpot tokens (``pat-…``, or the value of ``HUBSPOT_ACCESS_TOKEN``)
are refused (:func:`.tokens.token_refusal`, the rule ``POST /_sandbox/portals``
shares): the sandbox takes sandbox tokens only. Only the default token is
printed; tokens given with ``--token`` are counted, never echoed.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING, Any

from assoc_audit.errors import SandboxError

if TYPE_CHECKING:
    from assoc_audit.sandbox.models import SandboxBackend

__all__ = ["register"]

DEFAULT_TOKEN = "sandbox-token"  # the same as assoc_audit.sandbox.server.DEFAULT_TOKEN


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    sandbox = sub.add_parser(
        "sandbox",
        parents=[common],
        help="the HubSpot sandbox portal emulator",
        description="The sandbox portal emulator: a HubSpot CRM portal on loopback.",
    )
    actions = sandbox.add_subparsers(dest="sandbox_command", metavar="ACTION")
    p = actions.add_parser(
        "serve",
        parents=[common],
        help="serve the emulator until interrupted",
        description="Serve the emulator on 127.0.0.1 until interrupted (Ctrl-C). "
        "Point the official client at it with HubSpot(access_token=TOKEN, host=URL, base_url=URL).",
    )
    p.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free port)")
    p.add_argument("--data", metavar="FILE", help="SQLite file that keeps the portals across runs")
    p.add_argument(
        "--token",
        action="append",
        metavar="T",
        help=f"a sandbox token; one portal per token (repeatable; default {DEFAULT_TOKEN})",
    )
    p.add_argument(
        "--seed",
        choices=("demo", "synthetic", "none"),
        help="fill the portals first (default: none, or synthetic with --scale)",
    )
    p.add_argument(
        "--scale",
        type=int,
        metavar="N",
        help="synthetic: contacts to create (default 1000); demo: its scale (default: the demo's)",
    )
    p.add_argument(
        "--rate-limit",
        default="190/10s",
        metavar="N/10s",
        help="requests per token per 10 s, or 'off' (default 190/10s)",
    )
    p.add_argument(
        "--faults",
        type=float,
        default=0.0,
        metavar="RATE",
        help="share of API requests (0-1) that get a 429, a 5xx, a slow answer or a dropped "
        "connection (default 0)",
    )
    p.add_argument("--fault-seed", type=int, default=0, metavar="S", help="fault pattern seed")
    p.add_argument(
        "--app-dir",
        default=".sandbox/demo",
        metavar="DIR",
        help="--seed demo: where to write the demo app (acme.db), its ground truth and a ready "
        "demo.yaml (default .sandbox/demo)",
    )
    p.set_defaults(handler=_serve)
    sandbox.set_defaults(handler=lambda args: _usage(sandbox))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _seed_mode(args: argparse.Namespace) -> str:
    if args.seed is None:
        return "synthetic" if args.scale is not None else "none"
    if args.seed == "none" and args.scale is not None:
        raise SandboxError("--scale needs --seed synthetic or --seed demo")
    return str(args.seed)


def _prepare(mode: str, scale: int | None, tokens: list[str], seeded: list[Any]) -> Any:
    def prepare(backend: SandboxBackend) -> None:
        if mode == "synthetic":
            from assoc_audit.demo.synthetic import seed_portal, synthesize_portal

            portal = synthesize_portal(contacts=1000 if scale is None else scale, seed=0)
            for token in tokens:
                backend.reset(token)
                counts = seed_portal(backend, token, portal)
                print(f"seeded a synthetic portal: {counts}", flush=True)
        elif mode == "demo":
            try:
                demo = importlib.import_module("assoc_audit.demo.portal")
            except ImportError:
                raise SandboxError(
                    "--seed demo needs assoc_audit.demo.portal, which this build does not "
                    "include; use --seed synthetic"
                ) from None
            for token in tokens:
                backend.reset(token)
                if scale is None:
                    seeded[:] = [demo.seed_demo_portal(backend, token)]
                else:
                    seeded[:] = [demo.seed_demo_portal(backend, token, scale=scale)]
            print("seeded the demo portal", flush=True)

    return prepare


def _serve(args: argparse.Namespace) -> int:
    from assoc_audit.sandbox.tokens import token_refusal

    tokens: list[str] = list(args.token or [DEFAULT_TOKEN])
    for token in tokens:
        refusal = token_refusal(token)
        if refusal:
            raise SandboxError(f"--token {refusal}")
    shown = DEFAULT_TOKEN if not args.token else f"{len(tokens)} given with --token"
    if args.scale is not None and args.scale < 0:
        raise SandboxError("--scale must be ≥ 0")
    from assoc_audit.sandbox.faults import FaultSettings
    from assoc_audit.sandbox.limits import Limits, parse_rate
    from assoc_audit.sandbox.server import serve

    mode = _seed_mode(args)
    limits = Limits(rate_per_10s=parse_rate(args.rate_limit))
    faults = FaultSettings(rate=args.faults, seed=args.fault_seed)

    seeded: list[Any] = []  # the demo's data, once seeded

    def ready(url: str) -> None:
        if seeded:
            from assoc_audit.demo.portal import DEMO_TOKEN_ENV, prepare_demo

            config = prepare_demo(args.app_dir, base_url=url, data=seeded[0])
            token = DEFAULT_TOKEN if not args.token else "<your sandbox token>"
            print(
                f"demo app and config written to {args.app_dir}; audit it with:\n"
                f"  {DEMO_TOKEN_ENV}={token} assoc-audit audit --config {config}",
                flush=True,
            )
        rate = "off" if limits.rate_per_10s is None else f"{limits.rate_per_10s}/10s"
        print(
            f"sandbox serving {url} — tokens: {shown} — data: "
            f"{args.data or 'temporary'} — rate limit {rate}, faults {faults.rate:g} "
            "— Ctrl-C to stop",
            flush=True,
        )

    from assoc_audit.demo.synthetic import control_seeder

    try:
        serve(
            seeder=control_seeder,
            port=args.port,
            data=args.data,
            tokens=tokens,
            limits=limits,
            faults=faults,
            prepare=_prepare(mode, args.scale, tokens, seeded),
            ready=ready,
        )
    except KeyboardInterrupt:
        print("sandbox stopped", flush=True)
    return 0
