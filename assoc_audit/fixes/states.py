"""Pair states: what each side stores on the record pairs a plan touches.

:class:`States` maps a :data:`~.model.PairKey` to its label set (normalised in
the side's model, see :class:`~.model.SideModel`) and knows every pair of a
from-record that was read (to find the primary a ``Primary`` create moves).
States come from canonical association tables (a snapshot, or a connector's
``read_associations``), or from a journal's JSON.

:func:`read_states` re-reads the touched pairs through the connectors: one
``read_associations(pair, from_ids=…)`` per audited pair and side.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from assoc_audit.fixes.model import LabelSet, PairKey, SideModel, labels_from_json, labels_to_json
from assoc_audit.tables import ASSOCIATION_COLUMNS

if TYPE_CHECKING:
    from assoc_audit.connectors.base import Connector

__all__ = ["States", "filter_links", "read_links", "read_states"]

_SEP = "\x1f"
#: From-ids per ``read_associations`` call (a multiple of HubSpot's 1,000-id batch reads).
READ_CHUNK = 10_000


class States:
    """Label sets per record pair, per side (empty set = no link)."""

    def __init__(self, models: Mapping[str, SideModel]) -> None:
        self._models = dict(models)
        self._labels: dict[PairKey, LabelSet] = {}
        self._partners: dict[tuple[str, str, str, str], set[str]] = {}

    @property
    def models(self) -> Mapping[str, SideModel]:
        return self._models

    def add_links(self, side: str, links: pd.DataFrame) -> None:
        """Add the rows of a canonical association table (replacing what was known of
        their from-records' pairs on this side)."""
        if not len(links):
            return
        frame = links[list(ASSOCIATION_COLUMNS)].astype(object)
        frame = frame.where(frame.notna(), None)
        grouped: dict[PairKey, set[str | None]] = {}
        for fo, fid, to, tid, label in frame.itertuples(index=False, name=None):
            grouped.setdefault((side, fo, fid, to, tid), set()).add(label)
        model = self._models[side]
        for key, labels in grouped.items():
            self.put(key, model.normalise(labels))

    def put(self, key: PairKey, labels: Iterable[str | None]) -> None:
        side, fo, fid, to, tid = key
        model = self._models.get(side)
        value = model.normalise(labels) if model else frozenset(labels)
        self._labels[key] = value
        partners = self._partners.setdefault((side, fo, to, fid), set())
        if value:
            partners.add(tid)
        else:
            partners.discard(tid)

    def labels(self, key: PairKey) -> LabelSet:
        return self._labels.get(key, frozenset())

    def partners(self, side: str, from_object: str, to_object: str, from_id: str) -> set[str]:
        """The to-ids linked to a from-record on a pair (among what was read)."""
        return set(self._partners.get((side, from_object, to_object, from_id), ()))

    def keys(self) -> list[PairKey]:
        return list(self._labels)

    def to_json(self, keys: Iterable[PairKey] | None = None) -> dict[str, list[list[Any]]]:
        """``{side: [[from_object, from_id, to_object, to_id, [labels…]], …]}``."""
        out: dict[str, list[list[Any]]] = {}
        wanted = self._labels if keys is None else {k: self.labels(k) for k in keys}
        for key in sorted(wanted):
            side, fo, fid, to, tid = key
            out.setdefault(side, []).append([fo, fid, to, tid, labels_to_json(wanted[key])])
        return out

    def load_json(self, data: Mapping[str, Any]) -> None:
        for side, rows in data.items():
            if side not in self._models or not isinstance(rows, list):
                raise ValueError(f"bad pair states for side {side!r}")
            for row in rows:
                if not (isinstance(row, list) and len(row) == 5):
                    raise ValueError(f"bad pair state {row!r}")
                fo, fid, to, tid, labels = row
                if not all(isinstance(v, str) for v in (fo, fid, to, tid)):
                    raise ValueError(f"bad pair state {row!r}")
                self.put((side, fo, fid, to, tid), labels_from_json(labels))


def filter_links(links: pd.DataFrame, wanted: Iterable[tuple[str, str, str]]) -> pd.DataFrame:
    """Rows whose (from_object, to_object, from_id) is one of ``wanted`` (vectorised)."""
    keys = sorted({_SEP.join(w) for w in wanted})
    if not keys or not len(links):
        return links.iloc[0:0]
    joined = (
        links["from_object"].astype(object)
        + _SEP
        + links["to_object"].astype(object)
        + _SEP
        + links["from_id"].astype(object)
    )
    mask = joined.isin(keys).to_numpy(dtype=bool, na_value=False)
    return links.loc[mask]


def read_links(
    states: States, side: str, connector: Connector, records: Iterable[tuple[str, str, str]]
) -> None:
    """Read every link of the from-records ``(from_object, to_object, from_id)`` on their
    pairs through ``connector`` into ``states``."""
    by_pair: dict[tuple[str, str], set[str]] = {}
    for fo, to, fid in records:
        by_pair.setdefault((fo, to), set()).add(fid)
    for (fo, to), ids in sorted(by_pair.items()):
        ordered = _sorted_ids(ids)
        for start in range(0, len(ordered), READ_CHUNK):  # bounded SQL IN lists
            chunk = ordered[start : start + READ_CHUNK]
            states.add_links(side, connector.read_associations((fo, to), from_ids=chunk))


def read_states(
    states: States,
    connectors: Mapping[str, Connector],
    wanted: Mapping[str, Iterable[PairKey]],
) -> None:
    """Read the pairs ``wanted`` (per side) through the connectors into ``states``.

    Every wanted pair gets a state (empty when the side holds no link on it).
    """
    for side, keys in wanted.items():
        keys = list(keys)
        if not keys:
            continue
        for key in keys:
            states.put(key, ())
        read_links(states, side, connectors[side], {(k[1], k[3], k[2]) for k in keys})


def _sorted_ids(ids: Iterable[str]) -> list[str]:
    return sorted(ids, key=lambda v: (len(v), v))
