"""Scenario terms: what a scenario is (records, links, probe, expectation) and label wording.

A :class:`Scenario` names its sample records by role (``from``, ``to``,
``to2``, ``from_twin``), not ids; the runner creates uniquely tagged records
for them. Labels are in HubSpot terms; :func:`side_label` gives a side's own
text through the config's entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.tables import Side

__all__ = [
    "KINDS",
    "Expected",
    "Flow",
    "Kind",
    "SampleLink",
    "SampleRecord",
    "Scenario",
    "object_word",
    "side_label",
    "side_name",
]

Kind = Literal[
    "round_trip",
    "one_way",
    "unsupported",
    "sync_off",
    "record_missing",
    "duplicates",
    "label_conflict",
    "limit",
]
KINDS: tuple[Kind, ...] = (
    "round_trip",
    "one_way",
    "unsupported",
    "sync_off",
    "record_missing",
    "duplicates",
    "label_conflict",
    "limit",
)
Flow = Literal["hubspot_to_app", "app_to_hubspot"]
Expected = Literal["appears", "absent"]

_WORDS = {"contacts": "contact", "companies": "company", "deals": "deal", "tickets": "ticket"}


def object_word(obj: str) -> str:
    """A HubSpot object in a sentence (``contacts`` → ``contact``)."""
    return _WORDS.get(obj, obj)


def side_name(config: IntegrationConfig, side: Side) -> str:
    """``HubSpot`` or the app's name."""
    return "HubSpot" if side == "hubspot" else config.app.name


def side_label(
    config: IntegrationConfig, pair: tuple[str, str], label: str | None, side: Side
) -> str | None:
    """A label (HubSpot text, None = unlabeled) as ``side`` stores it, through the config.

    On the app side a supported entry's ``app_label`` (the unlabeled entry's
    ``app_label`` is the app's own spelling of the unlabeled link, e.g.
    ``participant``); HubSpot keeps its text.
    """
    if side == "hubspot":
        return label
    for entry in config.entries_for(pair):
        if entry.label == label and entry.app_supported:
            return entry.effective_app_label
    return label


@dataclass(frozen=True)
class SampleRecord:
    """A sample record a scenario needs.

    ``identity``: records with the same identity on the two sides are meant to
    match (they get the same identifier values); two records with the same
    identity on one side are duplicates. ``identified=False``: no identifier
    values at all (a record the sync cannot match).
    """

    key: str
    obj: str
    sides: tuple[Side, ...]
    identity: str
    identified: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "object": self.obj,
            "sides": list(self.sides),
            "identity": self.identity,
            "identified": self.identified,
        }


@dataclass(frozen=True)
class SampleLink:
    """A link between two sample records (by key) on one side; ``label`` in HubSpot terms."""

    side: Side
    from_key: str
    to_key: str
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "from": self.from_key, "to": self.to_key, "label": self.label}


@dataclass(frozen=True)
class Scenario:
    """One pre-rollout test: sample records and links, and what the sync must do with them.

    ``probe`` is the link whose fate is checked: made on ``source``, it must
    ``appear`` on ``target`` or stay ``absent`` with ``reason`` from the audit.
    """

    id: str
    kind: Kind
    pair: tuple[str, str]
    label: str | None
    flow: Flow
    expected: Expected
    reason: str | None
    expectation: str
    records: tuple[SampleRecord, ...]
    links: tuple[SampleLink, ...]
    probe: SampleLink

    @property
    def source(self) -> Side:
        return "hubspot" if self.flow == "hubspot_to_app" else "app"

    @property
    def target(self) -> Side:
        return "app" if self.flow == "hubspot_to_app" else "hubspot"

    def record(self, key: str) -> SampleRecord:
        return next(r for r in self.records if r.key == key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "from_object": self.pair[0],
            "to_object": self.pair[1],
            "label": self.label,
            "flow": self.flow,
            "expected": self.expected,
            "reason": self.reason,
            "expectation": self.expectation,
            "records": [r.to_dict() for r in self.records],
            "links": [link.to_dict() for link in self.links],
            "probe": self.probe.to_dict(),
        }
