"""A plan's digest (DESIGN §7): SHA-256 over the canonical JSON of its operations and targets.

Canonical JSON is ``json.dumps(value, sort_keys=True, ensure_ascii=False,
separators=(",", ":"))`` encoded as UTF-8. The digest covers
``{"operations": [...], "targets": {...}}``: every field of every operation
(including the label sets seen at planning) and everything that decides where
each write lands (:mod:`.targets`): each side's location, the portal id of a
written HubSpot side, and the app's tables and label mapping of every pair
the plan writes. The same plan therefore cannot be confirmed for another
portal, app or mapping, and a plan computed afresh from changed data gets a
new digest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assoc_audit.fixes.model import Operation

__all__ = ["canonical_json", "plan_digest"]


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def plan_digest(operations: Sequence[Operation], targets: Mapping[str, Any]) -> str:
    """The 64-hex SHA-256 digest of a plan (see the module docstring)."""
    body = {"operations": [op.to_dict() for op in operations], "targets": dict(targets)}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()
