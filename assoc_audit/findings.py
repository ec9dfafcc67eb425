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

import pandas as pd
import pyarrow as pa

from . import duck
from .reasons import Reason
from .tables import text_series

if TYPE_CHECKING:
    import duckdb

    from .config import IntegrationConfig

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


def finding_id(  # noqa: PLR0917 - the order of DESIGN §6's JSON list
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


_RENDER = """
CREATE OR REPLACE TEMP TABLE rendered_ AS
WITH base AS (
    SELECT c.*, pp.from_object, pp.to_object, pp.from_obj, pp.to_obj, pp.direction,
           CASE WHEN c.lab > 0 THEN e.hs_label WHEN c.lab = 0 THEN NULL ELSE c.raw END AS label,
           CASE WHEN c.s = 0 THEN 'hubspot' ELSE 'app' END AS present_in,
           coalesce(CASE WHEN c.s = 0 THEN fh.record_id ELSE fa.record_id END, mfh.id, mfa.id)
               AS from_id,
           coalesce(CASE WHEN c.s = 0 THEN th.record_id ELSE ta.record_id END, mth.id, mta.id)
               AS to_id,
           CASE WHEN c.s = 0 THEN fh.partner ELSE NULL END AS fpartner,
           CASE WHEN c.s = 0 THEN th.partner ELSE NULL END AS tpartner,
           coalesce(CASE WHEN c.s = 0 THEN nfh.name ELSE nfa.name END, mfh.id, mfa.id) AS from_name,
           coalesce(CASE WHEN c.s = 0 THEN nth.name ELSE nta.name END, mth.id, mta.id) AS to_name
    FROM classified_ c
    JOIN pairs_ pp ON pp.p = c.p
    LEFT JOIN entries_ e ON e.lab = c.lab AND c.lab > 0
    LEFT JOIN rec_h fh ON c.s = 0 AND fh.row = c.f
    LEFT JOIN rec_a fa ON c.s = 1 AND fa.row = c.f
    LEFT JOIN rec_h th ON c.s = 0 AND th.row = c.t
    LEFT JOIN rec_a ta ON c.s = 1 AND ta.row = c.t
    LEFT JOIN names_h nfh ON c.s = 0 AND nfh.row = c.f
    LEFT JOIN names_a nfa ON c.s = 1 AND nfa.row = c.f
    LEFT JOIN names_h nth ON c.s = 0 AND nth.row = c.t
    LEFT JOIN names_a nta ON c.s = 1 AND nta.row = c.t
    LEFT JOIN miss_links_h mfh ON c.s = 0 AND mfh.code = c.f
    LEFT JOIN miss_links_a mfa ON c.s = 1 AND mfa.code = c.f
    LEFT JOIN miss_links_h mth ON c.s = 0 AND mth.code = c.t
    LEFT JOIN miss_links_a mta ON c.s = 1 AND mta.code = c.t
),
ids AS (
    SELECT b.*,
           CASE WHEN b.s = 0 THEN b.from_id ELSE hf.record_id END AS hubspot_from_id,
           CASE WHEN b.s = 0 THEN b.to_id ELSE ht.record_id END AS hubspot_to_id,
           CASE WHEN b.s = 1 THEN b.from_id ELSE af.record_id END AS app_from_id,
           CASE WHEN b.s = 1 THEN b.to_id ELSE ato.record_id END AS app_to_id
    FROM base b
    LEFT JOIN rec_h hf ON b.s = 1 AND hf.row = b.fm
    LEFT JOIN rec_h ht ON b.s = 1 AND ht.row = b.tm
    LEFT JOIN rec_a af ON b.s = 0 AND b.fm IS NOT NULL AND af.row = b.fpartner
    LEFT JOIN rec_a ato ON b.s = 0 AND b.tm IS NOT NULL AND ato.row = b.tpartner
)
SELECT * FROM ids
"""

_DETAIL_INPUTS = """
CREATE OR REPLACE TEMP TABLE detailed_ AS
WITH amb_list AS (  -- the other side's records sharing an ambiguous group with an endpoint
    SELECT 0 AS side, x.hubspot_row AS row,
           string_agg(a.record_id, ', ' ORDER BY length(a.record_id), a.record_id) AS ids,
           count(*) AS n
    FROM match_ambiguity x JOIN rec_a a ON a.row = x.app_row
    WHERE x.hubspot_row IN (SELECT f FROM rendered_ WHERE s = 0 AND reason = {amb}
                            UNION SELECT t FROM rendered_ WHERE s = 0 AND reason = {amb})
    GROUP BY x.hubspot_row
    UNION ALL
    SELECT 1, x.app_row,
           string_agg(h.record_id, ', ' ORDER BY length(h.record_id), h.record_id), count(*)
    FROM match_ambiguity x JOIN rec_h h ON h.row = x.hubspot_row
    WHERE x.app_row IN (SELECT f FROM rendered_ WHERE s = 1 AND reason = {amb}
                        UNION SELECT t FROM rendered_ WHERE s = 1 AND reason = {amb})
    GROUP BY x.app_row
),
mismatch AS (  -- the other side's label of a label_mismatch
    SELECT s, p, fm, tm, label FROM rendered_ WHERE reason = {lm}
)
SELECT r.*, fo.noun AS from_noun, tob.noun AS to_noun,
       fo.off_text AS from_off_text, tob.off_text AS to_off_text,
       fo.off AS from_off, tob.off AS to_off,
       CASE WHEN r.fst = 3 THEN 'from' WHEN r.tst = 3 THEN 'to'
            WHEN r.f < 0 OR r.fst <> 1 THEN 'from' ELSE 'to' END AS bad_end,
       CASE WHEN r.fst = 3 THEN af.ids ELSE amt.ids END AS amb_ids,
       mm.label AS other_label,
       sg.name AS suggestion, sg.score AS suggestion_score
FROM rendered_ r
JOIN objects_ fo ON fo.obj = r.from_obj
JOIN objects_ tob ON tob.obj = r.to_obj
LEFT JOIN amb_list af ON r.reason = {amb} AND af.side = r.s AND af.row = r.f
LEFT JOIN amb_list amt ON r.reason = {amb} AND amt.side = r.s AND amt.row = r.t
LEFT JOIN mismatch mm ON r.reason = {lm} AND mm.s <> r.s AND mm.p = r.p AND mm.fm = r.fm
                      AND mm.tm = r.tm
LEFT JOIN suggestions_ sg ON r.reason = {unm} AND sg.side = r.s
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
WHEN {r[Reason.AMBIGUOUS_MATCH]} THEN {only} || {bad_desc} || ' matches several ' || {other}
    || ' records (' || coalesce(amb_ids, '?') || '), so it cannot be paired; review the duplicates.'
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


def render_findings(con: duckdb.DuckDBPyConnection, config: IntegrationConfig) -> pa.Table:
    """The findings table (DESIGN §6 columns, sorted) from ``classified_``.

    Needs ``suggestions_`` (side, row, name, score), ``names_h``/``names_a``
    (row, name) and ``match_ambiguity`` besides the reconciliation tables.
    """
    _lookup_tables(con, config)
    con.execute(_RENDER)
    r = {x: x.rank for x in Reason}
    con.execute(
        _DETAIL_INPUTS.replace("{amb}", str(r[Reason.AMBIGUOUS_MATCH]))
        .replace("{lm}", str(r[Reason.LABEL_MISMATCH]))
        .replace("{unm}", str(r[Reason.RECORD_UNMATCHED]))
    )
    fid = (
        "substr(sha256('[' || "
        + " || ',' || ".join(
            json_text_sql(c)
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
    for name in ("rendered_", "detailed_"):
        con.execute(f"DROP TABLE {name}")
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
