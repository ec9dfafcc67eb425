"""What a portal's schema means for the canonical tables: labels, display names, number properties.

**Labels.** Association types are directional ids. For one pair and direction
the label definitions endpoint lists them; this side's label for a type is:

- ``Primary`` for a HubSpot-defined primary type (ids 1/2 contact–company,
  5/6 deal–company, 26/25 ticket–company: the same in every portal; HubSpot
  renames their display text now and then, so they are keyed on the id);
- null for an unlabeled type (no label text);
- the label text otherwise (user-defined labels, HubSpot-defined labels such
  as ``Parent Company``).

**Display names** (DESIGN §4): contacts first and last name, or the email when
both are empty; companies ``name``; deals ``dealname``; tickets ``subject``;
other objects none unless the config names a property.

**Number properties** are returned as text by the API; DESIGN §4 wants whole
numbers without a decimal part (``42``, never ``42.0``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pandas as pd

from assoc_audit.tables import TEXT

__all__ = [
    "PRIMARY_TYPE_IDS",
    "AssocKind",
    "PairTypes",
    "display_properties",
    "display_series",
    "limits_table",
    "standard_object",
    "whole_number_text",
]

HUBSPOT_DEFINED = "HUBSPOT_DEFINED"
#: HubSpot-defined primary association type ids (both directions of each pair).
PRIMARY_TYPE_IDS: frozenset[int] = frozenset({1, 2, 5, 6, 25, 26})

_STANDARD = {
    "contacts": ("contacts", "contact", "0-1"),
    "companies": ("companies", "company", "0-2"),
    "deals": ("deals", "deal", "0-3"),
    "tickets": ("tickets", "ticket", "0-5"),
}
_ALIASES = {alias: name for name, aliases in _STANDARD.items() for alias in aliases}
_DISPLAY: dict[str, tuple[str, ...]] = {
    "contacts": ("firstname", "lastname", "email"),
    "companies": ("name",),
    "deals": ("dealname",),
    "tickets": ("subject",),
}


def standard_object(api_name: str) -> str | None:
    """The standard object an API object name denotes (``contact``, ``0-1`` → contacts)."""
    return _ALIASES.get(api_name.lower())


def side_label(type_id: int, category: str | None, label: str | None) -> str | None:
    """This side's label text for an association type (None = the unlabeled link)."""
    if type_id in PRIMARY_TYPE_IDS and category in (HUBSPOT_DEFINED, None):
        return "Primary"
    text = (label or "").strip()
    return text or None


@dataclass(frozen=True)
class AssocKind:
    """One association type of a pair and direction, with this side's label for it."""

    type_id: int
    category: str
    label: str | None

    def spec(self) -> dict[str, Any]:
        return {"associationCategory": self.category, "associationTypeId": self.type_id}


@dataclass(frozen=True)
class PairTypes:
    """The association types of one pair in one direction (from the label definitions)."""

    pair: tuple[str, str]
    types: tuple[AssocKind, ...]

    @classmethod
    def from_definitions(cls, pair: tuple[str, str], results: Iterable[Any]) -> PairTypes:
        """From the SDK's label definitions (``type_id``, ``category``, ``label``)."""
        kinds = []
        for item in results:
            type_id = getattr(item, "type_id", None)
            if type_id is None:
                continue
            category = str(getattr(item, "category", None) or HUBSPOT_DEFINED)
            kinds.append(
                AssocKind(int(type_id), category, side_label(int(type_id), category, item.label))
            )
        return cls(pair, tuple(sorted(kinds, key=lambda k: k.type_id)))

    def label_map(
        self, seen: Mapping[int, tuple[str | None, str | None]] | None = None
    ) -> dict[int, str | None]:
        """Type id → label for every known type, plus types only seen in responses."""
        out: dict[int, str | None] = {k.type_id: k.label for k in self.types}
        for type_id, (category, label) in (seen or {}).items():
            if type_id not in out:
                out[type_id] = side_label(type_id, category, label)
        return out

    @property
    def labels(self) -> tuple[str, ...]:
        """The label texts of this pair (``Primary`` included when the pair has one)."""
        return tuple(dict.fromkeys(k.label for k in self.types if k.label is not None))

    def for_label(self, label: str | None) -> AssocKind | None:
        """The type to write for a label (None = the unlabeled type); None if there is none."""
        matches = [k for k in self.types if k.label == label]
        if not matches:
            return None
        if label == "Primary":
            primary = [k for k in matches if k.type_id in PRIMARY_TYPE_IDS]
            matches = primary or matches
        hubspot = [k for k in matches if k.category == HUBSPOT_DEFINED]
        return (hubspot or matches)[0]


def limits_table(
    configs: Iterable[Any], pairs: Mapping[tuple[str, str], PairTypes]
) -> list[dict[str, Any]]:
    """Configured association limits of the audited pairs, in their direction.

    ``configs`` are the SDK's association definition configurations
    (``type_id``, ``max_to_object_ids``, ``user_enforced_max_to_object_ids``).
    """
    by_type: dict[int, int] = {}
    for c in configs:
        type_id = getattr(c, "type_id", None)
        values = [
            int(v)
            for v in (
                getattr(c, "user_enforced_max_to_object_ids", None),
                getattr(c, "max_to_object_ids", None),
            )
            if v is not None
        ]
        if type_id is not None and values:
            by_type[int(type_id)] = min(values)
    out = []
    for pair, types in pairs.items():
        for kind in types.types:
            if kind.type_id in by_type:
                out.append(
                    {
                        "from_object": pair[0],
                        "to_object": pair[1],
                        "label": kind.label,
                        "type_id": kind.type_id,
                        "max_per_record": by_type[kind.type_id],
                    }
                )
    return out


# ---------------------------------------------------------------------------
# Display names


def display_properties(api_name: str, configured: str | None = None) -> tuple[str, ...]:
    """The properties a display name is built from (``configured`` wins)."""
    if configured:
        return (configured,)
    kind = standard_object(api_name)
    return _DISPLAY.get(kind, ()) if kind else ()


def _clean(values: pd.Series) -> pd.Series:
    text = values.astype(TEXT).str.strip()
    return text.where(text != "", pd.NA)


def display_series(frame: pd.DataFrame, api_name: str, configured: str | None = None) -> pd.Series:
    """The display name of every record in ``frame`` (columns = property names)."""
    props = display_properties(api_name, configured)
    if not props or any(p not in frame.columns for p in props):
        return pd.Series(pd.NA, index=frame.index, dtype=TEXT)
    if len(props) == 1:
        return _clean(frame[props[0]])
    first, last, email = (_clean(frame[p]) for p in props)
    full = _clean(first.fillna("") + " " + last.fillna(""))
    return full.fillna(email).astype(TEXT)


# ---------------------------------------------------------------------------
# Number properties

_WHOLE = re.compile(r"^\s*([+-]?[0-9]+)(?:\.0*)?\s*$")


def _whole(text: str) -> str:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return text
    if value.is_finite() and value == value.to_integral_value():
        return str(int(value))
    return text


def whole_number_text(values: pd.Series) -> pd.Series:
    """Number-property text with whole values written without a decimal part.

    ``42.0`` → ``42``, ``+7`` → ``7``, ``1e3`` → ``1000``; ``2.5`` and text that is no
    number stay as they are.
    """
    text = values.astype(TEXT)
    whole = text.str.replace(_WHOLE, r"\1", regex=True)
    whole = whole.str.replace(r"^\+", "", regex=True)
    whole = whole.str.replace(r"^(-?)0+(?=[0-9])", r"\1", regex=True).replace("-0", "0")
    odd = (text.notna() & ~text.str.match(_WHOLE).fillna(False)).to_numpy(dtype=bool)
    if odd.any():  # exponents and the like: few, converted one by one
        fixed = np.array([_whole(str(v)) for v in text[odd]], dtype=object)
        whole = whole.astype(object)
        whole[odd] = fixed
    return whole.astype(TEXT)
