"""The demo's scenario run: how long it takes, against the 2-minute target and a full audit.

Measures, in one run, on a fresh emulator seeded with the demo at ``--scale``
contacts (HubSpot's default rate limit, 190 requests per 10 s, unless
``--rate-limit``):

1. the whole scenario library through the connectors (HubSpot connector over
   HTTP, the Acme CRM SQLite app, the data-sync simulator), clean-up included;
2. the same with the HubSpot side in-process (:class:`PortalSide`), no HTTP;
3. the baseline: one audit of the whole demo through the same connectors.

Prints seconds, API requests the emulator served, and the ratios (scenarios /
audit, scenarios / the 120 s target).

    .venv/bin/python benchmarks/scenarios.py [--scale 2000] [--rate-limit 190/10s]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import closing
from pathlib import Path

from assoc_audit import load_config, run_audit
from assoc_audit.connectors import connector_for
from assoc_audit.demo.portal import DEMO_TOKEN, DEMO_TOKEN_ENV, prepare_demo, seed_demo_portal
from assoc_audit.sandbox import Sandbox
from assoc_audit.scenarios import run_scenarios
from assoc_audit.scenarios.portal_side import PortalSide

TARGET_SECONDS = 120.0


def _requests(sb: Sandbox) -> int:
    return int(sb.stats()["requests"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=2000, help="demo contacts (default 2000)")
    parser.add_argument("--rate-limit", default="190/10s", help="emulator rate limit or 'off'")
    args = parser.parse_args()
    os.environ[DEMO_TOKEN_ENV] = DEMO_TOKEN
    with (
        tempfile.TemporaryDirectory() as tmp,
        Sandbox(tokens=(DEMO_TOKEN,), rate_limit=args.rate_limit) as sb,
    ):
        data = seed_demo_portal(sb.backend, DEMO_TOKEN, scale=args.scale)
        config = load_config(prepare_demo(Path(tmp), base_url=sb.url, data=data))

        start, calls = time.perf_counter(), _requests(sb)
        report = run_scenarios(config)
        http_s, http_calls = time.perf_counter() - start, _requests(sb) - calls
        assert report.passed, report.render()

        start = time.perf_counter()
        with closing(connector_for(config, "app")) as app:
            side = PortalSide(config, sb.backend, DEMO_TOKEN)
            local = run_scenarios(config, hubspot=side, app=app)
        local_s = time.perf_counter() - start
        assert local.passed, local.render()

        start, calls = time.perf_counter(), _requests(sb)
        audit = run_audit(config)
        audit_s, audit_calls = time.perf_counter() - start, _requests(sb) - calls

    n = len(report.results)
    print(f"demo scale {args.scale}, rate limit {args.rate_limit}, {n} scenarios")
    print(f"  scenarios via HTTP     {http_s:7.1f} s  {http_calls:5d} requests")
    print(f"  scenarios in-process   {local_s:7.1f} s")
    print(f"  audit of the demo      {audit_s:7.1f} s  {audit_calls:5d} requests "
          f"({audit.summary.findings} findings)")  # fmt: skip
    print(f"  ratio scenarios/audit  {http_s / audit_s:7.2f}")
    print(f"  ratio scenarios/target {http_s / TARGET_SECONDS:7.2f}  (target {TARGET_SECONDS:g} s)")


if __name__ == "__main__":
    main()
