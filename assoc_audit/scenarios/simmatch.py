"""The data-sync simulator's own record matcher: deliberately simple, exact keys, plain Python.

The simulator (:mod:`.datasync`) stands in for HubSpot's data sync, and the
scenarios check the *auditor* against what it does: if both matched records
with the same code, a matching bug would make them agree and no scenario could
fail. So the simulator matches on its own, the plain way, independent of
:mod:`assoc_audit.matching` and :mod:`assoc_audit.normalize`:

- per object, the rules in order, on the records not matched yet;
- a record's key is its rule column's value after the rule's normaliser
  (``email``: surrounding whitespace off, lower case; ``domain``: the same, then
  no scheme, nothing from the first ``/``, ``?`` or ``#``, no port, no leading
  ``www.``, no trailing dot; ``none``: the value); an empty key is no key;
- records with one key form a group: one record on each side is a match; a
  group with records on both sides and more than one on either makes its
  records *ambiguous* (unless a later rule matches them), as data sync refuses
  to guess between duplicates.

It works a record at a time with dictionaries: scenario runs hold hundreds of
records, not millions. Its result has the fields the simulator reads
(:class:`SimMatches`: per side ``status``, ``partner``, ``rule``; the
ambiguous pairs).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from assoc_audit.config import identifier_column

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig, MatchRule
    from assoc_audit.tables import Side, SideTables

__all__ = ["SimMatches", "SimSide", "SimStatus", "rule_column", "sim_key", "sim_match"]


class SimStatus(IntEnum):
    """A record's outcome in the simulator's matching."""

    NOT_MATCHED = 0  # its object has no rules
    MATCHED = 1
    UNMATCHED = 2
    AMBIGUOUS = 3


@dataclass(frozen=True)
class SimSide:
    """Per record row of one side: status, the other side's row (or -1), the 1-based rule."""

    status: np.ndarray
    partner: np.ndarray
    rule: np.ndarray


@dataclass(frozen=True)
class SimMatches:
    """Both sides' outcomes and the ambiguous pairs (``hubspot_row``, ``app_row``, ``rule``)."""

    hubspot: SimSide
    app: SimSide
    ambiguity: pd.DataFrame

    def side(self, side: Side) -> SimSide:
        return self.hubspot if side == "hubspot" else self.app


_SIDES: tuple[Side, Side] = ("hubspot", "app")


def sim_key(value: Any, how: str) -> str | None:
    """A rule key the simple way (module docstring); None for no key."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    if how in ("email", "domain"):
        text = text.lower()
    if how == "domain":
        text = text.split("://", 1)[1] if "://" in text else text
        for mark in "/?#":
            text = text.split(mark, 1)[0]
        text = text.rsplit(":", 1)[0] if ":" in text else text
        while text.startswith("www."):
            text = text[4:]
        text = text.rstrip(".")
    return text or None


def rule_column(side: Side, rule: MatchRule) -> str:
    """The records-table column a rule reads on ``side`` (``id``/``hs_object_id``: the id)."""
    return identifier_column(side, rule.hubspot if side == "hubspot" else rule.app)


def _column(tables: SideTables, side: Side, column: str) -> list[Any]:
    name = identifier_column(side, column)
    if name not in tables.records.columns:
        return [None] * len(tables.records)
    return tables.records[name].astype(object).tolist()


def sim_match(config: IntegrationConfig, hubspot: SideTables, app: SideTables) -> SimMatches:
    """Match both sides' records with the config's rules (module docstring)."""
    tables: dict[Side, SideTables] = {"hubspot": hubspot, "app": app}
    n = {s: len(t.records) for s, t in tables.items()}
    status = {s: np.zeros(n[s], dtype=np.int8) for s in tables}
    partner = {s: np.full(n[s], -1, dtype=np.int64) for s in tables}
    rule_of = {s: np.zeros(n[s], dtype=np.int16) for s in tables}
    objects = {s: tables[s].records["object"].astype(object).tolist() for s in tables}
    ambiguous: dict[tuple[int, int], int] = {}
    for obj in config.audited_objects:
        rules = config.match_rules(obj)
        if not rules or config.sync_of(obj) == "off":
            continue
        pool = {s: [i for i, o in enumerate(objects[s]) if o == obj] for s in tables}
        for s in tables:
            status[s][pool[s]] = SimStatus.UNMATCHED
        for number, rule in enumerate(rules, start=1):
            groups: dict[str, dict[str, list[int]]] = {}
            for s in _SIDES:
                values = _column(tables[s], s, rule.hubspot if s == "hubspot" else rule.app)
                for i in pool[s]:
                    key = sim_key(values[i], rule.normalize)
                    if key is not None:
                        groups.setdefault(key, {"hubspot": [], "app": []})[s].append(i)
            for group in groups.values():
                h, a = group["hubspot"], group["app"]
                if len(h) == 1 and len(a) == 1:
                    status["hubspot"][h[0]] = status["app"][a[0]] = SimStatus.MATCHED
                    partner["hubspot"][h[0]], partner["app"][a[0]] = a[0], h[0]
                    rule_of["hubspot"][h[0]] = rule_of["app"][a[0]] = number
                elif h and a:
                    for i in h:
                        for j in a:
                            ambiguous.setdefault((i, j), number)
            pool = {s: [i for i in pool[s] if status[s][i] != SimStatus.MATCHED] for s in tables}
    for (i, j), _ in ambiguous.items():  # never matched, once in a two-sided group
        for s, row in (("hubspot", i), ("app", j)):
            if status[s][row] != SimStatus.MATCHED:
                status[s][row] = SimStatus.AMBIGUOUS
    pairs = [
        (i, j, r)
        for (i, j), r in sorted(ambiguous.items())
        if status["hubspot"][i] == SimStatus.AMBIGUOUS and status["app"][j] == SimStatus.AMBIGUOUS
    ]
    ambiguity = pd.DataFrame(
        {
            "hubspot_row": np.array([p[0] for p in pairs], dtype=np.int64),
            "app_row": np.array([p[1] for p in pairs], dtype=np.int64),
            "rule": np.array([p[2] for p in pairs], dtype=np.int16),
        }
    )
    sides = {s: SimSide(status[s], partner[s], rule_of[s]) for s in tables}
    return SimMatches(sides["hubspot"], sides["app"], ambiguity)
