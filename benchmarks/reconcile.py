"""Whole-audit speed and memory at portal scale, against a plain datacompy diff.

Generates (once, cached) snapshots of 1M contacts, 200k companies and 300k
deals with about 3M links per side and ~3% drift (benchmarks/datagen/), then,
each in a fresh process:

1. the whole audit as ``assoc-audit audit`` runs it: ``run_audit(config,
   out=...)`` reading both snapshots, matching, reconciling, rendering and
   writing every output (findings.csv/.parquet, records.csv, summary.json,
   snapshot/); wall time and the process's peak memory (max RSS), ``--runs``
   times (median reported);
2. datacompy comparing the same two edge tables mapped into HubSpot terms
   (built beforehand, not timed): ``PandasCompare(hubspot, app,
   join_columns=[from_object, from_id, to_object, to_id, label])``, a plain
   diff that explains nothing;

and prints the figures and the ratio side by side. Targets: audit <= 10 s and
<= 4 GiB on a 2-core machine, >= 5x faster than the datacompy diff.

    python benchmarks/reconcile.py [--contacts N] [--companies N] [--deals N]
        [--drift F] [--runs R] [--data DIR] [--no-datacompy]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_audit(config: Path, out: Path) -> None:
    start = time.perf_counter()
    from assoc_audit.audit import run_audit

    imported = time.perf_counter()
    result = run_audit(config, out=out)
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "wall": done - imported,
                "import": imported - start,
                "peak_mib": _peak_mib(),
                "timings": result.summary.timings,
                "findings": result.summary.findings,
                "by_reason": result.summary.by_reason,
                "links": {k: result.summary.links[k] for k in ("hubspot", "app", "in_sync")},
            }
        )
    )


def _mapped_edges(config_path: Path):  # -> tuple[pd.DataFrame, pd.DataFrame]
    """Both sides' links in HubSpot terms (ids through the matches, labels through the
    entries); an endpoint without a match keeps its own id, prefixed ``app:``."""
    import pyarrow as pa

    from assoc_audit import duck
    from assoc_audit.config import load_config
    from assoc_audit.configtables import config_tables, register_config_tables
    from assoc_audit.connectors import load_side
    from assoc_audit.linkmap import build_links
    from assoc_audit.matching import match_records, register_records

    config = load_config(config_path)
    hubspot, app = load_side(config, "hubspot"), load_side(config, "app")
    con = duck.connect()
    matches = match_records(config, hubspot, app, con)
    register_records(con, config, hubspot, matches.hubspot, "rec_h")
    register_records(con, config, app, matches.app, "rec_a")
    register_config_tables(con, config_tables(config))
    frames = []
    for code, tables, x in ((0, hubspot, "h"), (1, app, "a")):
        built = build_links(con, config, tables, side=code, records=f"rec_{x}", out=f"links_{x}")
        duck.register(
            con,
            f"texts_{x}",
            pa.table({"rc": pa.array(range(len(built.labels)), pa.int32()), "text": built.labels}),
        )
        duck.register(con, f"missing_{x}", built.missing)
        own = f"rec_{x}"
        frame = duck.arrow(
            con,
            f"""
            SELECT pp.from_object,
                   coalesce(hf.record_id, 'app:' || coalesce(of.record_id, mf.id)) AS from_id,
                   pp.to_object,
                   coalesce(ht.record_id, 'app:' || coalesce(ot.record_id, mt.id)) AS to_id,
                   coalesce(CASE WHEN l.lab > 0 THEN e.hs_label
                                 WHEN l.lab < 0 THEN tx.text END, '') AS label
            FROM links_{x} l
            JOIN pairs_ pp ON pp.p = l.p
            LEFT JOIN rec_h hf ON hf.row = l.fm
            LEFT JOIN rec_h ht ON ht.row = l.tm
            LEFT JOIN {own} of ON of.row = l.f
            LEFT JOIN {own} ot ON ot.row = l.t
            LEFT JOIN missing_{x} mf ON mf.code = l.f
            LEFT JOIN missing_{x} mt ON mt.code = l.t
            LEFT JOIN entries_ e ON e.lab = l.lab
            LEFT JOIN texts_{x} tx ON tx.rc = l.rc
            """,
        )
        frames.append(frame.to_pandas())
    con.close()
    return frames[0], frames[1]


def child_datacompy(config: Path, object_strings: bool = False) -> None:
    import datacompy

    hubspot, app = _mapped_edges(config)
    if object_strings:  # the layout pandas < 3 produced by default (not timed)
        hubspot, app = hubspot.astype(object), app.astype(object)
    keys = ["from_object", "from_id", "to_object", "to_id", "label"]
    start = time.perf_counter()
    compare = datacompy.PandasCompare(hubspot, app, join_columns=keys)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rows": [len(hubspot), len(app)],
                "only_hubspot": len(compare.df1_unq_rows),
                "only_app": len(compare.df2_unq_rows),
                "peak_mib": _peak_mib(),
            }
        )
    )


def _run_child(*args: str) -> dict:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"child {args[0]} failed ({proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=200_000)
    parser.add_argument("--deals", type=int, default=300_000)
    parser.add_argument("--drift", type=float, default=0.03)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="data folder (cached)")
    parser.add_argument("--no-datacompy", action="store_true")
    parser.add_argument("--child-audit", nargs=2, metavar=("CONFIG", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--child-datacompy", metavar="CONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--object-strings", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_audit:
        child_audit(Path(args.child_audit[0]), Path(args.child_audit[1]))
        return
    if args.child_datacompy:
        child_datacompy(Path(args.child_datacompy), args.object_strings)
        return

    data = args.data or Path(tempfile.gettempdir()) / "assoc_audit_bench" / (
        f"reconcile_{args.contacts}_{args.companies}_{args.deals}_{args.drift}"
    )
    config = data / "config.yaml"
    if not config.exists():
        sys.path.insert(0, str(HERE / "datagen"))
        from reconcile_data import generate

        tick = time.perf_counter()
        generate(
            data,
            contacts=args.contacts,
            companies=args.companies,
            deals=args.deals,
            drift=args.drift,
        )
        print(f"generated {data} in {time.perf_counter() - tick:.1f} s")
    print(
        f"data: {args.contacts:,} contacts, {args.companies:,} companies, {args.deals:,} deals, "
        f"drift {args.drift:.0%}; {os.cpu_count()} cores"
    )

    runs = []
    for i in range(args.runs):
        runs.append(_run_child("--child-audit", str(config), str(data / f"out{i}")))
    walls = [r["wall"] for r in runs]
    median = statistics.median(walls)
    peak = max(r["peak_mib"] for r in runs)
    first = runs[0]
    print(
        f"links: hubspot {first['links']['hubspot']:,}, app {first['links']['app']:,}, "
        f"in sync {first['links']['in_sync']:,}; findings {first['findings']:,}"
    )
    print("findings by reason: " + ", ".join(f"{k} {v:,}" for k, v in first["by_reason"].items()))
    mid = sorted(runs, key=lambda r: r["wall"])[len(runs) // 2]
    stages = ", ".join(f"{k} {v:.2f}" for k, v in mid["timings"].items())
    print(f"audit stages (s, median run): {stages}")
    print(
        f"whole audit (read snapshots .. write outputs): median {median:.2f} s "
        f"(runs: {', '.join(f'{w:.2f}' for w in walls)}); peak memory {peak:,.0f} MiB "
        f"({peak / 1024:.2f} GiB); imports {first['import']:.2f} s not included"
    )
    target_ok = median <= 10 and peak <= 4 * 1024
    print(f"target <= 10 s and <= 4 GiB: {'met' if target_ok else 'MISSED'}")
    if args.no_datacompy:
        return
    dc = _run_child("--child-datacompy", str(config))
    ratio = dc["seconds"] / median
    print(
        f"datacompy PandasCompare on the mapped edge tables ({dc['rows'][0]:,} vs "
        f"{dc['rows'][1]:,} rows; {dc['only_hubspot']:,} + {dc['only_app']:,} one-sided): "
        f"{dc['seconds']:.2f} s, peak {dc['peak_mib']:,.0f} MiB"
    )
    print(
        f"ratio datacompy / whole audit: {ratio:.2f}x "
        f"(target >= 5x: {'met' if ratio >= 5 else 'MISSED'})"
    )
    engine = statistics.median(
        sum(r["timings"].get(k, 0.0) for k in ("match", "reconcile", "render")) for r in runs
    )
    print(
        f"like for like, from tables in memory: match + diff + reasons + rendering {engine:.2f} s "
        f"(median) vs datacompy {dc['seconds']:.2f} s: {dc['seconds'] / engine:.2f}x"
    )
    # Secondary reference only: the same tables with Python-object strings, as pandas < 3
    # handed them over by default (the setting of STYLE.md's 16-25 s datacompy figure).
    dco = _run_child("--child-datacompy", str(config), "--object-strings")
    print(
        f"reference: datacompy on the same tables as object strings (pandas < 3 layout): "
        f"{dco['seconds']:.2f} s, peak {dco['peak_mib']:,.0f} MiB; ratio to the whole audit "
        f"{dco['seconds'] / median:.2f}x"
    )


if __name__ == "__main__":
    main()
