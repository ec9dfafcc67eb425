"""Helpers for the HubSpot connector tests: seeded emulator portals, configs, virtual time."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from assoc_audit.config import IntegrationConfig, load_config
from assoc_audit.demo.synthetic import SyntheticPortal, seed_portal, synthesize_portal
from assoc_audit.sandbox import Sandbox

TOKEN_ENV = "ASSOC_AUDIT_TEST_HUBSPOT_TOKEN"
APP_TOKEN_ENV = "ASSOC_AUDIT_TEST_APP_TOKEN"
TOKEN = "hub-test-portal"
APP_TOKEN = "app-test-portal"

PAIRS = [("contacts", "companies"), ("deals", "contacts"), ("deals", "companies")]


def config_data(url: str, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "hub-test",
        "hubspot": {"token_env": TOKEN_ENV, "base_url": url},
        "app": {"name": "Test CRM", "kind": "files", "path": "."},
        "objects": {
            "contacts": {
                "sync": "two_way",
                "match": [{"hubspot": "email", "app": "email", "normalize": "email"}],
            },
            "companies": {
                "sync": "two_way",
                "match": [{"hubspot": "domain", "app": "website", "normalize": "domain"}],
            },
            "deals": {"sync": "hubspot_to_app", "match": [{"hubspot": "dealname", "app": "name"}]},
            "tickets": {"sync": "off"},
        },
        "associations": [
            {"from": "contacts", "to": "companies"},
            {"from": "contacts", "to": "companies", "label": "Primary", "app_label": "primary"},
            {"from": "contacts", "to": "companies", "label": "Billing contact"},
            {"from": "deals", "to": "contacts", "app_label": "participant"},
            {"from": "deals", "to": "companies"},
            {"from": "deals", "to": "companies", "label": "Primary"},
            {"from": "deals", "to": "companies", "label": "Reseller", "app_supported": False},
            {"from": "tickets", "to": "companies", "app_supported": False},
        ],
    }
    data.update(extra)
    return data


def write_config(folder: Path, data: dict[str, Any]) -> IntegrationConfig:
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_config(path)


def seeded(sb: Sandbox, token: str = TOKEN, contacts: int = 240, seed: int = 3) -> SyntheticPortal:
    portal = synthesize_portal(contacts, seed=seed)
    seed_portal(sb.backend, token, portal)
    return portal


def rows(frame: pd.DataFrame, columns: list[str] | None = None) -> list[tuple]:
    """A frame's rows as sorted tuples (None for null), for exact comparisons."""
    cols = columns or list(frame.columns)
    values = frame[cols].astype(object).where(frame[cols].notna(), None)
    return sorted(
        (tuple(r) for r in values.itertuples(index=False)),
        key=lambda r: tuple((v is not None, "" if v is None else str(v)) for v in r),
    )


def truth_links(sb: Sandbox, pair: tuple[str, str], token: str = TOKEN) -> list[tuple]:
    """The emulator's own links of ``pair`` (ground truth), as (from, to, label) rows."""
    frame = sb.backend.associations_frame(token, *pair)
    return rows(frame, ["from_id", "to_id", "label"])


def read_links(side: Any, pair: tuple[str, str]) -> list[tuple]:
    links = side.associations
    sub = links[(links["from_object"] == pair[0]) & (links["to_object"] == pair[1])]
    return rows(sub, ["from_id", "to_id", "label"])


def expected_records(portal: SyntheticPortal) -> dict[str, list[tuple]]:
    """(record_id, identifier, display_name) per object, as the seeded frames hold them."""
    c = portal.contacts
    name = (c["firstname"].fillna("") + " " + c["lastname"].fillna("")).str.strip()
    return {
        "contacts": rows(pd.DataFrame({"i": c["id"], "k": c["email"], "d": name})),
        "companies": rows(
            pd.DataFrame(
                {
                    "i": portal.companies["id"],
                    "k": portal.companies["domain"],
                    "d": portal.companies["name"],
                }
            )
        ),
        "deals": rows(
            pd.DataFrame(
                {
                    "i": portal.deals["id"],
                    "k": portal.deals["dealname"],
                    "d": portal.deals["dealname"],
                }
            )
        ),
    }


def read_records(side: Any, obj: str, key: str) -> list[tuple]:
    recs = side.records[side.records["object"] == obj]
    return rows(recs, ["record_id", key, "display_name"])


def check_exact(side: Any, portal: SyntheticPortal, sb: Sandbox, token: str = TOKEN) -> None:
    """``side`` (a read of the portal of ``token``) holds exactly the seeded records and links."""
    want = expected_records(portal)
    assert read_records(side, "contacts", "email") == want["contacts"]
    assert read_records(side, "companies", "domain") == want["companies"]
    assert read_records(side, "deals", "dealname") == want["deals"]
    tickets = side.records[side.records["object"] == "tickets"]
    assert rows(tickets, ["record_id", "display_name"]) == rows(
        portal.tickets.rename(columns={"id": "record_id", "subject": "display_name"})
    )
    for pair in [*PAIRS, ("tickets", "companies")]:
        assert read_links(side, pair) == truth_links(sb, pair, token), pair


class VirtualTime:
    """A monotonic clock that moves only when someone sleeps on it (thread-safe).

    Shared by the emulator's rate windows and the connector's limiter and
    backoff, so throttling runs at full speed and exactly.
    """

    def __init__(self) -> None:
        self.now = 5000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds
