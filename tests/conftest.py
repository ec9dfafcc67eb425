"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(autouse=True)
def _apply_locks_in_tmp(tmp_path_factory, monkeypatch):
    """Apply locks (assoc_audit.fixes.lock) in a folder of this test session, not the user's."""
    monkeypatch.setenv("ASSOC_AUDIT_LOCK_DIR", str(tmp_path_factory.getbasetemp() / "locks"))


@pytest.fixture
def base_config() -> dict:
    """A valid config mapping (DESIGN §5's example, files kind) to mutate in tests."""
    return {
        "name": "demo-acme",
        "hubspot": {"token_env": "HUBSPOT_ACCESS_TOKEN", "base_url": None, "snapshot": None},
        "app": {"name": "Acme CRM", "kind": "files", "path": "."},
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
            "deals": {
                "sync": "hubspot_to_app",
                "app_object": "deals",
                "match": [{"hubspot": "acme_id", "app": "id"}],
            },
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


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a config mapping (or raw text) to a YAML file and return its path."""

    def write(data: dict | str, name: str = "config.yaml") -> Path:
        path = tmp_path / name
        text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return write
