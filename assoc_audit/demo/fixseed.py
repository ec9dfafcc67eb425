"""A synthetic integration for fix-plan tests and benchmarks: its audit plans every kind of
operation, about 5,000 of them at scale 1.

:func:`seed_fix_scenario` seeds an emulator portal (contacts, companies, the
``Billing contact`` label, links) and writes a SQLite app and a config
(``conflict_winner: app``) into a folder. Its links fall in five groups, one
operation kind each (counts at scale 1):

====  ========  ===========================================================  ==========
group contacts  what differs                                                 operations
====  ========  ===========================================================  ==========
G1    900       the app has a billing link HubSpot lacks                     create ×2
G2    500       both had a billing link; the app deleted it (after the       remove ×2
                baseline: :meth:`FixScenario.delete_app_links`)              (1 implied)
G3    600       HubSpot says ``Billing contact``, the app ``primary``        relabel
G4    400       the sides name different primary companies                  create + implied
                                                                             remove
G5    800       HubSpot has a link the app lacks                             create in app
====  ========  ===========================================================  ==========

Audit once (the baseline), call :meth:`FixScenario.delete_app_links`, audit
again with the baseline, and plan from that second audit.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

__all__ = ["FIX_LABEL", "GROUPS", "FixScenario", "seed_fix_scenario"]

FIX_LABEL = "Billing contact"
#: group → (contacts at scale 1, operations each)
GROUPS: dict[str, tuple[int, int]] = {
    "G1": (900, 2),
    "G2": (500, 2),
    "G3": (600, 1),
    "G4": (400, 2),
    "G5": (800, 1),
}
_COMPANIES = 800

Link = tuple[str, str, str | None]


@dataclass(frozen=True)
class FixScenario:
    """Where the scenario lives: its config, app database and the portal's token."""

    folder: Path
    config_path: Path
    database: Path
    token: str
    operations: int
    deleted: tuple[Link, ...] = field(default=(), repr=False)

    def delete_app_links(self) -> None:
        """Delete group G2's links from the app (after the baseline audit)."""
        con = sqlite3.connect(self.database)
        try:
            con.executemany(
                "DELETE FROM associations WHERE from_id = ? AND to_id = ? AND label IS ?",
                self.deleted,
            )
            con.commit()
        finally:
            con.close()

    def app_links(self) -> list[tuple[Any, ...]]:
        """The app's association rows as stored, sorted."""
        con = sqlite3.connect(self.database)
        try:
            rows = con.execute("SELECT * FROM associations").fetchall()
        finally:
            con.close()
        return sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r))


def hubspot_links(backend: Any, token: str) -> list[tuple[Any, ...]]:
    """The portal's contact→company links (label None = unlabeled), sorted."""
    frame = backend.associations_frame(token, "contacts", "companies").astype(object)
    rows = frame.where(frame.notna(), None).itertuples(index=False)
    return sorted((tuple(r) for r in rows), key=lambda r: tuple("" if v is None else v for v in r))


def _links(scale: float) -> tuple[list[Link], list[Link], list[Link], int, int]:
    hub: list[Link] = []
    app: list[Link] = []
    deleted: list[Link] = []
    n = ops = 0

    def k(i: int) -> str:
        return str(100_001 + i % _COMPANIES)

    def o(i: int) -> str:
        return f"O{1 + i % _COMPANIES}"

    for name, (count, each) in GROUPS.items():
        size = max(1, round(count * scale))
        ops += size * each
        for _ in range(size):
            c, p = str(1 + n), f"P{1 + n}"
            if name == "G1":
                app += [(p, o(n), None), (p, o(n), "billing")]
            elif name == "G2":
                hub += [(c, k(n), None), (c, k(n), FIX_LABEL)]
                deleted += [(p, o(n), None), (p, o(n), "billing")]
            elif name == "G3":
                hub += [(c, k(n), None), (c, k(n), FIX_LABEL)]
                app += [(p, o(n), None), (p, o(n), "primary")]
            elif name == "G4":
                hub += [(c, k(n), None), (c, k(n), "Primary"), (c, k(n + 1), None)]
                app += [(p, o(n), None), (p, o(n + 1), None), (p, o(n + 1), "primary")]
            else:
                hub += [(c, k(n), None)]
            n += 1
    return hub, app, deleted, n, ops


def _write_app(db: Path, contacts: int, links: list[Link]) -> None:
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
            [(f"P{i}", f"person{i}@x.io") for i in range(1, contacts + 1)],
        )
        con.executemany(
            "INSERT INTO organizations VALUES (?, ?)",
            [(f"O{i}", f"https://www.org{i}.example/") for i in range(1, _COMPANIES + 1)],
        )
        con.executemany(
            "INSERT INTO associations VALUES ('persons', ?, 'organizations', ?, ?)", links
        )
        con.commit()
    finally:
        con.close()


def seed_fix_scenario(
    backend: Any,
    token: str,
    folder: Path | str,
    *,
    base_url: str,
    token_env: str,
    scale: float = 1.0,
) -> FixScenario:
    """Seed portal ``token`` of an emulator ``backend`` and write the app and config."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    hub, app, deleted, contacts, ops = _links(scale)
    backend.create_label(token, "contacts", "companies", FIX_LABEL, inverse_label="Billed company")
    ids = range(1, contacts + 1)
    backend.load_records(
        token,
        "contacts",
        pd.DataFrame({"id": [str(i) for i in ids], "email": [f"person{i}@x.io" for i in ids]}),
    )
    backend.load_records(
        token,
        "companies",
        pd.DataFrame(
            {
                "id": [str(100_000 + i) for i in range(1, _COMPANIES + 1)],
                "domain": [f"org{i}.example" for i in range(1, _COMPANIES + 1)],
            }
        ),
    )
    backend.load_associations(
        token,
        pd.DataFrame(
            [("contacts", f, "companies", t, label) for f, t, label in hub],
            columns=["from_object", "from_id", "to_object", "to_id", "label"],
        ),
    )
    db = out / "app.db"
    _write_app(db, contacts, app + deleted)
    data = {
        "name": "fix-scenario",
        "hubspot": {"token_env": token_env, "base_url": base_url},
        "app": {"name": "Scenario CRM", "kind": "sql", "url": "sqlite:///app.db"},
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
            {"from": "contacts", "to": "companies", "label": FIX_LABEL, "app_label": "billing"},
        ],
        "conflict_winner": "app",
    }
    path = out / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), "utf-8")
    return FixScenario(out, path, db, token, ops, tuple(deleted))
