"""The link-mapping stage: each side's associations mapped through the matches and entries.

It runs after matching (:mod:`assoc_audit.matching`) and before the diff
(:mod:`assoc_audit.reconcile`); the config's lookup tables it reads
(``pairs_``, ``entries_``) come from :mod:`assoc_audit.configtables`.

This module turns a side's canonical associations table into *links*: one row
per (pair, from record, to record, label), with

- ``p``: the audited pair (index in ``config.pairs``);
- ``f``/``t``: the side's own record rows, or a negative code for an id that
  is missing from the side's records (table ``miss_<x>`` maps codes to ids);
- ``fm``/``tm``: the HubSpot row of the matched pair of each endpoint (NULL
  when the endpoint is not matched), so both sides compare on small integers;
- ``lab``: 0 for the unlabeled link, ``1 + entry index`` for a label with a
  supported entry, and a negative code per unsupported label text (odd on the
  HubSpot side, even on the app side, so they never compare equal);
- ``rc``: the label as stored on that side, as an index into the side's
  distinct label texts (-1: stored without a label, or implied).

A labelled link implies the unlabeled link of the same pair (DESIGN §4); the
implied rows are added here. An app's unlabeled link may be stored with the
unlabeled entry's ``app_label`` (e.g. ``participant``) or without a label;
both spellings are one link (the unlabeled spelling is kept as ``raw``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from assoc_audit import duck
from assoc_audit.tables import arrow_text

if TYPE_CHECKING:
    import duckdb

    from assoc_audit.config import IntegrationConfig
    from assoc_audit.tables import SideTables

__all__ = ["SideLinks", "build_links"]


@dataclass(frozen=True)
class SideLinks:
    """What :func:`build_links` learned about one side besides the links table.

    ``labels`` are the distinct label texts as stored (``rc`` indexes them;
    -1 is no label); ``missing`` maps each negative endpoint code to the
    object index and id that the side's records lack; ``counts`` has the
    numbers of stored rows, implied unlabeled links, merged spellings,
    missing ids and rows left out (pairs that are not audited).
    """

    labels: pa.Array
    missing: pa.Table
    counts: dict[str, int]


def _label_codes(
    config: IntegrationConfig, side: int, p: np.ndarray, label: pa.ChunkedArray
) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Per row: ``rc`` (index of its stored text, -1 none) and ``lab`` (see the module doc)."""
    encoded = pc.dictionary_encode(
        label.combine_chunks() if label.num_chunks != 1 else label.chunk(0)
    )
    dictionary = encoded.dictionary
    rc = np.asarray(
        pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False), dtype=np.int64
    )
    texts = dictionary.to_pylist()
    n_pairs, n_texts = len(config.pairs), len(texts)
    supported: dict[tuple[int, str], int] = {}
    for q, pair in enumerate(config.pairs):
        for e in config.entries_for(pair):
            if not e.app_supported:
                continue
            text = (
                e.label
                if side == 0
                else (e.app_label if e.label is None else e.effective_app_label)
            )
            if text is not None:
                supported[(q, text)] = 0 if e.label is None else 1 + config.associations.index(e)
    lut = np.zeros((max(n_pairs, 1), n_texts + 1), dtype=np.int64)
    parity = 1 if side == 0 else 0  # unsupported codes: odd for HubSpot, even for the app
    unsupported = 0
    for q in range(n_pairs):
        for d in sorted(range(n_texts), key=lambda i: texts[i]):
            code = supported.get((q, texts[d]))
            if code is None:
                unsupported += 1
                code = -2 * unsupported + parity
            lut[q, d + 1] = code
    lab = lut[np.maximum(p, 0), rc + 1]
    return rc, lab, dictionary


# long function: one pipeline of SQL statements over one side's links whose steps share its
# temporary tables
def build_links(
    con: duckdb.DuckDBPyConnection,
    config: IntegrationConfig,
    tables: SideTables,
    *,
    side: int,
    records: str,
    out: str,
) -> SideLinks:
    """Create table ``out`` (links, see the module doc) from a side's associations.

    ``records`` names the side's registered records table (``row``, ``obj``,
    ``record_id``, ``m``). Rows whose (from, to) objects are not an audited
    pair in its stored direction are left out (validated tables have none).
    """
    df = tables.associations
    objects = list(config.audited_objects)
    k = len(objects)
    value_set = pa.array(objects, pa.string())
    fo = _codes(df["from_object"], value_set)
    to = _codes(df["to_object"], value_set)
    lut = np.full((k + 1) * (k + 1), -1, dtype=np.int32)
    for q, (a, b) in enumerate(config.pairs):
        lut[objects.index(a) * (k + 1) + objects.index(b)] = q
    p = lut[np.where(fo < 0, k, fo) * (k + 1) + np.where(to < 0, k, to)]
    rc, lab, dictionary = _label_codes(config, side, p, _text(df["label"]))
    edges = pa.table(
        {
            "p": pa.array(p, pa.int32()),
            "fo": pa.array(fo, pa.int32()),
            "too": pa.array(to, pa.int32()),
            "from_id": _text(df["from_id"]),
            "to_id": _text(df["to_id"]),
            "lab": pa.array(lab, pa.int32()),
            "rc": pa.array(rc, pa.int32()),
        }
    )
    keep = p >= 0
    left_out = int(np.count_nonzero(~keep))
    if left_out:
        edges = edges.filter(pa.array(keep))
    name = f"{out}_edges"
    duck.register(con, name, edges)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {out}_e0 AS
        SELECT e.p, e.fo, e.too, fr.row AS f, tr.row AS t, fr.m AS fm, tr.m AS tm, e.lab, e.rc,
               CASE WHEN fr.row IS NULL THEN e.from_id END AS from_miss,
               CASE WHEN tr.row IS NULL THEN e.to_id END AS to_miss
        FROM {name} e
        LEFT JOIN {records} fr ON fr.obj = e.fo AND fr.record_id = e.from_id
        LEFT JOIN {records} tr ON tr.obj = e.too AND tr.record_id = e.to_id
        """
    )
    con.unregister(name)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE miss_{out} AS
        SELECT -(row_number() OVER (ORDER BY obj, id))::BIGINT AS code, obj, id
        FROM (SELECT fo AS obj, from_miss AS id FROM {out}_e0 WHERE from_miss IS NOT NULL
              UNION SELECT too, to_miss FROM {out}_e0 WHERE to_miss IS NOT NULL)
        """
    )
    missing = int(duck.scalar(con, f"SELECT count(*) FROM miss_{out}"))
    if missing:
        select = f"""
            SELECT e.p, coalesce(e.f, mf.code) AS f, coalesce(e.t, mt.code) AS t,
                   e.fm, e.tm, e.lab, e.rc
            FROM {out}_e0 e
            LEFT JOIN miss_{out} mf ON mf.obj = e.fo AND mf.id = e.from_miss
            LEFT JOIN miss_{out} mt ON mt.obj = e.too AND mt.id = e.to_miss
        """
    else:
        select = f"SELECT p, f, t, fm, tm, lab, rc FROM {out}_e0"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS {select}")
    con.execute(f"DROP TABLE {out}_e0")
    stored = int(duck.scalar(con, f"SELECT count(*) FROM {out}"))
    merged = 0
    if duck.scalar(con, f"SELECT count(*) FROM {out} WHERE lab = 0 AND rc >= 0"):
        # an unlabeled link stored both without a label and with the app_label: one link
        merged = int(
            con.execute(
                f"""
                DELETE FROM {out} x WHERE x.lab = 0 AND x.rc >= 0 AND EXISTS (
                    SELECT 1 FROM {out} y
                    WHERE y.lab = 0 AND y.rc < 0 AND y.p = x.p AND y.f = x.f AND y.t = x.t)
                """
            ).fetchone()[0]  # type: ignore[index]
        )
    implied = int(
        con.execute(
            f"""
            INSERT INTO {out}
            SELECT p, f, t, any_value(fm), any_value(tm), 0, -1
            FROM {out} x
            WHERE lab <> 0 AND NOT EXISTS (
                SELECT 1 FROM {out} y WHERE y.lab = 0 AND y.p = x.p AND y.f = x.f AND y.t = x.t)
            GROUP BY p, f, t
            """
        ).fetchone()[0]  # type: ignore[index]
    )
    miss = duck.arrow(con, f"SELECT code, obj, id FROM miss_{out} ORDER BY code DESC")
    con.execute(f"DROP TABLE miss_{out}")
    counts = {
        "stored": stored,
        "implied": implied,
        "merged": merged,
        "missing": missing,
        "rows_left_out": left_out,
    }
    return SideLinks(labels=dictionary, missing=miss, counts=counts)


def _text(values: pd.Series) -> pa.ChunkedArray:
    arrow = arrow_text(values)
    if arrow is None:
        arrow = pa.chunked_array(
            [pa.array(values.astype("object").where(values.notna(), None).tolist(), pa.string())]
        )
    return arrow


def _codes(values: pd.Series, value_set: pa.Array) -> np.ndarray:
    arrow = _text(values)
    codes = pc.fill_null(pc.index_in(arrow, value_set=value_set.cast(arrow.type)), -1)
    return np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64)
