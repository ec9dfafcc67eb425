"""The whole audit as a CLI process against a bare datacompy diff, at portal scale.

For each scale (``--scales``; scale multiplies every count, 1 = 1M contacts,
200k companies, 300k deals, ~3.0M HubSpot and ~2.9M app links), it

1. generates the case once (benchmarks/datagen/reconcile_data.py; cached
   under ``--data``, keyed by its parameters): both sides as ``snapshot:``
   folders, app ids unlike HubSpot's, 10% of app emails in another letter
   case, websites ``https://www.DOMAIN/``, deals matched by an id property,
   ~3% drift (~170k findings of seven reasons at scale 1);
2. runs ``assoc-audit audit --config C --out DIR`` as a process (default
   thresholds: exit 1 on findings is expected), writing every output the CLI
   writes; measures the process's wall time (start included) and peak RSS
   (``os.wait4``), and reads the stage timings from its ``summary.json``;
3. runs datacompy's bare diff in its own process, ``PandasCompare(hubspot,
   app, join_columns=[from_object, from_id, to_object, to_id, label])`` of the
   same two edge tables already mapped into HubSpot ids and labels (prepared
   once from the first run's records.csv, not timed): only the compare is timed;

audit and datacompy alternate, ``--runs`` times each (medians reported). Then
it times ``assoc-audit --help`` and ``assoc-audit check --config C`` (median of
``--import-runs``) and lists what they import (``python -X importtime``).

Targets (printed as PASS/MISS with the figure): at scale 1 datacompy/audit
>= 3x and peak RSS <= 2 GiB; from scale 1 to 3 time and memory grow <= 3.3x;
scale 3 under 8 GiB; ``--help`` and ``check`` under 0.5 s each.

    .venv/bin/python benchmarks/reconcile.py [--scales 0.3,1,3] [--runs 3]
        [--data DIR] [--no-datacompy] [--import-runs 5]
    .venv/bin/python benchmarks/reconcile.py --trace [--scales 1]   # a profile instead
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "datagen"))

from reconcile_data import case_key, counts  # noqa: E402

BIN = Path(sys.executable).parent
CLI = BIN / "assoc-audit"
GIB = 1024**3
KEYS = ["from_object", "from_id", "to_object", "to_id", "label"]
#: Packages whose import at start-up is worth knowing about.
HEAVY = ("pandas", "numpy", "pyarrow", "duckdb", "matplotlib", "pydantic", "hubspot", "sqlalchemy")


# -- processes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    """A finished child process: exit code, wall and CPU seconds, peak RSS bytes, output."""

    code: int
    wall: float
    cpu: float
    peak: int
    stdout: str
    stderr: str


def run_process(cmd: list[str], *, ok: tuple[int, ...] = (0,), cwd: Path | None = None) -> Proc:
    """Run ``cmd``, timing it from before the fork to its exit; peak RSS from ``wait4``."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        proc = Proc(child.returncode, wall, cpu, usage.ru_maxrss * 1024, out.read(), err.read())
    if proc.code not in ok:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        raise SystemExit(f"{' '.join(cmd[:3])} … exited {proc.code}")
    return proc


def _self(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


# -- the case ------------------------------------------------------------------------------


def ensure_case(data: Path, scale: float, drift: float, seed: int) -> Path:
    """The case folder (generated unless cached); returns its config path."""
    folder = data / case_key(scale, drift, seed)
    stamp = folder / "generated.json"
    if not stamp.exists():
        shutil.rmtree(folder, ignore_errors=True)
        gen = HERE / "datagen" / "reconcile_data.py"
        cmd = [sys.executable, str(gen), str(folder), f"--scale={scale}", f"--drift={drift}"]
        proc = run_process([*cmd, f"--seed={seed}"])
        params = {"scale": scale, "drift": drift, "seed": seed, "seconds": round(proc.wall, 1)}
        stamp.write_text(json.dumps(params) + "\n", "utf-8")
        print(f"  generated {folder} in {proc.wall:.1f} s (peak {proc.peak / GIB:.2f} GiB)")
    return folder / "config.yaml"


def prepare_edges(case: Path, records_csv: Path) -> None:
    """(child) Both sides' links in HubSpot terms for datacompy, from the audit's matches.

    App ids go through records.csv's matched pairs (an endpoint without a match
    keeps its id, prefixed ``app:``), app labels through the config's entries;
    every labelled link implies its unlabeled link (DESIGN §4); duplicates merge.
    """
    import duckdb
    import yaml

    config = yaml.safe_load((case / "config.yaml").read_text("utf-8"))
    mapping = []  # (from, to, app label, HubSpot label; '' = unlabeled)
    for e in config["associations"]:
        if e.get("app_supported", True):
            app_label = e.get("app_label", e.get("label"))
            if app_label is not None:
                mapping.append((e["from"], e["to"], app_label, e.get("label") or ""))
    snap = case / "snapshot"
    out = case / "datacompy"
    out.mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute("CREATE TABLE lab (fo VARCHAR, too VARCHAR, app VARCHAR, hs VARCHAR)")
    con.executemany("INSERT INTO lab VALUES (?, ?, ?, ?)", mapping)
    con.execute(
        f"""CREATE TABLE m AS SELECT object, app_id, hubspot_id
            FROM read_csv('{records_csv}', all_varchar = true) WHERE status = 'matched'"""
    )
    h = f"""SELECT from_object, from_id, to_object, to_id, coalesce(label, '') AS label
            FROM read_parquet('{snap / "hubspot" / "associations.parquet"}')"""
    a = f"""SELECT x.from_object, coalesce(mf.hubspot_id, 'app:' || x.from_id) AS from_id,
                   x.to_object, coalesce(mt.hubspot_id, 'app:' || x.to_id) AS to_id,
                   coalesce(l.hs, x.label, '') AS label
            FROM read_parquet('{snap / "app" / "associations.parquet"}') x
            LEFT JOIN m mf ON mf.object = x.from_object AND mf.app_id = x.from_id
            LEFT JOIN m mt ON mt.object = x.to_object AND mt.app_id = x.to_id
            LEFT JOIN lab l ON l.fo = x.from_object AND l.too = x.to_object AND l.app = x.label"""
    for name, select in (("hubspot", h), ("app", a)):
        con.execute(
            f"""COPY (WITH e AS ({select})
                      SELECT * FROM e UNION
                      SELECT from_object, from_id, to_object, to_id, '' FROM e)
                TO '{out / (name + ".parquet.tmp")}' (FORMAT parquet)"""
        )
    con.close()
    for name in ("hubspot", "app"):
        os.replace(out / f"{name}.parquet.tmp", out / f"{name}.parquet")


def child_datacompy(case: Path) -> None:
    """(child) Time ``PandasCompare`` of the prepared edge tables; print JSON."""
    import datacompy
    import pandas as pd

    hubspot = pd.read_parquet(case / "datacompy" / "hubspot.parquet")
    app = pd.read_parquet(case / "datacompy" / "app.parquet")
    start = time.perf_counter()
    compare = datacompy.PandasCompare(hubspot, app, join_columns=KEYS)
    seconds = time.perf_counter() - start
    result = {
        "seconds": seconds,
        "rows": [len(hubspot), len(app)],
        "only": [len(compare.df1_unq_rows), len(compare.df2_unq_rows)],
    }
    print(json.dumps(result))


# -- measuring -------------------------------------------------------------------------------


@dataclass
class ScaleResult:
    scale: float
    audit: list[Proc] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    datacompy: list[Proc] = field(default_factory=list)
    compares: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, int] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)

    @property
    def wall(self) -> float:
        return statistics.median(p.wall for p in self.audit)

    @property
    def peak(self) -> int:
        return max(p.peak for p in self.audit)

    @property
    def cpu(self) -> float:
        return statistics.median(p.cpu for p in self.audit)

    @property
    def compare(self) -> float | None:
        return statistics.median(c["seconds"] for c in self.compares) if self.compares else None


def _sizes(folder: Path) -> dict[str, int]:
    sizes = {}
    for item in sorted(folder.iterdir()):
        files = [item] if item.is_file() else [p for p in item.rglob("*") if p.is_file()]
        sizes[item.name + ("/" if item.is_dir() else "")] = sum(p.stat().st_size for p in files)
    return sizes


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def measure_scale(args: argparse.Namespace, scale: float) -> ScaleResult:
    n = counts(scale)
    print(
        f"\n== scale {scale:g}: {n['contacts']:,} contacts, {n['companies']:,} companies, "
        f"{n['deals']:,} deals (load average {_load()})"
    )
    config = ensure_case(args.data, scale, args.drift, args.seed)
    case = config.parent
    result = ScaleResult(scale)
    for i in range(args.runs):
        out = Path(tempfile.mkdtemp(prefix="audit-", dir=args.data))
        try:
            proc = run_process(
                [str(CLI), "audit", "--config", str(config), "--out", str(out)], ok=(0, 1)
            )
            result.audit.append(proc)
            result.summaries.append(json.loads((out / "summary.json").read_text("utf-8")))
            if i == 0:
                result.outputs = _sizes(out)
                result.digests = {n: _digest(out / n) for n in ("findings.csv", "records.csv")}
                if not args.no_datacompy and not (case / "datacompy" / "app.parquet").exists():
                    run_process(_self("--child-prepare", str(case), str(out / "records.csv")))
        finally:
            shutil.rmtree(out, ignore_errors=True)
        t = result.summaries[-1]["timings"]
        line = f"  run {i + 1}: audit {proc.wall:.2f} s (cpu {proc.cpu:.2f} s), peak {proc.peak / GIB:.2f} GiB"
        line += f" (stages {t['total_seconds']:.2f} s)"
        if not args.no_datacompy:
            dc = run_process(_self("--child-datacompy", str(case)))
            result.datacompy.append(dc)
            result.compares.append(json.loads(dc.stdout.strip().splitlines()[-1]))
            line += f"; datacompy {result.compares[-1]['seconds']:.2f} s"
        print(f"{line}; load average {_load()}", flush=True)
    _print_scale(result)
    return result


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _print_scale(r: ScaleResult) -> None:
    s = r.summaries[0]
    links = s["links"]
    print(
        f"  links: hubspot {links['hubspot']:,}, app {links['app']:,} "
        f"(stored {links['app_stored']:,} + implied {links['app_implied']:,}), "
        f"in sync {links['in_sync']:,}; findings {s['findings']:,}"
    )
    print("  by reason: " + ", ".join(f"{k} {v:,}" for k, v in s["by_reason"].items() if v))
    walls = ", ".join(f"{p.wall:.2f}" for p in r.audit)
    cpu = statistics.median(p.cpu for p in r.audit)
    print(
        f"  audit, whole CLI process: median {r.wall:.2f} s (runs {walls}; cpu median {cpu:.2f} s); "
        f"peak RSS {r.peak / GIB:.2f} GiB"
    )
    mid = sorted(range(len(r.audit)), key=lambda i: r.audit[i].wall)[len(r.audit) // 2]
    t = r.summaries[mid]["timings"]
    stages = ", ".join(
        f"{k} {t[k]:.2f}" for k in ("load", "match", "reconcile", "render") if k in t
    )
    outside = r.audit[mid].wall - t["total_seconds"]
    print(
        f"  stages (s, median run): {stages}; total {t['total_seconds']:.2f}; outside them "
        f"(process start, imports, config, writing outputs) {outside:.2f}"
    )
    print("  outputs: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in r.outputs.items()))
    print(
        "  sha256 (an engine change must keep them): "
        + ", ".join(f"{k} {v}" for k, v in r.digests.items())
    )
    if r.compares:
        c = r.compares[0]
        runs = ", ".join(f"{x['seconds']:.2f}" for x in r.compares)
        dc_peak = max(p.peak for p in r.datacompy)
        print(
            f"  datacompy PandasCompare ({c['rows'][0]:,} vs {c['rows'][1]:,} rows; "
            f"{c['only'][0]:,} + {c['only'][1]:,} one-sided): median {r.compare:.2f} s "
            f"(runs {runs}); its process peaked at {dc_peak / GIB:.2f} GiB"
        )
        print(f"  ratio datacompy / audit: {r.compare / r.wall:.2f}x")  # type: ignore[operator]


# -- start-up --------------------------------------------------------------------------------


def import_tree(stderr: str) -> tuple[float, list[tuple[str, float]], dict[str, tuple[float, str]]]:
    """From ``-X importtime`` output: total seconds, the packages with the largest
    cumulative import time, and for each :data:`HEAVY` package imported its seconds and
    the assoc_audit modules that pulled it in (innermost first)."""
    rows = []  # (nesting level, module, cumulative seconds), children before their parent
    for line in stderr.splitlines():
        if line.startswith("import time:") and "cumulative" not in line:
            _, cum, name = line[len("import time:") :].split("|")
            level = (len(name) - len(name.lstrip(" ")) - 1) // 2
            rows.append((level, name.strip(), int(cum) / 1e6))
    total = sum(s for lv, _, s in rows if lv == 0)
    packages = [(m, s) for _, m, s in rows if "." not in m and m != "assoc_audit"]
    heavy: dict[str, tuple[float, str]] = {}
    for i, (level, name, seconds) in enumerate(rows):
        if name not in HEAVY:
            continue
        chain, want = [], level - 1
        for lv, parent, _ in rows[i + 1 :]:  # the parent is the next row one level up
            if lv == want:
                if parent.startswith("assoc_audit"):
                    chain.append(parent)
                want -= 1
        heavy[name] = (seconds, " <- ".join(chain[:3]) or "?")
    return total, sorted(packages, key=lambda x: -x[1]), heavy


def measure_startup(args: argparse.Namespace, config: Path) -> list[tuple[str, float]]:
    print(f"\n== start-up (load average {_load()})")
    tiny = ensure_case(args.data, 0.001, args.drift, args.seed)
    commands = {
        "assoc-audit --help": ["--help"],
        "assoc-audit check --config C": ["check", "--config", str(config)],
        "assoc-audit audit (imports only, tiny case)": [
            "audit",
            "--config",
            str(tiny),
            "--out",
            str(tiny.parent / "out"),
        ],
    }
    medians = []
    for label, argv in commands.items():
        timed = "audit" not in argv
        if timed:
            walls = [run_process([str(CLI), *argv]).wall for _ in range(args.import_runs)]
        proc = run_process([sys.executable, "-X", "importtime", str(CLI), *argv], ok=(0, 1))
        total, top, heavy = import_tree(proc.stderr)
        head = f"  {label}: "
        if timed:
            median = statistics.median(walls)
            medians.append((label, median))
            head += f"median {median:.3f} s (runs {', '.join(f'{w:.3f}' for w in walls)}); "
        print(head + f"imports {total:.3f} s")
        print("    top packages: " + ", ".join(f"{m} {s * 1000:.0f} ms" for m, s in top[:8]))
        print("    not imported: " + (", ".join(k for k in HEAVY if k not in heavy) or "-"))
        for k, (seconds, via) in heavy.items():
            print(f"    imports {k} ({seconds * 1000:.0f} ms) via {via}")
    shutil.rmtree(tiny.parent / "out", ignore_errors=True)
    return medians


# -- trace -----------------------------------------------------------------------------------

#: Engine functions timed by ``--trace`` (those that no longer exist are skipped).
TRACED = {
    "snapshot": ("read_side", "write_side"),
    "tables": ("validate_records", "validate_associations", "_duplicated", "_orient"),
    "matching": ("match_records", "_match", "_key_codes"),
    "normalize": ("normalize_arrow",),
    "linkmap": ("build_links",),
    "reconcile": ("diff", "enrich", "classify"),
    "audit": ("_load", "_reconcile", "_render", "_register_suggestions", "_summary"),
    "findings": ("render_findings", "_rendered", "findings_frame"),
    "outputs": (
        "write_outputs",
        "write_csv",
        "_write_parquet",
        "records_table",
        "records_frame",
    ),
}


def child_trace(config: Path, out: Path) -> None:
    """(child) One audit in-process, timing engine functions and every DuckDB statement
    (``assoc_audit.duck``), with the process's RSS sampled; prints lines >= 50 ms."""
    import functools
    import importlib
    import threading

    start = time.perf_counter()
    from assoc_audit import cli, duck

    events: list[tuple[float, float, str, str]] = []  # start, seconds, thread, what
    rss: list[tuple[float, int]] = []

    def timed(label: str, fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*a: Any, **k: Any) -> Any:
            tick = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                thread = threading.current_thread().name.replace("MainThread", "main")[-6:]
                events.append((tick - start, time.perf_counter() - tick, thread, label))

        return wrapper

    class Traced:  # a connection whose execute() is timed
        def __init__(self, con: Any) -> None:
            self._con = con

        def execute(self, sql: str, params: Any = None) -> Any:
            return timed("SQL " + " ".join(sql.split())[:100], self._con.execute)(sql, params)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._con, name)

    connect = duck.connect
    duck.connect = lambda threads=None: Traced(connect(threads))  # type: ignore[assignment]

    def traced_query(real: Any) -> Any:
        def query(con: Any, sql: str, params: Any = None) -> Any:
            label = "SQL " + " ".join(sql.split())[:100]
            return timed(label, real)(getattr(con, "_con", con), sql, params)

        return query

    for name in ("arrow", "numpy", "scalar"):
        setattr(duck, name, traced_query(getattr(duck, name)))
    for module, names in TRACED.items():
        mod = importlib.import_module(f"assoc_audit.{module}")
        loaded = [m for n, m in sys.modules.items() if n.startswith("assoc_audit")]
        for name in names:
            real = getattr(mod, name, None)
            if real is None:
                continue
            wrapped = timed(f"{module}.{name}", real)
            for m in loaded:  # rebind every `from .x import name` too
                for attr, value in list(vars(m).items()):
                    if value is real:
                        setattr(m, attr, wrapped)

    def sample() -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while True:
            with open("/proc/self/statm") as f:
                rss.append((time.perf_counter() - start, int(f.read().split()[1]) * page))
            time.sleep(0.01)

    threading.Thread(target=sample, daemon=True).start()
    imported = time.perf_counter() - start
    code = cli.main(["audit", "--config", str(config), "--out", str(out)])
    print(
        f"imports {imported:.2f} s; audit {time.perf_counter() - start - imported:.2f} s "
        f"(exit {code}); peak RSS {max(b for _, b in rss) / GIB:.2f} GiB"
    )
    print("   start  seconds  thread  RSS at end (GiB)  what")
    for at, seconds, thread, what in sorted(events):
        if seconds >= 0.05:
            end = max((b for t, b in rss if t <= at + seconds), default=0)
            print(f"  {at:6.2f}  {seconds:7.2f}  {thread:>6}  {end / GIB:5.2f}  {what}")


# -- report ----------------------------------------------------------------------------------


def _target(ok: bool, text: str) -> None:
    print(f"  {'PASS' if ok else 'MISS'}  {text}")


def report(results: dict[float, ScaleResult], startup: list[tuple[str, float]]) -> None:
    print("\n== summary")
    print("  scale   audit s   cpu s   peak GiB   datacompy s   ratio   findings")
    for s, r in results.items():
        dc = (
            f"{r.compare:11.2f}   {r.compare / r.wall:5.2f}x"
            if r.compare
            else f"{'-':>11}   {'-':>6}"
        )
        print(
            f"  {s:5g}   {r.wall:7.2f}   {r.cpu:5.2f}   {r.peak / GIB:8.2f}   {dc}   "
            f"{r.summaries[0]['findings']:,}"
        )
    one, three = results.get(1.0), results.get(3.0)
    print("  targets:")
    if one and one.compare:
        ratio = one.compare / one.wall
        _target(ratio >= 3, f"scale 1: datacompy / audit >= 3x: {ratio:.2f}x")
    if one:
        _target(one.peak <= 2 * GIB, f"scale 1: peak RSS <= 2 GiB: {one.peak / GIB:.2f} GiB")
    if one and three:
        time_growth, mem_growth = three.wall / one.wall, three.peak / one.peak
        _target(
            time_growth <= 3.3,
            f"scale 1 -> 3: time grows <= 3.3x: {time_growth:.2f}x "
            f"(CPU time: {three.cpu / one.cpu:.2f}x)",
        )
        _target(mem_growth <= 3.3, f"scale 1 -> 3: memory grows <= 3.3x: {mem_growth:.2f}x")
    if three:
        _target(three.peak < 8 * GIB, f"scale 3: peak RSS < 8 GiB: {three.peak / GIB:.2f} GiB")
    for label, seconds in startup:
        _target(seconds < 0.5, f"{label} < 0.5 s: {seconds:.3f} s")


def _versions() -> str:
    from importlib.metadata import version

    names = ("assoc-audit", "duckdb", "pandas", "pyarrow", "numpy", "datacompy")
    return ", ".join(f"{n} {version(n)}" for n in names)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scales", default="1", help="comma-separated scales, e.g. 0.3,1,3 (default 1)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per scale (default 3)")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(tempfile.gettempdir()) / "assoc_audit_bench",
        help="folder for the cached cases and run outputs (default: %(default)s)",
    )
    parser.add_argument("--drift", type=float, default=0.03, help="default %(default)s")
    parser.add_argument("--seed", type=int, default=7, help="default %(default)s")
    parser.add_argument("--no-datacompy", action="store_true", help="skip the datacompy diff")
    parser.add_argument(
        "--import-runs", type=int, default=5, help="runs of --help and check (0: skip)"
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="instead: one in-process audit at the first scale, timing engine functions and "
        "DuckDB statements (a profile, not a benchmark)",
    )
    parser.add_argument("--child-prepare", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--child-datacompy", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_prepare:
        prepare_edges(Path(args.child_prepare[0]), Path(args.child_prepare[1]))
        return
    if args.child_datacompy:
        child_datacompy(Path(args.child_datacompy))
        return

    args.data.mkdir(parents=True, exist_ok=True)
    scales = [float(s) for s in args.scales.split(",")]
    if args.trace:
        config = ensure_case(args.data, scales[0], args.drift, args.seed)
        out = Path(tempfile.mkdtemp(prefix="trace-", dir=args.data))
        try:
            child_trace(config, out)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        return
    print(f"benchmarks/reconcile.py --scales {args.scales} --runs {args.runs}")
    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; {_versions()}; "
        f"load average {_load()}"
    )
    results = {s: measure_scale(args, s) for s in scales}
    startup = []
    if args.import_runs > 0:
        config = ensure_case(args.data, scales[0], args.drift, args.seed)
        startup = measure_startup(args, config)
    report(results, startup)


if __name__ == "__main__":
    main()
