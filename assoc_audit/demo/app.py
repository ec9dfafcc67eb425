"""Acme CRM, the demo's app side: a SQLite schema with a writable ``associations`` view.

Persons have one organization each, organizations have websites, deals have
participants and one organization, and there are no tickets. The
``associations`` view presents every link in the canonical shape (Acme's own
object names and label texts); INSTEAD OF triggers on it write links back the
way Acme's API would (one organization per person and per deal — setting
another replaces it — roles and participants in their own tables), so fix
plans and scenarios can write through the SQL connector.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

__all__ = ["write_app_database"]

_SCHEMA = """
CREATE TABLE organizations (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, website TEXT);
CREATE TABLE persons (
    id INTEGER PRIMARY KEY, full_name TEXT, email TEXT,
    organization_id INTEGER REFERENCES organizations(id),
    org_is_primary INTEGER NOT NULL DEFAULT 1);
CREATE TABLE deals (
    id INTEGER PRIMARY KEY, name TEXT, amount REAL,
    organization_id INTEGER REFERENCES organizations(id),
    org_is_primary INTEGER NOT NULL DEFAULT 1);
CREATE TABLE deal_participants (
    deal_id INTEGER NOT NULL, person_id INTEGER NOT NULL, PRIMARY KEY (deal_id, person_id));
CREATE TABLE person_roles (
    person_id INTEGER NOT NULL, organization_id INTEGER NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (person_id, organization_id, role));

-- Every link in the canonical shape, in Acme's own object names and label texts.
CREATE VIEW associations AS
    SELECT 'persons' AS from_object, id AS from_id, 'organizations' AS to_object,
           organization_id AS to_id, NULL AS label
      FROM persons WHERE organization_id IS NOT NULL
    UNION ALL
    SELECT 'persons', id, 'organizations', organization_id, 'primary'
      FROM persons WHERE organization_id IS NOT NULL AND org_is_primary = 1
    UNION ALL
    SELECT 'persons', person_id, 'organizations', organization_id, role FROM person_roles
    UNION ALL
    SELECT 'deals', deal_id, 'persons', person_id, 'participant' FROM deal_participants
    UNION ALL
    SELECT 'deals', id, 'organizations', organization_id, NULL
      FROM deals WHERE organization_id IS NOT NULL
    UNION ALL
    SELECT 'deals', id, 'organizations', organization_id, 'primary'
      FROM deals WHERE organization_id IS NOT NULL AND org_is_primary = 1;

-- Writing links through the view, as Acme's API would: one organization per person and
-- per deal (setting another one replaces it), roles and participants in their tables.
CREATE TRIGGER associations_insert INSTEAD OF INSERT ON associations BEGIN
    UPDATE persons SET organization_id = NEW.to_id,
           org_is_primary = CASE WHEN NEW.label = 'primary' THEN 1
                                 WHEN organization_id IS NOT NULL
                                      AND organization_id = NEW.to_id THEN org_is_primary
                                 ELSE 0 END
     WHERE NEW.from_object = 'persons' AND NEW.to_object = 'organizations'
       AND (NEW.label IS NULL OR NEW.label = 'primary') AND id = NEW.from_id;
    INSERT OR IGNORE INTO person_roles (person_id, organization_id, role)
    SELECT NEW.from_id, NEW.to_id, NEW.label
     WHERE NEW.from_object = 'persons' AND NEW.to_object = 'organizations'
       AND NEW.label IS NOT NULL AND NEW.label <> 'primary';
    INSERT OR IGNORE INTO deal_participants (deal_id, person_id)
    SELECT NEW.from_id, NEW.to_id
     WHERE NEW.from_object = 'deals' AND NEW.to_object = 'persons'
       AND (NEW.label IS NULL OR NEW.label = 'participant');
    UPDATE deals SET organization_id = NEW.to_id,
           org_is_primary = CASE WHEN NEW.label = 'primary' THEN 1
                                 WHEN organization_id IS NOT NULL
                                      AND organization_id = NEW.to_id THEN org_is_primary
                                 ELSE 0 END
     WHERE NEW.from_object = 'deals' AND NEW.to_object = 'organizations'
       AND (NEW.label IS NULL OR NEW.label = 'primary') AND id = NEW.from_id;
    SELECT RAISE(ABORT, 'Acme CRM does not store this kind of link')
     WHERE NOT ((NEW.from_object = 'persons' AND NEW.to_object = 'organizations')
             OR (NEW.from_object = 'deals' AND NEW.to_object = 'persons'
                 AND (NEW.label IS NULL OR NEW.label = 'participant'))
             OR (NEW.from_object = 'deals' AND NEW.to_object = 'organizations'
                 AND (NEW.label IS NULL OR NEW.label = 'primary')));
END;

CREATE TRIGGER associations_delete INSTEAD OF DELETE ON associations BEGIN
    -- removing the unlabeled link removes the whole pair (its labels too)
    UPDATE persons SET organization_id = NULL, org_is_primary = 1
     WHERE OLD.from_object = 'persons' AND OLD.label IS NULL
       AND id = OLD.from_id AND organization_id = OLD.to_id;
    DELETE FROM person_roles
     WHERE OLD.from_object = 'persons' AND OLD.label IS NULL
       AND person_id = OLD.from_id AND organization_id = OLD.to_id;
    UPDATE persons SET org_is_primary = 0
     WHERE OLD.from_object = 'persons' AND OLD.label = 'primary'
       AND id = OLD.from_id AND organization_id = OLD.to_id;
    DELETE FROM person_roles
     WHERE OLD.from_object = 'persons' AND OLD.label IS NOT NULL AND OLD.label <> 'primary'
       AND person_id = OLD.from_id AND organization_id = OLD.to_id AND role = OLD.label;
    DELETE FROM deal_participants
     WHERE OLD.from_object = 'deals' AND OLD.to_object = 'persons'
       AND deal_id = OLD.from_id AND person_id = OLD.to_id;
    UPDATE deals SET organization_id = NULL, org_is_primary = 1
     WHERE OLD.from_object = 'deals' AND OLD.to_object = 'organizations' AND OLD.label IS NULL
       AND id = OLD.from_id AND organization_id = OLD.to_id;
    UPDATE deals SET org_is_primary = 0
     WHERE OLD.from_object = 'deals' AND OLD.to_object = 'organizations'
       AND OLD.label = 'primary' AND id = OLD.from_id AND organization_id = OLD.to_id;
END;
"""

_COLUMNS = {
    "organizations": ("id", "name", "website"),
    "persons": ("id", "full_name", "email", "organization_id", "org_is_primary"),
    "deals": ("id", "name", "amount", "organization_id", "org_is_primary"),
    "deal_participants": ("deal_id", "person_id"),
    "person_roles": ("person_id", "organization_id", "role"),
}


def write_app_database(path: Path | str, tables: Mapping[str, pd.DataFrame]) -> Path:
    """Write the Acme CRM SQLite database from its tables (replacing any file at ``path``)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    try:
        con.executescript(_SCHEMA)
        for table, cols in _COLUMNS.items():
            df = tables[table].reindex(columns=list(cols))
            rows = df.astype(object).where(df.notna(), None).itertuples(index=False, name=None)
            marks = ", ".join("?" for _ in cols)
            con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)
        con.commit()
    finally:
        con.close()
    tmp.replace(out)
    return out
