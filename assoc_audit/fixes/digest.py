"""A plan's digest (DESIGN §7): SHA-256 over the canonical JSON of its operations and targets.

Canonical JSON is ``json.dumps(value, sort_keys=True, ensure_ascii=False,
separators=(",", ":"))`` encoded as UTF-8. The digest covers
``{"operations": [...], "targets": {...}}``: every field of every operation
(including the label sets seen at planning) and where each side is written —
the HubSpot base URL (``https://api.hubapi.com`` for the real API) and the
app's location (absolute folder, database URL without its password, or the
second portal's base URL). The same plan therefore cannot be confirmed for
another portal or app, and a plan computed afresh from changed data gets a new
digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..secrets import redact_url

if TYPE_CHECKING:
    from ..config import IntegrationConfig
    from .model import Operation

__all__ = ["HUBSPOT_API", "canonical_json", "plan_digest", "targets_of"]

#: The real HubSpot API (what ``base_url: null`` means).
HUBSPOT_API = "https://api.hubapi.com"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _url(base_url: str | None) -> str:
    return (base_url or HUBSPOT_API).rstrip("/")


def targets_of(config: IntegrationConfig) -> dict[str, dict[str, str]]:
    """Where the config writes each side (no secrets)."""
    hubspot = {"kind": "hubspot", "url": _url(config.hubspot.base_url)}
    app = config.app
    if app.kind == "hubspot":
        where = {"kind": "hubspot", "url": _url(app.base_url)}
    elif app.kind == "files":
        path = str(config.resolve(app.path)) if app.path is not None else ""
        where = {"kind": "files", "path": path}
    else:
        from ..connectors.sql import database_url

        url = database_url(config) if app.url else None
        shown = url.render_as_string(hide_password=True) if url is not None else ""
        where = {"kind": "sql", "url": redact_url(shown)}
    return {"hubspot": hubspot, "app": where}


def plan_digest(operations: Sequence[Operation], targets: Mapping[str, Any]) -> str:
    """The 64-hex SHA-256 digest of a plan (see the module docstring)."""
    body = {"operations": [op.to_dict() for op in operations], "targets": dict(targets)}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()
