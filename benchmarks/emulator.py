"""Emulator throughput and seeding speed.

Measures, in one run:

1. list pages of 100 contacts served per second (rate limiting off), with a
   keep-alive client (urllib3 PoolManager) on a few threads, against a
   baseline: the same HTTP server stack answering a canned 100-record page
   (the ceiling the emulator's own work is compared with);
2. the same through the official SDK (``basic_api.get_page``), one thread;
3. the time to synthesise and load a portal of ``--scale`` contacts
   (companies, deals, tickets and links scale with it).

Targets: ≥ 300 pages/s, ≤ 60 s to seed 1M contacts.

    .venv/bin/python benchmarks/emulator.py [--scale 1000000] [--seconds 5] [--threads 3]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import urllib3

from assoc_audit.demo.synthetic import seed_portal, synthesize_portal
from assoc_audit.sandbox import Sandbox, SandboxBackend

TOKEN = "bench-token"


def pages_per_second(url: str, path: str, seconds: float, threads: int, token: str) -> float:
    stop = time.perf_counter() + seconds
    counts = [0] * threads
    headers = {"Authorization": f"Bearer {token}"}

    def worker(i: int) -> None:
        pool = urllib3.PoolManager(maxsize=1)
        after = None
        while time.perf_counter() < stop:
            target = url + path + (f"&after={after}" if after else "")
            resp = pool.request("GET", target, headers=headers)
            assert resp.status == 200, resp.data[:200]
            body = json.loads(resp.data)
            assert len(body["results"]) in range(1, 101)
            after = body.get("paging", {}).get("next", {}).get("after")
            counts[i] += 1
        pool.clear()

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / (time.perf_counter() - started)


def canned_baseline(seconds: float, threads: int, page: bytes) -> float:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        return pages_per_second(url, "/x?limit=100", seconds, threads, TOKEN)
    finally:
        server.shutdown()
        server.server_close()


def sdk_pages(sb: Sandbox, seconds: float) -> float:
    api = sb.client(TOKEN).crm.contacts.basic_api
    stop = time.perf_counter() + seconds
    n, after = 0, None
    started = time.perf_counter()
    while time.perf_counter() < stop:
        page = api.get_page(limit=100, after=after, properties=["email", "firstname", "lastname"])
        after = page.paging.next.after if page.paging else None
        n += 1
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale", type=int, default=1_000_000, help="contacts to seed (default 1M)"
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per throughput run")
    parser.add_argument("--threads", type=int, default=3, help="client threads")
    args = parser.parse_args()

    path = "/crm/v3/objects/contacts?limit=100&properties=email&properties=firstname&properties=lastname"
    with Sandbox(tokens=(TOKEN,), rate_limit=0) as sb:
        seed_portal(sb.backend, TOKEN, synthesize_portal(contacts=20_000, seed=1))
        pool = urllib3.PoolManager()
        page = pool.request("GET", sb.url + path, headers={"Authorization": f"Bearer {TOKEN}"}).data
        emulator = pages_per_second(sb.url, path, args.seconds, args.threads, TOKEN)
        sdk = sdk_pages(sb, args.seconds)
    baseline = canned_baseline(args.seconds, args.threads, page)
    print(f"list pages of 100 records, {args.threads} keep-alive threads, rate limiting off:")
    print(f"  emulator          {emulator:8.0f} pages/s   (target >= 300: {emulator / 300:.1f}x)")
    print(
        f"  canned baseline   {baseline:8.0f} pages/s   (emulator / baseline = {emulator / baseline:.2f})"
    )
    print(f"  official SDK, 1 thread {sdk:5.0f} pages/s")

    started = time.perf_counter()
    portal = synthesize_portal(contacts=args.scale, seed=0)
    synthesized = time.perf_counter() - started
    backend = SandboxBackend()
    try:
        backend.add_portal(TOKEN)
        counts = seed_portal(backend, TOKEN, portal)
    finally:
        backend.close()
    total = time.perf_counter() - started
    target = 60.0 * args.scale / 1_000_000
    print(f"seed {args.scale:,} contacts ({json.dumps(counts)}):")
    print(
        f"  synthesis {synthesized:6.1f} s, load {total - synthesized:6.1f} s, total {total:6.1f} s "
        f"(target <= {target:.0f} s: {target / total:.1f}x)"
    )


if __name__ == "__main__":
    main()
