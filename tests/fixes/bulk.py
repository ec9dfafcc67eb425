"""A large integration on the sandbox emulator (HubSpot) and SQLite (app) whose audit plans
about 5,000 operations of every kind: creates with labels, removals with implied label
removals, relabels, primary moves (HubSpot) and creates in the app."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from assoc_audit.audit import run_audit
from assoc_audit.config import IntegrationConfig, load_config
from assoc_audit.fixes import FixPlan, make_plan

TOKEN = "sandbox-fix-bulk"
TOKEN_ENV = "ASSOC_AUDIT_FIX_TOKEN"
LABEL = "Billing contact"

#: group → (contacts, operations each): G1 create+label in HubSpot, G2 remove (label implied),
#: G3 relabel Billing contact → Primary, G4 primary move (implied removal), G5 create in app
GROUPS = {"G1": (900, 2), "G2": (500, 2), "G3": (600, 1), "G4": (400, 2), "G5": (800, 1)}


@dataclass
class Bulk:
    folder: Path
    config: IntegrationConfig
    config_path: Path
    findings: Path
    plan: FixPlan
    plan_path: Path


def _rows(groups: dict[str, tuple[int, int]], scale: float) -> tuple[list, list, list, int, int]:
    """(hubspot links, app links, app links deleted after the baseline, contacts, companies)."""
    hub: list[tuple] = []
    app: list[tuple] = []
    deleted: list[tuple] = []
    i = 0
    companies = 800

    def c(n: int) -> str:
        return str(1 + n)

    def k(n: int) -> str:
        return str(100_001 + n % companies)

    def p(n: int) -> str:
        return f"P{1 + n}"

    def o(n: int) -> str:
        return f"O{1 + n % companies}"

    for name, (count, _) in groups.items():
        for _ in range(max(1, int(count * scale))):
            a, b = i, i + 1
            if name == "G1":
                app += [(p(i), o(a), None), (p(i), o(a), "billing")]
            elif name == "G2":
                both_h = [(c(i), k(a), None), (c(i), k(a), LABEL)]
                hub += both_h
                deleted += [(p(i), o(a), None), (p(i), o(a), "billing")]
            elif name == "G3":
                hub += [(c(i), k(a), None), (c(i), k(a), LABEL)]
                app += [(p(i), o(a), None), (p(i), o(a), "primary")]
            elif name == "G4":
                hub += [(c(i), k(a), None), (c(i), k(a), "Primary"), (c(i), k(b), None)]
                app += [(p(i), o(a), None), (p(i), o(b), None), (p(i), o(b), "primary")]
            else:
                hub += [(c(i), k(a), None)]
            i += 1
    return hub, app, deleted, i, companies


def _write_app(db: Path, contacts: int, companies: int, links: list[tuple]) -> None:
    db.unlink(missing_ok=True)
    con = sqlite3.connect(db)
    try:
        con.execute("CREATE TABLE persons (id TEXT PRIMARY KEY, email TEXT)")
        con.execute("CREATE TABLE organizations (id TEXT PRIMARY KEY, website TEXT)")
        con.execute(
            "CREATE TABLE associations (from_object TEXT, from_id TEXT, to_object TEXT, "
            "to_id TEXT, label TEXT)"
        )
        con.executemany(
            "INSERT INTO persons VALUES (?, ?)",
            [(f"P{n}", f"person{n}@x.io") for n in range(1, contacts + 1)],
        )
        con.executemany(
            "INSERT INTO organizations VALUES (?, ?)",
            [(f"O{n}", f"https://www.org{n}.example/") for n in range(1, companies + 1)],
        )
        con.executemany(
            "INSERT INTO associations VALUES ('persons', ?, 'organizations', ?, ?)", links
        )
        con.commit()
    finally:
        con.close()


def delete_app_links(db: Path, links: list[tuple]) -> None:
    con = sqlite3.connect(db)
    try:
        con.executemany(
            "DELETE FROM associations WHERE from_id = ? AND to_id = ? AND label IS ?", links
        )
        con.commit()
    finally:
        con.close()


def build(folder: Path, sandbox: Any, *, scale: float = 1.0) -> Bulk:
    """Seed the emulator portal ``TOKEN`` and the app, audit twice (baseline), plan.

    The caller sets ``TOKEN_ENV`` to ``TOKEN`` in the environment.
    """
    folder.mkdir(parents=True, exist_ok=True)
    hub, app, deleted, contacts, companies = _rows(GROUPS, scale)
    backend = sandbox.backend
    backend.create_label(TOKEN, "contacts", "companies", LABEL, inverse_label="Billed company")
    backend.load_records(
        TOKEN,
        "contacts",
        pd.DataFrame(
            {
                "id": [str(n) for n in range(1, contacts + 1)],
                "email": [f"person{n}@x.io" for n in range(1, contacts + 1)],
            }
        ),
    )
    backend.load_records(
        TOKEN,
        "companies",
        pd.DataFrame(
            {
                "id": [str(100_000 + n) for n in range(1, companies + 1)],
                "domain": [f"org{n}.example" for n in range(1, companies + 1)],
            }
        ),
    )
    backend.load_associations(
        TOKEN,
        pd.DataFrame(
            [("contacts", f, "companies", t, label) for f, t, label in hub],
            columns=["from_object", "from_id", "to_object", "to_id", "label"],
        ),
    )
    db = folder / "app.db"
    _write_app(db, contacts, companies, app + deleted)
    data = {
        "name": "fix-bulk",
        "hubspot": {"token_env": TOKEN_ENV, "base_url": sandbox.url},
        "app": {"name": "Bulk CRM", "kind": "sql", "url": "sqlite:///app.db"},
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
        },
        "associations": [
            {"from": "contacts", "to": "companies"},
            {"from": "contacts", "to": "companies", "label": "Primary", "app_label": "primary"},
            {"from": "contacts", "to": "companies", "label": LABEL, "app_label": "billing"},
        ],
        "conflict_winner": "app",
    }
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    config = load_config(path)
    base = folder / "base"
    run_audit(config, out=base)
    delete_app_links(db, deleted)
    findings = folder / "audit"
    run_audit(config, out=findings, baseline=base)
    plan = make_plan(config, findings)
    plan_path = plan.write(findings / "plan.json")
    return Bulk(folder, config, path, findings, plan, plan_path)


def hubspot_table(sandbox: Any) -> list[tuple]:
    frame = sandbox.backend.associations_frame(TOKEN, "contacts", "companies").astype(object)
    rows = frame.where(frame.notna(), None).itertuples(index=False)
    return sorted((tuple(r) for r in rows), key=lambda r: tuple("" if v is None else v for v in r))


def app_table(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT * FROM associations").fetchall()
    finally:
        con.close()
    return sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r))
