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
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from assoc_audit.scenarios.portal_side import REQUIRED_PROPERTIES, display_values
from assoc_audit.scenarios.simmatch import rule_column

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig, MatchRule
    from assoc_audit.tables import Side

__all__ = [
    "HUBSPOT_UNIQUE",
    "TAG_PREFIX",
    "can_exclude",
    "depends_on_other",
    "display_text",
    "duplicate_side",
    "key_rule",
    "new_tag",
    "record_values",
]

#: Properties HubSpot keeps unique per object (an API create refuses a second record).
HUBSPOT_UNIQUE: frozenset[tuple[str, str]] = frozenset({("contacts", "email")})
TAG_PREFIX = "aa"
_DOMAIN = "assoc-audit.invalid"


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
