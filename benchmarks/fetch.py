"""Fetching a portal through the HubSpot connector: API calls and request rate vs the limit.

Seeds an emulator portal (default 50k contacts, 10k companies, 15k deals and
their associations: contact→company with Primary and user labels, deal→contact,
deal→company), sets the portal's rate limit (default 190 per 10 s, HubSpot's
Professional limit) and reads the whole HubSpot side with
``HubSpotConnector.read_side()`` through the official client. Prints, side by side:

- **API calls** made (the emulator's own request count, 429s and retries
  included) against the minimum a read needs: ceil(records / 100) list pages
  per object, plus ceil(from-ids / batch limit) v4 batch reads per pair, plus
  the follow-up reads for from-ids with more links than one page holds
  (target ≤ 1.05×);
- **request rate** achieved (requests / elapsed seconds) against the limit
  (target ≥ 85%), with the 429s served and the calls retried (no request may
  fail for good: the read must succeed).

By default the emulator runs in a separate process (``assoc-audit sandbox
serve`` on a data file seeded here), so the client and the server do not share
one interpreter lock, as with the real HubSpot; ``--in-process`` runs it in a
thread instead. ``--faults RATE`` injects faults (429/5xx/slow/drops).

    .venv/bin/python benchmarks/fetch.py [--contacts 50000] [--companies 10000] [--deals 15000]
        [--rate 190] [--workers 6] [--faults 0] [--in-process]
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import urllib3

from assoc_audit.config import parse_config
from assoc_audit.connectors.hubspot import HubSpotConnector
from assoc_audit.demo.synthetic import seed_portal, synthesize_portal
from assoc_audit.sandbox import Sandbox, SandboxBackend

TOKEN = "bench-fetch-token"
ENV = "ASSOC_AUDIT_BENCH_TOKEN"
PAGE = 100
PER_ID_PAGE = 500  # the emulator's assoc_batch_read_page


def config(url: str) -> Any:
    return parse_config(
        {
            "name": "bench-fetch",
            "hubspot": {"token_env": ENV, "base_url": url},
            "app": {"kind": "files", "path": "."},
            "objects": {
                "contacts": {"sync": "two_way", "match": [{"hubspot": "email", "app": "email"}]},
                "companies": {"sync": "two_way", "match": [{"hubspot": "domain", "app": "web"}]},
                "deals": {"sync": "two_way", "match": [{"hubspot": "dealname", "app": "name"}]},
            },
            "associations": [
                {"from": "contacts", "to": "companies"},
                {"from": "contacts", "to": "companies", "label": "Primary"},
                {"from": "contacts", "to": "companies", "label": "Billing contact"},
                {"from": "deals", "to": "contacts"},
                {"from": "deals", "to": "companies"},
                {"from": "deals", "to": "companies", "label": "Primary"},
                {"from": "deals", "to": "companies", "label": "Reseller"},
            ],
        }
    )


def minimum_calls(portal: Any, batch: int) -> dict[str, int]:
    """List pages + batch reads (with per-id follow-up pages) a full read cannot do without."""
    sizes = {name: len(df) for name, df in portal.records.items() if name != "tickets"}
    pages = sum(math.ceil(n / PAGE) for n in sizes.values())
    links = portal.associations
    reads = extra = 0
    for f, t in (("contacts", "companies"), ("deals", "contacts"), ("deals", "companies")):
        reads += math.ceil(sizes[f] / batch)
        sub = links[(links["from_object"] == f) & (links["to_object"] == t)]
        per_id = sub.drop_duplicates(["from_id", "to_id"]).groupby("from_id").size()
        id_pages = (per_id + PER_ID_PAGE - 1) // PER_ID_PAGE
        k = 1
        while (id_pages > k).any():
            extra += math.ceil(int((id_pages > k).sum()) / batch)
            k += 1
    return {"list_pages": pages, "batch_reads": reads, "follow_up_reads": extra}


def seed(backend: SandboxBackend, args: argparse.Namespace) -> Any:
    portal = synthesize_portal(
        args.contacts, seed=7, companies=args.companies, deals=args.deals, tickets=0
    )
    seed_portal(backend, TOKEN, portal)
    return portal


@contextmanager
def emulator(args: argparse.Namespace, folder: Path):
    """Yields (url, portal, stats(), reset_stats()) for a seeded, rate-limited emulator."""
    if args.in_process:
        with Sandbox(tokens=(TOKEN,), rate_limit=args.rate, faults=args.faults or None) as sb:
            portal = seed(sb.backend, args)
            yield sb.url, portal, lambda: sb.stats(TOKEN), lambda: sb.reset_stats(TOKEN)
        return
    data = folder / "portal.db"
    backend = SandboxBackend(data)
    try:
        backend.add_portal(TOKEN)
        portal = seed(backend, args)
    finally:
        backend.close()
    cmd = [
        str(Path(sys.executable).with_name("assoc-audit")),
        "sandbox",
        "serve",
        "--port",
        "0",
        "--data",
        str(data),
        "--token",
        TOKEN,
        "--seed",
        "none",
        "--rate-limit",
        f"{args.rate}/10s",
        "--faults",
        str(args.faults),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        assert proc.stdout is not None
        for line in proc.stdout:
            if "http://" in line:
                url = "http://" + line.split("http://", 1)[1].split()[0]
                break
        if url is None:
            raise SystemExit(f"the emulator did not start: {proc.returncode}")
        pool = urllib3.PoolManager()
        auth = {"Authorization": f"Bearer {TOKEN}"}

        def stats() -> dict[str, Any]:
            import json

            return json.loads(pool.request("GET", url + "/_sandbox/stats", headers=auth).data)

        def reset() -> None:
            pool.request("DELETE", url + "/_sandbox/stats", headers=auth)

        yield url, portal, stats, reset
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--deals", type=int, default=15_000)
    parser.add_argument("--rate", type=int, default=190, help="requests per 10 s")
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--batch", type=int, default=1000, help="v4 batch read size")
    parser.add_argument("--faults", type=float, default=0.0)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        emulator(args, Path(tmp)) as (url, portal, stats, reset),
    ):
        os.environ[ENV] = TOKEN
        cfg = config(url)
        reset()
        connector = HubSpotConnector(
            cfg, workers=args.workers, batch_read_size=args.batch, progress=False
        )
        started = time.perf_counter()
        side = connector.read_side()
        elapsed = time.perf_counter() - started
        connector.close()
        served = stats()

    minimum = minimum_calls(portal, args.batch)
    need = sum(minimum.values())
    made = served["requests"]
    rate = made / elapsed
    limit = args.rate / 10.0
    usage = side.meta["api"]
    print(
        f"portal: {args.contacts} contacts, {args.companies} companies, {args.deals} deals, "
        f"{len(side.associations)} link rows read; limit {args.rate}/10 s; "
        f"{'in-process' if args.in_process else 'separate-process'} emulator; "
        f"faults {args.faults:.0%}"
    )
    print(
        f"API calls made     {made:>7}   minimum needed {need:>7}   ratio {made / need:.3f}  "
        f"(target <= 1.05)"
    )
    print(
        f"   minimum: {minimum['list_pages']} list pages + {minimum['batch_reads']} batch reads "
        f"+ {minimum['follow_up_reads']} follow-up reads; made by endpoint: "
        f"{served['by_endpoint']}"
    )
    print(
        f"request rate       {rate:>7.2f}/s limit {limit:>7.2f}/s   ratio {rate / limit:.3f}  "
        f"(target >= 0.85) over {elapsed:.1f} s"
    )
    print(
        f"429s served {served['rate_limited']} (limiter) + {served['faults'].get('rate_limit', 0)} "
        f"(injected); faults {served['faults_injected']}; connector retries {usage['retries']}; "
        f"statuses {served['by_status']}; no request failed for good (the read completed)"
    )
    print(
        f"connector: {usage['calls']} calls + {usage['retries']} retries, "
        f"{usage['seconds']:.1f} s in calls over {usage['wall_seconds']:.1f} s; limiter "
        f"{usage['rate_limit']}"
    )
    expected = {n: len(df) for n, df in portal.records.items() if n != "tickets"}
    got = side.records["object"].value_counts().to_dict()
    assert {k: int(got.get(k, 0)) for k in expected} == expected, (got, expected)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
