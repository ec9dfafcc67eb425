"""Reconciliation: the edge diff and one reason per one-sided link (DESIGN §6).

Both sides' links (see :mod:`assoc_audit.linkmap`) are compared on
(pair, from match, to match, label). Each link present on exactly one side
gets the first reason that applies, in this order:

1. ``object_sync_off`` — an endpoint's object is ``off`` or not in ``objects``;
2. ``unsupported_in_app`` — the pair (whole-pair ``app_supported: false``) or
   the label has no supported entry;
3. ``ambiguous_match`` — an endpoint is ambiguous;
4. ``record_unmatched`` — an endpoint is unmatched or missing from its own
   side's records;
5. ``label_mismatch`` — both sides link the pair and each has exactly one
   supported label on it that the other lacks;
6. (with a baseline) a deletion made on the other side: ``sync_gap`` with
   ``remove_from_<side>`` when the direction carries that side's changes,
   else ``direction_blocked``; it never takes a limit slot;
6. ``direction_blocked`` — the direction does not carry the present side's
   changes;
7. ``limit_exceeded`` — no free slot on the target side (below);
8. ``sync_gap`` — nothing blocks it.

**Limits.** Per from-record and entry, free slots = limit − links of that
entry the target holds now (the unlabeled entry counts linked pairs). Links
still without a reason compete: the pair that is ``Primary`` on the present
side first, then by the present side's ``to_id`` by (length, text). App
limits come from ``app_max_per_record``; each side allows one ``Primary`` per
from-record; HubSpot limits may come from the portal (``meta``). When the
sides name different primaries, the winning side's row (two-way: the
``conflict_winner``; one-way: the source) moves the primary: it is a
``sync_gap`` whatever the slots.

All work is SQL over whole tables in one DuckDB connection; the result is the
table ``classified_`` (one row per finding, integer-coded), which
:mod:`assoc_audit.findings` renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from assoc_audit import duck
from assoc_audit.linkmap import drop_links
from assoc_audit.reasons import Reason
from assoc_audit.stages import BASELINE_BOTH, CLASSIFIED, ENTRIES, LIMITS, LINKS_A, LINKS_H, PAIRS

if TYPE_CHECKING:
    import duckdb

    from assoc_audit.config import IntegrationConfig

__all__ = [
    "DiffCounts",
    "SideRows",
    "classify",
    "diff",
    "enrich",
    "gather",
    "own_values",
    "side_rows",
]


@dataclass(frozen=True)
class DiffCounts:
    """Link counts per pair index: both sides' links and those in sync."""

    hubspot: dict[int, int] = field(default_factory=dict)
    app: dict[int, int] = field(default_factory=dict)
    in_sync: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SideRows:
    """Lookups by a side's record row: match status, partner row, ids and names.

    ``ids`` holds the records' ids followed by the ids the side's links name but
    its records lack (endpoint codes -1, -2, … in that order); ``name_columns``
    are the records' columns a name is taken from, first non-null wins.
    """

    status: np.ndarray
    partner: np.ndarray
    ids: pa.ChunkedArray
    name_columns: tuple[pa.ChunkedArray, ...]

    @property
    def n(self) -> int:
        return len(self.status)

    def position(self, rows: np.ndarray) -> np.ndarray:
        """Where a record row (>= 0) or missing code (< 0) sits in ``ids``/``names``."""
        return np.where(rows >= 0, rows, self.n - rows - 1)

    def status_of(self, rows: np.ndarray) -> np.ndarray:
        """Match status per row (-1 for a missing record or a row not of this side)."""
        return gather(self.status, rows, -1)

    def names_at(self, positions: np.ndarray) -> pa.Array:
        """Names at ``positions`` in ``ids`` (a missing record's name is its id)."""
        if not len(self.ids):
            return pa.nulls(len(positions), pa.large_string())
        inside = positions < self.n
        ids = self.ids.take(pa.array(positions))
        if not self.name_columns or not self.n:
            return ids
        at = pa.array(np.where(inside, positions, 0))
        taken = [c.take(at) for c in self.name_columns]
        name = pc.coalesce(*taken) if len(taken) > 1 else taken[0]
        result: pa.Array = pc.if_else(pa.array(inside), pc.coalesce(name, ids), ids)
        return result

    def partner_of(self, rows: np.ndarray) -> np.ndarray:
        """The other side's row matched to each row (-1 if none)."""
        return gather(self.partner, rows, -1)


def gather(values: np.ndarray, rows: np.ndarray, default: int) -> np.ndarray:
    """``values[rows]`` where ``0 <= rows < len(values)``, else ``default``."""
    ok = (rows >= 0) & (rows < len(values))
    if not len(values):
        return np.full(len(rows), default, dtype=np.int64)
    return np.where(ok, values[np.where(ok, rows, 0)], default)


def side_rows(
    status: np.ndarray,
    partner: np.ndarray,
    ids: pa.ChunkedArray,
    name_columns: tuple[pa.Array, ...],
    missing: pa.Table,
) -> SideRows:
    """A :class:`SideRows` from matching results, records and the missing ids of the links."""
    extra = missing.column("id").cast(pa.large_string())
    if ids.type != pa.large_string():
        ids = ids.cast(pa.large_string())
    all_ids = pa.chunked_array([*ids.chunks, *extra.chunks], type=pa.large_string())
    return SideRows(status=status, partner=partner, ids=all_ids, name_columns=name_columns)


def own_values(
    s: np.ndarray, rows: np.ndarray, h: SideRows, a: SideRows, *, names: bool = False
) -> pa.Array:
    """Per row, the ``ids`` (or ``names``) entry of ``rows`` on the row's own side ``s``."""
    parts = []
    for side, rows_of in ((0, h), (1, a)):
        mine = s == side
        if len(rows_of.ids):
            at = np.where(mine, rows_of.position(rows), 0)
            parts.append(rows_of.names_at(at) if names else rows_of.ids.take(pa.array(at)))
        else:
            parts.append(pa.nulls(len(s), pa.large_string()))
    result: pa.Array = pc.if_else(pa.array(s == 0), parts[0], parts[1])
    return result


def enrich(con: duckdb.DuckDBPyConnection, h: SideRows, a: SideRows) -> None:
    """Register ``one_x``: ``one_`` plus each endpoint's status, the target side's
    from-record (``ft``) and the present side's ``to_id``, by array lookups."""
    one = duck.arrow(con, "SELECT * FROM one_")
    s = np.asarray(one.column("s").to_numpy(zero_copy_only=False))
    f = np.asarray(one.column("f").to_numpy(zero_copy_only=False))
    t = np.asarray(one.column("t").to_numpy(zero_copy_only=False))
    fm = np.asarray(pc.fill_null(one.column("fm"), -1).to_numpy(zero_copy_only=False))
    fst = np.where(s == 0, h.status_of(f), a.status_of(f))
    tst = np.where(s == 0, h.status_of(t), a.status_of(t))
    ft = np.where(s == 0, h.partner_of(f), fm)
    to_id = own_values(s, t, h, a)
    table = (
        one.append_column("fst", pa.array(fst, pa.int8()))
        .append_column("tst", pa.array(tst, pa.int8()))
        .append_column("ft", pa.array(ft, pa.int64()))
        .append_column("to_id", to_id)
    )
    duck.register(con, "one_x", table)


def diff(con: duckdb.DuckDBPyConnection) -> DiffCounts:
    """Register ``one_``: the links present on one side only.

    Needs ``links_h``/``links_a`` and their per-pair counts ``links_h_n``/``links_a_n``
    (see :func:`~assoc_audit.linkmap.build_links`).
    """
    one = duck.arrow(
        con,
        f"""
        SELECT (CASE WHEN h.p IS NULL THEN 1 ELSE 0 END)::TINYINT AS s,
               coalesce(h.p, a.p) AS p, coalesce(h.f, a.f)::BIGINT AS f,
               coalesce(h.t, a.t)::BIGINT AS t, coalesce(h.fm, a.fm)::BIGINT AS fm,
               coalesce(h.tm, a.tm)::BIGINT AS tm,
               coalesce(h.lab, a.lab) AS lab,
               CASE WHEN h.p IS NULL THEN a.rc ELSE h.rc END AS rc
        FROM {LINKS_H} h FULL JOIN {LINKS_A} a
          ON a.p = h.p AND a.fm = h.fm AND a.tm = h.tm AND a.lab = h.lab
        WHERE h.p IS NULL OR a.p IS NULL
        """,
    )
    duck.register(con, "one_", one)  # an Arrow table: read by enrich and classify only
    per_side = duck.numpy(
        con,
        f"""
        SELECT p, sum(nh)::BIGINT AS nh, sum(na)::BIGINT AS na, sum(oh)::BIGINT AS oh
        FROM (SELECT p, n AS nh, 0 AS na, 0 AS oh FROM {LINKS_H}_n WHERE n > 0
              UNION ALL SELECT p, 0, n, 0 FROM {LINKS_A}_n WHERE n > 0
              UNION ALL SELECT p, 0, 0, count(*) FROM one_ WHERE s = 0 GROUP BY p)
        GROUP BY p ORDER BY p
        """,
    )
    hubspot, app, in_sync = {}, {}, {}
    for p, nh, na, oh in zip(
        per_side["p"], per_side["nh"], per_side["na"], per_side["oh"], strict=True
    ):
        hubspot[int(p)], app[int(p)], in_sync[int(p)] = int(nh), int(na), int(nh - oh)
    return DiffCounts(hubspot=hubspot, app=app, in_sync=in_sync)


_R = {r: r.rank for r in Reason}

_PRE = f"""
CREATE OR REPLACE TEMP TABLE pre_ AS
WITH lm AS (
    SELECT p, fm, tm FROM one_
    WHERE lab > 0 AND fm IS NOT NULL AND tm IS NOT NULL
    GROUP BY p, fm, tm
    HAVING count(*) FILTER (WHERE s = 0) = 1 AND count(*) FILTER (WHERE s = 1) = 1
),
x AS (
    SELECT o.*,
           pp.off, pp.whole_unsupported, pp.one_way, pp.relabel_target,
           CASE WHEN o.s = 0 THEN pp.carries_h ELSE pp.carries_a END AS carries_s,
           CASE WHEN o.s = 0 THEN pp.carries_a ELSE pp.carries_h END AS carries_t,
           lm.p IS NOT NULL AS lm,
           bb.p IS NOT NULL AS was_both
    FROM one_x o
    JOIN {PAIRS} pp ON pp.p = o.p
    LEFT JOIN lm ON o.lab > 0 AND lm.p = o.p AND lm.fm = o.fm AND lm.tm = o.tm
    LEFT JOIN {BASELINE_BOTH} bb ON bb.p = o.p AND bb.fm = o.fm AND bb.tm = o.tm AND bb.lab = o.lab
)
SELECT *,
    CASE
        WHEN off THEN {_R[Reason.OBJECT_SYNC_OFF]}
        WHEN whole_unsupported OR lab < 0 THEN {_R[Reason.UNSUPPORTED_IN_APP]}
        WHEN fst = 3 OR tst = 3 THEN {_R[Reason.AMBIGUOUS_MATCH]}
        WHEN f < 0 OR t < 0 OR fst <> 1 OR tst <> 1 THEN {_R[Reason.RECORD_UNMATCHED]}
        WHEN lm THEN {_R[Reason.LABEL_MISMATCH]}
        WHEN was_both AND carries_t THEN {_R[Reason.SYNC_GAP]}
        WHEN was_both THEN {_R[Reason.DIRECTION_BLOCKED]}
        WHEN NOT carries_s THEN {_R[Reason.DIRECTION_BLOCKED]}
        ELSE 0
    END AS r0
FROM x
"""

_LIMITS = f"""
CREATE OR REPLACE TEMP TABLE cand_ AS
SELECT c.s, c.p, c.f, c.t, c.lab, c.one_way, lim.max, c.ft, c.to_id
FROM pre_ c
JOIN {LIMITS} lim ON lim.p = c.p AND lim.lab = c.lab AND lim.target = 1 - c.s
WHERE c.r0 = 0;

CREATE OR REPLACE TEMP TABLE held_ AS
SELECT 1 AS tgt, l.p, l.lab, l.f AS ft, count(*) AS n
FROM {LINKS_A} l SEMI JOIN (SELECT DISTINCT p, lab, ft FROM cand_ WHERE s = 0) c
     ON c.p = l.p AND c.lab = l.lab AND c.ft = l.f
GROUP BY l.p, l.lab, l.f
UNION ALL
SELECT 0, l.p, l.lab, l.f, count(*)
FROM {LINKS_H} l SEMI JOIN (SELECT DISTINCT p, lab, ft FROM cand_ WHERE s = 1) c
     ON c.p = l.p AND c.lab = l.lab AND c.ft = l.f
GROUP BY l.p, l.lab, l.f;

CREATE OR REPLACE TEMP TABLE ranked_ AS
WITH primary_labs AS (SELECT lab FROM {ENTRIES} WHERE is_primary),
t_primary AS (  -- the target side holds a primary for the from-record that the other lacks
    SELECT DISTINCT o.s AS side, o.p, o.f FROM one_x o SEMI JOIN primary_labs pl ON pl.lab = o.lab
),
s_primary AS (  -- pairs that are Primary on the present side, for the candidates
    SELECT DISTINCT c.s, c.p, c.f, c.t FROM cand_ c
    JOIN {LINKS_H} l ON c.s = 0 AND l.p = c.p AND l.f = c.f AND l.t = c.t
    SEMI JOIN primary_labs pl ON pl.lab = l.lab
    UNION
    SELECT DISTINCT c.s, c.p, c.f, c.t FROM cand_ c
    JOIN {LINKS_A} l ON c.s = 1 AND l.p = c.p AND l.f = c.f AND l.t = c.t
    SEMI JOIN primary_labs pl ON pl.lab = l.lab
),
y AS (
    SELECT c.*, coalesce(h.n, 0) AS held,
           (c.lab IN (SELECT lab FROM primary_labs) AND tp.p IS NOT NULL
            AND (c.one_way OR c.s = {{winner}})) AS override,
           tp.p IS NOT NULL AS t_other_primary,
           sp.p IS NOT NULL AS src_primary
    FROM cand_ c
    LEFT JOIN held_ h ON h.tgt = 1 - c.s AND h.p = c.p AND h.lab = c.lab AND h.ft = c.ft
    LEFT JOIN t_primary tp ON tp.side = 1 - c.s AND tp.p = c.p AND tp.f = c.ft
    LEFT JOIN s_primary sp ON sp.s = c.s AND sp.p = c.p AND sp.f = c.f AND sp.t = c.t
)
SELECT s, p, f, t, lab, max, held, override, t_other_primary,
       row_number() OVER (PARTITION BY s, p, lab, f
                          ORDER BY src_primary DESC, length(to_id), to_id) AS rk
FROM y;
"""

_CLASSIFIED = f"""
CREATE OR REPLACE TEMP TABLE {CLASSIFIED} AS
SELECT x.*, reason,
    CASE
        WHEN reason = {_R[Reason.AMBIGUOUS_MATCH]} THEN 'review'
        WHEN reason = {_R[Reason.LABEL_MISMATCH]} THEN
            CASE x.relabel_target WHEN 0 THEN 'relabel_in_hubspot'
                                  WHEN 1 THEN 'relabel_in_app' ELSE 'none' END
        WHEN reason = {_R[Reason.DIRECTION_BLOCKED]} AND NOT deletion
             AND {{mirror}} AND x.one_way AND NOT x.carries_s
            THEN 'remove_from_' || side_name
        WHEN reason = {_R[Reason.SYNC_GAP]} AND deletion THEN 'remove_from_' || side_name
        WHEN reason = {_R[Reason.SYNC_GAP]} THEN 'create_in_' || other_name
        ELSE 'none'
    END AS action
FROM (
    SELECT c.*,
           CASE WHEN c.r0 = 0 THEN
                CASE WHEN r.rk > (CASE WHEN r.override THEN 1
                                       ELSE greatest(r.max - r.held, 0) END)
                     THEN {_R[Reason.LIMIT_EXCEEDED]} ELSE {_R[Reason.SYNC_GAP]} END
                ELSE c.r0 END AS reason,
           c.was_both AND c.r0 IN ({_R[Reason.SYNC_GAP]}, {_R[Reason.DIRECTION_BLOCKED]})
               AS deletion,
           coalesce(r.override AND r.rk = 1, false) AS moves_primary,
           coalesce(r.t_other_primary AND c.lab IN (SELECT lab FROM {ENTRIES} WHERE is_primary),
                    false) AS t_other_primary,
           r.max AS slot_max, r.held AS slot_held,
           CASE WHEN c.s = 0 THEN 'hubspot' ELSE 'app' END AS side_name,
           CASE WHEN c.s = 0 THEN 'app' ELSE 'hubspot' END AS other_name
    FROM pre_ c
    LEFT JOIN ranked_ r ON r.s = c.s AND r.p = c.p AND r.f = c.f AND r.t = c.t AND r.lab = c.lab
) x
"""


def classify(con: duckdb.DuckDBPyConnection, config: IntegrationConfig) -> None:
    """Create ``classified_``: every one-sided link with its reason rank and action.

    Needs ``one_x`` (from :func:`enrich`), ``links_h``/``links_a``,
    the config tables and ``baseline_both`` (p, fm, tm, lab; empty without a baseline).
    It is their last reader: ``one_``, ``one_x`` and the links tables are dropped.
    """
    winner = 0 if config.conflict_winner == "hubspot" else 1
    con.execute(_PRE)
    con.execute(_LIMITS.replace("{winner}", str(winner)))
    mirror = "true" if config.mirror_deletions else "false"
    con.execute(_CLASSIFIED.replace("{mirror}", mirror))
    for name in ("pre_", "cand_", "held_", "ranked_"):
        con.execute(f"DROP TABLE {name}")
    # nothing reads the links, one_ or one_x after this: free them before findings are rendered
    drop_links(con, LINKS_H)
    drop_links(con, LINKS_A)
    con.unregister("one_")
    con.unregister("one_x")
