"""Builders for fix tests: a small integration with an app side on disk (CSV or SQLite) and
a HubSpot side in memory (for audits), audit folders, and raw views of the stored links."""

from __future__ import annotations

import csv
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from assoc_audit.audit import run_audit
from assoc_audit.config import IntegrationConfig, load_config
from assoc_audit.connectors import load_side
from assoc_audit.tables import (
    SideTables,
    identifier_columns,
    validate_associations,
    validate_records,
)

N_CONTACTS = 8
N_COMPANIES = 6
APP_NAMES = {"contacts": "persons", "companies": "organizations", "deals": "deals"}


def config_data(app: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "fixtest",
        "hubspot": {"token_env": "FIXTEST_TOKEN", "base_url": "http://127.0.0.1:9"},
        "app": {"name": "Test CRM", **app},
        "objects": {
            "contacts": {
                "sync": "two_way",
                "app_object": "persons",
                "match": [{"hubspot": "email", "app": "email", "normalize": "email"}],
            },
            "companies": {
                "sync": "two_way",
                "app_object": "organizations",
                "match": [{"hubspot": "domain", "app": "website", "normalize": "domain"}],
            },
            "deals": {"sync": "hubspot_to_app", "match": [{"hubspot": "acme_id", "app": "id"}]},
        },
        "associations": [
            {"from": "contacts", "to": "companies"},
            {"from": "contacts", "to": "companies", "label": "Primary", "app_label": "primary"},
            {
                "from": "contacts",
                "to": "companies",
                "label": "Billing contact",
                "app_label": "billing",
            },
            {"from": "deals", "to": "contacts", "app_label": "participant"},
        ],
        "conflict_winner": "hubspot",
    }
    data.update(extra)
    return data


def hub_records() -> list[dict[str, Any]]:
    out = [
        {"object": "contacts", "record_id": f"c{i}", "email": f"e{i}@x.io"}
        for i in range(1, N_CONTACTS + 1)
    ]
    out += [
        {"object": "companies", "record_id": f"k{i}", "domain": f"d{i}.com"}
        for i in range(1, N_COMPANIES + 1)
    ]
    out += [{"object": "deals", "record_id": f"g{i}", "acme_id": f"D{i}"} for i in range(1, 4)]
    return out


def app_tables() -> dict[str, pd.DataFrame]:
    return {
        "persons": pd.DataFrame(
            {
                "id": [f"p{i}" for i in range(1, N_CONTACTS + 1)],
                "email": [f"E{i}@x.io" for i in range(1, N_CONTACTS + 1)],
            }
        ),
        "organizations": pd.DataFrame(
            {
                "id": [f"o{i}" for i in range(1, N_COMPANIES + 1)],
                "website": [f"https://www.d{i}.com/" for i in range(1, N_COMPANIES + 1)],
            }
        ),
        "deals": pd.DataFrame({"id": [f"D{i}" for i in range(1, 4)]}),
    }


def hub(contact: int, company: int, label: str | None = None) -> tuple:
    return ("contacts", f"c{contact}", "companies", f"k{company}", label)


def app(contact: int, company: int, label: str | None = None) -> tuple:
    return ("persons", f"p{contact}", "organizations", f"o{company}", label)


@dataclass
class World:
    """One integration on disk: ``config``, the app's stored links, a HubSpot side in memory."""

    folder: Path
    kind: str
    config: IntegrationConfig
    hub_links: list[tuple]

    def hubspot_side(self) -> SideTables:
        config = self.config
        idents = identifier_columns(config, "hubspot")
        recs = pd.DataFrame(hub_records()).reindex(
            columns=["object", "record_id", *idents, "display_name"]
        )
        recs, rstats = validate_records(
            recs.astype("string[pyarrow]"),
            source="hubspot",
            identifiers=idents,
            objects=config.audited_objects,
        )
        links = pd.DataFrame(
            self.hub_links, columns=["from_object", "from_id", "to_object", "to_id", "label"]
        ).astype("string[pyarrow]")
        links, astats = validate_associations(links, source="hubspot", pairs=config.pairs)
        return SideTables("hubspot", recs, links, {"source": "memory"}, rstats, astats)

    def audit(self, name: str = "audit", baseline: Path | None = None) -> Path:
        out = self.folder / name
        run_audit(self.config, hubspot=self.hubspot_side(), app=load_side(self.config, "app"),
                  baseline=baseline, out=out)  # fmt: skip
        return out

    def stored(self) -> list[tuple]:
        """The app's association rows exactly as stored (sorted; '' for null)."""
        if self.kind == "files":
            with open(self.folder / "app" / "associations.csv", newline="", encoding="utf-8") as fh:
                rows = [tuple(r) for r in csv.reader(fh)][1:]
        else:
            con = sqlite3.connect(self.folder / "app.db")
            try:
                rows = [
                    tuple("" if v is None else str(v) for v in r)
                    for r in con.execute(
                        "SELECT from_object, from_id, to_object, to_id, label FROM associations"
                    )
                ]
            finally:
                con.close()
        return sorted(rows)

    def set_app_links(self, links: list[tuple]) -> None:
        write_app(self.folder, self.kind, links)


def write_app(folder: Path, kind: str, links: list[tuple]) -> None:
    tables = app_tables()
    assoc = pd.DataFrame(links, columns=["from_object", "from_id", "to_object", "to_id", "label"])
    if kind == "files":
        target = folder / "app"
        target.mkdir(parents=True, exist_ok=True)
        for name, df in {**tables, "associations": assoc}.items():
            df.to_csv(target / f"{name}.csv", index=False)
    else:
        db = folder / "app.db"
        db.unlink(missing_ok=True)
        con = sqlite3.connect(db)
        try:
            for name, df in tables.items():
                df.to_sql(name, con, index=False)
            con.execute(
                "CREATE TABLE associations (from_object TEXT, from_id TEXT, to_object TEXT, "
                "to_id TEXT, label TEXT)"
            )
            con.executemany(
                "INSERT INTO associations VALUES (?, ?, ?, ?, ?)",
                [tuple(r) for r in links],
            )
            con.commit()
        finally:
            con.close()


def make_world(
    folder: Path,
    kind: str,
    hub_links: list[tuple],
    app_links: list[tuple],
    **extra: Any,
) -> World:
    folder.mkdir(parents=True, exist_ok=True)
    write_app(folder, kind, app_links)
    settings = (
        {"kind": "files", "path": "app"}
        if kind == "files"
        else {"kind": "sql", "url": "sqlite:///app.db"}
    )
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config_data(settings, **extra), sort_keys=False), "utf-8")
    return World(folder, kind, load_config(path), list(hub_links))
