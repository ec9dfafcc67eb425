"""Helpers for the scenario tests: demo and files-app integrations on a running emulator,
and a table-by-table picture of both sides (to prove a clean-up left them as before)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from assoc_audit.config import IntegrationConfig, load_config
from assoc_audit.connectors import load_side
from assoc_audit.demo.portal import (
    DEMO_TOKEN,
    DEMO_TOKEN_ENV,
    DemoData,
    prepare_demo,
    seed_demo_portal,
)
from assoc_audit.sandbox import Sandbox

OBJECTS = ("contacts", "companies", "deals", "tickets")
PROPERTIES = {
    "contacts": ["firstname", "lastname", "email", "acme_id"],
    "companies": ["name", "domain"],
    "deals": ["dealname", "amount", "acme_id", "pipeline", "dealstage"],
    "tickets": ["subject", "hs_pipeline", "hs_pipeline_stage"],
}


@dataclass
class Demo:
    sb: Sandbox
    config: IntegrationConfig
    data: DemoData | None
    folder: Path


@contextmanager
def demo(tmp_path: Path, monkeypatch: Any, *, scale: int = 300) -> Iterator[Demo]:
    """The demo integration on a fresh emulator (no rate limit), its token in the env."""
    with Sandbox(tokens=(DEMO_TOKEN,), rate_limit=0) as sb:
        data = seed_demo_portal(sb.backend, DEMO_TOKEN, scale=scale)
        config = load_config(prepare_demo(tmp_path / "demo", base_url=sb.url, data=data))
        monkeypatch.setenv(DEMO_TOKEN_ENV, DEMO_TOKEN)
        yield Demo(sb, config, data, tmp_path / "demo")


def files_config_data(url: str, app_dir: Path) -> dict[str, Any]:
    """The demo's objects and entries with a files app (it stores any label text)."""
    data = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "examples" / "demo.yaml").read_text("utf-8")
    )
    data["objects"]["tickets"]["sync"] = "off"  # YAML 1.1 reads `off` as false
    data["name"] = "files-acme"
    data["hubspot"]["base_url"] = url
    data["app"] = {
        "name": "Files CRM",
        "kind": "files",
        "path": str(app_dir),
        "display_name": {"persons": "full_name", "organizations": "name", "deals": "name"},
    }
    return data


@contextmanager
def files_app(
    tmp_path: Path,
    monkeypatch: Any,
    *,
    labels: tuple[str, ...] = ("Billing contact", "Reseller"),
    **changes: Any,
) -> Iterator[Demo]:
    """An empty emulator portal (the demo's ``labels`` defined) and an empty files app."""
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    for name, header in {
        "persons": "id,full_name,email",
        "organizations": "id,name,website",
        "deals": "id,name",
        "associations": "from_object,from_id,to_object,to_id,label",
    }.items():
        (app_dir / f"{name}.csv").write_text(header + "\n", encoding="utf-8")
    with Sandbox(tokens=(DEMO_TOKEN,), rate_limit=0) as sb:
        for frm, to, label in (
            ("contacts", "companies", "Billing contact"),
            ("deals", "companies", "Reseller"),
        ):
            if label in labels:
                sb.backend.create_label(DEMO_TOKEN, frm, to, label)
        sb.backend.create_property(
            DEMO_TOKEN,
            "contacts",
            {"name": "acme_id", "label": "Acme id", "type": "string", "fieldType": "text",
             "groupName": "contactinformation"},
        )  # fmt: skip
        sb.backend.create_property(
            DEMO_TOKEN,
            "deals",
            {"name": "acme_id", "label": "Acme id", "type": "string", "fieldType": "text",
             "groupName": "dealinformation"},
        )  # fmt: skip
        data = files_config_data(sb.url, app_dir)
        data.update(changes)
        path = tmp_path / "files.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        monkeypatch.setenv(DEMO_TOKEN_ENV, DEMO_TOKEN)
        yield Demo(sb, load_config(path), None, app_dir)


def _frame_rows(frame: pd.DataFrame) -> list[tuple]:
    values = frame.astype(object).where(frame.notna(), None)
    return sorted(tuple(str(v) for v in row) for row in values.itertuples(index=False))


def picture(d: Demo) -> dict[str, list[tuple]]:
    """Every table of both sides, row by row: the emulator's records and links per object
    and object pair, the app's own tables (SQLite or files), and the canonical tables."""
    out: dict[str, list[tuple]] = {}
    backend = d.sb.backend
    for obj in OBJECTS:
        out[f"portal {obj}"] = _frame_rows(backend.records_frame(DEMO_TOKEN, obj, PROPERTIES[obj]))
        for to in OBJECTS:
            out[f"portal {obj}→{to}"] = _frame_rows(backend.associations_frame(DEMO_TOKEN, obj, to))
    db = d.folder / "acme.db"
    if db.exists():
        con = sqlite3.connect(db)
        try:
            names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for name in names:
                rows = con.execute(f"SELECT * FROM {name}").fetchall()
                out[f"app {name}"] = sorted(tuple(str(v) for v in r) for r in rows)
        finally:
            con.close()
    else:
        for csv in sorted(d.folder.glob("*.csv")):
            out[f"app {csv.name}"] = sorted(csv.read_text("utf-8").splitlines())
    for side in ("hubspot", "app"):
        tables = load_side(d.config, side)
        out[f"{side} records"] = _frame_rows(tables.records.drop(columns="updated_at"))
        out[f"{side} associations"] = _frame_rows(tables.associations)
    return out


def assert_same(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> None:
    assert before.keys() == after.keys()
    for name, rows in before.items():
        assert rows == after[name], f"table {name} changed"
