"""How fast the app connectors read a side, against the plain reads underneath them.

For CSV, Parquet and SQLite it writes the same synthetic app (N contacts, N/10
companies, N/5 deals; 3N links across three pairs, some stored reversed) and
times, in one run:

- ``connector``: ``load_side(config, "app")`` — read, map names, validate,
  flip, merge, count (everything the audit gets);
- ``baseline``: the bare read of the same columns (pyarrow ``read_csv`` with
  every column as text, ``pq.read_table``, ``sqlite3`` ``fetchall``), which
  does none of that.

The ratio is the price of validation and canonicalisation. Also times one
``create_edges`` of 1,000 links (a rewrite for files, a batched INSERT for SQL).

    .venv/bin/python benchmarks/connectors_read.py [--contacts N]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import yaml

from assoc_audit.config import load_config
from assoc_audit.connectors import connector_for, load_side


def synthetic(n: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    people = pd.DataFrame(
        {
            "id": [f"p{i}" for i in range(n)],
            "email": [f"user{i}@example{i % 97}.com" for i in range(n)],
            "full_name": [f"Person {i}" for i in range(n)],
        }
    )
    orgs = pd.DataFrame(
        {
            "id": [f"o{i}" for i in range(n // 10)],
            "website": [f"www.org{i}.com" for i in range(n // 10)],
        }
    )
    deals = pd.DataFrame({"id": np.arange(1, n // 5 + 1, dtype="int64")})
    p = rng.integers(0, n, 3 * n)
    o = rng.integers(0, n // 10, 3 * n)
    d = rng.integers(1, n // 5 + 1, 3 * n)
    kind = rng.integers(0, 3, 3 * n)
    frm = np.where(kind == 2, "deals", "persons")
    to = np.where(kind == 2, "persons", "organizations")
    fid = np.where(kind == 2, d.astype(str), np.char.add("p", p.astype(str)))
    tid = np.where(kind == 2, np.char.add("p", p.astype(str)), np.char.add("o", o.astype(str)))
    label = np.where(kind == 1, "primary", np.where(kind == 2, "participant", ""))
    flip = rng.random(3 * n) < 0.1
    links = pd.DataFrame(
        {
            "from_object": np.where(flip, to, frm),
            "from_id": np.where(flip, tid, fid),
            "to_object": np.where(flip, frm, to),
            "to_id": np.where(flip, fid, tid),
            "label": label,
        }
    )
    return {"persons": people, "organizations": orgs, "deals": deals, "associations": links}


CONFIG = {
    "name": "bench",
    "objects": {
        "contacts": {
            "sync": "two_way",
            "app_object": "persons",
            "match": [{"hubspot": "email", "app": "email"}],
        },
        "companies": {
            "sync": "two_way",
            "app_object": "organizations",
            "match": [{"hubspot": "domain", "app": "website"}],
        },
        "deals": {"sync": "two_way", "match": [{"hubspot": "acme_id", "app": "id"}]},
    },
    "associations": [
        {"from": "contacts", "to": "companies"},
        {"from": "contacts", "to": "companies", "label": "Primary", "app_label": "primary"},
        {"from": "deals", "to": "contacts", "app_label": "participant"},
    ],
}


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=200_000, help="contacts (links = 3x)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = synthetic(args.contacts)
    n_links = len(data["associations"])
    print(f"app: {args.contacts:,} contacts, {n_links:,} links; best of {args.repeat}")
    print(f"{'format':<9}{'connector s':>13}{'baseline s':>12}{'ratio':>8}{'1k creates s':>14}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for fmt in ("csv", "parquet", "sqlite"):
            folder = root / fmt
            folder.mkdir()
            app: dict[str, object]
            if fmt == "sqlite":
                db = folder / "app.db"
                with sqlite3.connect(db) as conn:
                    for name, frame in data.items():
                        frame.to_sql(name, conn, index=False)
                app = {"kind": "sql", "url": "sqlite:///app.db"}

                def baseline(db: Path = db) -> None:
                    with sqlite3.connect(db) as conn:
                        for name, frame in data.items():
                            conn.execute(
                                f"SELECT {', '.join(frame.columns)} FROM {name}"
                            ).fetchall()
            else:
                for name, frame in data.items():
                    path = folder / f"{name}.{fmt}"
                    if fmt == "csv":
                        frame.to_csv(path, index=False)
                    else:
                        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
                app = {"kind": "files", "path": "."}

                def baseline(folder: Path = folder, fmt: str = fmt) -> None:
                    for name, frame in data.items():
                        path = folder / f"{name}.{fmt}"
                        if fmt == "csv":
                            types = dict.fromkeys(frame.columns, pa.large_string())
                            pacsv.read_csv(
                                path, convert_options=pacsv.ConvertOptions(column_types=types)
                            ).to_pandas()
                        else:
                            pq.read_table(path).to_pandas()

            cfg_path = folder / "config.yaml"
            cfg_path.write_text(yaml.safe_dump({**CONFIG, "app": app}, sort_keys=False))
            config = load_config(cfg_path)
            side = load_side(config, "app")
            assert len(side.associations) > 0.9 * n_links * 0.6
            ours = timed(lambda config=config: load_side(config, "app"), args.repeat)
            base = timed(baseline, args.repeat)
            edges = pd.DataFrame(
                {
                    "from_object": "contacts",
                    "from_id": [f"new{i}" for i in range(1000)],
                    "to_object": "companies",
                    "to_id": "o1",
                    "label": None,
                }
            )
            connector = connector_for(config, "app")
            start = time.perf_counter()
            result = connector.create_edges(edges)
            write = time.perf_counter() - start
            assert result.ok == 1000
            connector.close()
            print(f"{fmt:<9}{ours:>13.2f}{base:>12.2f}{ours / base:>8.1f}{write:>14.2f}")


if __name__ == "__main__":
    main()
