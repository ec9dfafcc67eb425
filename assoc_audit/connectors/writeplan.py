"""Planning app-side writes: which requested edges to write, compared with what is stored.

Edges are compared by a text key (objects, ids and label joined with a
separator, the unlabeled link's label part empty) in the audited pair's
direction, so a link stored the other way round matches too. All of it runs
on whole columns in Arrow. Also the id rules for new records.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assoc_audit.connectors.app import AppLayout
from assoc_audit.connectors.base import edge_table
from assoc_audit.connectors.columns import isin_text, map_text
from assoc_audit.errors import DataError
from assoc_audit.tables import ASSOCIATION_COLUMNS, TEXT, to_text
from assoc_audit.text import text_series, to_arrow_text

__all__ = ["EdgeRequest", "new_record_ids", "next_ids", "record_rows", "stored_edge_keys"]

_SEP = "\x1f"


def _join(*columns: pd.Series, empty_nulls: bool) -> pa.Array:
    """Columns joined row by row with a separator (null in, null out unless ``empty_nulls``)."""
    arrays = [to_arrow_text(c) for c in columns]
    if empty_nulls:
        arrays = [pc.fill_null(a, "") for a in arrays]
    return pc.binary_join_element_wise(*arrays, pa.scalar(_SEP, pa.large_string()))


def _keys(
    f: pd.Series, fid: pd.Series, t: pd.Series, tid: pd.Series, label: pd.Series
) -> pd.Series:
    """One text key per edge (an unlabeled edge's label part is empty)."""
    return text_series(_join(f, fid, t, tid, label, empty_nulls=True), f.index)


def stored_edge_keys(raw: pd.DataFrame, layout: AppLayout) -> pd.Series:
    """A key per stored row in the audited pair's direction; null for rows of other pairs.

    Lenient on purpose (writes must not fail on rows they do not touch): ids
    are compared as text, numeric ids as whole-number text.
    """

    def text(col: str) -> pd.Series:
        return to_text(raw[col], source="", column=col, whole_numbers=False)

    f = map_text(text("from_object"), layout.hub_of)
    t = map_text(text("to_object"), layout.hub_of)
    fid, tid, label = text("from_id"), text("to_id"), text("label")
    pair = _join(f, t, empty_nulls=False)
    forward_set = pa.array([f"{a}{_SEP}{b}" for a, b in layout.pairs], pa.large_string())
    reverse_set = pa.array([f"{b}{_SEP}{a}" for a, b in layout.pairs if a != b], pa.large_string())
    forward = pc.fill_null(pc.is_in(pair, value_set=forward_set), False)
    reverse = pc.fill_null(pc.is_in(pair, value_set=reverse_set), False)
    ahead = _join(f, fid, t, tid, label, empty_nulls=True)
    back = _join(t, tid, f, fid, label, empty_nulls=True)
    none = pa.nulls(len(raw), pa.large_string())
    keys = pc.if_else(forward, ahead, pc.if_else(reverse, back, none))
    return text_series(keys, raw.index)


@dataclass(frozen=True, eq=False)
class EdgeRequest:
    """Edges asked for in a write, put in their audited pair's direction.

    ``edges`` holds the canonical edges (HubSpot names) in input order;
    ``app_from``/``app_to`` the app's object names; ``keys`` a comparable key
    per row; ``error`` a message for rows that cannot be written (null
    otherwise); ``first`` marks the first row of each distinct edge.
    """

    edges: pd.DataFrame
    app_from: pd.Series
    app_to: pd.Series
    keys: pd.Series
    error: pd.Series
    first: np.ndarray

    @classmethod
    def build(cls, edges: pd.DataFrame, layout: AppLayout) -> EdgeRequest:
        frame = edge_table(edges)
        pair = frame["from_object"].astype(object) + _SEP + frame["to_object"].astype(object)
        forward = pair.isin([f"{a}{_SEP}{b}" for a, b in layout.pairs]).to_numpy()
        reverse = pair.isin([f"{b}{_SEP}{a}" for a, b in layout.pairs if a != b]).to_numpy()
        reverse = reverse & ~forward
        if reverse.any():
            rev = frame.loc[reverse]
            frame.loc[reverse, ["from_object", "from_id", "to_object", "to_id"]] = rev[
                ["to_object", "to_id", "from_object", "from_id"]
            ].to_numpy()
        error = pd.Series(None, index=frame.index, dtype=object)
        bad_pair = ~(forward | reverse)
        if bad_pair.any():
            error[bad_pair] = (
                "pair "
                + frame["from_object"][bad_pair].astype(object)
                + "→"
                + frame["to_object"][bad_pair].astype(object)
                + " is not audited by this config"
            )
        for col in ("from_id", "to_id"):
            empty = frame[col].isna().to_numpy() & error.isna().to_numpy()
            error[empty] = f"empty {col}"
        keys = _keys(*(frame[c] for c in ASSOCIATION_COLUMNS))
        first = ~keys.duplicated().to_numpy()
        return cls(
            edges=frame,
            app_from=frame["from_object"].map(layout.app_of).astype(TEXT),
            app_to=frame["to_object"].map(layout.app_of).astype(TEXT),
            keys=keys,
            error=error,
            first=first,
        )

    @property
    def writable(self) -> np.ndarray:
        """Rows to consider for writing: no error, first of their edge."""
        mask: np.ndarray = self.error.isna().to_numpy() & self.first
        return mask

    def decide(self, stored: pd.Series, *, create: bool) -> tuple[np.ndarray, np.ndarray]:
        """``(write, status)``: rows to write, and each row's status if the writes succeed.

        ``stored`` holds the keys of what the side holds now.
        """
        present = isin_text(self.keys, stored)
        write = self.writable & (~present if create else present)
        status = np.where(write, "ok", "already").astype(object)
        status[self.error.notna().to_numpy()] = "failed"
        return write, status

    def app_rows(self, mask: np.ndarray) -> pd.DataFrame:
        """The selected edges as app rows (app object names, text ids, label or null)."""
        sel = self.edges.loc[mask]
        return pd.DataFrame(
            {
                "from_object": self.app_from[mask].to_numpy(),
                "from_id": sel["from_id"].to_numpy(),
                "to_object": self.app_to[mask].to_numpy(),
                "to_id": sel["to_id"].to_numpy(),
                "label": sel["label"].to_numpy(),
            }
        ).astype(TEXT)


def next_ids(existing: pd.Series, count: int) -> list[str]:
    """``count`` new ids after the largest whole-number id in ``existing`` (1 when none)."""
    text = existing.dropna().astype(str)
    numeric = text[text.str.fullmatch(r"[0-9]{1,18}")]
    start = int(numeric.astype("int64").max()) + 1 if len(numeric) else 1
    return [str(start + i) for i in range(count)]


def new_record_ids(records: pd.DataFrame, existing: pd.Series, *, source: str) -> pd.Series:
    """Ids for new records: the ``id`` column where given, else next whole numbers."""
    n = len(records)
    given = (
        to_text(records["id"], source=source, column="id").reset_index(drop=True)
        if "id" in records.columns
        else pd.Series([pd.NA] * n, dtype=TEXT)
    )
    missing = given.isna().to_numpy()
    if missing.any():
        fresh = next_ids(pd.concat([existing, given]), int(missing.sum()))
        given = given.astype(object)
        given[missing] = fresh
        given = given.astype(TEXT)
    dup = given.duplicated(keep=False).to_numpy()
    if dup.any():
        raise DataError(
            f"{source}: id {given[dup].iloc[0]!r} is given twice", file=source, field="id"
        )
    return given


def record_rows(records: pd.DataFrame, ids: pd.Series) -> pd.DataFrame:
    """New records as text columns (numbers as whole-number text) with their ``id``."""
    rows = pd.DataFrame(
        {
            str(c): to_text(records[c], source="records", column=str(c), whole_numbers=False)
            for c in records.columns
            if c != "id"
        }
    )
    rows["id"] = ids.to_numpy()
    return rows.astype(TEXT)
