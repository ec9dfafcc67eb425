"""Custom object types, registered through the emulator's control API.

A custom type gets an object type id ``2-N`` (unique per portal), its own
properties (the first is its primary display property unless one is named),
and an unlabeled association type with every object type the portal knows
(standard and custom, itself included), as HubSpot creates when a schema
lists ``associatedObjects``. It is then served by every objects, properties
and associations endpoint under its name, singular, ``2-N`` id or
``p{hubId}_{name}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from assoc_audit.sandbox.clock import Clock
from assoc_audit.sandbox.exceptions import conflict, validation
from assoc_audit.sandbox.objecttypes import AssocType, ObjectType
from assoc_audit.sandbox.portals import Portal, Registry
from assoc_audit.sandbox.properties import PropertyDef, property_from_request
from assoc_audit.sandbox.store import Store

__all__ = ["register_object"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _property(spec: str | Mapping[str, Any], now: str) -> PropertyDef:
    if isinstance(spec, str):
        return PropertyDef(
            name=spec, label=spec.replace("_", " ").title(), created_at=now, updated_at=now
        )
    body = {"type": "string", "fieldType": "text", "groupName": "sandbox_information", **spec}
    body.setdefault("label", str(body.get("name", "")).replace("_", " ").title())
    return property_from_request(body, now)


# long function: a custom object type, its properties and association types registered in one write
# transaction
def register_object(
    store: Store,
    registry: Registry,
    clock: Clock,
    portal: Portal,
    name: str,
    *,
    singular: str | None = None,
    properties: Sequence[str | Mapping[str, Any]] = (),
    primary_display_property: str | None = None,
) -> ObjectType:
    """Register a custom object type in ``portal``; returns it."""
    name = str(name).strip().lower()
    if not _NAME.match(name):
        raise validation(f"custom object name {name!r} must be lower-case letters, digits and '_'")
    singular = (singular or (name[:-1] if name.endswith("s") and len(name) > 1 else name)).lower()
    if not _NAME.match(singular):
        raise validation(
            f"custom object singular {singular!r} must be lower-case letters, digits and '_'"
        )
    now = clock.now_iso()
    props = [_property(p, now) for p in properties]
    schema = registry.schema(portal)
    for alias in {name, singular}:
        if alias in schema.aliases:
            raise conflict(f"An object type named {alias!r} already exists in this portal")
    names = [p.name for p in props]
    if len(set(names)) != len(names):
        raise validation("custom object properties must have distinct names")
    display = primary_display_property or (names[0] if names else None)
    if display is not None and display not in names:
        raise validation(f"primaryDisplayProperty {display!r} is not one of the properties")
    with store.write() as conn:
        code = registry.take_object_code(conn, portal)
        type_id = f"2-{1_000_000 + portal.portal_id * 1000 + code}"
        obj = ObjectType(
            code=code,
            type_id=type_id,
            name=name,
            singular=singular,
            default_properties=(display,) if display else (),
            created_property="hs_createdate",
            modified_property="hs_lastmodifieddate",
            search_properties=(display,) if display else (),
            primary_display_property=display,
            custom=True,
            extra_aliases=(f"p{portal.hub_id}_{name}", f"p{portal.hub_id}_{singular}"),
        )
        registry.save_object_type(conn, portal, obj)
        for prop in props:
            registry.save_property(conn, portal, obj, prop)
        types: list[AssocType] = []
        for other in [*schema.objects.values(), obj]:
            forward = registry.take_type_id(conn, portal)
            if other.code == obj.code:
                types.append(
                    AssocType(
                        forward,
                        "HUBSPOT_DEFINED",
                        code,
                        code,
                        "unlabeled",
                        None,
                        f"{singular}_to_{singular}",
                        forward,
                    )
                )
                continue
            back = registry.take_type_id(conn, portal)
            types.append(
                AssocType(
                    forward,
                    "HUBSPOT_DEFINED",
                    code,
                    other.code,
                    "unlabeled",
                    None,
                    f"{singular}_to_{other.singular}",
                    back,
                )
            )
            types.append(
                AssocType(
                    back,
                    "HUBSPOT_DEFINED",
                    other.code,
                    code,
                    "unlabeled",
                    None,
                    f"{other.singular}_to_{singular}",
                    forward,
                )
            )
        registry.save_assoc_types(conn, portal, types)
    registry.invalidate(portal)
    return obj
