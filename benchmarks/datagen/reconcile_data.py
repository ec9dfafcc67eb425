"""Synthetic portal + app snapshots for benchmarks/reconcile.py (deterministic, vectorised).

Writes ``<out>/snapshot/{hubspot,app}/`` (canonical tables as Parquet) and
``<out>/config.yaml`` (DESIGN §5's example integration, read from the
snapshots). The HubSpot side has ``contacts`` contacts, ``companies``
companies and ``deals`` deals with about 3 links per contact overall; the app
side holds the same data mapped to app ids and labels, with ``drift`` of the
links and records changed: links dropped or added, labels swapped, records
missing, extra or duplicated, so every reason shows up.

    python benchmarks/datagen/reconcile_data.py OUT [--contacts N] [--companies N]
        [--deals N] [--drift F] [--seed S]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

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


def _text(prefix: str, numbers: np.ndarray, suffix: str = "") -> pa.Array:
    digits = pa.array(numbers.astype(np.int64)).cast(pa.string())
    return pc.binary_join_element_wise(prefix, digits, suffix, "")


def _records(objects: list[tuple[str, int]], columns: dict[str, list[pa.Array | None]]) -> pa.Table:
    obj = pa.concat_arrays(
        [pa.array(np.full(n, name, dtype=object), pa.string()) for name, n in objects]
    )
    out = {"object": obj}
    for col, parts in columns.items():
        arrays = [
            p if p is not None else pa.nulls(n, pa.string())
            for p, (_, n) in zip(parts, objects, strict=True)
        ]
        out[col] = pa.concat_arrays(arrays)
    return pa.table(out)


def _edges(rows: list[tuple[str, pa.Array, str, pa.Array, pa.Array]]) -> pa.Table:
    cols: dict[str, list[pa.Array]] = {
        k: [] for k in ("from_object", "from_id", "to_object", "to_id", "label")
    }
    for fo, fid, to, tid, label in rows:
        n = len(fid)
        cols["from_object"].append(pa.array(np.full(n, fo, dtype=object), pa.string()))
        cols["from_id"].append(fid)
        cols["to_object"].append(pa.array(np.full(n, to, dtype=object), pa.string()))
        cols["to_id"].append(tid)
        cols["label"].append(label.cast(pa.string()))
    return pa.table({k: pa.concat_arrays(v) for k, v in cols.items()})


def _labels(n: int, value: str | None) -> pa.Array:
    return pa.array(np.full(n, value, dtype=object), pa.string())


def generate(
    out: Path,
    *,
    contacts: int = 1_000_000,
    companies: int = 200_000,
    deals: int = 300_000,
    drift: float = 0.03,
    seed: int = 7,
) -> Path:
    rng = np.random.default_rng(seed)
    c = np.arange(contacts)
    k = np.arange(companies)
    d = np.arange(deals)

    # -- HubSpot records -----------------------------------------------------------
    hs_c, hs_k, hs_d = _text("1", c + 10**9), _text("2", k + 10**9), _text("3", d + 10**9)
    acme_c = _text("P", c)
    emails = _text("user", c, "@example.org")
    domains = _text("company", k, ".com")
    acme_d = _text("D", d)
    hs_records = _records(
        [("contacts", contacts), ("companies", companies), ("deals", deals)],
        {
            "record_id": [hs_c, hs_k, hs_d],
            "acme_id": [acme_c, None, acme_d],
            "email": [emails, None, None],
            "domain": [None, domains, None],
            "display_name": [_text("Person ", c), _text("Company ", k), _text("Deal ", d)],
        },
    )

    # -- HubSpot links ---------------------------------------------------------------
    primary = rng.integers(0, companies, contacts)
    second_mask = rng.random(contacts) < 0.05
    second = (primary + 1 + rng.integers(0, companies - 1, contacts)) % companies
    billing_mask = rng.random(contacts) < 0.05
    deal_c1, deal_c2 = rng.integers(0, contacts, deals), rng.integers(0, contacts, deals)
    deal_c2 = np.where(deal_c2 == deal_c1, (deal_c1 + 1) % contacts, deal_c2)
    deal_k = rng.integers(0, companies, deals)
    reseller = rng.random(deals) < 0.02

    def hs(ids: pa.Array, rows: np.ndarray) -> pa.Array:
        return ids.take(pa.array(rows))

    hs_edges = _edges(
        [
            ("contacts", hs_c, "companies", hs(hs_k, primary), _labels(contacts, None)),
            ("contacts", hs_c, "companies", hs(hs_k, primary), _labels(contacts, "Primary")),
            (
                "contacts",
                hs(hs_c, c[second_mask]),
                "companies",
                hs(hs_k, second[second_mask]),
                _labels(int(second_mask.sum()), None),
            ),
            (
                "contacts",
                hs(hs_c, c[billing_mask]),
                "companies",
                hs(hs_k, primary[billing_mask]),
                _labels(int(billing_mask.sum()), "Billing contact"),
            ),
            ("deals", hs_d, "contacts", hs(hs_c, deal_c1), _labels(deals, None)),
            ("deals", hs_d, "contacts", hs(hs_c, deal_c2), _labels(deals, None)),
            ("deals", hs_d, "companies", hs(hs_k, deal_k), _labels(deals, None)),
            (
                "deals",
                hs(hs_d, d[reseller]),
                "companies",
                hs(hs_k, deal_k[reseller]),
                _labels(int(reseller.sum()), "Reseller"),
            ),
        ]
    )

    # -- app records (with record drift) -----------------------------------------------
    r = drift / 3
    missing_c = rng.random(contacts) < r  # contacts the app lacks
    renamed_c = (rng.random(contacts) < r) & ~missing_c  # other app id, same email
    app_c_ids = pc.if_else(pa.array(renamed_c), _text("X", c), acme_c)
    app_emails = pc.utf8_upper(emails)  # the email normaliser lower-cases it again
    keep_c = ~missing_c
    extra = max(1, int(contacts * r / 3))
    dup_src = rng.integers(0, contacts, extra)
    app_person_ids = pa.concat_arrays(
        [app_c_ids.filter(pa.array(keep_c)), _text("DUP", np.arange(extra))]
    )
    app_person_emails = pa.concat_arrays(
        [app_emails.filter(pa.array(keep_c)), emails.take(pa.array(dup_src))]
    )
    app_c_names = pa.concat_arrays([_text("Person ", c[keep_c]), _text("Copy ", np.arange(extra))])
    app_k_ids = _text("O", k)
    websites = pc.binary_join_element_wise("https://www.", domains, "/", "")
    app_d_ids = acme_d
    n_persons = len(app_person_ids)
    app_records = _records(
        [("contacts", n_persons), ("companies", companies), ("deals", deals)],
        {
            "record_id": [app_person_ids, app_k_ids, app_d_ids],
            "email": [app_person_emails, None, None],
            "website": [None, websites, None],
            "display_name": [app_c_names, _text("Org ", k), _text("Deal ", d)],
        },
    )

    # -- app links: the same links in app terms, then link drift --------------------------
    def ac(rows: np.ndarray) -> pa.Array:
        return app_c_ids.take(pa.array(rows))

    def ak(rows: np.ndarray) -> pa.Array:
        return app_k_ids.take(pa.array(rows))

    def ad(rows: np.ndarray) -> pa.Array:
        return app_d_ids.take(pa.array(rows))

    keep = (rng.random(contacts) >= r) & keep_c  # dropped contact→company pairs
    swap = (rng.random(contacts) < r / 3) & ~billing_mask  # 'billing' for 'primary': mismatch
    primary_label = np.where(swap, "billing", "primary").astype(object)
    kept = c[keep]
    participant = np.where(rng.random(deals) < 0.5, "participant", None).astype(object)
    new_links = max(1, int(contacts * r))
    new_from = rng.integers(0, contacts, new_links)
    new_to = rng.integers(0, companies, new_links)
    new_to, new_from = new_to[keep_c[new_from]], new_from[keep_c[new_from]]
    new_links = len(new_from)
    deal_keep = (rng.random(deals) >= r) & keep_c[deal_c1]
    deal_c2_keep = keep_c[deal_c2]
    # app-only deal→contact links: deals sync one way, so these are direction_blocked
    extra_deals = rng.integers(0, deals, max(1, int(deals * r)))
    extra_contacts = rng.integers(0, contacts, len(extra_deals))
    extra_deals = extra_deals[keep_c[extra_contacts]]
    extra_contacts = extra_contacts[keep_c[extra_contacts]]
    dk = d[deal_keep]
    app_edges = _edges(
        [
            # the app stores labelled links without their unlabeled row (implied)
            (
                "contacts",
                ac(kept),
                "companies",
                ak(primary[keep]),
                pa.array(primary_label[keep], pa.string()),
            ),
            (
                "contacts",
                ac(c[keep & billing_mask & ~swap]),
                "companies",
                ak(primary[keep & billing_mask & ~swap]),
                _labels(int((keep & billing_mask & ~swap).sum()), "billing"),
            ),
            ("contacts", ac(new_from), "companies", ak(new_to), _labels(new_links, None)),
            (
                "deals",
                ad(dk),
                "contacts",
                ac(deal_c1[deal_keep]),
                pa.array(participant[deal_keep], pa.string()),
            ),
            (
                "deals",
                ad(d[deal_c2_keep]),
                "contacts",
                ac(deal_c2[deal_c2_keep]),
                _labels(int(deal_c2_keep.sum()), "participant"),
            ),
            (
                "deals",
                ad(dk),
                "companies",
                ak(deal_k[deal_keep]),
                _labels(int(deal_keep.sum()), None),
            ),
            (
                "deals",
                ad(extra_deals),
                "contacts",
                ac(extra_contacts),
                _labels(len(extra_deals), None),
            ),
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
        meta = {
            "side": side,
            "source": "benchmarks/datagen/reconcile_data.py",
            "records": records.num_rows,
            "associations": edges.num_rows,
        }
        (folder / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", "utf-8")
    (out / "config.yaml").write_text(yaml.safe_dump(CONFIG, sort_keys=False), "utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--companies", type=int, default=200_000)
    parser.add_argument("--deals", type=int, default=300_000)
    parser.add_argument("--drift", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    generate(
        args.out,
        contacts=args.contacts,
        companies=args.companies,
        deals=args.deals,
        drift=args.drift,
        seed=args.seed,
    )
    print(args.out)


if __name__ == "__main__":
    main()
