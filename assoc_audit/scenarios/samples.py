"""Sample record values: uniquely tagged, matching across sides through the config's rules.

Every record a scenario run creates carries the run's **tag** (``aa`` and ten
hex digits, new for each run) in its identifier values and display name, so a
person can recognise it and a clean-up sweep can find it even when its id was
lost. Values never collide with real data: emails and domains use the reserved
``.invalid`` top-level domain (RFC 2606).

Two records meant to match (the same *identity* on both sides) get equal values
for one match rule, the object's **key rule**: the first rule that uses a
column on both sides (not the app's ``id`` or HubSpot's ``hs_object_id``), else
the first rule. When the key rule reads a record id on one side (``{hubspot:
acme_id, app: id}``), that side's record is created first and the other side
copies its id (a *dependent* record). Every other identifier stays empty, so
no other rule can pair sample records by accident.

Against a sync that goes on by itself (HubSpot's own, on a real portal) a record
needed on both sides is made first on a side the object's direction does not
carry from, or — when both sides are carried from — on one side only, the
other side's record then being the sync's copy (:func:`live_first_side`).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import pandas as pd

from assoc_audit.normalize import normalize
from assoc_audit.scenarios.model import side_name
from assoc_audit.scenarios.portal_side import REQUIRED_PROPERTIES, display_values
from assoc_audit.scenarios.simmatch import rule_column

if TYPE_CHECKING:
    from collections.abc import Collection

    from assoc_audit.config import IntegrationConfig, MatchRule
    from assoc_audit.scenarios.model import SampleRecord, Scenario
    from assoc_audit.tables import Side

__all__ = [
    "HUBSPOT_UNIQUE",
    "TAG_PREFIX",
    "can_exclude",
    "carried_from",
    "copies_of",
    "depends_on_other",
    "display_text",
    "duplicate_side",
    "key_rule",
    "key_values",
    "live_first_side",
    "new_tag",
    "not_race_free",
    "paired",
    "record_values",
    "sample_key",
]

#: Properties HubSpot keeps unique per object (an API create refuses a second record).
HUBSPOT_UNIQUE: frozenset[tuple[str, str]] = frozenset({("contacts", "email")})
TAG_PREFIX = "aa"
_DOMAIN = "assoc-audit.invalid"
_SIDES: tuple[Side, Side] = ("hubspot", "app")


def new_tag() -> str:
    """A fresh run tag: ``aa`` and ten lower-case hex digits."""
    return TAG_PREFIX + secrets.token_hex(5)


def key_rule(config: IntegrationConfig, obj: str) -> MatchRule | None:
    """The rule sample records of ``obj`` match by (None for objects without rules)."""
    rules = config.match_rules(obj)
    for rule in rules:
        if rule_column("hubspot", rule) != "record_id" and rule_column("app", rule) != "record_id":
            return rule
    return rules[0] if rules else None


def can_exclude(config: IntegrationConfig, obj: str, side: Side) -> bool:
    """True if a record of ``obj`` on ``side`` can have no identifier value at all."""
    return all(rule_column(side, r) != "record_id" for r in config.match_rules(obj))


def duplicate_side(config: IntegrationConfig, obj: str) -> Side | None:
    """The side where two records of ``obj`` can share the key rule's value (None: nowhere).

    The app is preferred; a record id cannot be shared, nor a property HubSpot
    keeps unique (contacts' ``email``, also in an app that is a HubSpot portal).
    """
    rule = key_rule(config, obj)
    if rule is None:
        return None
    for side in ("app", "hubspot"):
        if rule_column(side, rule) == "record_id":
            continue
        portal = side == "hubspot" or config.app.kind == "hubspot"
        name = rule.hubspot if side == "hubspot" else rule.app
        api_obj = obj if side == "hubspot" else config.app_object_of(obj)
        if portal and (api_obj, name) in HUBSPOT_UNIQUE:
            continue
        return side
    return None


def depends_on_other(config: IntegrationConfig, obj: str, side: Side) -> bool:
    """True if ``side``'s sample record of ``obj`` copies the other side's record id."""
    rule = key_rule(config, obj)
    if rule is None:
        return False
    mine = rule_column(side, rule)
    theirs = rule_column("app" if side == "hubspot" else "hubspot", rule)
    if theirs != "record_id":
        return False
    return mine != "record_id" or side == "app"  # both ids: the app copies HubSpot's


def carried_from(config: IntegrationConfig, obj: str) -> tuple[Side, ...]:
    """The sides from which the object's sync direction copies new records to the other."""
    sync = config.sync_of(obj)
    carried: dict[Side, bool] = {
        "hubspot": sync in ("two_way", "hubspot_to_app"),
        "app": sync in ("two_way", "app_to_hubspot"),
    }
    return tuple(side for side, yes in carried.items() if yes)


def live_first_side(config: IntegrationConfig, obj: str) -> tuple[Side, bool]:
    """Where a record of ``obj`` needed on both sides is made first against a live sync,
    and whether the other side's record is then the sync's copy (True) or made next (False).

    A side the object's direction does not carry from comes first, so the sync
    cannot copy the record across before the other side's record is made
    (which it then matches). When every side that may come first is carried
    from (a two-way object; or a one-way one whose other side must copy this
    side's id), the record is made on that side only and the sync's copy of
    it is the other side's record. A side whose record copies the other's id
    never comes first; without match rules there is no copy to find.
    """
    carried = carried_from(config, obj)
    free = [s for s in _SIDES if not depends_on_other(config, obj, s)]
    for side in free:
        if side not in carried:
            return side, False
    return free[0], key_rule(config, obj) is not None


def key_values(config: IntegrationConfig, obj: str, side: Side, records: pd.DataFrame) -> pd.Series:
    """The normalised key-rule value of each record of ``obj`` on ``side`` (``records``:
    canonical rows of that side, or the values given to ``create_records`` plus
    ``record_id``); all null without a key rule."""
    rule = key_rule(config, obj)
    if rule is None:
        return pd.Series([None] * len(records), index=records.index, dtype=object)
    column = rule_column(side, rule)
    if column not in records.columns:
        return pd.Series([None] * len(records), index=records.index, dtype=object)
    return normalize(records[column], rule.normalize)


def sample_key(
    config: IntegrationConfig, obj: str, side: Side, values: dict[str, Any], record_id: str
) -> str | None:
    """The normalised key-rule value of a sample record made with ``values``."""
    row = pd.DataFrame([{**values, "record_id": record_id}])
    value = key_values(config, obj, side, row).iloc[0]
    return None if value is None else str(value)


def copies_of(
    config: IntegrationConfig,
    obj: str,
    side: Side,
    records: pd.DataFrame,
    keys: Collection[str],
    exclude: Collection[str],
) -> dict[str, list[str]]:
    """Per key-rule value in ``keys``, the ids of ``records`` (canonical rows of ``obj`` on
    ``side``) that have it, except the ids in ``exclude``."""
    values = key_values(config, obj, side, records)
    ids = records["record_id"].astype(str)
    keep = (values.isin(list(keys)) & ~ids.isin(list(exclude))).to_numpy()
    out: dict[str, list[str]] = {}
    for value, rid in zip(values[keep], ids[keep], strict=True):
        out.setdefault(str(value), []).append(rid)
    return {k: sorted(v) for k, v in out.items()}


def paired(scenario: Scenario, record: SampleRecord) -> bool:
    """True if the record has a counterpart on the other side: it is needed on both sides,
    or it duplicates (same identity) one that is."""
    if len(record.sides) > 1:
        return True
    return any(r.identity == record.identity and len(r.sides) > 1 for r in scenario.records)


def not_race_free(config: IntegrationConfig, scenario: Scenario) -> str | None:
    """Why a live sync makes the scenario's set-up a race (None: it does not).

    - A label conflict needs a different label on each side of one linked
      pair; when the association syncs both ways, a sync cycle between the two
      link writes carries the first label across before the second is made.
    - A duplicate must exist before the sync first pairs the record it
      duplicates; when that object's samples are the sync's copies
      (:func:`live_first_side`), the sync copies and pairs the record first (and
      a sync keeps the pairs it made), and made first, the duplicates would be
      copied themselves.
    """
    prefix = "not race-free against a live data sync, so not run: "
    if scenario.kind == "label_conflict" and config.direction(scenario.pair) == "two_way":
        frm, to = scenario.pair
        return (
            f"{prefix}the {frm}→{to} association syncs both ways, so the sync may carry one "
            "side's label across before the other side's label is made"
        )
    for r in scenario.records:
        if len(r.sides) == 1 and paired(scenario, r):
            first, copied = live_first_side(config, r.obj)
            if copied:
                other: Side = "app" if first == "hubspot" else "hubspot"
                return (
                    f"{prefix}the data sync copies new {r.obj} records from "
                    f"{side_name(config, first)} to {side_name(config, other)}, so it would "
                    "copy and pair the sample before its duplicate exists"
                )
    return None


def display_text(tag: str, name: str) -> str:
    """A sample record's display name."""
    return f"assoc-audit {tag} {name}"


def _tagged(how: str, tag: str, name: str) -> str:
    if how == "email":
        return f"{name}.{tag}@{_DOMAIN}"
    if how == "domain":
        return f"{name}.{tag}.{_DOMAIN}"
    return f"assoc-audit-{tag}-{name}"


def record_values(
    config: IntegrationConfig,
    obj: str,
    side: Side,
    *,
    tag: str,
    name: str,
    identity: str,
    identified: bool = True,
    partner_id: str | None = None,
) -> dict[str, Any]:
    """The column (app) or property (HubSpot) values of one sample record.

    ``name`` names the record (``s03-from``), ``identity`` what it must match
    (``s03-from`` for both sides of a pair and for duplicates);
    ``partner_id`` is the other side's record id for a dependent record.
    """
    values: dict[str, Any] = {}
    if side == "hubspot":
        values.update(REQUIRED_PROPERTIES.get(obj, {}))
        values.update(display_values(obj, display_text(tag, name)))
    else:
        column = config.app.display_name.get(config.app_object_of(obj))
        if column is not None:
            values[column] = display_text(tag, name)
    if not identified:  # no identifier value at all, even where a display property is one
        for each in config.match_rules(obj):
            values.pop(each.hubspot if side == "hubspot" else each.app, None)
        return values
    rule = key_rule(config, obj)
    if rule is None:
        return values
    column = rule.hubspot if side == "hubspot" else rule.app
    mine = rule_column(side, rule)
    theirs = rule_column("app" if side == "hubspot" else "hubspot", rule)
    if theirs == "record_id" and depends_on_other(config, obj, side):
        values[column] = partner_id
    elif mine != "record_id":
        values[column] = _tagged(rule.normalize, tag, identity)
    return values
