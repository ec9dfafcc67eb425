"""Object types and HubSpot-defined association types (static facts, no state).

Standard objects have fixed internal codes (contacts 1, companies 2, deals 3,
tickets 5, after their ``0-N`` object type ids); custom object types get codes
from 100 up, per portal. Association types are directional: each has an
inverse (the same link read from the other end); the HubSpot-defined ones
below come from ``hubspot-api-reference.md`` §2.5.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "HUBSPOT_DEFINED",
    "STANDARD_OBJECTS",
    "AssocKind",
    "AssocType",
    "ObjectType",
    "standard_object",
]

AssocKind = Literal["unlabeled", "primary", "label"]


@dataclass(frozen=True)
class ObjectType:
    """One CRM object type of a portal."""

    code: int
    type_id: str  # HubSpot's objectTypeId, e.g. "0-1" or "2-1000123"
    name: str  # plural, e.g. "contacts"
    singular: str
    default_properties: tuple[str, ...]
    created_property: str = "createdate"
    modified_property: str = "lastmodifieddate"
    search_properties: tuple[str, ...] = ()
    unique_properties: tuple[str, ...] = ()
    primary_display_property: str | None = None
    custom: bool = False
    extra_aliases: tuple[str, ...] = field(default=())

    @property
    def aliases(self) -> tuple[str, ...]:
        """Every spelling that names this type in a URL (matched case-insensitively)."""
        return (self.name, self.singular, self.type_id, *self.extra_aliases)

    @property
    def upper(self) -> str:
        """The singular in capitals, as HubSpot writes it in some error messages."""
        return self.singular.upper()

    @property
    def system_properties(self) -> tuple[str, ...]:
        """Properties every record read carries, computed from the record itself."""
        return ("hs_object_id", self.created_property, self.modified_property)


STANDARD_OBJECTS: tuple[ObjectType, ...] = (
    ObjectType(
        code=1,
        type_id="0-1",
        name="contacts",
        singular="contact",
        default_properties=("firstname", "lastname", "email"),
        search_properties=("firstname", "lastname", "email", "phone", "company"),
        unique_properties=("email",),
        primary_display_property="email",
    ),
    ObjectType(
        code=2,
        type_id="0-2",
        name="companies",
        singular="company",
        default_properties=("name", "domain"),
        modified_property="hs_lastmodifieddate",
        search_properties=("name", "domain", "website", "phone"),
        primary_display_property="name",
    ),
    ObjectType(
        code=3,
        type_id="0-3",
        name="deals",
        singular="deal",
        default_properties=("dealname", "amount", "closedate", "pipeline", "dealstage"),
        modified_property="hs_lastmodifieddate",
        search_properties=("dealname",),
        primary_display_property="dealname",
    ),
    ObjectType(
        code=5,
        type_id="0-5",
        name="tickets",
        singular="ticket",
        default_properties=(
            "content",
            "hs_pipeline",
            "hs_pipeline_stage",
            "hs_ticket_category",
            "hs_ticket_priority",
            "subject",
        ),
        modified_property="hs_lastmodifieddate",
        search_properties=("subject", "content"),
        primary_display_property="subject",
    ),
)


def standard_object(name: str) -> ObjectType:
    """The standard object type called ``name`` (any alias)."""
    key = name.lower()
    for obj in STANDARD_OBJECTS:
        if key in obj.aliases:
            return obj
    raise KeyError(name)


@dataclass(frozen=True)
class AssocType:
    """One directional association type (``typeId``) between two object types.

    ``primary_owner`` says which end may hold only one link of this type: for
    contact→company primary (1) it is the contact (``from``); for its inverse,
    company→contact (2), still the contact (``to``).
    """

    type_id: int
    category: str
    from_code: int
    to_code: int
    kind: AssocKind
    label: str | None
    name: str  # the v3 string name, e.g. "contact_to_company_unlabeled"
    inverse_id: int
    primary_owner: Literal["from", "to"] | None = None

    def spec(self) -> dict[str, object]:
        """HubSpot's ``AssociationSpecWithLabel`` for this type."""
        return {"category": self.category, "typeId": self.type_id, "label": self.label}


def _pair(
    a: int,
    b: int,
    a_sing: str,
    b_sing: str,
    unlabeled: tuple[int, int],
    *,
    primary: tuple[int, int] | None = None,
) -> list[AssocType]:
    ab, ba = unlabeled
    hs = "HUBSPOT_DEFINED"
    if primary is None:
        return [
            AssocType(ab, hs, a, b, "unlabeled", None, f"{a_sing}_to_{b_sing}", ba),
            AssocType(ba, hs, b, a, "unlabeled", None, f"{b_sing}_to_{a_sing}", ab),
        ]
    pab, pba = primary
    return [
        AssocType(ab, hs, a, b, "unlabeled", None, f"{a_sing}_to_{b_sing}_unlabeled", ba),
        AssocType(ba, hs, b, a, "unlabeled", None, f"{b_sing}_to_{a_sing}_unlabeled", ab),
        AssocType(pab, hs, a, b, "primary", "Primary", f"{a_sing}_to_{b_sing}", pba, "from"),
        AssocType(pba, hs, b, a, "primary", "Primary", f"{b_sing}_to_{a_sing}", pab, "to"),
    ]


def _self(code: int, sing: str, type_id: int) -> AssocType:
    return AssocType(
        type_id, "HUBSPOT_DEFINED", code, code, "unlabeled", None, f"{sing}_to_{sing}", type_id
    )


HUBSPOT_DEFINED: tuple[AssocType, ...] = (
    *_pair(1, 2, "contact", "company", (279, 280), primary=(1, 2)),
    *_pair(3, 1, "deal", "contact", (3, 4)),
    *_pair(3, 2, "deal", "company", (341, 342), primary=(5, 6)),
    *_pair(1, 5, "contact", "ticket", (15, 16)),
    *_pair(5, 2, "ticket", "company", (339, 340), primary=(26, 25)),
    *_pair(3, 5, "deal", "ticket", (27, 28)),
    _self(1, "contact", 449),
    _self(2, "company", 450),
    _self(3, "deal", 451),
    _self(5, "ticket", 452),
    AssocType(
        13, "HUBSPOT_DEFINED", 2, 2, "label", "Parent Company", "parent_to_child_company", 14
    ),
    AssocType(14, "HUBSPOT_DEFINED", 2, 2, "label", "Child Company", "child_to_parent_company", 13),
)
