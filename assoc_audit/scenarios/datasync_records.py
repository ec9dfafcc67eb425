"""What one data-sync pass does with records: create the target side's missing ones.

HubSpot's data sync creates a record on the other side when the object's sync
direction carries it and no record there matches (knowledge base, "Connect and
use HubSpot data sync"; reference §5); records it cannot match afterwards (a
contact without an email, for most apps) are *excluded* and listed in Sync
Health. The simulator does the same, with the config's match rules standing in
for the app's matching settings:

- only records that are **unmatched** (not ambiguous: duplicates make data sync
  fail the record, not copy it) on a side the object's direction carries from;
- the copy gets every identifier value the target can hold under the match
  rules (the app's ``id`` column takes the value as the new record's id;
  HubSpot's ``hs_object_id`` cannot be set), plus the display name and the
  properties HubSpot needs for deals and tickets;
- a record with no such value is **excluded** (``excluded`` event): its copy
  could never match, so creating it would duplicate it on every pass;
- a record is copied at most once per simulator (it remembers what it copied),
  even if its copy fails to match.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from assoc_audit.errors import AssocAuditError
from assoc_audit.scenarios.portal_side import REQUIRED_PROPERTIES, display_values
from assoc_audit.scenarios.simmatch import SimStatus, rule_column

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.connectors.base import Connector
    from assoc_audit.scenarios.simmatch import SimMatches
    from assoc_audit.tables import Side, SideTables

__all__ = ["RECORD_EVENT_COLUMNS", "create_missing_records"]

#: Columns of a pass's record event table.
RECORD_EVENT_COLUMNS: tuple[str, ...] = (
    "action",
    "source",
    "target",
    "object",
    "source_id",
    "target_id",
    "reason",
    "message",
)


def _other(side: Side) -> Side:
    return "app" if side == "hubspot" else "hubspot"


def _copies(config: IntegrationConfig, obj: str, src: Side, records: pd.DataFrame) -> pd.DataFrame:
    """The target-side values of copies of ``records`` (``src`` canonical rows)."""
    dst = _other(src)
    out = pd.DataFrame(index=records.index)
    for rule in config.match_rules(obj):
        source = rule_column(src, rule)
        if rule_column(dst, rule) == "record_id" and dst == "hubspot":
            continue  # hs_object_id cannot be set
        column = rule.app if dst == "app" else rule.hubspot
        values = records[source].astype(object).where(records[source].notna(), None)
        if column in out.columns:
            out[column] = out[column].where(out[column].notna(), values)
        else:
            out[column] = values
    return out


def _with_display(
    config: IntegrationConfig, obj: str, dst: Side, copies: pd.DataFrame, names: pd.Series
) -> pd.DataFrame:
    out = copies.copy()
    names = names.astype(object).where(names.notna(), None)
    if dst == "app":
        column = config.app.display_name.get(config.app_object_of(obj))
        if column is not None and column not in out.columns:
            out[column] = names
        return out
    for prop, value in REQUIRED_PROPERTIES.get(obj, {}).items():
        out[prop] = value
    shown = [display_values(obj, n) for n in names]
    for prop in dict.fromkeys(p for d in shown for p in d):
        if prop not in out.columns:
            out[prop] = [d.get(prop) for d in shown]
    return out


def create_missing_records(
    config: IntegrationConfig,
    sides: dict[Side, SideTables],
    matches: SimMatches,
    connectors: dict[Side, Connector],
    copied: set[tuple[str, str, str]],
) -> tuple[dict[Side, dict[str, list[str]]], pd.DataFrame]:
    """Create the records a pass must copy; returns the new ids per side and object, and events.

    ``copied`` holds ``(side, object, id)`` of records copied by earlier
    passes; it is updated.
    """
    created: dict[Side, dict[str, list[str]]] = {"hubspot": {}, "app": {}}
    events: list[pd.DataFrame] = []
    for obj in config.audited_objects:
        sync = config.sync_of(obj)
        if sync == "off" or not config.match_rules(obj):
            continue
        for src in ("hubspot", "app"):
            dst = _other(src)
            if sync not in ("two_way", f"{src}_to_{dst}"):
                continue
            records = sides[src].records
            status = matches.side(src).status
            done = [i for s, o, i in copied if s == src and o == obj]
            fresh = ~records["record_id"].isin(done).to_numpy()
            of_obj = (records["object"] == obj).to_numpy()
            pick = of_obj & (status == SimStatus.UNMATCHED) & fresh
            if not pick.any():
                continue
            chosen = records.loc[pick]
            copies = _copies(config, obj, src, chosen)
            usable = copies.notna().any(axis=1).to_numpy()
            source_ids = chosen["record_id"].astype(str).to_numpy()
            if (~usable).any():
                events.append(
                    _events("excluded", src, obj, source_ids[~usable], None, "excluded",
                            "no identifier value the sync can match a copy by")
                )  # fmt: skip
            copied.update((src, obj, i) for i in source_ids)
            if not usable.any():
                continue
            todo = _with_display(
                config, obj, dst, copies.loc[usable], chosen.loc[usable, "display_name"]
            ).reset_index(drop=True)
            try:
                made = connectors[dst].create_records(obj, todo)
            except AssocAuditError as exc:
                events.append(
                    _events("failed", src, obj, source_ids[usable], None, "write_failed",
                            exc.message)
                )  # fmt: skip
                continue
            new_ids = made["record_id"].astype(str).tolist()
            created[dst].setdefault(obj, []).extend(new_ids)
            copied.update((dst, obj, i) for i in new_ids)
            events.append(_events("created", src, obj, source_ids[usable], new_ids, None, None))
    frame = (
        pd.concat(events, ignore_index=True)
        if events
        else pd.DataFrame(columns=list(RECORD_EVENT_COLUMNS))
    )
    return created, frame


def _events(
    action: str,
    src: Side,
    obj: str,
    source_ids: np.ndarray,
    target_ids: list[str] | None,
    reason: str | None,
    message: str | None,
) -> pd.DataFrame:
    n = len(source_ids)
    return pd.DataFrame(
        {
            "action": [f"record_{action}"] * n,
            "source": [src] * n,
            "target": [_other(src)] * n,
            "object": [obj] * n,
            "source_id": list(source_ids),
            "target_id": target_ids if target_ids is not None else [None] * n,
            "reason": [reason] * n,
            "message": [message] * n,
        },
        columns=list(RECORD_EVENT_COLUMNS),
    )
