"""Builders for engine tests: configs and SideTables from small literal data."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from assoc_audit.config import IntegrationConfig, parse_config
from assoc_audit.tables import (
    SideTables,
    identifier_columns,
    validate_associations,
    validate_records,
)


def make_config(
    objects: dict[str, Any] | None = None,
    associations: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> IntegrationConfig:
    """A files-kind config (snapshot paths unused) with sensible two-way defaults."""
    raw: dict[str, Any] = {
        "name": "test",
        "app": {"name": "Acme CRM", "kind": "files", "path": "."},
        "objects": objects
        if objects is not None
        else {
            "contacts": {"sync": "two_way", "match": [{"hubspot": "email", "app": "email"}]},
            "companies": {"sync": "two_way", "match": [{"hubspot": "domain", "app": "domain"}]},
        },
        "associations": associations
        if associations is not None
        else [{"from": "contacts", "to": "companies"}],
    }
    raw.update(extra)
    return parse_config(raw, base_dir=".")


def make_side(
    config: IntegrationConfig,
    side: str,
    records: list[tuple] = (),  # (object, id, {column: value}, display_name or None)
    links: list[tuple] = (),  # (from_object, from_id, to_object, to_id, label or None)
    meta: dict[str, Any] | None = None,
) -> SideTables:
    idents = identifier_columns(config, side)  # type: ignore[arg-type]
    rows = []
    for rec in records:
        obj, rid = rec[0], rec[1]
        values = rec[2] if len(rec) > 2 else {}
        name = rec[3] if len(rec) > 3 else None
        row = {"object": obj, "record_id": rid, "display_name": name}
        for col in idents:
            row[col] = values.get(col)
        rows.append(row)
    rdf = pd.DataFrame(rows, columns=["object", "record_id", *idents, "display_name"]).astype(
        "string[pyarrow]"
    )
    ldf = pd.DataFrame(
        list(links), columns=["from_object", "from_id", "to_object", "to_id", "label"]
    ).astype("string[pyarrow]")
    recs, rstats = validate_records(
        rdf, source=f"{side} records", identifiers=idents, objects=config.audited_objects
    )
    assoc, astats = validate_associations(ldf, source=f"{side} associations", pairs=config.pairs)
    return SideTables(side, recs, assoc, dict(meta or {}), rstats, astats)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# A small world: matched contacts, companies and deals on both sides.

N_CONTACTS = 6
N_COMPANIES = 12
N_DEALS = 4


def world_objects(
    contacts: str = "two_way", companies: str = "two_way", deals: str | None = None
) -> dict[str, Any]:
    objects: dict[str, Any] = {
        "contacts": {
            "sync": contacts,
            "match": [{"hubspot": "email", "app": "email", "normalize": "email"}],
        },
        "companies": {
            "sync": companies,
            "match": [{"hubspot": "domain", "app": "website", "normalize": "domain"}],
        },
    }
    if deals is not None:
        objects["deals"] = {"sync": deals, "match": [{"hubspot": "acme_id", "app": "id"}]}
    for obj in objects.values():
        if obj["sync"] == "off":
            obj.pop("match")
    return objects


def world_records(side: str) -> list[tuple]:
    """Contacts c1..c6 ↔ p1..p6 (email), companies k1..k12 ↔ o1..o12 (domain), deals g1..g4 ↔ D1..D4."""
    out: list[tuple] = []
    for i in range(1, N_CONTACTS + 1):
        if side == "hubspot":
            out.append(("contacts", f"c{i}", {"email": f"e{i}@x.io"}, f"Contact {i}"))
        else:
            out.append(("contacts", f"p{i}", {"email": f"E{i}@x.io "}, f"Person {i}"))
    for i in range(1, N_COMPANIES + 1):
        if side == "hubspot":
            out.append(("companies", f"k{i}", {"domain": f"d{i}.com"}, f"Company {i}"))
        else:
            out.append(("companies", f"o{i}", {"website": f"https://www.d{i}.com/"}, f"Org {i}"))
    for i in range(1, N_DEALS + 1):
        if side == "hubspot":
            out.append(("deals", f"g{i}", {"acme_id": f"D{i}"}, f"Deal {i}"))
        else:
            out.append(("deals", f"D{i}", {}, f"Deal {i}"))
    for i in range(1, 4):
        out.append(("tickets", f"t{i}" if side == "hubspot" else f"T{i}", {}, f"Ticket {i}"))
    return out


def world_config(
    associations: list[dict[str, Any]] | None = None,
    *,
    contacts: str = "two_way",
    companies: str = "two_way",
    deals: str | None = None,
    extra_objects: dict[str, Any] | None = None,
    **extra: Any,
) -> IntegrationConfig:
    return make_config(
        objects={**world_objects(contacts, companies, deals), **(extra_objects or {})},
        associations=associations
        if associations is not None
        else [{"from": "contacts", "to": "companies"}],
        **extra,
    )


def world(
    config: IntegrationConfig,
    hubspot_links: list[tuple] = (),
    app_links: list[tuple] = (),
    *,
    hubspot_records: list[tuple] | None = None,
    app_records: list[tuple] | None = None,
    hubspot_meta: dict[str, Any] | None = None,
) -> tuple[SideTables, SideTables]:
    """Both sides; links may be given as (from_id, to_id[, label]) for contacts→companies."""

    def expand(links: list[tuple]) -> list[tuple]:
        out = []
        for link in links:
            if len(link) <= 3:
                frm, to = link[0], link[1]
                label = link[2] if len(link) > 2 else None
                out.append(("contacts", frm, "companies", to, label))
            else:
                out.append(tuple(link))
        return out

    h = make_side(
        config,
        "hubspot",
        hubspot_records if hubspot_records is not None else world_records("hubspot"),
        expand(list(hubspot_links)),
        meta=hubspot_meta,
    )
    a = make_side(
        config,
        "app",
        app_records if app_records is not None else world_records("app"),
        expand(list(app_links)),
    )
    return h, a


def rows(result: Any, *cols: str) -> list[tuple]:
    """Findings as tuples of the given columns (NA as None), in the findings' order."""
    cols = cols or (
        "present_in",
        "hubspot_from_id",
        "hubspot_to_id",
        "app_from_id",
        "app_to_id",
        "label",
        "reason",
        "action",
    )
    df = result.findings
    return [
        tuple(None if v is pd.NA else v for v in row)
        for row in df[list(cols)].itertuples(index=False)
    ]


def brief(result: Any) -> list[tuple]:
    """Findings as (present_in, from_id, to_id, label, reason, action) with the present side's ids."""
    out = []
    for row in result.findings.itertuples(index=False):
        own = "hubspot" if row.present_in == "hubspot" else "app"
        frm = getattr(row, f"{own}_from_id")
        to = getattr(row, f"{own}_to_id")
        label = None if row.label is pd.NA else row.label
        out.append((row.present_in, frm, to, label, row.reason, row.action))
    return out


def _demo_display_names(obj: str, df: pd.DataFrame) -> pd.Series:
    if obj == "contacts":
        full = (df["firstname"].fillna("") + " " + df["lastname"].fillna("")).str.strip()
        return full.where(full != "", df["email"])
    column = {"companies": "name", "deals": "dealname", "tickets": "subject"}[obj]
    return df[column]


def demo_hubspot_side(config: IntegrationConfig, data: Any) -> SideTables:
    """The demo portal's tables (``build_demo``) as the HubSpot connector reads them: records
    with their identifier properties and display names, links with HubSpot label texts."""
    idents = identifier_columns(config, "hubspot")
    frames = []
    for obj, df in data.portal_records.items():
        frame = pd.DataFrame({"object": obj, "record_id": df["id"]})
        for col in idents:
            frame[col] = df[col] if col in df.columns else None
        frame["display_name"] = _demo_display_names(obj, df)
        frames.append(frame)
    records = pd.concat(frames, ignore_index=True).astype(object)
    rec, rstats = validate_records(
        records, source="demo portal", identifiers=idents, objects=config.audited_objects
    )
    assoc, astats = validate_associations(
        data.portal_associations, source="demo portal", pairs=config.pairs
    )
    return SideTables("hubspot", rec, assoc, {"source": "demo portal"}, rstats, astats)


def config_from_snapshots(first: Any, snap: Any) -> IntegrationConfig:
    """The config of ``first`` (a world audit) reading both sides from the ``snapshot``
    folder it wrote (``snap``)."""
    raw = {
        "name": "again",
        "hubspot": {"snapshot": str(snap / "hubspot")},
        "app": {"name": "Acme CRM", "kind": "files", "snapshot": str(snap / "app")},
        "objects": first.config.model_dump(by_alias=True, exclude={"base_dir"})["objects"],
        "associations": [{"from": "contacts", "to": "companies"}],
    }
    return parse_config(json.loads(json.dumps(raw, default=str)))
