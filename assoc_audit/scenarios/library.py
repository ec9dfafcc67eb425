"""The pre-rollout scenario library, derived from an integration config.

For every audited association pair, entry and direction, :func:`build_library`
lists the scenarios an admin should test before rolling a sync out:

``round_trip``
    a link made on one side appears on the other (each direction the sync
    carries; both for a two-way association);
``one_way``
    a link made on the target side of a one-way association stays there
    (``direction_blocked``);
``unsupported``
    a HubSpot label (or a whole pair) the app has no equivalent for stays in
    HubSpot (``unsupported_in_app``);
``sync_off``
    a link of a pair whose object is not synced stays where it is made
    (``object_sync_off``);
``record_missing``
    a link from a record the sync cannot match (no identifier values) does not
    cross (``record_unmatched``);
``duplicates``
    a link from a record whose identifier two records on the other side share
    does not cross (``ambiguous_match``);
``label_conflict``
    when the sides give a linked pair different labels, neither label crosses
    (``label_mismatch``);
``limit``
    a link beyond the app's ``app_max_per_record`` does not reach the app
    (``limit_exceeded``).

Each :class:`Scenario` says before it runs what must happen (``expected``,
``reason``, ``expectation``) and which sample records and links it needs, in
terms of roles (``from``, ``to``, ``to2``, …), not ids: the runner creates
uniquely tagged records for them. Scenario ids (``S01``, …) are stable for a
config.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assoc_audit.reasons import Reason
from assoc_audit.scenarios.model import (
    KINDS,
    Expected,
    Flow,
    Kind,
    SampleLink,
    SampleRecord,
    Scenario,
    object_word,
    side_label,
    side_name,
)
from assoc_audit.scenarios.samples import can_exclude, duplicate_side, key_rule

if TYPE_CHECKING:
    from assoc_audit.config import AssociationEntry, IntegrationConfig
    from assoc_audit.tables import Side

__all__ = [
    "KINDS",
    "MAX_LIMIT_TESTED",
    "Expected",
    "Flow",
    "Kind",
    "SampleLink",
    "SampleRecord",
    "Scenario",
    "build_library",
    "object_word",
    "side_label",
    "side_name",
]


# ---------------------------------------------------------------------------
# Building the library


#: Limits above this are not tested (the scenario would need that many sample records).
MAX_LIMIT_TESTED = 5

_BOTH: tuple[Side, Side] = ("hubspot", "app")


def _flows(direction: str) -> tuple[list[Flow], list[Flow]]:
    """(flows the sync carries, flows it blocks) for an association direction."""
    every: list[Flow] = ["hubspot_to_app", "app_to_hubspot"]
    carried: list[Flow] = every if direction == "two_way" else [f for f in every if f == direction]
    return carried, [f for f in every if f not in carried]


def _src(flow: Flow) -> Side:
    return "hubspot" if flow == "hubspot_to_app" else "app"


def _other(side: Side) -> Side:
    return "app" if side == "hubspot" else "hubspot"


def _flow_from(side: Side) -> Flow:
    return "hubspot_to_app" if side == "hubspot" else "app_to_hubspot"


class _Builder:
    def __init__(self, config: IntegrationConfig) -> None:
        self.config = config
        self.out: list[Scenario] = []

    # -- text ------------------------------------------------------------------------

    def _link_words(self, pair: tuple[str, str], label: str | None) -> str:
        words = f"{object_word(pair[0])}→{object_word(pair[1])}"
        return f"{words} '{label}' link" if label else f"{words} link"

    # -- adding -------------------------------------------------------------------------

    def add(
        self,
        kind: Kind,
        pair: tuple[str, str],
        label: str | None,
        flow: Flow,
        expectation: str,
        records: tuple[SampleRecord, ...],
        links: tuple[SampleLink, ...],
        probe: SampleLink,
        reason: Reason | None = None,
    ) -> None:
        self.out.append(
            Scenario(
                id=f"S{len(self.out) + 1:02d}",
                kind=kind,
                pair=pair,
                label=label,
                flow=flow,
                expected="appears" if reason is None else "absent",
                reason=None if reason is None else reason.value,
                expectation=expectation,
                records=records,
                links=(*links, probe) if probe not in links else links,
                probe=probe,
            )
        )

    def pair_records(self, pair: tuple[str, str]) -> tuple[SampleRecord, SampleRecord]:
        return (
            SampleRecord("from", pair[0], _BOTH, "from"),
            SampleRecord("to", pair[1], _BOTH, "to"),
        )

    # -- kinds ----------------------------------------------------------------------------

    def round_trip(self, pair: tuple[str, str], entry: AssociationEntry, flow: Flow) -> None:
        src = _src(flow)
        dst = _other(src)
        c = self.config
        mine = side_label(c, pair, entry.label, src)
        theirs = side_label(c, pair, entry.label, dst)
        arrives = f" as '{theirs}'" if theirs is not None and theirs != mine else ""
        if theirs is None and mine is not None:
            arrives = " as an unlabeled link"
        text = (
            f"A {self._link_words(pair, mine)} made in {side_name(c, src)} appears in "
            f"{side_name(c, dst)}{arrives}."
        )
        probe = SampleLink(src, "from", "to", entry.label)
        self.add("round_trip", pair, entry.label, flow, text, self.pair_records(pair), (), probe)

    def one_way(self, pair: tuple[str, str], entry: AssociationEntry, flow: Flow) -> None:
        src = _src(flow)
        c = self.config
        direction = c.direction(pair)
        if direction == "blocked":
            why = (
                f"{pair[0]} and {pair[1]} sync in opposite directions, which blocks their links "
                "both ways"
            )
        else:
            frm, to = (
                ("HubSpot", c.app.name)
                if direction == "hubspot_to_app"
                else (c.app.name, "HubSpot")
            )
            why = f"this association syncs {frm} → {to} only"
        mine = side_label(c, pair, entry.label, src)
        text = (
            f"A {self._link_words(pair, mine)} made in {side_name(c, src)} stays there: "
            f"{why} (expected reason direction_blocked)."
        )
        probe = SampleLink(src, "from", "to", entry.label)
        self.add(
            "one_way",
            pair,
            entry.label,
            flow,
            text,
            self.pair_records(pair),
            (),
            probe,
            Reason.DIRECTION_BLOCKED,
        )

    def unsupported(self, pair: tuple[str, str], label: str | None) -> None:
        c = self.config
        what = self._link_words(pair, label)
        text = (
            f"A {what} made in HubSpot stays there: {c.app.name} has no equivalent "
            "(expected reason unsupported_in_app)."
        )
        records = self.pair_records(pair)
        probe = SampleLink("hubspot", "from", "to", label)
        self.add(
            "unsupported",
            pair,
            label,
            "hubspot_to_app",
            text,
            records,
            (),
            probe,
            Reason.UNSUPPORTED_IN_APP,
        )

    def sync_off(self, pair: tuple[str, str], label: str | None) -> None:
        c = self.config
        off = [o for o in pair if c.sync_of(o) == "off"]
        text = (
            f"A {self._link_words(pair, label)} made in HubSpot stays there: "
            f"{' and '.join(off)} {'are' if len(off) == 1 else 'both are'} not synced "
            "(expected reason object_sync_off)."
        )
        records = tuple(
            SampleRecord(key, obj, ("hubspot",), key)
            for key, obj in zip(("from", "to"), pair, strict=True)
        )
        probe = SampleLink("hubspot", "from", "to", label)
        self.add(
            "sync_off",
            pair,
            label,
            "hubspot_to_app",
            text,
            records,
            (),
            probe,
            Reason.OBJECT_SYNC_OFF,
        )

    def record_missing(self, pair: tuple[str, str], carried: list[Flow]) -> None:
        c = self.config
        for flow in carried:
            src = _src(flow)
            for end, obj in (("from", pair[0]), ("to", pair[1])):
                if not can_exclude(c, obj, src):
                    continue
                records = tuple(
                    SampleRecord(key, o, (src,), key, identified=False)
                    if key == end
                    else SampleRecord(key, o, _BOTH, key)
                    for key, o in (("from", pair[0]), ("to", pair[1]))
                )
                text = (
                    f"A {self._link_words(pair, None)} made in {side_name(c, src)} "
                    f"{end} a {object_word(obj)} the sync cannot match (it has no identifier "
                    f"values) does not reach {side_name(c, _other(src))} "
                    "(expected reason record_unmatched)."
                )
                probe = SampleLink(src, "from", "to", None)
                self.add(
                    "record_missing", pair, None, flow, text, records, (), probe,
                    Reason.RECORD_UNMATCHED,
                )  # fmt: skip
                return

    def duplicates(self, pair: tuple[str, str], carried: list[Flow]) -> None:
        c = self.config
        for end, obj in (("from", pair[0]), ("to", pair[1])):
            dup = duplicate_side(c, obj)
            rule = key_rule(c, obj)
            if dup is None or rule is None:
                continue
            flow: Flow = carried[0] if carried else _flow_from(_other(dup))
            src = _src(flow)
            other_end = "to" if end == "from" else "from"
            other = pair[1] if end == "from" else pair[0]
            records = (
                SampleRecord(end, obj, _BOTH, end),
                SampleRecord(other_end, other, _BOTH, other_end),
                SampleRecord(f"{end}_twin", obj, (dup,), end),
            )
            column = rule.hubspot if dup == "hubspot" else rule.app
            word = object_word(obj)
            text = (
                f"A {self._link_words(pair, None)} made in {side_name(c, src)} does not reach "
                f"{side_name(c, _other(src))} when two {word} records in {side_name(c, dup)} "
                f"share the {column} value the sync matches by (expected reason ambiguous_match)."
            )
            probe = SampleLink(src, "from", "to", None)
            self.add(
                "duplicates", pair, None, flow, text, records, (), probe, Reason.AMBIGUOUS_MATCH
            )
            return

    def label_conflict(
        self, pair: tuple[str, str], labelled: list[AssociationEntry], carried: list[Flow]
    ) -> None:
        c = self.config
        first, second = labelled[0], labelled[1]
        flow: Flow = carried[0] if carried else "hubspot_to_app"
        src = _src(flow)
        dst = _other(src)
        mine, theirs = first.label, second.label
        text = (
            f"When {side_name(c, src)} labels a {object_word(pair[0])}→{object_word(pair[1])} "
            f"link '{side_label(c, pair, mine, src)}' and {side_name(c, dst)} labels it "
            f"'{side_label(c, pair, theirs, dst)}', neither label crosses "
            "(expected reason label_mismatch)."
        )
        probe = SampleLink(src, "from", "to", mine)
        links = (SampleLink(dst, "from", "to", theirs),)
        self.add(
            "label_conflict",
            pair,
            mine,
            flow,
            text,
            self.pair_records(pair),
            links,
            probe,
            Reason.LABEL_MISMATCH,
        )

    def limit(self, pair: tuple[str, str], entry: AssociationEntry) -> None:
        c = self.config
        limit = entry.app_max_per_record
        assert limit is not None
        keys = [f"to{n}" for n in range(1, limit + 2)]
        records = (
            SampleRecord("from", pair[0], _BOTH, "from"),
            *(SampleRecord(k, pair[1], _BOTH, k) for k in keys),
        )
        held = tuple(SampleLink("app", "from", k, entry.label) for k in keys[:-1])
        hub = tuple(SampleLink("hubspot", "from", k, entry.label) for k in keys[:-1])
        probe = SampleLink("hubspot", "from", keys[-1], entry.label)
        text = (
            f"A {self._link_words(pair, entry.label)} made in HubSpot beyond {c.app.name}'s limit "
            f"of {limit} per {object_word(pair[0])} does not reach {c.app.name} "
            "(expected reason limit_exceeded)."
        )
        self.add(
            "limit",
            pair,
            entry.label,
            "hubspot_to_app",
            text,
            records,
            (*held, *hub),
            probe,
            Reason.LIMIT_EXCEEDED,
        )

    # -- per pair -----------------------------------------------------------------------------

    def pair(self, pair: tuple[str, str]) -> None:
        c = self.config
        entries = c.entries_for(pair)
        unlabeled = next((e for e in entries if e.label is None), None)
        if c.sync_of(pair[0]) == "off" or c.sync_of(pair[1]) == "off":
            self.sync_off(pair, unlabeled.label if unlabeled else entries[0].label)
            return
        if any(e.whole_pair_unsupported for e in entries):
            self.unsupported(pair, None)
            return
        carried, blocked = _flows(c.direction(pair))
        supported = [e for e in entries if e.app_supported]
        if unlabeled is None:  # the unlabeled link of a listed pair always maps (DESIGN §5)
            unlabeled = next(iter(supported), None)
        for entry in supported:
            for flow in carried:
                self.round_trip(pair, entry, flow)
            for flow in blocked:
                self.one_way(pair, entry, flow)
        for entry in entries:
            if not entry.app_supported and entry.label is not None:
                self.unsupported(pair, entry.label)
        if carried:
            self.record_missing(pair, carried)
        self.duplicates(pair, carried)
        labelled = [e for e in supported if e.label is not None]
        if len(labelled) >= 2:
            self.label_conflict(pair, labelled, carried)
        if "hubspot_to_app" in carried:
            for entry in supported:
                limit = entry.app_max_per_record
                if limit is not None and limit <= MAX_LIMIT_TESTED and entry.label != "Primary":
                    self.limit(pair, entry)


def build_library(
    config: IntegrationConfig, *, kinds: tuple[str, ...] | None = None
) -> tuple[Scenario, ...]:
    """Every scenario the config calls for, in pair order (ids stay stable for a config).

    ``kinds`` keeps only scenarios of those kinds (ids are kept as numbered in
    the full library).
    """
    builder = _Builder(config)
    for pair in config.pairs:
        builder.pair(pair)
    scenarios = tuple(builder.out)
    if kinds is not None:
        unknown = sorted(set(kinds) - set(KINDS))
        if unknown:
            from assoc_audit.errors import AssocAuditError

            raise AssocAuditError(
                f"unknown scenario kind {', '.join(map(repr, unknown))} "
                f"(allowed: {', '.join(KINDS)})",
                field="kinds",
            )
        scenarios = tuple(s for s in scenarios if s.kind in kinds)
    return scenarios
