"""Builders for engine tests: configs and SideTables from small literal data."""

from __future__ import annotations

from typing import Any

import pandas as pd

from assoc_audit.config import IntegrationConfig, parse_config
from assoc_audit.snapshot import SideTables, identifier_columns
from assoc_audit.tables import validate_associations, validate_records


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
