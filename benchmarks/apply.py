"""API calls and time of a fix-plan apply, against the minimum number of batches.

Seeds the fix scenario (:mod:`assoc_audit.demo.fixseed`, about 5,000
operations at ``--scale 1``: creates with labels, removals with implied label
removals, relabels, primary moves on HubSpot; creates in a SQLite app) on the
sandbox emulator, audits it twice (with a baseline), plans, and applies the
plan. It prints, side by side:

- the HubSpot **write** calls the apply made and the minimum number of write
  batches the plan needs (100 inputs per ``batch/create``, ``batch/labels/
  archive`` and ``batch/archive`` request, one input per record pair, implied
  operations not sent): target ratio ≤ 1.05;
- **all** its HubSpot calls and the minimum for an apply with the re-read
  before writing and the verification read after (1,000 from-ids per batch
  read) plus the label definitions it needs;
- one call per operation (a naive client) for scale;
- the same apply again under 10% injected faults (429, 5xx, dropped
  connections before and after the write): logical calls, retries, and
  whether it still reached the plan's target exactly.

    .venv/bin/python benchmarks/apply.py [--scale 1.0] [--faults 0.1]
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
import time
from collections import defaultdict
from contextlib import closing
from pathlib import Path
from typing import Any

from assoc_audit.audit import run_audit
from assoc_audit.config import load_config
from assoc_audit.connectors.hubspot import HubSpotConnector
from assoc_audit.connectors.hubspot.ratelimit import RetryPolicy
from assoc_audit.demo.fixseed import hubspot_links, seed_fix_scenario
from assoc_audit.fixes import FixPlan, apply_plan, make_plan
from assoc_audit.sandbox import Sandbox

TOKEN = "sandbox-bench-apply"
TOKEN_ENV = "ASSOC_AUDIT_BENCH_TOKEN"
WRITE_BATCH = 100
READ_BATCH = 1000
WRITES = ("assoc.batch_create", "assoc.batch_archive_labels", "assoc.batch_archive")


def minimum(plan: FixPlan) -> dict[str, int]:
    """The fewest HubSpot requests the plan's writes and reads need."""
    inputs: dict[tuple[str, str, str], set[tuple[str, str]]] = defaultdict(set)
    from_ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    pairs: set[tuple[str, str]] = set()
    for op in plan.operations:
        if op.side != "hubspot":
            continue
        objects = (op.from_object, op.to_object)
        pairs.add(objects)
        from_ids[objects].add(op.from_id)
        if op.implied:
            continue
        record = (op.from_id, op.to_id)
        if op.action in ("create", "relabel"):
            inputs[("assoc.batch_create", *objects)].add(record)
        if op.action == "relabel" or (op.action == "remove" and op.label is not None):
            inputs[("assoc.batch_archive_labels", *objects)].add(record)
        if op.action == "remove" and op.label is None:
            inputs[("assoc.batch_archive", *objects)].add(record)
    out = {name: 0 for name in WRITES}
    for (name, *_), records in inputs.items():
        out[name] += math.ceil(len(records) / WRITE_BATCH)
    out["writes"] = sum(out[n] for n in WRITES)
    reads = sum(math.ceil(len(ids) / READ_BATCH) for ids in from_ids.values())
    out["reads"] = 2 * reads  # before writing and the verification after
    out["labels"] = len(pairs)
    out["total"] = out["writes"] + out["reads"] + out["labels"]
    return out


def calls(api: dict[str, Any], names: tuple[str, ...] | None = None) -> int:
    by = api.get("by_endpoint", {})
    return sum(v["calls"] for k, v in by.items() if names is None or k in names)


def scenario(folder: Path, sb: Sandbox, token: str, scale: float) -> tuple[Any, FixPlan, Path]:
    sc = seed_fix_scenario(
        sb.backend, token, folder, base_url=sb.url, token_env=TOKEN_ENV, scale=scale
    )
    config = load_config(sc.config_path)
    run_audit(config, out=folder / "base")
    sc.delete_app_links()
    run_audit(config, out=folder / "audit", baseline=folder / "base")
    plan = make_plan(config, folder / "audit")
    return config, plan, plan.write(folder / "audit" / "plan.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = about 5,000 operations")
    parser.add_argument("--faults", type=float, default=0.1, help="fault rate of the second run")
    args = parser.parse_args()
    os.environ[TOKEN_ENV] = TOKEN
    with tempfile.TemporaryDirectory() as tmp, Sandbox(tokens=(TOKEN,), rate_limit=100_000) as sb:
        config, plan, path = scenario(Path(tmp) / "clean", sb, TOKEN, args.scale)
        need = minimum(plan)
        sent = sum(1 for op in plan.operations if op.side == "hubspot" and not op.implied)
        start = time.perf_counter()
        result = apply_plan(plan, config, plan_file=path, confirm=plan.digest)
        seconds = time.perf_counter() - start
        assert result.exit_code == 0, result.lines()
        api = result.api["hubspot"]
        print(f"plan: {len(plan)} operations ({sent} sent to HubSpot, "
              f"{sum(op.implied for op in plan.operations)} implied, "
              f"{sum(op.side == 'app' for op in plan.operations)} in the app)")  # fmt: skip
        print(f"apply: {seconds:.2f} s, {len(plan) / seconds:,.0f} operations/s")
        print(f"{'HubSpot requests':<34}{'apply':>8}{'minimum':>9}{'ratio':>8}")
        for name in WRITES:
            print(f"  {name:<32}{calls(api, (name,)):>8}{need[name]:>9}")
        write_calls = calls(api, WRITES)
        print(f"{'write calls':<34}{write_calls:>8}{need['writes']:>9}"
              f"{write_calls / need['writes']:>8.3f}   (target ≤ 1.05)")  # fmt: skip
        total = calls(api)
        print(f"{'all calls (reads, labels, writes)':<34}{total:>8}{need['total']:>9}"
              f"{total / need['total']:>8.3f}")  # fmt: skip
        print(f"{'one call per operation (naive)':<34}{sent:>8}{need['writes']:>9}"
              f"{sent / need['writes']:>8.3f}")  # fmt: skip

        token = TOKEN + "-faults"
        sb.add_portal(token)
        os.environ[TOKEN_ENV] = token
        config, plan, path = scenario(Path(tmp) / "faults", sb, token, args.scale)
        weights = {"rate_limit": 1, "server_error": 1, "drop": 1, "drop_after": 1}
        sb.set_faults(rate=args.faults, seed=5, weights=weights)
        hub = HubSpotConnector(config, retry=RetryPolicy(base=0.05, cap=0.5), progress=False)
        start = time.perf_counter()
        with closing(hub):
            faulty = apply_plan(plan, config, plan_file=path, confirm=plan.digest,
                                connectors={"hubspot": hub})  # fmt: skip
        seconds = time.perf_counter() - start
        sb.set_faults(rate=0.0)
        api = faulty.api["hubspot"]
        stats = sb.stats(token)
        v = faulty.verification
        print(f"with {args.faults:.0%} faults ({stats['faults_injected']} injected: "
              f"{stats['faults']}): {seconds:.2f} s, write calls {calls(api, WRITES)} "
              f"(minimum {minimum(plan)['writes']}), all calls {api['calls']} + "
              f"{api['retries']} retries; exit {faulty.exit_code}, "
              f"{v.operations_in_effect}/{v.operations_expected} operations in effect, "
              f"{len(hubspot_links(sb.backend, token))} HubSpot links")  # fmt: skip


if __name__ == "__main__":
    main()
