"""Rendering findings (DESIGN §6): ids, labels, finding_id, a detail sentence, row order.

Works on ``classified_`` (see :mod:`assoc_audit.reconcile`) and returns the
findings table with DESIGN §6's columns, in order:

``finding_id, from_object, to_object, label, hubspot_from_id, hubspot_to_id,
app_from_id, app_to_id, present_in, reason, step, action, detail``

``finding_id`` is computed in SQL exactly as ``sha256(json.dumps([present_in,
from_object, to_object, label, from_id, to_id], ensure_ascii=False,
separators=(",", ":")))[:16]`` with the label as stored on the present side
(null when unlabeled or implied) and that side's ids: :func:`json_text_sql`
reproduces Python's escaping (``\\"``, ``\\\\``, the short escapes and
``\\u00XX`` for other control characters).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assoc_audit import duck
from assoc_audit.reasons import Reason
from assoc_audit.reconcile import own_values
from assoc_audit.stages import CLASSIFIED, PAIRS, SUGGESTIONS
from assoc_audit.tables import text_series

if TYPE_CHECKING:
    import duckdb

    from assoc_audit.config import IntegrationConfig
    from assoc_audit.reconcile import SideRows

__all__ = [
    "FINDING_COLUMNS",
    "finding_id",
    "findings_frame",
    "json_text_sql",
    "noun",
    "render_findings",
]

FINDING_COLUMNS: tuple[str, ...] = (
    "finding_id",
    "from_object",
    "to_object",
    "label",
    "hubspot_from_id",
    "hubspot_to_id",
    "app_from_id",
    "app_to_id",
    "present_in",
    "reason",
    "step",
    "action",
    "detail",
)

_SHORT_ESCAPES = {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}

#: Singular nouns for HubSpot's standard objects (others read "<object> record").
_NOUNS = {
    "contacts": "contact",
    "companies": "company",
    "deals": "deal",
    "tickets": "ticket",
    "leads": "lead",
    "products": "product",
    "line_items": "line item",
    "quotes": "quote",
    "calls": "call",
    "emails": "email",
    "meetings": "meeting",
    "notes": "note",
    "tasks": "task",
}


def finding_id(
    present_in: str,
    from_object: str,
    to_object: str,
    label: str | None,
    from_id: str,
    to_id: str,
) -> str:
    """The reference implementation of DESIGN §6's ``finding_id`` (for tests and tools)."""
    blob = json.dumps(
        [present_in, from_object, to_object, label, from_id, to_id],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def json_text_sql(expr: str) -> str:
    """SQL for a JSON string literal of ``expr`` as ``json.dumps(..., ensure_ascii=False)``."""
    escaped = f"replace(replace({expr}, '\\', '\\\\'), '\"', '\\\"')"
    for code in range(32):
        replacement = _SHORT_ESCAPES.get(code, f"\\u{code:04x}")
        escaped = f"replace({escaped}, chr({code}), '{replacement}')"
    return (
        f"CASE WHEN {expr} IS NULL THEN 'null' "
        f"WHEN regexp_matches({expr}, '[\\x00-\\x1f\"\\\\]') THEN '\"' || {escaped} || '\"' "
        f"ELSE '\"' || {expr} || '\"' END"
    )


def noun(obj: str) -> str:
    """A record of ``obj`` in a sentence: ``contact``, ``company``, ``p_cars record``."""
    return _NOUNS.get(obj, f"{obj} record")


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _lookup_tables(con: duckdb.DuckDBPyConnection, config: IntegrationConfig) -> None:
    reasons = ", ".join(f"({r.rank}, {_q(r.value)}, {r.step})" for r in Reason)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE reason_names_ AS "
        f"SELECT * FROM (VALUES {reasons}) v(rank, reason_text, step)"
    )
    rows = []
    for i, obj in enumerate(config.audited_objects):
        sync = config.sync_of(obj)
        off = f"{obj} sync is off" if obj in config.objects else f"{obj} are not in the config"
        rows.append(f"({i}, {_q(obj)}, {_q(noun(obj))}, {_q(off)}, {str(sync == 'off').lower()})")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE objects_ AS "
        f"SELECT * FROM (VALUES {', '.join(rows)}) v(obj, name, noun, off_text, off)"
    )


def _take(values: pa.Array, positions: np.ndarray) -> pa.Array:
    return values.take(pa.array(positions, pa.int64()))


def _rendered(
    con: duckdb.DuckDBPyConnection,
    config: IntegrationConfig,
    h: SideRows,
    a: SideRows,
    labels: tuple[pa.Array, pa.Array],
) -> pa.Table:
    """``classified_`` with text columns looked up by row: ids, names, labels, objects."""
    c = duck.arrow(con, f"SELECT * FROM {CLASSIFIED}")
    n = c.num_rows

    def ints(name: str) -> np.ndarray:
        return np.asarray(pc.fill_null(c.column(name), -1).to_numpy(zero_copy_only=False))

    s, p, f, t, fm, tm, lab, rc = (ints(x) for x in ("s", "p", "f", "t", "fm", "tm", "lab", "rc"))
    hub = s == 0
    mask = pa.array(hub)

    from_id, to_id = own_values(s, f, h, a), own_values(s, t, h, a)
    from_name = own_values(s, f, h, a, names=True)
    to_name = own_values(s, t, h, a, names=True)
    # the other side's ids through the match: HubSpot rows are fm/tm; app rows are partners
    null = pa.nulls(n, pa.large_string())

    def counterpart(rows_m: np.ndarray) -> tuple[pa.Array, pa.Array]:
        ok = (rows_m >= 0) & (rows_m < h.n)
        hs = pc.if_else(pa.array(ok), _take(h.ids, np.where(ok, rows_m, 0)), null) if h.n else null
        partner = h.partner_of(rows_m)
        ok_a = partner >= 0
        ap = (
            pc.if_else(pa.array(ok_a), _take(a.ids, np.where(ok_a, partner, 0)), null)
            if a.n
            else null
        )
        return hs, ap

    hs_from, ap_from = counterpart(fm)
    hs_to, ap_to = counterpart(tm)
    # labels: stored text (for finding_id) and HubSpot text after mapping
    stored = pc.if_else(
        pa.array(rc >= 0),
        pc.if_else(
            mask,
            _take(labels[0].cast(pa.large_string()), np.where(hub, np.maximum(rc, 0), 0))
            if len(labels[0])
            else null,
            _take(labels[1].cast(pa.large_string()), np.where(hub, 0, np.maximum(rc, 0)))
            if len(labels[1])
            else null,
        ),
        null,
    )
    entry_text: list[str | None] = [None] * (len(config.associations) + 1)
    for i, e in enumerate(config.associations):
        entry_text[i + 1] = e.label
    mapped = _take(pa.array(entry_text, pa.large_string()), np.maximum(lab, 0))
    label = pc.if_else(pa.array(lab > 0), mapped, pc.if_else(pa.array(lab < 0), stored, null))
    froms = pa.array([pair[0] for pair in config.pairs], pa.large_string())
    tos = pa.array([pair[1] for pair in config.pairs], pa.large_string())
    extra = {
        "present_in": pc.if_else(mask, "hubspot", "app"),
        "from_object": _take(froms, p),
        "to_object": _take(tos, p),
        "label": label,
        "raw": stored,
        "from_id": from_id,
        "to_id": to_id,
        "from_name": from_name,
        "to_name": to_name,
        "hubspot_from_id": pc.if_else(mask, from_id, hs_from),
        "hubspot_to_id": pc.if_else(mask, to_id, hs_to),
        "app_from_id": pc.if_else(mask, ap_from, from_id),
        "app_to_id": pc.if_else(mask, ap_to, to_id),
    }
    table = c.drop_columns([x for x in ("to_id",) if x in c.column_names])
    for name, values in extra.items():
        table = table.append_column(name, values)
    return table


def _ambiguity_ids(
    ambiguity: pd.DataFrame, rendered: pa.Table, h: SideRows, a: SideRows
) -> pa.Table:
    """Per ambiguous endpoint (side, row): the other side's ids of its two-sided groups."""
    amb = Reason.AMBIGUOUS_MATCH.rank
    reason = np.asarray(rendered.column("reason").to_numpy(zero_copy_only=False))
    s = np.asarray(rendered.column("s").to_numpy(zero_copy_only=False))[reason == amb]
    f = np.asarray(rendered.column("f").to_numpy(zero_copy_only=False))[reason == amb]
    t = np.asarray(rendered.column("t").to_numpy(zero_copy_only=False))[reason == amb]
    parts = []
    for side, own_col, other_col, other in (
        (0, "hubspot_row", "app_row", a),
        (1, "app_row", "hubspot_row", h),
    ):
        wanted = np.unique(np.concatenate([f[s == side], t[s == side]]))
        sel = ambiguity[ambiguity[own_col].isin(wanted)]
        rows = sel[own_col].to_numpy(dtype=np.int64)
        parts.append(
            pa.table(
                {
                    "side": pa.array(np.full(len(rows), side), pa.int8()),
                    "row": pa.array(rows, pa.int64()),
                    "other_id": _take(other.ids, sel[other_col].to_numpy(dtype=np.int64))
                    if other.n
                    else pa.nulls(len(rows), pa.large_string()),
                }
            )
        )
    return pa.concat_tables(parts)


_DETAIL_INPUTS = f"""
CREATE OR REPLACE TEMP TABLE detailed_ AS
WITH amb_list AS (  -- the other side's records sharing an ambiguous group with an endpoint
    SELECT side, row,
           array_to_string(list_slice(ids, 1, 5), ', ')
           || CASE WHEN len(ids) > 5 THEN ' and ' || (len(ids) - 5)::VARCHAR || ' more'
                   ELSE '' END AS ids
    FROM (SELECT side, row, list(DISTINCT other_id ORDER BY length(other_id), other_id) AS ids
          FROM amb_ids_ GROUP BY side, row)
),
mismatch AS (  -- the other side's label of a label_mismatch
    SELECT s, p, fm, tm, label FROM rendered_ WHERE reason = {{lm}}
)
SELECT r.*, fo.noun AS from_noun, tob.noun AS to_noun,
       fo.off_text AS from_off_text, tob.off_text AS to_off_text,
       fo.off AS from_off, tob.off AS to_off, pp.from_obj, pp.to_obj, pp.direction,
       CASE WHEN r.fst = 3 THEN 'from' WHEN r.tst = 3 THEN 'to'
            WHEN r.f < 0 OR r.fst <> 1 THEN 'from' ELSE 'to' END AS bad_end,
       CASE WHEN r.fst = 3 THEN af.ids ELSE amt.ids END AS amb_ids,
       mm.label AS other_label,
       sg.name AS suggestion, sg.score AS suggestion_score
FROM rendered_ r
JOIN {PAIRS} pp ON pp.p = r.p
JOIN objects_ fo ON fo.obj = pp.from_obj
JOIN objects_ tob ON tob.obj = pp.to_obj
LEFT JOIN amb_list af ON r.reason = {{amb}} AND af.side = r.s AND af.row = r.f
LEFT JOIN amb_list amt ON r.reason = {{amb}} AND amt.side = r.s AND amt.row = r.t
LEFT JOIN mismatch mm ON r.reason = {{lm}} AND mm.s <> r.s AND mm.p = r.p AND mm.fm = r.fm
                      AND mm.tm = r.tm
LEFT JOIN {SUGGESTIONS} sg ON r.reason = {{unm}} AND sg.side = r.s
                          AND sg.row = CASE WHEN r.f < 0 OR r.fst <> 1 THEN r.f ELSE r.t END
"""


def _detail_sql(config: IntegrationConfig) -> str:
    """The detail sentence, one CASE branch per reason."""
    app = _q(config.app.name)
    winner = "HubSpot" if config.conflict_winner == "hubspot" else config.app.name
    side = f"(CASE WHEN s = 0 THEN 'HubSpot' ELSE {app} END)"
    other = f"(CASE WHEN s = 0 THEN {app} ELSE 'HubSpot' END)"
    from_desc = "(from_noun || ' ''' || from_name || '''')"
    to_desc = "(to_noun || ' ''' || to_name || '''')"
    label_desc = "(CASE WHEN label IS NULL THEN 'unlabeled' ELSE '''' || label || '''' END)"
    link = f"('The ' || {label_desc} || ' link from ' || {from_desc} || ' to ' || {to_desc})"
    only = f"({link} || ' is only in ' || {side} || ': ')"
    bad_desc = f"(CASE WHEN bad_end = 'from' THEN {from_desc} ELSE {to_desc} END)"
    bad_noun = "(CASE WHEN bad_end = 'from' THEN from_noun ELSE to_noun END)"
    bad_id = "(CASE WHEN bad_end = 'from' THEN from_id ELSE to_id END)"
    pair_text = "(from_object || '→' || to_object)"
    r = {x: x.rank for x in Reason}
    return f"""
CASE reason
WHEN {r[Reason.OBJECT_SYNC_OFF]} THEN {only} ||
    CASE WHEN from_off AND to_off AND from_obj <> to_obj
         THEN from_off_text || ' and ' || to_off_text
         WHEN from_off THEN from_off_text ELSE to_off_text END
    || ', so links with these records are not synced.'
WHEN {r[Reason.UNSUPPORTED_IN_APP]} THEN {only} ||
    CASE WHEN whole_unsupported
         THEN {app} || ' does not support ' || {pair_text} || ' links.'
         ELSE {app} || ' has no equivalent for the label ''' || label || '''.' END
WHEN {r[Reason.AMBIGUOUS_MATCH]} THEN {only} || {bad_desc}
    || ' cannot be paired: its match key is shared by duplicates (' || {other} || ' '
    || coalesce(amb_ids, '?') || '); review them.'
WHEN {r[Reason.RECORD_UNMATCHED]} THEN {only} ||
    CASE WHEN (bad_end = 'from' AND f < 0) OR (bad_end = 'to' AND t < 0)
         THEN {bad_noun} || ' ' || {bad_id} || ' was not read: it is missing from '
              || {side} || '''s records.'
         ELSE {bad_desc} || ' has no matching ' || {other} || ' record'
              || coalesce('; the closest ' || {other} || ' ' || {bad_noun} || ' is '''
                          || suggestion || ''' (score ' || suggestion_score::VARCHAR || ')', '')
              || '.' END
WHEN {r[Reason.LABEL_MISMATCH]} THEN
    upper(substr({from_desc}, 1, 1)) || substr({from_desc}, 2) || ' and ' || {to_desc}
    || ' are linked on both sides, but labelled ''' || label || ''' in ' || {side}
    || ' and ''' || coalesce(other_label, '?') || ''' in ' || {other} || '.'
WHEN {r[Reason.DIRECTION_BLOCKED]} THEN
    CASE WHEN deletion
         THEN {link} || ' was removed from ' || {other} || ' since the baseline, but '
              || {pair_text} || ' links do not sync from ' || {other} || ' to ' || {side} || '.'
         WHEN direction = 'blocked'
         THEN {only} || 'the sync directions of ' || from_object || ' and ' || to_object
              || ' are opposite, so ' || {pair_text} || ' links sync in neither direction.'
         ELSE {only} || {pair_text} || ' links sync only from ' || {other} || ' to '
              || {side} || '.' END
WHEN {r[Reason.LIMIT_EXCEEDED]} THEN {only} ||
    CASE WHEN t_other_primary
         THEN {from_desc} || ' has a different primary ' || to_noun || ' in ' || {other}
              || ', and ' || {_q(winner)} || ' wins conflicts.'
         ELSE {other} || ' allows ' || slot_max::VARCHAR || ' such link'
              || CASE WHEN slot_max = 1 THEN '' ELSE 's' END || ' per ' || from_noun || ', and '
              || {from_desc} || ' has ' || slot_held::VARCHAR || ' there already'
              || CASE WHEN slot_held < slot_max THEN ' (the free slots went to other links)'
                      ELSE '' END || '.' END
WHEN {r[Reason.SYNC_GAP]} THEN
    CASE WHEN deletion
         THEN {link} || ' was removed from ' || {other} || ' since the baseline; the sync '
              || 'should remove it from ' || {side} || ' too.'
         WHEN moves_primary
         THEN {only} || 'the sync should create it in ' || {other} || ', which moves the '
              || 'primary ' || to_noun || ' of ' || {from_desc} || ' there.'
         ELSE {only} || 'nothing blocks it, so the sync should have created it in '
              || {other} || '.' END
END"""


def render_findings(
    con: duckdb.DuckDBPyConnection,
    config: IntegrationConfig,
    *,
    hubspot: SideRows,
    app: SideRows,
    labels: tuple[pa.Array, pa.Array],
    ambiguity: pd.DataFrame,
) -> pa.Table:
    """The findings table (DESIGN §6 columns, sorted) from ``classified_``.

    ``labels`` are both sides' stored label texts (indexed by ``rc``);
    ``ambiguity`` is :attr:`Matches.ambiguity`. Needs ``suggestions_`` (side,
    row, name, score) besides the reconciliation tables.
    """
    _lookup_tables(con, config)
    rendered = _rendered(con, config, hubspot, app, labels)
    duck.register(con, "rendered_", rendered)
    duck.register(con, "amb_ids_", _ambiguity_ids(ambiguity, rendered, hubspot, app))
    r = {x: x.rank for x in Reason}
    con.execute(
        _DETAIL_INPUTS.replace("{amb}", str(r[Reason.AMBIGUOUS_MATCH]))
        .replace("{lm}", str(r[Reason.LABEL_MISMATCH]))
        .replace("{unm}", str(r[Reason.RECORD_UNMATCHED]))
    )
    # present_in and object names are identifiers (never escaped); labels and ids may be anything
    fid = (
        "substr(sha256('[' || "
        + " || ',' || ".join(
            f"'\"' || {c} || '\"'"
            if c in ("present_in", "from_object", "to_object")
            else json_text_sql(c)
            for c in ("present_in", "from_object", "to_object", "raw", "from_id", "to_id")
        )
        + " || ']'), 1, 16)"
    )
    table = duck.arrow(
        con,
        f"""
        SELECT {fid} AS finding_id, from_object, to_object, label,
               hubspot_from_id, hubspot_to_id, app_from_id, app_to_id, present_in,
               rn.reason_text AS reason, rn.step::BIGINT AS step, action,
               {_detail_sql(config)} AS detail
        FROM detailed_ d JOIN reason_names_ rn ON rn.rank = d.reason
        ORDER BY from_object, to_object, present_in, length(from_id), from_id,
                 length(to_id), to_id, label NULLS FIRST
        """,
    )
    con.execute("DROP TABLE detailed_")
    for name in ("rendered_", "amb_ids_"):
        con.unregister(name)
    return table


def findings_frame(table: pa.Table) -> pd.DataFrame:
    """The findings as a DataFrame: text columns :data:`~assoc_audit.tables.TEXT`, step int64."""
    cols = {}
    for name in FINDING_COLUMNS:
        column = table.column(name)
        if name == "step":
            cols[name] = pd.Series(column.to_numpy(), dtype="int64")
        else:
            cols[name] = text_series(column)
    return pd.DataFrame(cols)
