"""Links in HubSpot terms: each side's associations mapped through the matches and entries.

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
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from . import duck
from .tables import arrow_text

if TYPE_CHECKING:
    import duckdb

    from .config import IntegrationConfig
    from .snapshot import SideTables

__all__ = [
    "PRIMARY",
    "ConfigTables",
    "SideLinks",
    "build_links",
    "config_tables",
    "register_config_tables",
]

PRIMARY = "Primary"
SIDE_CODE = {"hubspot": 0, "app": 1}


@dataclass(frozen=True)
class ConfigTables:
    """Small lookup tables derived from the config (see :func:`config_tables`)."""

    pairs: pa.Table
    entries: pa.Table
    limits: pa.Table


def _direction_flags(direction: str) -> tuple[bool, bool]:
    """Whether the direction carries changes made in HubSpot, and made in the app."""
    return direction in ("two_way", "hubspot_to_app"), direction in ("two_way", "app_to_hubspot")


def config_tables(
    config: IntegrationConfig, hubspot_limits: list[dict[str, Any]] | None = None
) -> ConfigTables:
    """The pairs, entries and limits of a config as Arrow tables.

    ``hubspot_limits`` are the portal's configured association limits when the
    connector could read them: dicts with ``from_object``, ``to_object``,
    ``label`` (None = the unlabeled link, i.e. linked pairs) and ``max_per_record``
    (the shape the HubSpot connector writes to ``SideTables.meta["limits"]``).
    """
    objects = list(config.audited_objects)
    pair_rows: list[dict[str, Any]] = []
    entry_rows: list[dict[str, Any]] = [
        {"lab": 0, "hs_label": None, "app_label": None, "is_primary": False, "p": -1}
    ]
    limit_rows: list[dict[str, Any]] = []
    lab_of: dict[tuple[int, str | None], int] = {}
    winner = 0 if config.conflict_winner == "hubspot" else 1
    for p, pair in enumerate(config.pairs):
        direction = config.direction(pair)
        carries_h, carries_a = _direction_flags(direction)
        entries = config.entries_for(pair)
        whole = any(e.whole_pair_unsupported for e in entries)
        relabel: int | None
        if direction == "two_way":
            relabel = 1 - winner
        elif direction == "hubspot_to_app":
            relabel = 1
        elif direction == "app_to_hubspot":
            relabel = 0
        else:
            relabel = None
        pair_rows.append(
            {
                "p": p,
                "from_obj": objects.index(pair[0]),
                "to_obj": objects.index(pair[1]),
                "from_object": pair[0],
                "to_object": pair[1],
                "direction": direction,
                "off": config.sync_of(pair[0]) == "off" or config.sync_of(pair[1]) == "off",
                "whole_unsupported": whole,
                "carries_h": carries_h,
                "carries_a": carries_a,
                "one_way": direction in ("hubspot_to_app", "app_to_hubspot"),
                "relabel_target": relabel,
            }
        )
        lab_of[(p, None)] = 0
        for e in entries:
            if not e.app_supported:
                continue
            if e.label is None:
                if e.app_max_per_record is not None:
                    limit_rows.append({"p": p, "lab": 0, "target": 1, "max": e.app_max_per_record})
                continue
            lab = 1 + config.associations.index(e)
            lab_of[(p, e.label)] = lab
            app_text = e.effective_app_label
            primary = e.label == PRIMARY
            entry_rows.append(
                {
                    "lab": lab,
                    "hs_label": e.label,
                    "app_label": app_text,
                    "is_primary": primary,
                    "p": p,
                }
            )
            if e.app_max_per_record is not None:
                limit_rows.append({"p": p, "lab": lab, "target": 1, "max": e.app_max_per_record})
            if primary:
                limit_rows.append({"p": p, "lab": lab, "target": 1, "max": 1})
                limit_rows.append({"p": p, "lab": lab, "target": 0, "max": 1})
    pair_index = {pair: p for p, pair in enumerate(config.pairs)}
    for item in hubspot_limits or ():
        p_ = pair_index.get((str(item.get("from_object")), str(item.get("to_object"))))
        label = item.get("label")
        lab_ = lab_of.get((p_, label)) if p_ is not None else None
        maximum = item.get("max_per_record")
        if lab_ is not None and isinstance(maximum, int) and maximum >= 0:
            limit_rows.append({"p": p_, "lab": lab_, "target": 0, "max": maximum})
    return ConfigTables(
        pairs=_table(pair_rows, _PAIR_SCHEMA),
        entries=_table(entry_rows, _ENTRY_SCHEMA),
        limits=_table(limit_rows, _LIMIT_SCHEMA),
    )


_PAIR_SCHEMA = pa.schema(
    [
        ("p", pa.int32()),
        ("from_obj", pa.int32()),
        ("to_obj", pa.int32()),
        ("from_object", pa.string()),
        ("to_object", pa.string()),
        ("direction", pa.string()),
        ("off", pa.bool_()),
        ("whole_unsupported", pa.bool_()),
        ("carries_h", pa.bool_()),
        ("carries_a", pa.bool_()),
        ("one_way", pa.bool_()),
        ("relabel_target", pa.int8()),
    ]
)
_ENTRY_SCHEMA = pa.schema(
    [
        ("lab", pa.int32()),
        ("hs_label", pa.string()),
        ("app_label", pa.string()),
        ("is_primary", pa.bool_()),
        ("p", pa.int32()),
    ]
)
_LIMIT_SCHEMA = pa.schema(
    [("p", pa.int32()), ("lab", pa.int32()), ("target", pa.int8()), ("max", pa.int64())]
)


def _table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


def register_config_tables(con: duckdb.DuckDBPyConnection, tables: ConfigTables) -> None:
    """Register ``pairs_``, ``entries_`` and ``limits_`` (max over duplicates: min)."""
    duck.register(con, "pairs_", tables.pairs)
    duck.register(con, "entries_", tables.entries)
    duck.register(con, "limits_raw_", tables.limits)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE limits_ AS "
        "SELECT p, lab, target, min(max) AS max FROM limits_raw_ GROUP BY p, lab, target"
    )


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
