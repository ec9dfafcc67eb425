"""Record matching: ordered rules per object, ambiguity never silently paired (DESIGN §5).

Per object, the rules run in order on the records not yet matched. Under a
rule, records with equal non-null normalised keys form a group; a group with
exactly one record on each side is a match and both records leave the pool.
A record never matched is *ambiguous* if it was ever in a group with records
on both sides and more than one on either side, otherwise *unmatched*. Null
keys never match and never make a record ambiguous. Objects without rules
(``off`` or missing from ``objects``) are not matched at all.

Results are arrays aligned with each side's records table (row positions), so
later stages join on small integers; :func:`records_table` renders DESIGN §6's
``records.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assoc_audit import duck
from assoc_audit.errors import DataError
from assoc_audit.normalize import normalize
from assoc_audit.stages import MATCH_AMBIGUITY, REC_A, REC_H
from assoc_audit.tables import TEXT, arrow_text, text_series

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
    "normalize_keys",
    "records_table",
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

    def side(self, side: Side) -> SideMatch:
        return self.hubspot if side == "hubspot" else self.app


def rule_column(side: Side, rule: MatchRule) -> str:
    """The records-table column a rule reads on ``side`` (``id``/``hs_object_id`` → record_id)."""
    column = rule.hubspot if side == "hubspot" else rule.app
    if (side == "app" and column == "id") or (side == "hubspot" and column == "hs_object_id"):
        return "record_id"
    return column


def _object_rows(records: pd.DataFrame, objects: list[str]) -> dict[str, np.ndarray]:
    """Row positions of each object's records."""
    obj = arrow_text(records["object"])
    if obj is None:
        obj = pa.chunked_array([pa.array(records["object"].astype("object").tolist(), pa.string())])
    codes = pc.index_in(obj, value_set=pa.array(objects, obj.type))
    codes_np = codes.to_numpy(zero_copy_only=False)
    codes_np = np.where(pd.isna(codes_np), -1, codes_np).astype(np.int64)
    order = np.argsort(codes_np, kind="stable")
    bounds = np.searchsorted(codes_np[order], np.arange(len(objects) + 1))
    return {name: order[bounds[i] : bounds[i + 1]] for i, name in enumerate(objects)}


def _keys(tables: SideTables, rows: np.ndarray, column: str, how: str) -> pa.ChunkedArray:
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
    taken = values.take(pa.array(rows))
    if how == "none":
        return taken  # canonical text: empty is already null
    return normalize_keys(taken, how)


#: ASCII characters Python's ``str.strip()`` removes.
_ASCII_SPACE = r"[\t\n\x0b\x0c\r\x1c-\x1f ]"
#: Values with none of these are left unchanged by the normaliser (ASCII only).
_CHANGES = {
    "email": rf"[A-Z]|^{_ASCII_SPACE}|{_ASCII_SPACE}$",
    "domain": rf"[A-Z:/?#]|^{_ASCII_SPACE}|{_ASCII_SPACE}$|^www\.|\.$",
}


def normalize_keys(values: pa.ChunkedArray, how: str) -> pa.ChunkedArray:
    """:func:`assoc_audit.normalize.normalize` over Arrow text, skipping the values it
    provably leaves unchanged (non-empty ASCII with nothing to strip, lower-case or cut).

    The remaining values go through ``normalize`` itself, so the rules stay in one place.
    """
    array = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    array = array.cast(pa.large_string())
    if how not in _CHANGES:
        result = normalize(text_series(array), how)
        return pa.chunked_array([pa.array(result.to_numpy(dtype=object), pa.large_string())])
    plain = pc.and_(
        pc.and_(pc.string_is_ascii(array), pc.greater(pc.utf8_length(array), 0)),
        pc.invert(pc.match_substring_regex(array, _CHANGES[how])),
    )
    todo = pc.invert(pc.fill_null(plain, True))  # nulls stay null either way
    if not pc.any(todo).as_py():
        return pa.chunked_array([array])
    subset = pc.filter(array, todo)
    fixed = normalize(text_series(subset), how)
    replacement = pa.array(fixed.to_numpy(dtype=object), pa.large_string())
    return pa.chunked_array([pc.replace_with_mask(array, todo, replacement)])


_GROUPS = """
CREATE OR REPLACE TEMP TABLE match_groups AS
SELECT key,
       count(*) FILTER (WHERE s = 0) AS nh, count(*) FILTER (WHERE s = 1) AS na,
       min(row) FILTER (WHERE s = 0) AS h, min(row) FILTER (WHERE s = 1) AS a
FROM (SELECT 0 AS s, row, key FROM match_keys_h UNION ALL SELECT 1, row, key FROM match_keys_a)
WHERE key IS NOT NULL
GROUP BY key
HAVING nh > 0 AND na > 0
"""
_PAIRS = "SELECT h, a FROM match_groups WHERE nh = 1 AND na = 1"
_AMBIGUOUS = """
SELECT kh.row AS h, ka.row AS a
FROM (SELECT key FROM match_groups WHERE nh > 1 OR na > 1) g
JOIN match_keys_h kh USING (key) JOIN match_keys_a ka USING (key)
"""


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


def _match(
    config: IntegrationConfig,
    hubspot: SideTables,
    app: SideTables,
    con: duckdb.DuckDBPyConnection,
) -> Matches:
    objects = list(config.audited_objects)
    rows_h = _object_rows(hubspot.records, objects)
    rows_a = _object_rows(app.records, objects)
    h, a = _new_side(len(hubspot.records)), _new_side(len(app.records))
    ambiguous: list[pd.DataFrame] = []
    counts: dict[str, dict[str, int]] = {}
    for obj in objects:
        rules = config.match_rules(obj)
        if not rules:
            continue
        pool_h, pool_a = rows_h[obj], rows_a[obj]
        h["status"][pool_h] = MatchStatus.UNMATCHED
        a["status"][pool_a] = MatchStatus.UNMATCHED
        for number, rule in enumerate(rules, start=1):
            if not len(pool_h) and not len(pool_a):
                break
            pairs, amb, keyed = _apply_rule(
                con, hubspot=hubspot, app=app, rule=rule, pool_h=pool_h, pool_a=pool_a
            )
            for side, rows in ((h, keyed[0]), (a, keyed[1])):
                fresh = rows[side["keyed"][rows] == 0]
                side["keyed"][fresh] = number
            if len(amb):
                for side, col in ((h, "h"), (a, "a")):
                    rows = amb[col].to_numpy()
                    fresh = rows[side["grouped"][rows] == 0]
                    side["grouped"][fresh] = number
                ambiguous.append(amb.assign(rule=number))
            ph, pa_ = pairs["h"], pairs["a"]
            if len(ph):
                h["status"][ph], a["status"][pa_] = MatchStatus.MATCHED, MatchStatus.MATCHED
                h["partner"][ph], a["partner"][pa_] = pa_, ph
                h["rule"][ph], a["rule"][pa_] = number, number
                pool_h = pool_h[h["status"][pool_h] != MatchStatus.MATCHED]
                pool_a = pool_a[a["status"][pool_a] != MatchStatus.MATCHED]
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
    )


def _count(side: dict[str, np.ndarray], rows: np.ndarray, status: MatchStatus) -> int:
    return int(np.count_nonzero(side["status"][rows] == status))


def _apply_rule(
    con: duckdb.DuckDBPyConnection,
    *,
    hubspot: SideTables,
    app: SideTables,
    rule: MatchRule,
    pool_h: np.ndarray,
    pool_a: np.ndarray,
) -> tuple[dict[str, np.ndarray], pd.DataFrame, tuple[np.ndarray, np.ndarray]]:
    """Apply one rule to the pools: matched pairs, ambiguous pairs, and the rows with a key."""
    keyed: list[np.ndarray] = []
    for name, tables, pool in (("match_keys_h", hubspot, pool_h), ("match_keys_a", app, pool_a)):
        keys = _keys(tables, pool, rule_column(tables.side, rule), rule.normalize)
        keyed.append(pool[pc.is_valid(keys).to_numpy(zero_copy_only=False)])
        duck.register(con, name, pa.table({"row": pa.array(pool, pa.int64()), "key": keys}))
    con.execute(_GROUPS)
    pairs = duck.numpy(con, _PAIRS)
    amb = duck.numpy(con, _AMBIGUOUS)
    con.execute("DROP TABLE match_groups")
    for name in ("match_keys_h", "match_keys_a"):
        con.unregister(name)
    amb_df = pd.DataFrame({"h": amb["h"].astype(np.int64), "a": amb["a"].astype(np.int64)})
    pairs_out = {k: v.astype(np.int64) for k, v in pairs.items()}
    return pairs_out, amb_df, (keyed[0], keyed[1])


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
) -> None:
    """Register a side's records with their matching results as table ``name``.

    Columns: ``row`` (position), ``obj`` (index in ``config.audited_objects``,
    -1 for others), ``record_id``, ``status``, ``partner`` (other side's row or
    -1), ``rule``, ``m`` (the HubSpot row of the matched pair, or NULL).
    """
    records = tables.records
    objects = list(config.audited_objects)
    obj = arrow_text(records["object"])
    ids = arrow_text(records["record_id"])
    assert obj is not None and ids is not None
    codes = pc.fill_null(pc.index_in(obj, value_set=pa.array(objects, obj.type)), -1)
    n = len(records)
    rows = np.arange(n, dtype=np.int64)
    matched = match.status == MatchStatus.MATCHED
    own = rows if tables.side == "hubspot" else match.partner
    m = pa.array(np.where(matched, own, 0), pa.int64(), mask=~matched)
    table = pa.table(
        {
            "row": pa.array(rows),
            "obj": pc.cast(codes, pa.int32()),
            "record_id": ids,
            "status": pa.array(match.status, pa.int8()),
            "partner": pa.array(match.partner, pa.int64()),
            "rule": pa.array(match.rule, pa.int16()),
            "m": m,
        }
    )
    duck.register(con, name, table)


_RECORDS_SQL = f"""
WITH
objs AS (SELECT * FROM (VALUES {{objects}}) v(obj, name)),
amb AS (SELECT * FROM {MATCH_AMBIGUITY}),
rows_ AS (
    SELECT o.name AS object, h.record_id AS hubspot_id, a.record_id AS app_id,
           h.rule::INTEGER AS rule, 'matched' AS status
    FROM {REC_H} h JOIN {REC_A} a ON a.row = h.partner JOIN objs o ON o.obj = h.obj
    WHERE h.status = 1
    UNION ALL
    SELECT o.name, h.record_id, NULL, nullif(h.rule, 0)::INTEGER, 'unmatched'
    FROM {REC_H} h JOIN objs o ON o.obj = h.obj WHERE h.status = 2
    UNION ALL
    SELECT o.name, NULL, a.record_id, nullif(a.rule, 0)::INTEGER, 'unmatched'
    FROM {REC_A} a JOIN objs o ON o.obj = a.obj WHERE a.status = 2
    UNION ALL
    SELECT o.name, h.record_id,
           string_agg(a.record_id, ';' ORDER BY length(a.record_id), a.record_id),
           any_value(h.rule)::INTEGER, 'ambiguous'
    FROM {REC_H} h JOIN objs o ON o.obj = h.obj
    JOIN (SELECT DISTINCT hubspot_row, app_row FROM amb) x ON x.hubspot_row = h.row
    JOIN {REC_A} a ON a.row = x.app_row
    WHERE h.status = 3
    GROUP BY o.name, h.row, h.record_id
    UNION ALL
    SELECT o.name,
           string_agg(h.record_id, ';' ORDER BY length(h.record_id), h.record_id),
           a.record_id, any_value(a.rule)::INTEGER, 'ambiguous'
    FROM {REC_A} a JOIN objs o ON o.obj = a.obj
    JOIN (SELECT DISTINCT hubspot_row, app_row FROM amb) x ON x.app_row = a.row
    JOIN {REC_H} h ON h.row = x.hubspot_row
    WHERE a.status = 3
    GROUP BY o.name, a.row, a.record_id
)
SELECT object, hubspot_id, app_id, rule, status FROM rows_
ORDER BY object, length(coalesce(hubspot_id, '')), hubspot_id NULLS FIRST,
         length(coalesce(app_id, '')), app_id NULLS FIRST
"""


def records_table(con: duckdb.DuckDBPyConnection, config: IntegrationConfig) -> pa.Table:
    """records.csv as an Arrow table (needs ``rec_h``, ``rec_a`` and ``match_ambiguity``).

    One row per matched pair and per unmatched or ambiguous record, for
    objects with rules; sorted by object, HubSpot id, app id (each by length,
    then text; empty first).
    """
    ruled = [(i, o) for i, o in enumerate(config.audited_objects) if config.match_rules(o)]
    if not ruled:
        return _empty_records_table()
    values = ", ".join(f"({i}, {_sql_text(o)})" for i, o in ruled)
    return duck.arrow(con, _RECORDS_SQL.format(objects=values))


def _empty_records_table() -> pa.Table:
    return pa.table(
        {
            "object": pa.array([], pa.string()),
            "hubspot_id": pa.array([], pa.string()),
            "app_id": pa.array([], pa.string()),
            "rule": pa.array([], pa.int32()),
            "status": pa.array([], pa.string()),
        }
    )


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_INT64 = {pa.int64(): pd.Int64Dtype()}


def records_frame(table: pa.Table) -> pd.DataFrame:
    """records.csv as a DataFrame: text columns :data:`~assoc_audit.tables.TEXT`, rule Int64."""
    cols: dict[str, Any] = {}
    for name in RECORDS_COLUMNS:
        column = table.column(name)
        if name == "rule":
            values = pc.cast(column, pa.int64()).to_pandas(types_mapper=_INT64.get)
            cols[name] = pd.Series(values, dtype="Int64")
        else:
            cols[name] = text_series(column)
    return pd.DataFrame(cols)
