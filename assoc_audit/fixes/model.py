"""Fix operations and the label-set model they act on (DESIGN §7).

An **operation** changes one link on one side: ``create`` or ``remove`` one
label (``None`` = the unlabeled link) on a record pair, or ``relabel`` it
(remove ``old_label``, add ``label``) as one operation. Labels are the target
side's own text (``Primary``/``Billing contact`` on HubSpot, ``primary``/
``billing`` in the app), exactly what the connectors read and write.

A **pair state** is the set of label texts a side stores on a record pair.
Two storage models (:class:`Semantics`) decide the side effects of a write:

``hubspot``
    HubSpot (and the app side of a HubSpot-to-HubSpot sync): a labelled link
    always carries the unlabeled one, so states are normalised to hold ``None``
    whenever they hold a label; removing the unlabeled link removes every
    label; creating a label creates the unlabeled link; creating ``Primary``
    moves it off the record's other pair. These happen by themselves: the
    plan lists them as operations marked ``implied`` (not sent, checked).
``plain``
    Files and SQL apps: each stored row is independent. The plan writes the
    equivalent side effects explicitly (removing the unlabeled link removes
    the pair's labels, a primary create removes the old primary, a pair
    emptied by label removals keeps its unlabeled link).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from assoc_audit.config import HUBSPOT_PRIMARY_PAIRS

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig

__all__ = [
    "ACTIONS",
    "SIDES",
    "LabelSet",
    "Operation",
    "PairKey",
    "SideModel",
    "format_labels",
    "label_key",
    "labels_from_json",
    "labels_to_json",
    "pair_text",
]

Side = Literal["hubspot", "app"]
Action = Literal["create", "remove", "relabel"]
Semantics = Literal["hubspot", "plain"]

SIDES: tuple[Side, Side] = ("hubspot", "app")
ACTIONS: tuple[Action, ...] = ("create", "remove", "relabel")

#: (side, from_object, from_id, to_object, to_id): one record pair on one side.
PairKey = tuple[str, str, str, str, str]
LabelSet = frozenset[str | None]


def label_key(label: str | None) -> tuple[int, str]:
    """Sort key for labels: the unlabeled link first, then by text."""
    return (0, "") if label is None else (1, label)


def labels_to_json(labels: Iterable[str | None]) -> list[str | None]:
    return sorted(set(labels), key=label_key)


def labels_from_json(value: Any) -> LabelSet:
    if not isinstance(value, list):
        raise ValueError(f"expected a list of labels, got {value!r}")
    out: set[str | None] = set()
    for item in value:
        if item is not None and not isinstance(item, str):
            raise ValueError(f"a label must be text or null, got {item!r}")
        out.add(item)
    return frozenset(out)


def format_labels(labels: Iterable[str | None]) -> str:
    """Labels for people: ``(unlabeled), Primary``; ``(none)`` when empty."""
    items = labels_to_json(labels)
    if not items:
        return "(none)"
    return ", ".join("(unlabeled)" if x is None else x for x in items)


def pair_text(key: PairKey) -> str:
    side, fo, fid, to, tid = key
    return f"{side} {fo} {fid} → {to} {tid}"


def _id_key(value: str) -> tuple[int, str]:
    return (len(value), value)


@dataclass(frozen=True)
class Operation:
    """One planned change to one link on one side (see the module docstring).

    ``finding_ids`` are the findings it resolves (empty for a side effect);
    ``cause`` is the operation whose side effect it is; ``implied`` marks a
    side effect the side performs by itself (HubSpot), which is not sent;
    ``labels_before`` is the target side's label set on the pair at planning.
    """

    op_id: int
    side: Side
    action: Action
    from_object: str
    from_id: str
    to_object: str
    to_id: str
    label: str | None
    old_label: str | None = None
    finding_ids: tuple[str, ...] = ()
    cause: int | None = None
    implied: bool = False
    labels_before: tuple[str | None, ...] = ()

    @property
    def pair(self) -> PairKey:
        return (self.side, self.from_object, self.from_id, self.to_object, self.to_id)

    @property
    def before(self) -> LabelSet:
        return frozenset(self.labels_before)

    def creates(self) -> tuple[str | None, ...]:
        return () if self.action == "remove" else (self.label,)

    def removes(self) -> tuple[str | None, ...]:
        if self.action == "create":
            return ()
        return (self.old_label,) if self.action == "relabel" else (self.label,)

    def in_effect(self, labels: LabelSet) -> bool:
        """Whether the pair state ``labels`` already shows this operation done."""
        return all(x in labels for x in self.creates()) and all(
            x not in labels for x in self.removes()
        )

    def sort_key(self) -> tuple[Any, ...]:
        return (
            SIDES.index(self.side),
            self.from_object,
            self.to_object,
            _id_key(self.from_id),
            _id_key(self.to_id),
            ACTIONS.index(self.action),
            label_key(self.old_label),
            label_key(self.label),
        )

    def describe(self) -> str:
        """One line for people: ``create 'Primary' on hubspot contacts 1 → companies 2``."""

        def show(label: str | None) -> str:
            return "the unlabeled link" if label is None else repr(label)

        where = f"{self.side} {self.from_object} {self.from_id} → {self.to_object} {self.to_id}"
        if self.action == "relabel":
            what = f"relabel {show(self.old_label)} as {show(self.label)}"
        else:
            what = f"{self.action} {show(self.label)}"
        return f"#{self.op_id} {what} on {where}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "op_id": self.op_id,
            "side": self.side,
            "action": self.action,
            "from_object": self.from_object,
            "from_id": self.from_id,
            "to_object": self.to_object,
            "to_id": self.to_id,
            "label": self.label,
            "old_label": self.old_label,
            "finding_ids": list(self.finding_ids),
            "cause": self.cause,
            "implied": self.implied,
            "labels_before": labels_to_json(self.labels_before),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Operation:
        """An operation from its :meth:`to_dict` form (raises ValueError when malformed)."""
        side = data.get("side")
        action = data.get("action")
        if side not in SIDES:
            raise ValueError(f"side must be one of {', '.join(SIDES)}, got {side!r}")
        if action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
        texts = {}
        for name in ("from_object", "from_id", "to_object", "to_id"):
            value = data.get(name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name} must be non-empty text, got {value!r}")
            texts[name] = value
        label, old = data.get("label"), data.get("old_label")
        for name, value in (("label", label), ("old_label", old)):
            if value is not None and (not isinstance(value, str) or not value):
                raise ValueError(f"{name} must be text or null, got {value!r}")
        if action != "relabel" and old is not None:
            raise ValueError("old_label is only for relabel operations")
        if action == "relabel" and (label is None or old is None or label == old):
            raise ValueError("a relabel needs two different labels")
        op_id, cause = data.get("op_id"), data.get("cause")
        if not isinstance(op_id, int) or isinstance(op_id, bool) or op_id < 1:
            raise ValueError(f"op_id must be a whole number >= 1, got {op_id!r}")
        if cause is not None and (not isinstance(cause, int) or isinstance(cause, bool)):
            raise ValueError(f"cause must be an op_id or null, got {cause!r}")
        implied = data.get("implied", False)
        if not isinstance(implied, bool) or (implied and cause is None):
            raise ValueError("implied must be true or false, and true only with a cause")
        findings = data.get("finding_ids", [])
        if not isinstance(findings, list) or not all(isinstance(f, str) for f in findings):
            raise ValueError("finding_ids must be a list of text")
        return cls(
            op_id=op_id,
            side=side,
            action=action,
            from_object=texts["from_object"],
            from_id=texts["from_id"],
            to_object=texts["to_object"],
            to_id=texts["to_id"],
            label=label,
            old_label=old,
            finding_ids=tuple(findings),
            cause=cause,
            implied=implied,
            labels_before=tuple(labels_to_json(labels_from_json(data.get("labels_before", [])))),
        )


@dataclass(frozen=True)
class SideModel:
    """How one side stores links: its semantics and the texts of special labels."""

    side: Side
    semantics: Semantics
    #: per pair: the texts that mean the unlabeled link on this side
    unlabeled: Mapping[tuple[str, str], frozenset[str | None]] = field(default_factory=dict)
    #: per pair: the text to write for the unlabeled link
    unlabeled_text: Mapping[tuple[str, str], str | None] = field(default_factory=dict)
    #: per pair: the text of the primary label (pairs without one are absent)
    primary: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: per pair: HubSpot label text → this side's text (supported entries)
    from_hubspot: Mapping[tuple[str, str], Mapping[str | None, str | None]] = field(
        default_factory=dict
    )

    @classmethod
    def of(cls, config: IntegrationConfig, side: Side) -> SideModel:
        hubspot_like = side == "hubspot" or config.app.kind == "hubspot"
        unlabeled: dict[tuple[str, str], frozenset[str | None]] = {}
        unlabeled_text: dict[tuple[str, str], str | None] = {}
        primary: dict[tuple[str, str], str] = {}
        mapping: dict[tuple[str, str], dict[str | None, str | None]] = {}
        for pair in config.pairs:
            entries = config.entries_for(pair)
            whole_off = any(e.whole_pair_unsupported for e in entries)
            texts: dict[str | None, str | None] = {}
            spell: str | None = None
            for e in entries:
                if side == "hubspot":
                    texts[e.label] = e.label
                elif e.app_supported and not whole_off:
                    texts[e.label] = e.effective_app_label
                    if e.label is None:
                        spell = e.app_label
            texts.setdefault(None, None)
            mapping[pair] = texts
            if side == "hubspot" or hubspot_like:
                unlabeled[pair] = frozenset({None})
                unlabeled_text[pair] = None
                if pair in HUBSPOT_PRIMARY_PAIRS:
                    primary[pair] = "Primary"
            else:
                unlabeled[pair] = frozenset({None, spell})
                unlabeled_text[pair] = spell
                app_primary = texts.get("Primary")
                if app_primary is not None and pair in HUBSPOT_PRIMARY_PAIRS:
                    primary[pair] = app_primary
        return cls(
            side=side,
            semantics="hubspot" if hubspot_like else "plain",
            unlabeled=unlabeled,
            unlabeled_text=unlabeled_text,
            primary=primary,
            from_hubspot=mapping,
        )

    def normalise(self, labels: Iterable[str | None]) -> LabelSet:
        """A stored label set in this side's model (HubSpot: a label implies the unlabeled)."""
        out = frozenset(labels)
        if self.semantics == "hubspot" and out and None not in out:
            out = out | {None}
        return out

    def is_unlabeled(self, pair: tuple[str, str], label: str | None) -> bool:
        return label in self.unlabeled.get(pair, frozenset({None}))

    def text_of(self, pair: tuple[str, str], hubspot_label: str | None) -> str | None:
        """This side's text for a HubSpot label on ``pair`` (raises KeyError when unmapped)."""
        texts = self.from_hubspot.get(pair, {None: None})
        if hubspot_label not in texts:
            raise KeyError(hubspot_label)
        return texts[hubspot_label]
