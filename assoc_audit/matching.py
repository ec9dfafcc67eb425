"""Record matching: ordered rules per object, ambiguity never silently paired (DESIGN §5).

Per object, the rules run in order on the records not yet matched. Under a
rule, records with equal non-null normalised keys form a group; a group with
exactly one record on each side is a match and both records leave the pool.
A record never matched is *ambiguous* if it was ever in a group with records
on both sides and more than one on either side, otherwise *unmatched*. Null
keys never match and never make a record ambiguous. Objects without rules
(``off`` or missing from ``objects``) are not matched at all.

Results are arrays aligned with each side's records table (row positions), so
later stages join on small integers (records.csv is rendered from them by
:func:`assoc_audit.outputs.records_table`).

Each rule groups its keys by a 64-bit hash (DuckDB's ``hash``, factorised in
NumPy); the members of every two-sided group are then compared with the group's
first key, and if any differs (a hash collision) the rule's codes are recomputed
exactly, so hashing never changes a result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assoc_audit import duck
from assoc_audit.errors import DataError
from assoc_audit.normalize import normalize_arrow
from assoc_audit.tables import TEXT, arrow_text

if TYPE_CHECKING:
    import duckdb

    from assoc_audit.config import IntegrationConfig, MatchRule
    from assoc_audit.tables import Side, SideTables

__all__ = [
    "RECORDS_COLUMNS",
    "MatchStatus",
    "Matches",
    "SideMatch",
    "match_records",
    "object_codes",
    "rule_column",
]

#: Columns of records.csv, in order.
RECORDS_COLUMNS: tuple[str, ...] = ("object", "hubspot_id", "app_id", "rule", "status")


class MatchStatus(IntEnum):
    """A record's matching outcome."""

    NOT_MATCHED = 0  # its object has no rules (not synced)
    MATCHED = 1
    UNMATCHED = 2
    AMBIGUOUS = 3


@dataclass(frozen=True)
class SideMatch:
    """Per record row of one side: status, the other side's row (or -1), and the rule.

    ``rule`` is the 1-based rule that matched the record; for an ambiguous
    record the first rule that put it in a two-sided group; for an unmatched
    record the first rule that grouped it (gave it a non-null key, so it was in
    a group, if only of itself); 0 if no rule ever did.
    """

    status: np.ndarray
    partner: np.ndarray
    rule: np.ndarray

    def count(self, status: MatchStatus, rows: np.ndarray | None = None) -> int:
        values = self.status if rows is None else self.status[rows]
        return int(np.count_nonzero(values == status))


@dataclass(frozen=True)
class RuleKeys:
    """A rule's normalised keys (null: none) of record ``rows`` (ascending) of one side."""

    rows: np.ndarray
    keys: pa.Array

    def restrict(self, rows: np.ndarray) -> RuleKeys:
        """The keys of ``rows``, a subset of :attr:`rows` (ascending)."""
        at = np.searchsorted(self.rows, rows)
        return RuleKeys(rows, self.keys.take(pa.array(at, pa.int64())))

    def lookup(self, rows: np.ndarray) -> pa.Array | None:
        """The keys of ``rows`` (any order), or None if some of them are not here."""
        if not len(self.rows):
            return None if len(rows) else self.keys
        at = np.minimum(np.searchsorted(self.rows, rows), len(self.rows) - 1)
        if not np.array_equal(self.rows[at], rows):
            return None
        return self.keys.take(pa.array(at, pa.int64()))


@dataclass(frozen=True)
class Matches:
    """Both sides' matching results.

    ``ambiguity`` lists, for records never matched, every (HubSpot row, app
    row) pair that shared a two-sided ambiguous group, with the rule of that
    group (columns ``hubspot_row``, ``app_row``, ``rule``; one row per pair,
    first rule).
    """

    hubspot: SideMatch
    app: SideMatch
    ambiguity: pd.DataFrame
    #: Per object with rules: counts of matched pairs, unmatched and ambiguous records.
    counts: dict[str, dict[str, int]]
    #: Each side's records as their object's index in ``config.audited_objects`` (-1: other).
    object_codes: tuple[np.ndarray, np.ndarray]
    #: (object, rule number) -> both sides' keys of the records no rule matched (suggestions).
    unmatched_keys: dict[tuple[str, int], tuple[RuleKeys, RuleKeys]] = field(default_factory=dict)

    def side(self, side: Side) -> SideMatch:
        return self.hubspot if side == "hubspot" else self.app


def rule_column(side: Side, rule: MatchRule) -> str:
    """The records-table column a rule reads on ``side`` (``id``/``hs_object_id`` → record_id)."""
    column = rule.hubspot if side == "hubspot" else rule.app
    if (side == "app" and column == "id") or (side == "hubspot" and column == "hs_object_id"):
        return "record_id"
    return column


def object_codes(records: pd.DataFrame, objects: list[str] | tuple[str, ...]) -> np.ndarray:
    """Each record's object as its index in ``objects`` (-1 for other objects)."""
    column = records["object"]
    obj = arrow_text(column)
    if obj is None:
        try:
            obj = pa.chunked_array([pa.array(column.array)])
        except (pa.ArrowException, TypeError):
            obj = pa.chunked_array([pa.array(column.astype("object").tolist(), pa.string())])
        if pa.types.is_dictionary(obj.type):
            obj = obj.cast(obj.type.value_type)
    codes = pc.fill_null(pc.index_in(obj, value_set=pa.array(list(objects), obj.type)), -1)
    return np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64)


def _object_rows(codes: np.ndarray, objects: list[str]) -> dict[str, np.ndarray]:
    """Row positions of each object's records (ascending)."""
    return {name: np.flatnonzero(codes == i) for i, name in enumerate(objects)}


def _keys(tables: SideTables, rows: np.ndarray, column: str, how: str) -> pa.Array:
    """The rule's normalised key of each of ``rows`` (null: no key)."""
    records = tables.records
    if column not in records.columns:
        raise DataError(
            f"{tables.side} records: the match rule column {column!r} is missing "
            f"(columns present: {', '.join(map(str, records.columns))})",
            file=str(tables.meta.get("source", tables.side)),
            field=column,
        )
    values = arrow_text(records[column])
    if values is None:
        values = arrow_text(records[column].astype(TEXT))
        assert values is not None
    taken = values.take(pa.array(rows, pa.int64()))
    if how == "none":  # canonical text: empty is already null
        return taken.combine_chunks().cast(pa.large_string())
    return normalize_arrow(taken, how)


def _hashes(con: duckdb.DuckDBPyConnection, keys: pa.Array) -> np.ndarray:
    """A 64-bit hash of each (non-null) key, computed by DuckDB (vectorised, parallel)."""
    duck.register(con, "match_keys_", pa.table({"key": keys}))
    try:
        got = duck.numpy(con, "SELECT hash(key) AS k FROM match_keys_")["k"]
    finally:
        con.unregister("match_keys_")
    return np.asarray(got, dtype=np.uint64)


def _key_codes(con: duckdb.DuckDBPyConnection, keys: pa.Array, n_h: int) -> tuple[np.ndarray, int]:
    """Group codes of ``keys`` (HubSpot keys first, then the app's; no nulls): equal codes
    for equal keys. Codes come from 64-bit hashes; members of two-sided groups are then
    compared with their group's first key, and on any collision the codes are recomputed
    exactly (Arrow dictionary encoding)."""
    codes, uniques = pd.factorize(_hashes(con, keys))
    codes = codes.astype(np.int64, copy=False)
    k = len(uniques)
    n = len(codes)
    two = (np.bincount(codes[:n_h], minlength=k) > 0) & (np.bincount(codes[n_h:], minlength=k) > 0)
    first = _first_positions(codes, k)
    check = np.flatnonzero(two[codes] & (first[codes] != np.arange(n)))
    if len(check):
        same = pc.equal(keys.take(pa.array(check)), keys.take(pa.array(first[codes[check]])))
        if not pc.all(same).as_py():
            encoded = pc.dictionary_encode(keys)
            exact = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            return exact, len(encoded.dictionary)
    return codes, k


def _first_positions(codes: np.ndarray, k: int) -> np.ndarray:
    """For each code, the position of its first occurrence in ``codes`` (0 if none)."""
    n = len(codes)
    first = np.full(k, n, dtype=np.int64)
    np.minimum.at(first, codes, np.arange(n, dtype=np.int64))  # no reliance on write order
    first[first == n] = 0
    return first


@dataclass(frozen=True)
class _Grouped:
    """One rule's groups over the pools, as positions in the pools."""

    pairs: tuple[np.ndarray, np.ndarray]  # one-to-one groups: (HubSpot, app) positions
    ambiguous: tuple[np.ndarray, np.ndarray]  # every (HubSpot, app) pair of the other groups
    keyed: tuple[np.ndarray, np.ndarray]  # positions with a key


def _group(con: duckdb.DuckDBPyConnection, keys_h: pa.Array, keys_a: pa.Array) -> _Grouped:
    """DESIGN §5's groups: equal non-null keys; only groups with records on both sides count."""
    ok_h = np.asarray(pc.is_valid(keys_h).to_numpy(zero_copy_only=False))
    ok_a = np.asarray(pc.is_valid(keys_a).to_numpy(zero_copy_only=False))
    at_h, at_a = np.flatnonzero(ok_h), np.flatnonzero(ok_a)
    none = np.array([], dtype=np.int64)
    if not len(at_h) or not len(at_a):
        return _Grouped((none, none), (none, none), (at_h, at_a))
    both = pa.concat_arrays([keys_h.filter(pa.array(ok_h)), keys_a.filter(pa.array(ok_a))])
    codes, k = _key_codes(con, both, len(at_h))
    ch, ca = codes[: len(at_h)], codes[len(at_h) :]
    nh, na = np.bincount(ch, minlength=k), np.bincount(ca, minlength=k)
    first_h, first_a = _first_positions(ch, k), _first_positions(ca, k)
    one = np.flatnonzero((nh == 1) & (na == 1))
    pairs = (at_h[first_h[one]], at_a[first_a[one]])
    amb = (nh > 0) & (na > 0) & ((nh > 1) | (na > 1))
    if not amb.any():
        return _Grouped(pairs, (none, none), (at_h, at_a))
    mh = np.flatnonzero(amb[ch])  # HubSpot members of ambiguous groups, ascending
    ma = np.flatnonzero(amb[ca])
    ma = ma[np.argsort(ca[ma], kind="stable")]  # app members by group, ascending within
    start = np.zeros(k, dtype=np.int64)
    np.cumsum(np.bincount(ca[ma], minlength=k)[:-1], out=start[1:])
    per = na[ch[mh]]
    total = int(per.sum())
    offset = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(per) - per, per)
    amb_h = np.repeat(at_h[mh], per)
    amb_a = at_a[ma[np.repeat(start[ch[mh]], per) + offset]]
    return _Grouped(pairs, (amb_h, amb_a), (at_h, at_a))


def match_records(
    config: IntegrationConfig,
    hubspot: SideTables,
    app: SideTables,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Matches:
    """Match both sides' records with the config's ordered rules."""
    own = con is None
    con = con or duck.connect()
    try:
        return _match(config, hubspot, app, con)
    finally:
        if own:
            con.close()


def _new_side(n: int) -> dict[str, np.ndarray]:
    return {
        "status": np.zeros(n, dtype=np.int8),
        "partner": np.full(n, -1, dtype=np.int64),
        "rule": np.zeros(n, dtype=np.int16),
        "grouped": np.zeros(n, dtype=np.int16),  # first rule of a two-sided ambiguous group
        "keyed": np.zeros(n, dtype=np.int16),  # first rule that gave the record a key
    }


# long function: the per-object loop over ordered rules reads best in one place
def _match(
    config: IntegrationConfig,
    hubspot: SideTables,
    app: SideTables,
    con: duckdb.DuckDBPyConnection,
) -> Matches:
    objects = list(config.audited_objects)
    codes = (object_codes(hubspot.records, objects), object_codes(app.records, objects))
    rows_h = _object_rows(codes[0], objects)
    rows_a = _object_rows(codes[1], objects)
    h, a = _new_side(len(hubspot.records)), _new_side(len(app.records))
    ambiguous: list[pd.DataFrame] = []
    counts: dict[str, dict[str, int]] = {}
    kept: dict[tuple[str, int], tuple[RuleKeys, RuleKeys]] = {}
    for obj in objects:
        rules = config.match_rules(obj)
        if not rules:
            continue
        pool_h, pool_a = rows_h[obj], rows_a[obj]
        h["status"][pool_h] = MatchStatus.UNMATCHED
        a["status"][pool_a] = MatchStatus.UNMATCHED
        used: list[tuple[int, RuleKeys, RuleKeys]] = []
        for number, rule in enumerate(rules, start=1):
            if not len(pool_h) and not len(pool_a):
                break
            keys_h = _keys(hubspot, pool_h, rule_column("hubspot", rule), rule.normalize)
            keys_a = _keys(app, pool_a, rule_column("app", rule), rule.normalize)
            used.append((number, RuleKeys(pool_h, keys_h), RuleKeys(pool_a, keys_a)))
            got = _group(con, keys_h, keys_a)
            for side, pool, at in ((h, pool_h, got.keyed[0]), (a, pool_a, got.keyed[1])):
                rows = pool[at]
                side["keyed"][rows[side["keyed"][rows] == 0]] = number
            amb_h, amb_a = pool_h[got.ambiguous[0]], pool_a[got.ambiguous[1]]
            if len(amb_h):
                for side, rows in ((h, amb_h), (a, amb_a)):
                    side["grouped"][rows[side["grouped"][rows] == 0]] = number
                ambiguous.append(pd.DataFrame({"h": amb_h, "a": amb_a, "rule": number}))
            ph, pa_ = pool_h[got.pairs[0]], pool_a[got.pairs[1]]
            if len(ph):
                h["status"][ph], a["status"][pa_] = MatchStatus.MATCHED, MatchStatus.MATCHED
                h["partner"][ph], a["partner"][pa_] = pa_, ph
                h["rule"][ph], a["rule"][pa_] = number, number
                pool_h = pool_h[h["status"][pool_h] != MatchStatus.MATCHED]
                pool_a = pool_a[a["status"][pool_a] != MatchStatus.MATCHED]
        for number, kh, ka in used:  # the never-matched records' keys, for suggestions
            kept[(obj, number)] = (kh.restrict(pool_h), ka.restrict(pool_a))
        for side, pool in ((h, pool_h), (a, pool_a)):
            grouped = pool[side["grouped"][pool] > 0]
            side["status"][grouped] = MatchStatus.AMBIGUOUS
            side["rule"][grouped] = side["grouped"][grouped]
            lone = pool[side["grouped"][pool] == 0]
            side["rule"][lone] = side["keyed"][lone]
        counts[obj] = {
            "hubspot_records": len(rows_h[obj]),
            "app_records": len(rows_a[obj]),
            "matched": _count(h, rows_h[obj], MatchStatus.MATCHED),
            "hubspot_unmatched": _count(h, rows_h[obj], MatchStatus.UNMATCHED),
            "app_unmatched": _count(a, rows_a[obj], MatchStatus.UNMATCHED),
            "hubspot_ambiguous": _count(h, rows_h[obj], MatchStatus.AMBIGUOUS),
            "app_ambiguous": _count(a, rows_a[obj], MatchStatus.AMBIGUOUS),
        }
    amb_all = _ambiguity(ambiguous, h["status"], a["status"])
    return Matches(
        hubspot=SideMatch(h["status"], h["partner"], h["rule"]),
        app=SideMatch(a["status"], a["partner"], a["rule"]),
        ambiguity=amb_all,
        counts=counts,
        object_codes=codes,
        unmatched_keys=kept,
    )


def _count(side: dict[str, np.ndarray], rows: np.ndarray, status: MatchStatus) -> int:
    return int(np.count_nonzero(side["status"][rows] == status))


def _ambiguity(
    frames: list[pd.DataFrame], status_h: np.ndarray, status_a: np.ndarray
) -> pd.DataFrame:
    """Pairs from ambiguous groups, kept for records that ended up ambiguous."""
    empty = pd.DataFrame(
        {
            "hubspot_row": np.array([], dtype=np.int64),
            "app_row": np.array([], dtype=np.int64),
            "rule": np.array([], dtype=np.int16),
        }
    )
    if not frames:
        return empty
    df = pd.concat(frames, ignore_index=True).rename(columns={"h": "hubspot_row", "a": "app_row"})
    df = df.drop_duplicates(["hubspot_row", "app_row"], keep="first", ignore_index=True)
    keep = (status_h[df["hubspot_row"].to_numpy()] == MatchStatus.AMBIGUOUS) | (
        status_a[df["app_row"].to_numpy()] == MatchStatus.AMBIGUOUS
    )
    result: pd.DataFrame = df.loc[keep].reset_index(drop=True).astype({"rule": np.int16})
    return result


def register_records(
    con: duckdb.DuckDBPyConnection,
    config: IntegrationConfig,
    tables: SideTables,
    match: SideMatch,
    name: str,
    codes: np.ndarray,
) -> None:
    """Register a side's records with their matching results as table ``name``.

    Columns: ``row`` (position), ``obj`` (index in ``config.audited_objects``,
    -1 for others), ``record_id``, ``status``, ``partner`` (other side's row or
    -1), ``rule``, ``m`` (the HubSpot row of the matched pair, or NULL). ``codes``:
    the records' object codes (:attr:`Matches.object_codes`).
    """
    records = tables.records
    ids = arrow_text(records["record_id"])
    assert ids is not None
    n = len(records)
    rows = np.arange(n, dtype=np.int64)
    matched = match.status == MatchStatus.MATCHED
    own = rows if tables.side == "hubspot" else match.partner
    m = pa.array(np.where(matched, own, 0), pa.int64(), mask=~matched)
    table = pa.table(
        {
            "row": pa.array(rows),
            "obj": pa.array(codes, pa.int32()),
            "record_id": ids,
            "status": pa.array(match.status, pa.int8()),
            "partner": pa.array(match.partner, pa.int64()),
            "rule": pa.array(match.rule, pa.int16()),
            "m": m,
        }
    )
    duck.register(con, name, table)
