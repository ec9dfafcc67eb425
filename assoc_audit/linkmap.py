"""The link-mapping stage: each side's associations mapped through the matches and entries.

It runs after matching (:mod:`assoc_audit.matching`) and before the diff
(:mod:`assoc_audit.reconcile`); the config's lookup tables it reads
(``pairs_``, ``entries_``) come from :mod:`assoc_audit.configtables`.

This module turns a side's canonical associations table into *links*: one row
per (pair, from record, to record, label), with

- ``p``: the audited pair (index in ``config.pairs``);
- ``f``/``t``: the side's own record rows, or a negative code for an id that
  is missing from the side's records (:attr:`SideLinks.missing` maps codes to
  ids: -1, -2, … in (object, id) order);
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

**How.** Everything after the id lookup is integer work. The ids are looked
up once: both endpoints of every link stacked into one column and joined with
the side's records on (object, id) in DuckDB, which returns only (endpoint
position, record row) for the ids it found; the ids it did not find are read
back by position (few), numbered, and scattered into ``f``/``t``. ``fm``/``tm``
are array gathers of each record's match. Merged spellings and implied links
are set operations on one packed BIGINT key per (pair, from, to) when it fits
in :data:`KEY_BITS` bits (a sort and a search in NumPy), else SQL on the three
columns. The links table is an Arrow table (int32 codes while they fit)
registered on the connection with its per-pair counts (``<out>_n``); the diff
and the limits read it, :func:`~assoc_audit.reconcile.classify` drops it.
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

__all__ = ["KEY_BITS", "SideLinks", "build_links", "drop_links"]

#: Bits a packed (pair, from, to) key may use: a BIGINT with the sign bit and one tag bit to
#: spare (the sort that finds implied links tags each key); wider keys fall back to SQL on
#: the three columns.
KEY_BITS = 62


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
    rc, dictionary = _stored_codes(label)
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
    lut = np.zeros((max(n_pairs, 1), n_texts + 1), dtype=np.int32)
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


def _stored_codes(label: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Per row the index of its text among the distinct texts (-1 for none), and the texts."""
    if pa.types.is_dictionary(label.type) and label.num_chunks:
        unified = label.unify_dictionaries()  # one dictionary for every chunk
        dictionary = unified.chunk(0).dictionary
        if not dictionary.null_count and len(pc.unique(dictionary)) == len(dictionary):
            indices = pa.chunked_array([c.indices for c in unified.chunks])
            rc = pc.fill_null(indices, -1).to_numpy(zero_copy_only=False)
            return np.asarray(rc, dtype=np.int32), dictionary
    if pa.types.is_dictionary(label.type):
        label = label.cast(label.type.value_type)
    encoded = pc.dictionary_encode(
        label.combine_chunks() if label.num_chunks != 1 else label.chunk(0)
    )
    rc = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return np.asarray(rc, dtype=np.int32), encoded.dictionary


# long function: the steps of one side's mapping (codes, lookup, missing ids, gathers, merged
# spellings, implied links) share its arrays; each step is a call or a few array operations
def build_links(
    con: duckdb.DuckDBPyConnection,
    config: IntegrationConfig,
    tables: SideTables,
    *,
    side: int,
    records: str,
    out: str,
) -> SideLinks:
    """Register ``out`` (links, see the module doc) from a side's associations.

    ``records`` names the side's registered records table (``row``, ``obj``,
    ``record_id``, ``m``). Rows whose (from, to) objects are not an audited
    pair in its stored direction are left out (validated tables have none).
    ``out`` is an Arrow table registered on ``con``; :func:`drop_links` removes it.
    """
    df = tables.associations
    objects = list(config.audited_objects)
    k = len(objects)
    fo = _codes(df["from_object"], objects)
    to = _codes(df["to_object"], objects)
    lut = np.full((k + 1) * (k + 1), -1, dtype=np.int32)  # by (from + 1, to + 1): -1 is other
    for q, (a, b) in enumerate(config.pairs):
        lut[(objects.index(a) + 1) * (k + 1) + objects.index(b) + 1] = q
    p = lut[(fo + 1) * (k + 1) + (to + 1)]
    rc, lab, dictionary = _label_codes(config, side, p, _text(df["label"]))
    from_id, to_id = _text(df["from_id"]), _text(df["to_id"])
    keep = p >= 0
    left_out = int(np.count_nonzero(~keep))
    if left_out:
        p, fo, to, lab, rc = p[keep], fo[keep], to[keep], lab[keep], rc[keep]
        mask = pa.array(keep)
        from_id, to_id = from_id.filter(mask), to_id.filter(mask)
    n = len(p)
    m_of = _matches(con, records)
    top = max(len(m_of) + 2 * n, int(m_of.max()) + 1 if len(m_of) else 0)
    width = np.int32 if top < 2**31 else np.int64
    ends, miss = _lookup(con, records, np.concatenate([fo, to]), [from_id, to_id], width)
    # each endpoint's match: an array gather, missing codes (-1, -2, …) first
    m_at = np.concatenate([np.full(len(miss), -1, width), m_of.astype(width, copy=False)])
    shift = len(miss)
    matched = m_at[ends + shift]
    f, t, fm, tm = ends[:n], ends[n:], matched[:n], matched[n:]
    keys = _PairKeys(len(config.pairs), len(m_of), len(miss))
    key = keys.of(p, f, t)
    drop = _merged(con, keys, key, lab, rc)
    ip, i_f, it = (x.astype(width, copy=False) for x in _implied(con, keys, key, lab))
    del key
    if len(drop):
        kept = np.ones(n, dtype=bool)
        kept[drop] = False
        p, f, t, fm, tm, lab, rc = (x[kept] for x in (p, f, t, fm, tm, lab, rc))
    p = np.concatenate([p, ip.astype(np.int32)])
    links = pa.table(
        {
            "p": pa.array(p),
            "f": pa.array(np.concatenate([f, i_f])),
            "t": pa.array(np.concatenate([t, it])),
            "fm": _nullable(np.concatenate([fm, m_at[i_f + shift]])),
            "tm": _nullable(np.concatenate([tm, m_at[it + shift]])),
            "lab": pa.array(np.concatenate([lab, np.zeros(len(ip), np.int32)])),
            "rc": pa.array(np.concatenate([rc, np.full(len(ip), -1, np.int32)])),
        }
    )
    duck.register(con, out, links)
    per_pair = np.bincount(p, minlength=len(config.pairs)) if len(p) else np.zeros(0, np.int64)
    duck.register(
        con,
        f"{out}_n",
        pa.table({"p": pa.array(np.arange(len(per_pair)), pa.int32()), "n": pa.array(per_pair)}),
    )
    counts = {
        "stored": n,
        "implied": len(ip),
        "merged": len(drop),
        "missing": len(miss),
        "rows_left_out": left_out,
    }
    return SideLinks(labels=dictionary, missing=miss, counts=counts)


def drop_links(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Remove a links table :func:`build_links` registered (and its ``<name>_n`` counts)."""
    con.unregister(name)
    con.unregister(f"{name}_n")


def _matches(con: duckdb.DuckDBPyConnection, records: str) -> np.ndarray:
    """Per record row: the HubSpot row of its matched pair, -1 if unmatched."""
    got = duck.arrow(con, f"SELECT row, coalesce(m, -1) AS m FROM {records}")
    rows = np.asarray(got.column("row").to_numpy(), dtype=np.int64)
    m_of = np.full(int(rows.max()) + 1 if len(rows) else 0, -1, dtype=np.int64)
    m_of[rows] = got.column("m").to_numpy()
    return m_of


def _lookup(
    con: duckdb.DuckDBPyConnection,
    records: str,
    obj: np.ndarray,
    ids: list[pa.ChunkedArray],
    width: type[np.integer],
) -> tuple[np.ndarray, pa.Table]:
    """Each (object, id)'s record row, or its missing code; and the missing ids' table.

    One join on the stacked endpoints returns (position, row) for the ids that
    are records; the others (``-1`` after the join) are read back by position,
    numbered ``-(rank of (object, id))`` and scattered in.
    """
    kind = pa.large_string()
    chunks = [c.cast(kind) if c.type != kind else c for x in ids for c in x.chunks]
    row_type = "INTEGER" if width == np.int32 else "BIGINT"
    ends = pa.table(
        {
            "j": pa.array(np.arange(len(obj), dtype=width)),
            "o": pa.array(obj.astype(np.int32, copy=False)),
            "id": pa.chunked_array(chunks, type=kind),
        }
    )
    name = "linkmap_ends_"
    duck.register(con, name, ends)
    try:
        found = duck.arrow(
            con,
            f"SELECT e.j, r.row::{row_type} AS row FROM {name} e "
            f"JOIN {records} r ON r.obj = e.o AND r.record_id = e.id",
        )
    finally:
        con.unregister(name)
    rows = np.full(len(obj), -1, dtype=width)
    rows[found.column("j").to_numpy()] = found.column("row").to_numpy()
    lost = np.flatnonzero(rows < 0)
    if not len(lost):
        return rows, _no_missing()
    at = pa.array(lost)
    small = pa.table(
        {"j": at, "obj": pa.array(obj[lost].astype(np.int32)), "id": ends.column("id").take(at)}
    )
    duck.register(con, name, small)
    try:
        miss = duck.arrow(
            con,
            f"""
            SELECT -(row_number() OVER (ORDER BY obj, id))::BIGINT AS code, obj, id::VARCHAR AS id
            FROM (SELECT DISTINCT obj, id FROM {name})
            ORDER BY code DESC
            """,
        )
        duck.register(con, "linkmap_miss_", miss)
        coded = duck.arrow(
            con,
            f"SELECT e.j, c.code FROM {name} e JOIN linkmap_miss_ c "
            "ON c.obj = e.obj AND c.id IS NOT DISTINCT FROM e.id",
        )
    finally:
        con.unregister(name)
        con.unregister("linkmap_miss_")
    rows[coded.column("j").to_numpy()] = coded.column("code").to_numpy()
    return rows, miss.cast(_MISSING_SCHEMA)


_MISSING_SCHEMA = pa.schema([("code", pa.int64()), ("obj", pa.int32()), ("id", pa.string())])


def _no_missing() -> pa.Table:
    return _MISSING_SCHEMA.empty_table()


def _nullable(values: np.ndarray) -> pa.Array:
    """-1 as NULL."""
    null = values < 0
    return pa.array(values, mask=null if null.any() else None)


class _PairKeys:
    """One BIGINT per (pair, from, to) when it fits in :data:`KEY_BITS`, else the columns.

    Endpoints run from ``-missing`` to ``rows - 1``; shifted by ``missing`` they
    are digits of base ``span``, the pair the most significant one.
    """

    def __init__(self, pairs: int, rows: int, missing: int) -> None:
        self.shift = missing
        self.span = max(rows + missing, 1)
        self.packed = max(pairs, 1) * self.span * self.span <= 2**KEY_BITS
        self.columns = ("k",) if self.packed else ("p", "f", "t")

    def of(self, p: np.ndarray, f: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """The key column(s) of links (p, f, t)."""
        if not self.packed:
            return {"p": p, "f": f, "t": t}
        span, shift = self.span, self.shift
        f64, t64 = f.astype(np.int64), t.astype(np.int64)
        return {"k": (p.astype(np.int64) * span + (f64 + shift)) * span + (t64 + shift)}

    def unpack(self, keys: pa.Table | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(p, f, t) of packed keys, or of a table with the three columns."""
        if isinstance(keys, pa.Table):
            p, f, t = (np.asarray(keys.column(c).to_numpy(), np.int64) for c in self.columns)
            return p, f, t
        rest, t = np.divmod(keys, self.span)
        p, f = np.divmod(rest, self.span)
        return p, f - self.shift, t - self.shift


def _where(key: dict[str, np.ndarray], mask: np.ndarray, **more: np.ndarray) -> pa.Table:
    return pa.table({**{c: v[mask] for c, v in key.items()}, **more})


def _merged(
    con: duckdb.DuckDBPyConnection,
    keys: _PairKeys,
    key: dict[str, np.ndarray],
    lab: np.ndarray,
    rc: np.ndarray,
) -> np.ndarray:
    """Positions of unlabeled links stored with a label text whose unlabeled spelling exists."""
    spelled = (lab == 0) & (rc >= 0)
    if not spelled.any():
        return np.array([], dtype=np.int64)
    plain = (lab == 0) & (rc < 0)
    at = np.flatnonzero(spelled)
    if keys.packed:  # a sorted array of the plain spellings' keys, searched
        have = np.sort(key["k"][plain])
        want = key["k"][at]
        if not len(have):
            return np.array([], dtype=np.int64)
        found = have[np.minimum(np.searchsorted(have, want), len(have) - 1)] == want
        return np.asarray(at[found], dtype=np.int64)
    on = " AND ".join(f"x.{c} = y.{c}" for c in keys.columns)
    duck.register(con, "linkmap_x_", _where(key, spelled, i=at))
    duck.register(con, "linkmap_y_", _where(key, plain))
    try:
        got = duck.arrow(con, f"SELECT x.i FROM linkmap_x_ x SEMI JOIN linkmap_y_ y ON {on}")
    finally:
        con.unregister("linkmap_x_")
        con.unregister("linkmap_y_")
    return np.sort(np.asarray(got.column("i").to_numpy(), dtype=np.int64))


def _implied(
    con: duckdb.DuckDBPyConnection, keys: _PairKeys, key: dict[str, np.ndarray], lab: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(p, f, t) of the unlabeled links that labelled links imply and that are not stored."""
    labelled = lab != 0
    if not labelled.any():
        empty = np.array([], dtype=np.int64)
        return empty, empty, empty
    if keys.packed:
        # one sort of every key with a low bit 0 for unlabeled, 1 for labelled: the first
        # value of each key's run is labelled only when no unlabeled link has that key
        k = key["k"]
        v = np.concatenate([k[~labelled] << 1, (k[labelled] << 1) | 1])
        v.sort()
        first = np.empty(len(v), dtype=bool)
        first[0] = True
        np.not_equal(v[1:] >> 1, v[:-1] >> 1, out=first[1:])
        return keys.unpack(v[first & ((v & 1) == 1)] >> 1)
    cols = ", ".join(keys.columns)
    duck.register(con, "linkmap_l_", _where(key, labelled))
    duck.register(con, "linkmap_u_", _where(key, ~labelled))
    try:
        got = duck.arrow(
            con, f"SELECT DISTINCT {cols} FROM linkmap_l_ ANTI JOIN linkmap_u_ USING ({cols})"
        )
    finally:
        con.unregister("linkmap_l_")
        con.unregister("linkmap_u_")
    return keys.unpack(got)


def _text(values: pd.Series | pa.ChunkedArray | pa.Array) -> pa.ChunkedArray:
    """A column as Arrow: text as it is (dictionary-encoded text kept so), else converted."""
    if isinstance(values, pa.Array):
        return pa.chunked_array([values])
    if isinstance(values, pa.ChunkedArray):
        return values
    arrow = arrow_text(values)
    if arrow is None:
        dtype = values.dtype
        if isinstance(dtype, pd.ArrowDtype) and pa.types.is_dictionary(dtype.pyarrow_dtype):
            data = values.array.__arrow_array__()
            return data if isinstance(data, pa.ChunkedArray) else pa.chunked_array([data])
        arrow = pa.chunked_array(
            [pa.array(values.astype("object").where(values.notna(), None).tolist(), pa.string())]
        )
    return arrow


def _codes(values: pd.Series | pa.ChunkedArray, objects: list[str]) -> np.ndarray:
    """Per row, the index of its object in ``objects`` (-1 for others)."""
    arrow = _text(values)
    if pa.types.is_dictionary(arrow.type):  # look the few distinct names up, then index
        parts = []
        for chunk in arrow.chunks:
            known = pa.array(objects, chunk.dictionary.type)
            names = pc.index_in(chunk.dictionary, value_set=known)
            lut = np.asarray(pc.fill_null(names, -1).to_numpy(zero_copy_only=False), np.int32)
            lut = np.append(lut, -1)  # null names: the last entry
            idx = pc.fill_null(chunk.indices, len(lut) - 1).to_numpy(zero_copy_only=False)
            parts.append(lut[np.asarray(idx, dtype=np.int64)])
        return np.concatenate(parts) if parts else np.array([], dtype=np.int32)
    codes = pc.fill_null(pc.index_in(arrow, value_set=pa.array(objects, arrow.type)), -1)
    return np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int32)
