"""Property definitions (the CRM Properties API's model) and value rules.

Every property value is text on the wire, as in HubSpot. Standard objects come
with a small set of HubSpot-defined properties; more can be created through
the Properties API or appear when bulk loading a column the portal does not
know (created as ``string``/``text``). ``hasUniqueValue`` properties (and
contacts' ``email``) can be used as ``idProperty``; their values are indexed,
compared without regard to case.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from assoc_audit.sandbox.exceptions import validation
from assoc_audit.sandbox.objecttypes import ObjectType

__all__ = [
    "FIELD_TYPES",
    "PROPERTY_TYPES",
    "READ_ONLY",
    "PropertyDef",
    "coerce_value",
    "property_from_request",
    "standard_properties",
]

PROPERTY_TYPES = ("string", "number", "date", "datetime", "enumeration", "bool", "phone_number")
FIELD_TYPES = (
    "text",
    "textarea",
    "number",
    "select",
    "radio",
    "checkbox",
    "booleancheckbox",
    "date",
    "file",
    "calculation_equation",
    "phonenumber",
    "html",
)
#: Properties whose value the emulator computes; writing them is refused.
READ_ONLY = frozenset({"hs_object_id", "lastmodifieddate", "hs_lastmodifieddate"})


@dataclass(frozen=True)
class PropertyDef:
    """One property of an object type (HubSpot's ``Property`` model)."""

    name: str
    label: str
    type: str = "string"
    field_type: str = "text"
    group_name: str = "sandbox_information"
    description: str = ""
    has_unique_value: bool = False
    hubspot_defined: bool = False
    read_only_value: bool = False
    hidden: bool = False
    form_field: bool = False
    display_order: int = -1
    options: tuple[Mapping[str, Any], ...] = ()
    created_at: str = "2020-01-01T00:00:00.000Z"
    updated_at: str = "2020-01-01T00:00:00.000Z"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_api(self) -> dict[str, Any]:
        """The property as the Properties API returns it."""
        return {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": [dict(o) for o in self.options],
            "displayOrder": self.display_order,
            "calculated": False,
            "externalOptions": False,
            "hasUniqueValue": self.has_unique_value,
            "hidden": self.hidden,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only_value,
            },
            "formField": self.form_field,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "archived": False,
            **dict(self.extra),
        }

    def to_json(self) -> str:
        """Storage form (for the ``properties`` table)."""
        data = self.to_api()
        data["_hubspot_defined"] = self.hubspot_defined
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> PropertyDef:
        data = json.loads(text)
        return cls(
            name=data["name"],
            label=data["label"],
            type=data["type"],
            field_type=data["fieldType"],
            group_name=data["groupName"],
            description=data.get("description", ""),
            has_unique_value=bool(data.get("hasUniqueValue")),
            hubspot_defined=bool(data.get("_hubspot_defined")),
            read_only_value=bool(data["modificationMetadata"]["readOnlyValue"]),
            hidden=bool(data.get("hidden")),
            form_field=bool(data.get("formField")),
            display_order=int(data.get("displayOrder", -1)),
            options=tuple(data.get("options") or ()),
            created_at=data["createdAt"],
            updated_at=data["updatedAt"],
        )


def _hs(
    name: str, label: str, type_: str = "string", field_type: str = "text", **kw: Any
) -> PropertyDef:
    group = kw.pop("group_name", "sandbox_information")
    return PropertyDef(name, label, type_, field_type, group_name=group, hubspot_defined=True, **kw)


def _system(obj: ObjectType) -> list[PropertyDef]:
    return [
        _hs("hs_object_id", "Record ID", "number", "number", read_only_value=True),
        _hs(obj.created_property, "Create Date", "datetime", "date"),
        _hs(obj.modified_property, "Last Modified Date", "datetime", "date", read_only_value=True),
    ]


_STANDARD: dict[str, list[PropertyDef]] = {
    "contacts": [
        _hs("email", "Email", has_unique_value=True),
        _hs("firstname", "First Name"),
        _hs("lastname", "Last Name"),
        _hs("phone", "Phone Number", "string", "phonenumber"),
        _hs("company", "Company Name"),
        _hs("jobtitle", "Job Title"),
        _hs("website", "Website URL"),
        _hs("lifecyclestage", "Lifecycle Stage", "enumeration", "radio"),
    ],
    "companies": [
        _hs("name", "Company name"),
        _hs("domain", "Company Domain Name"),
        _hs("website", "Website URL"),
        _hs("phone", "Phone Number", "string", "phonenumber"),
        _hs("city", "City"),
        _hs("country", "Country/Region"),
        _hs("industry", "Industry", "enumeration", "select"),
        _hs("numberofemployees", "Number of Employees", "number", "number"),
    ],
    "deals": [
        _hs("dealname", "Deal Name"),
        _hs("amount", "Amount", "number", "number"),
        _hs("closedate", "Close Date", "datetime", "date"),
        _hs("pipeline", "Pipeline", "enumeration", "select"),
        _hs("dealstage", "Deal Stage", "enumeration", "radio"),
    ],
    "tickets": [
        _hs("subject", "Ticket name"),
        _hs("content", "Ticket description", "string", "textarea"),
        _hs("hs_pipeline", "Pipeline", "enumeration", "select"),
        _hs("hs_pipeline_stage", "Ticket status", "enumeration", "select"),
        _hs("hs_ticket_category", "Category", "enumeration", "checkbox"),
        _hs("hs_ticket_priority", "Priority", "enumeration", "select"),
    ],
}


def standard_properties(obj: ObjectType) -> dict[str, PropertyDef]:
    """The HubSpot-defined properties of ``obj`` (custom objects: the system ones)."""
    props = [*_system(obj), *(_STANDARD.get(obj.name, []) if not obj.custom else [])]
    return {p.name: p for p in props}


def coerce_value(prop: PropertyDef | None, name: str, value: Any) -> str | None:
    """A written value as HubSpot stores it: text, or None to clear ("" clears too)."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = (
            repr(value) if isinstance(value, float) and not value.is_integer() else str(int(value))
        )
    elif isinstance(value, str):
        text = value
    else:
        raise validation(
            f'Property values were not valid: [{{"isValid":false,"message":"{value!r} is '
            f'not a valid value for {name}","error":"INVALID_PROPERTY_VALUE","name":"{name}"}}]'
        )
    if text == "":
        return None
    if prop is not None and prop.type == "number":
        try:
            float(text)
        except ValueError:
            raise validation(
                "Property values were not valid: "
                + json.dumps(
                    [
                        {
                            "isValid": False,
                            "message": f"{text} was not a valid number.",
                            "error": "INVALID_FLOAT",
                            "name": name,
                        }
                    ],
                    separators=(",", ":"),
                )
            ) from None
    return text


def property_from_request(body: Mapping[str, Any], now_iso: str) -> PropertyDef:
    """A new property from a Properties API create body (validated)."""
    missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not body.get(k)]
    if missing:
        raise validation(
            f"Invalid input JSON: missing required field(s) {', '.join(missing)}",
            context={"missing": missing},
        )
    name = str(body["name"])
    if not name.replace("_", "").isalnum() or name[0].isdigit() or name != name.lower():
        raise validation(f"Property name {name!r} must be lower-case letters, digits and '_'")
    if body["type"] not in PROPERTY_TYPES:
        raise validation(f"Unknown property type {body['type']!r}")
    if body["fieldType"] not in FIELD_TYPES:
        raise validation(f"Unknown field type {body['fieldType']!r}")
    return PropertyDef(
        name=name,
        label=str(body["label"]),
        type=str(body["type"]),
        field_type=str(body["fieldType"]),
        group_name=str(body["groupName"]),
        description=str(body.get("description") or ""),
        has_unique_value=bool(body.get("hasUniqueValue", False)),
        hidden=bool(body.get("hidden", False)),
        form_field=bool(body.get("formField", False)),
        display_order=int(body.get("displayOrder", -1)),
        options=tuple(dict(o) for o in body.get("options") or ()),
        created_at=now_iso,
        updated_at=now_iso,
    )


def updated_property(prop: PropertyDef, body: Mapping[str, Any], now_iso: str) -> PropertyDef:
    """``prop`` with the fields of a Properties API update body applied."""
    changes: dict[str, Any] = {"updated_at": now_iso}
    for key, attr in (
        ("label", "label"),
        ("description", "description"),
        ("groupName", "group_name"),
        ("fieldType", "field_type"),
        ("type", "type"),
        ("hidden", "hidden"),
        ("displayOrder", "display_order"),
        ("formField", "form_field"),
    ):
        if key in body and body[key] is not None:
            changes[attr] = body[key]
    if "options" in body and body["options"] is not None:
        changes["options"] = tuple(dict(o) for o in body["options"])
    if changes.get("type", prop.type) not in PROPERTY_TYPES:
        raise validation(f"Unknown property type {changes['type']!r}")
    return replace(prop, **changes)
