"""A portal-scale integration as two snapshot sides, for benchmarks/reconcile.py.

Deterministic and vectorised (NumPy + pyarrow, no Python loop over rows).
``scale`` multiplies every count; at scale 1 it is the issue's case:

- HubSpot: 1M contacts, 200k companies, 300k deals, ~3.0M links (every
  contact has a primary company, stored unlabeled and ``Primary``; 5% a second
  company, 5% a ``Billing contact`` label; each deal two contacts and one
  company, 2% of them ``Reseller``). Record ids are 11-digit numbers.
- The app (Acme CRM): the same data in its own ids (``P-…``, ``ORG-…``,
  ``D-…``, unlike HubSpot's); contacts matched by HubSpot's ``acme_id`` then by
  email (10% of app emails in another letter case), companies by
  ``domain`` = ``website`` written ``https://www.DOMAIN/`` (so ``normalize:
  domain`` does real work), deals by ``acme_id``. Labels are the app's own
  (``primary``, ``billing``, ``participant`` for the unlabeled deal→contact
  link); labelled links are stored without their unlabeled row (implied).
  ~2.91M links after the implied ones.
- Drift (``drift``, default 3%, split in thirds ``r``): records missing on
  either side, renamed in the app (matched by email instead), app-only and
  duplicated records (ambiguous), links dropped or added, primaries relabelled,
  app-only deal links against a one-way sync, links to ids the app's records
  lack. About 150k findings at scale 1, of seven reasons.

Writes ``<out>/snapshot/{hubspot,app}/`` (``records.parquet``,
``associations.parquet``, ``meta.json``, as :mod:`assoc_audit.snapshot` writes
and reads them) and ``<out>/config.yaml`` (``snapshot:`` on both sides).

    python benchmarks/datagen/reconcile_data.py OUT [--scale S] [--drift F] [--seed N]
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

#: Bump when the generated data changes, so cached folders are not reused.
VERSION = 2

BASE = {"contacts": 1_000_000, "companies": 200_000, "deals": 300_000}

CONFIG = {
    "name": "bench-reconcile",
    "hubspot": {"snapshot": "snapshot/hubspot"},
    "app": {"name": "Acme CRM", "kind": "sql", "snapshot": "snapshot/app"},
    "objects": {
        "contacts": {
            "sync": "two_way",
            "app_object": "persons",
            "match": [
                {"hubspot": "acme_id", "app": "id"},
                {"hubspot": "email", "app": "email", "normalize": "email"},
            ],
        },
        "companies": {
            "sync": "two_way",
            "app_object": "organizations",
            "match": [{"hubspot": "domain", "app": "website", "normalize": "domain"}],
        },
        "deals": {"sync": "hubspot_to_app", "match": [{"hubspot": "acme_id", "app": "id"}]},
        "tickets": {"sync": "off"},
    },
    "associations": [
        {"from": "contacts", "to": "companies", "app_max_per_record": 1},
        {"from": "contacts", "to": "companies", "label": "Primary", "app_label": "primary"},
        {
            "from": "contacts",
            "to": "companies",
            "label": "Billing contact",
            "app_label": "billing",
        },
        {"from": "deals", "to": "contacts", "app_label": "participant"},
        {"from": "deals", "to": "companies", "app_max_per_record": 1},
        {"from": "deals", "to": "companies", "label": "Reseller", "app_supported": False},
        {"from": "tickets", "to": "companies", "app_supported": False},
    ],
    "conflict_winner": "hubspot",
    "mirror_deletions": False,
}

TEXT = pa.large_string()  # what assoc_audit.snapshot writes


def counts(scale: float) -> dict[str, int]:
    """Records per object at ``scale``."""
    return {k: max(10, round(v * scale)) for k, v in BASE.items()}


def case_key(scale: float, drift: float, seed: int) -> str:
    """A folder name that changes with every parameter and the generator version."""
    return f"reconcile_v{VERSION}_scale{scale:g}_drift{drift:g}_seed{seed}"


# -- column helpers ----------------------------------------------------------------------


def _text(prefix: str, numbers: np.ndarray, suffix: str = "", width: int = 0) -> pa.Array:
    digits = pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string())
    if width:
        digits = pc.utf8_lpad(digits, width, "0")
    return pc.binary_join_element_wise(prefix, digits, suffix, "")


def _const(n: int, value: str | None) -> pa.Array:
    return pa.nulls(n, pa.string()) if value is None else pa.repeat(pa.scalar(value), n)


def _where(mask: np.ndarray, value: str) -> pa.Array:
    """``value`` where ``mask``, else null."""
    return pc.if_else(pa.array(mask), pa.scalar(value), pa.scalar(None, pa.string()))


def _hubspot_ids(rng: np.random.Generator, n: int, start: int) -> np.ndarray:
    """Increasing 11-digit ids with gaps, like a portal's."""
    return start + np.cumsum(rng.integers(1, 40, n))


def _timestamps(rng: np.random.Generator, n: int) -> pa.Array:
    start = np.datetime64("2024-01-01T00:00:00", "us").astype(np.int64)
    offsets = rng.integers(0, 700 * 86_400, n) * 1_000_000
    return pa.array(start + offsets, pa.timestamp("us", tz="UTC"))


def _records(parts: list[dict[str, pa.Array]], columns: list[str]) -> pa.Table:
    """Concatenate per-object column dicts (missing columns are null)."""
    out = {}
    for col in columns:
        arrays = []
        for part in parts:
            n = len(part["record_id"])
            if col in part:
                arrays.append(part[col] if col == "updated_at" else part[col].cast(TEXT))
            elif col == "updated_at":
                arrays.append(pa.nulls(n, pa.timestamp("us", tz="UTC")))
            else:
                arrays.append(pa.nulls(n, TEXT))
        out[col] = pa.concat_arrays(arrays)
    return pa.table(out)


def _edges(rows: list[tuple[str, pa.Array, str, pa.Array, pa.Array | str | None]]) -> pa.Table:
    cols: dict[str, list[pa.Array]] = {
        k: [] for k in ("from_object", "from_id", "to_object", "to_id", "label")
    }
    for fo, fid, to, tid, label in rows:
        n = len(fid)
        cols["from_object"].append(_const(n, fo))
        cols["from_id"].append(fid)
        cols["to_object"].append(_const(n, to))
        cols["to_id"].append(tid)
        cols["label"].append(label if isinstance(label, pa.Array) else _const(n, label))
    return pa.table({k: pa.concat_arrays([a.cast(TEXT) for a in v]) for k, v in cols.items()})


def _take(values: pa.Array, rows: np.ndarray) -> pa.Array:
    return values.take(pa.array(np.asarray(rows, dtype=np.int64)))


def _meta(side: str, records: pa.Table, edges: pa.Table) -> dict[str, object]:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    identifiers = {
        "hubspot": {
            "contacts": ["acme_id", "email"],
            "companies": ["domain"],
            "deals": ["acme_id"],
        },
        "app": {"contacts": ["email"], "companies": ["website"], "deals": []},
    }[side]
    return {
        "side": side,
        "written_at": now,
        "source": "benchmarks/datagen/reconcile_data.py",
        "kind": "hubspot" if side == "hubspot" else "sql",
        "read_at": now,
        "identifier_columns": {**identifiers, "tickets": []},
        **({"limits": []} if side == "hubspot" else {}),
        "api": {"calls": 0, "retries": 0, "seconds": 0.0},
        "records": records.num_rows,
        "associations": edges.num_rows,
    }


# -- the case ----------------------------------------------------------------------------


def generate(out: Path, *, scale: float = 1.0, drift: float = 0.03, seed: int = 7) -> Path:
    """Write the case into ``out`` (created); returns the config path."""
    rng = np.random.default_rng(seed)
    n = counts(scale)
    nc, nk, nd = n["contacts"], n["companies"], n["deals"]
    c, k, d = np.arange(nc), np.arange(nk), np.arange(nd)
    r = drift / 3

    # -- records -------------------------------------------------------------------------
    hs_c = _text("", _hubspot_ids(rng, nc, 10**10))
    hs_k = _text("", _hubspot_ids(rng, nk, 2 * 10**10))
    hs_d = _text("", _hubspot_ids(rng, nd, 3 * 10**10))
    app_c = _text("P-", rng.permutation(nc) + 10**6, width=8)  # the app's own ids
    app_k = _text("ORG-", rng.permutation(nk) + 10**5, width=7)
    app_d = _text("D-", rng.permutation(nd) + 10**5, width=7)
    domains = _text("company", k, ".com")
    emails = pc.binary_join_element_wise(
        _text("user", c), _take(domains, rng.integers(0, nk, nc)), "@"
    )

    c_missing = rng.random(nc) < r  # HubSpot contacts the app lacks
    c_renamed = (rng.random(nc) < r) & ~c_missing  # app id changed: stale acme_id in HubSpot
    k_missing = rng.random(nk) < r / 2
    k_no_site = (rng.random(nk) < r / 3) & ~k_missing  # app org without a website
    d_missing = rng.random(nd) < r

    # HubSpot's acme_id: the app id it was synced with (none for never-synced records)
    hs_acme_c = pc.if_else(
        pa.array(c_missing),
        _const(nc, None),
        pc.if_else(pa.array(c_renamed), _text("P-OLD", c), app_c),
    )
    hs_acme_d = pc.if_else(pa.array(d_missing), _const(nd, None), app_d)
    hs_records = _records(
        [
            {
                "object": _const(nc, "contacts"),
                "record_id": hs_c,
                "acme_id": hs_acme_c,
                "email": emails,
                "display_name": _text("Person ", c),
                "updated_at": _timestamps(rng, nc),
            },
            {
                "object": _const(nk, "companies"),
                "record_id": hs_k,
                "domain": domains,
                "display_name": _text("Company ", k),
                "updated_at": _timestamps(rng, nk),
            },
            {
                "object": _const(nd, "deals"),
                "record_id": hs_d,
                "acme_id": hs_acme_d,
                "display_name": _text("Deal ", d),
                "updated_at": _timestamps(rng, nd),
            },
        ],
        ["object", "record_id", "acme_id", "email", "domain", "display_name", "updated_at"],
    )

    app_c_ids = pc.if_else(pa.array(c_renamed), _text("P-N", c, width=8), app_c)
    other_case = rng.random(nc) < 0.10
    app_emails = pc.if_else(pa.array(other_case), pc.utf8_upper(emails), emails)
    keep_c = np.flatnonzero(~c_missing)
    # app-only persons: new people, and duplicates of renamed ones (ambiguous by email)
    n_new = max(1, round(nc * r / 2))
    renamed = np.flatnonzero(c_renamed)
    dup_of = renamed[rng.random(len(renamed)) < 0.25]
    persons = {
        "object": _const(len(keep_c) + n_new + len(dup_of), "contacts"),
        "record_id": pa.concat_arrays(
            [
                _take(app_c_ids, keep_c),
                _text("P-A", np.arange(n_new), width=8),
                _text("P-D", dup_of, width=8),
            ]
        ),
        "email": pa.concat_arrays(
            [
                _take(app_emails, keep_c),
                _text("new", np.arange(n_new), "@example.net"),
                pc.utf8_upper(_take(emails, dup_of)),
            ]
        ),
        "display_name": pa.concat_arrays(
            [
                _text("Person ", keep_c),
                _text("New person ", np.arange(n_new)),
                _text("Person ", dup_of),
            ]
        ),
    }
    persons["updated_at"] = _timestamps(rng, len(persons["record_id"]))
    keep_k = np.flatnonzero(~k_missing)
    dup_k = keep_k[rng.random(len(keep_k)) < r / 10]  # two orgs with one website: ambiguous
    websites = pc.binary_join_element_wise("https://www.", domains, "/", "")
    websites = pc.if_else(pa.array(k_no_site), _const(nk, None), websites)
    orgs = {
        "object": _const(len(keep_k) + len(dup_k), "companies"),
        "record_id": pa.concat_arrays([_take(app_k, keep_k), _text("ORG-D", dup_k, width=7)]),
        "website": pa.concat_arrays([_take(websites, keep_k), _take(websites, dup_k)]),
        "display_name": pa.concat_arrays([_text("Company ", keep_k), _text("Company ", dup_k)]),
    }
    orgs["updated_at"] = _timestamps(rng, len(orgs["record_id"]))
    keep_d = np.flatnonzero(~d_missing)
    deals_app = {
        "object": _const(len(keep_d), "deals"),
        "record_id": _take(app_d, keep_d),
        "display_name": _text("Deal ", keep_d),
        "updated_at": _timestamps(rng, len(keep_d)),
    }
    app_records = _records(
        [persons, orgs, deals_app],
        ["object", "record_id", "email", "website", "display_name", "updated_at"],
    )

    # -- HubSpot links ---------------------------------------------------------------------
    primary = rng.integers(0, nk, nc)
    second = rng.random(nc) < 0.05
    other = (primary + 1 + rng.integers(0, nk - 1, nc)) % nk
    billing = rng.random(nc) < 0.05
    deal_c1 = rng.integers(0, nc, nd)
    deal_c2 = (deal_c1 + 1 + rng.integers(0, nc - 1, nd)) % nc
    deal_k = rng.integers(0, nk, nd)
    reseller = rng.random(nd) < 0.02
    hs_edges = _edges(
        [
            ("contacts", hs_c, "companies", _take(hs_k, primary), None),
            ("contacts", hs_c, "companies", _take(hs_k, primary), "Primary"),
            ("contacts", _take(hs_c, c[second]), "companies", _take(hs_k, other[second]), None),
            (
                "contacts",
                _take(hs_c, c[billing]),
                "companies",
                _take(hs_k, primary[billing]),
                "Billing contact",
            ),
            ("deals", hs_d, "contacts", _take(hs_c, deal_c1), None),
            ("deals", hs_d, "contacts", _take(hs_c, deal_c2), None),
            ("deals", hs_d, "companies", _take(hs_k, deal_k), None),
            (
                "deals",
                _take(hs_d, d[reseller]),
                "companies",
                _take(hs_k, deal_k[reseller]),
                "Reseller",
            ),
        ]
    )

    # -- app links: the same links in app ids and labels, with drift -------------------------
    in_app_c, in_app_k, in_app_d = ~c_missing, ~k_missing, ~d_missing
    kept = np.flatnonzero(in_app_c & in_app_k[primary] & (rng.random(nc) >= r / 2))
    swap = rng.random(len(kept)) < r / 3  # 'billing' where HubSpot has 'Primary'
    primary_label = pc.if_else(pa.array(swap), "billing", "primary")
    bill = kept[billing[kept] & ~swap]
    new_from = rng.choice(keep_c, max(1, round(nc * r)))  # app-only contact→company links
    new_to = rng.choice(keep_k, len(new_from))
    ghosts = max(1, round(nc * r / 10))  # links naming persons the app's records lack
    dk = np.flatnonzero(in_app_d & (rng.random(nd) >= r / 2))  # r/2 dropped
    c1 = dk[in_app_c[deal_c1[dk]]]
    c2 = dk[in_app_c[deal_c2[dk]]]
    kk = dk[in_app_k[deal_k[dk]]]
    participant = _where(rng.random(len(c1)) < 0.5, "participant")
    extra_d = rng.choice(keep_d, max(1, round(nd * r)))  # app-only: deals sync one way
    extra_c = rng.choice(keep_c, len(extra_d))
    app_edges = _edges(
        [
            (
                "contacts",
                _take(app_c_ids, kept),
                "companies",
                _take(app_k, primary[kept]),
                primary_label,
            ),
            (
                "contacts",
                _take(app_c_ids, bill),
                "companies",
                _take(app_k, primary[bill]),
                "billing",
            ),
            ("contacts", _take(app_c_ids, new_from), "companies", _take(app_k, new_to), None),
            (
                "contacts",
                _text("P-GONE", np.arange(ghosts), width=8),
                "companies",
                _take(app_k, rng.choice(keep_k, ghosts)),
                None,
            ),
            (
                "deals",
                _take(app_d, c1),
                "contacts",
                _take(app_c_ids, deal_c1[c1]),
                participant,
            ),
            ("deals", _take(app_d, c2), "contacts", _take(app_c_ids, deal_c2[c2]), "participant"),
            ("deals", _take(app_d, kk), "companies", _take(app_k, deal_k[kk]), None),
            ("deals", _take(app_d, extra_d), "contacts", _take(app_c_ids, extra_c), None),
        ]
    )

    for side, records, edges in (
        ("hubspot", hs_records, hs_edges),
        ("app", app_records, app_edges),
    ):
        folder = out / "snapshot" / side
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(records, folder / "records.parquet", compression="zstd")
        pq.write_table(edges, folder / "associations.parquet", compression="zstd")
        meta = _meta(side, records, edges)
        (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", "utf-8")
    config = out / "config.yaml"
    config.write_text(yaml.safe_dump(CONFIG, sort_keys=False), "utf-8")
    return config


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--drift", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(generate(args.out, scale=args.scale, drift=args.drift, seed=args.seed))


if __name__ == "__main__":
    main()
