"""Bulk loading of records and associations, in-process (no HTTP), vectorised.

:func:`load_records` takes a DataFrame with an ``id`` column (HubSpot ids:
text of digits, or integers) and one column per property (text or null;
numbers become text). Columns the portal does not know become ``string``
properties. ``createdate``/``hs_createdate`` and the last-modified column set
the record timestamps (ISO-8601 text or epoch milliseconds); without them the
load time is used. Loading an id that exists replaces that record (its
associations stay). Unique values (contacts' ``email``) are not enforced here:
a seeded portal may hold duplicates, as data imported before a clean-up can,
so an audit can meet them; ``idProperty`` lookups then find the lowest id, and
API writes still refuse a value another record holds.

:func:`load_associations` takes ``from_object, from_id, to_object, to_id,
label`` (HubSpot object names; ``label`` null = unlabeled, ``Primary`` = the
HubSpot-defined primary type of the pair, any other text = a USER_DEFINED
label in that direction, created on first use). Every labelled row implies
the unlabeled link. Both records must exist. A primary moves off the record's
previous primary, as in HubSpot; two different primaries for one record in
the same frame are an error. Limit configurations are not applied (loading
is seeding, not an API write), so a test can load a state that is already
over a limit.

Both run in one write transaction: a problem leaves the portal unchanged.
"""

from __future__ import annotations

import sqlite3
from itertools import repeat
from typing import Literal, cast

import numpy as np
import pandas as pd

from assoc_audit.sandbox.clock import Clock
from assoc_audit.sandbox.errors import SandboxError
from assoc_audit.sandbox.labels import Labels
from assoc_audit.sandbox.objecttypes import ObjectType
from assoc_audit.sandbox.portals import Portal, PortalSchema, Registry
from assoc_audit.sandbox.properties import READ_ONLY, PropertyDef
from assoc_audit.sandbox.store import Store

__all__ = ["load_associations", "load_records"]

_CHUNK = 200_000
_ID_PATTERN = r"[0-9]{1,18}"


def _ids(values: pd.Series, source: str, column: str) -> np.ndarray:
    """A column of HubSpot ids as int64 (text of digits or integers)."""
    if pd.api.types.is_integer_dtype(values.dtype):
        arr = values.to_numpy(dtype="int64")
        bad = np.flatnonzero(arr < 0)
    else:
        text = values.astype("string")
        ok = text.str.fullmatch(_ID_PATTERN).fillna(False).to_numpy(dtype=bool)
        bad = np.flatnonzero(~ok)
        if not len(bad):
            return text.astype("int64").to_numpy(dtype="int64")
        arr = np.zeros(0, dtype="int64")
    if len(bad):
        row = int(bad[0])
        raise SandboxError(
            f"{source}: row {row + 1}, column {column!r}: {values.iloc[row]!r} is not a HubSpot "
            "record id (digits only)",
            file=source,
            row=row + 1,
            field=column,
        )
    return arr


_TEXT: Literal["string[pyarrow]"] = "string[pyarrow]"


def _property_text(values: pd.Series) -> pd.Series:
    """A loaded column as HubSpot property text (the emulator's own rule, not the toolkit's
    canonical-table one): text kept as it is, whole numbers without ``.0``, other numbers as
    Python prints them, booleans ``true``/``false``, empty text and nulls as null."""
    s = values.reset_index(drop=True)
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        out = s.astype(object).map(lambda v: None if pd.isna(v) else str(v).lower())
    elif pd.api.types.is_integer_dtype(dtype):
        out = s.astype("Int64").astype(_TEXT)
    elif pd.api.types.is_float_dtype(dtype):
        arr = s.to_numpy(dtype="float64", na_value=np.nan)
        whole = np.isfinite(arr) & (np.floor(arr) == arr)
        other = ~np.isnan(arr) & ~whole
        text = np.full(len(arr), None, dtype=object)
        text[whole] = arr[whole].astype("int64").astype(str)
        text[other] = [repr(float(v)) for v in arr[other]]
        out = pd.Series(text, dtype=object)
    else:  # text (object or string columns): kept verbatim; other objects as their text
        out = s
    out = out.astype(_TEXT)
    return out.where(out != "", pd.NA)


def _iso_column(values: pd.Series, source: str, column: str) -> np.ndarray:
    """Timestamps (ISO text or epoch ms) as stored text; null stays None."""
    text = _property_text(values)
    digits = text.str.fullmatch(r"-?[0-9]+").fillna(False).to_numpy(dtype=bool)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ms, UTC]")
    if digits.any():
        out[digits] = pd.to_datetime(text[digits].astype("int64"), unit="ms", utc=True)
    rest = text.notna().to_numpy(dtype=bool) & ~digits
    if rest.any():
        try:
            out[rest] = pd.to_datetime(text[rest], utc=True, format="ISO8601")
        except (ValueError, TypeError) as exc:
            raise SandboxError(f"{source}: column {column!r}: not a timestamp ({exc})") from None
    arr = out.to_numpy(dtype="datetime64[ms]")
    result = np.char.add(np.datetime_as_string(arr, unit="ms"), "Z").astype(object)
    result[out.isna().to_numpy()] = None
    return result


# long function: checks, then one write transaction: a problem leaves the portal unchanged
def load_records(
    store: Store,
    registry: Registry,
    clock: Clock,
    *,
    portal: Portal,
    obj: ObjectType,
    df: pd.DataFrame,
) -> int:
    """Load (insert or replace) records of ``obj``; returns the number loaded."""
    source = f"load_records({obj.name})"
    if "id" not in df.columns:
        raise SandboxError(f"{source}: missing column 'id'", field="id")
    df = df.reset_index(drop=True)
    ids = _ids(df["id"], source, "id")
    dup = pd.Series(ids).duplicated().to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise SandboxError(
            f"{source}: row {row + 1}: duplicate id {ids[row]}", row=row + 1, field="id"
        )
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    df = df.iloc[order].reset_index(drop=True)
    now = clock.now_iso()
    n = len(df)
    created = np.full(n, now, dtype=object)
    updated = np.full(n, now, dtype=object)
    schema = registry.schema(portal)
    known = schema.props(obj)
    prop_cols: dict[str, pd.Series] = {}
    for col in df.columns:
        name = str(col)
        if name in {"id", "hs_object_id"}:
            continue
        if name in (obj.created_property, "createdate"):
            stamps = _iso_column(df[col], source, name)
            created = np.where(pd.isna(stamps), created, stamps)
            continue
        if name in (obj.modified_property, "lastmodifieddate", "hs_lastmodifieddate"):
            stamps = _iso_column(df[col], source, name)
            updated = np.where(pd.isna(stamps), updated, stamps)
            continue
        if name in READ_ONLY:
            continue
        prop_cols[name] = _property_text(df[col])
    props = pd.DataFrame(prop_cols) if prop_cols else pd.DataFrame(index=range(n))
    if prop_cols:
        json_lines = props.astype(object).to_json(orient="records", lines=True, force_ascii=False)
        props_json = json_lines.splitlines() if n else []
    else:
        props_json = ["{}"] * n
    unique = [p for p in prop_cols if (known.get(p) is not None and known[p].has_unique_value)]
    with store.write() as conn, store.bulk(conn):
        for name in prop_cols:
            if name not in known:
                registry.save_property(
                    conn,
                    portal,
                    obj,
                    PropertyDef(name=name, label=name, created_at=now, updated_at=now),
                )
        pid, code = portal.portal_id, obj.code
        existing = conn.execute(
            "SELECT 1 FROM records WHERE portal_id=? AND obj=? LIMIT 1", (pid, code)
        ).fetchone()
        if existing is not None and unique:
            _forget_unique(conn, portal, obj, ids)
        conn.executemany(
            "INSERT OR REPLACE INTO records(portal_id, obj, id, archived, created, updated, "
            "archived_at, props) VALUES (?,?,?,0,?,?,NULL,?)",
            zip(
                repeat(pid),
                repeat(code),
                ids.tolist(),
                created.tolist(),
                updated.tolist(),
                props_json,
                strict=False,
            ),
        )
        for prop in unique:
            _load_unique(conn, portal, obj, prop=prop, ids=ids, values=props[prop])
        if n:
            registry.bump_ids(conn, portal, int(ids.max()))
    registry.invalidate(portal)
    return n


def _forget_unique(
    conn: sqlite3.Connection, portal: Portal, obj: ObjectType, ids: np.ndarray
) -> None:
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS load_ids(id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM load_ids")
    conn.executemany("INSERT OR IGNORE INTO load_ids VALUES (?)", ((int(i),) for i in ids))
    conn.execute(
        "DELETE FROM uniq WHERE portal_id=? AND obj=? AND id IN (SELECT id FROM load_ids)",
        (portal.portal_id, obj.code),
    )
    conn.execute("DELETE FROM load_ids")


def _load_unique(
    conn: sqlite3.Connection,
    portal: Portal,
    obj: ObjectType,
    *,
    prop: str,
    ids: np.ndarray,
    values: pd.Series,
) -> None:
    """Index unique values; the lowest id keeps a value that several records share."""
    present = values.notna().to_numpy(dtype=bool)
    keys = values[present].astype(str)
    if prop == "email":
        keys = keys.str.lower()
    first = ~keys.duplicated().to_numpy()
    conn.executemany(
        "INSERT OR IGNORE INTO uniq(portal_id, obj, prop, value, id) VALUES (?,?,?,?,?)",
        zip(
            repeat(portal.portal_id),
            repeat(obj.code),
            repeat(prop),
            keys[first].tolist(),
            ids[present][first].tolist(),
            strict=False,
        ),
    )


# long function: checks, then one write transaction: a problem leaves the portal unchanged
def load_associations(
    store: Store,
    registry: Registry,
    labels: Labels,
    portal: Portal,
    df: pd.DataFrame,
) -> int:
    """Load association rows; returns the number of stored directional rows added."""
    source = "load_associations"
    need = ["from_object", "from_id", "to_object", "to_id", "label"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise SandboxError(f"{source}: missing column(s) {', '.join(missing)}", field=missing[0])
    df = df.reset_index(drop=True)
    from_ids = _ids(df["from_id"], source, "from_id")
    to_ids = _ids(df["to_id"], source, "to_id")
    label = df["label"].astype(object).where(df["label"].notna(), None)
    before = _count(store, portal)
    with store.write() as conn, store.bulk(conn):
        parts: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        existing: dict[int, np.ndarray] = {}
        pairs = df.groupby(["from_object", "to_object"], sort=False, dropna=False).indices
        for key, found in pairs.items():
            f_name, t_name = cast(tuple[object, object], key)
            rows = np.asarray(found)
            schema = registry.schema(portal)
            f_obj, t_obj = _object(schema, f_name, source), _object(schema, t_name, source)
            unl = schema.unlabeled(f_obj.code, t_obj.code)
            if unl is None:
                raise SandboxError(f"{source}: {f_obj.name} cannot be associated with {t_obj.name}")
            type_of: dict[object, int] = {}
            for text in pd.unique(label.iloc[rows]):
                type_of[text] = _label_type(
                    conn,
                    labels,
                    registry,
                    portal,
                    f_obj=f_obj,
                    t_obj=t_obj,
                    text=text,
                    source=source,
                )
            schema = registry.schema(portal)
            f_ids, t_ids = from_ids[rows], to_ids[rows]
            _check_exist(
                conn,
                portal,
                f_obj,
                f_ids,
                rows=rows,
                source=source,
                column="from_id",
                cache=existing,
            )
            _check_exist(
                conn, portal, t_obj, t_ids, rows=rows, source=source, column="to_id", cache=existing
            )
            if f_obj.code == t_obj.code and (f_ids == t_ids).any():
                row = int(rows[np.flatnonzero(f_ids == t_ids)[0]])
                raise SandboxError(
                    f"{source}: row {row + 1}: a record cannot be linked to itself", row=row + 1
                )
            types = np.fromiter(
                (type_of[v] for v in label.iloc[rows]), dtype="int64", count=len(rows)
            )
            inverse = _inverse(schema, types)
            fo = np.full(len(rows), f_obj.code, dtype="int64")
            to = np.full(len(rows), t_obj.code, dtype="int64")
            unl_col = np.full(len(rows), unl.type_id, dtype="int64")
            inv_unl = np.full(len(rows), unl.inverse_id, dtype="int64")
            labelled = types != unl.type_id
            parts += [
                np.column_stack([fo, f_ids, to, t_ids, types]),
                np.column_stack([to, t_ids, fo, f_ids, inverse]),
                np.column_stack([fo, f_ids, to, t_ids, unl_col])[labelled],
                np.column_stack([to, t_ids, fo, f_ids, inv_unl])[labelled],
            ]
            primary = schema.primary(f_obj.code, t_obj.code)
            if primary is not None:
                is_p = types == primary.type_id
                if is_p.any():
                    if primary.primary_owner == "from":
                        owners.append(np.column_stack([fo, f_ids, to, t_ids, types])[is_p])
                    else:
                        owners.append(np.column_stack([to, t_ids, fo, f_ids, inverse])[is_p])
        if owners:
            _move_primaries(conn, registry.schema(portal), portal, np.concatenate(owners), source)
        if parts:
            rows_all = _sorted_unique(np.concatenate(parts))
            for start in range(0, len(rows_all), _CHUNK):
                chunk = rows_all[start : start + _CHUNK]
                conn.executemany(
                    "INSERT OR IGNORE INTO assoc VALUES (?,?,?,?,?,?)",
                    zip(
                        repeat(portal.portal_id),
                        *(chunk[:, i].tolist() for i in range(5)),
                        strict=False,
                    ),
                )
    registry.invalidate(portal)
    return _count(store, portal) - before


def _sorted_unique(rows: np.ndarray) -> np.ndarray:
    """Rows (from_obj, from_id, to_obj, to_id, type) grouped by from record, in key order.

    Sorting by the packed from-key alone is enough for fast B-tree inserts (a
    record has few links); duplicates are left to ``INSERT OR IGNORE``.
    """
    if not len(rows):
        return rows
    if rows[:, 0].max() < 2**12 and rows[:, 1].max() < 2**50:
        return rows[np.argsort((rows[:, 0] << 50) | rows[:, 1], kind="stable")]
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]


def _count(store: Store, portal: Portal) -> int:
    with store.read() as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM assoc WHERE portal_id=?", (portal.portal_id,)
            ).fetchone()[0]
        )


def _inverse(schema: PortalSchema, types: np.ndarray) -> np.ndarray:
    present = pd.unique(types)
    lut = np.zeros(int(present.max()) + 1 if len(present) else 1, dtype="int64")
    for t in present:
        lut[int(t)] = schema.assoc_types[int(t)].inverse_id
    out: np.ndarray = lut[types]
    return out


def _object(schema: PortalSchema, name: object, source: str) -> ObjectType:
    obj = schema.aliases.get(str(name).lower()) if isinstance(name, str) else None
    if obj is None:
        raise SandboxError(f"{source}: unknown object type {name!r}")
    return obj


def _label_type(
    conn: sqlite3.Connection,
    labels: Labels,
    registry: Registry,
    portal: Portal,
    *,
    f_obj: ObjectType,
    t_obj: ObjectType,
    text: object,
    source: str,
) -> int:
    schema = registry.schema(portal)
    if text is None:
        unl = schema.unlabeled(f_obj.code, t_obj.code)
        assert unl is not None
        return unl.type_id
    label = str(text)
    if label == "Primary":
        primary = schema.primary(f_obj.code, t_obj.code)
        if primary is None:
            raise SandboxError(
                f"{source}: {f_obj.name}→{t_obj.name} has no HubSpot-defined primary type "
                "(only contact, deal or ticket → company)"
            )
        return primary.type_id
    found = schema.by_label(f_obj.code, t_obj.code, label)
    if found is not None:
        return found.type_id
    return labels.create_in(conn, portal, f_obj, t_obj, label)[0].type_id


def _check_exist(
    conn: sqlite3.Connection,
    portal: Portal,
    obj: ObjectType,
    ids: np.ndarray,
    *,
    rows: np.ndarray,
    source: str,
    column: str,
    cache: dict[int, np.ndarray],
) -> None:
    have = cache.get(obj.code)
    if have is None:
        have = np.fromiter(
            (
                r[0]
                for r in conn.execute(
                    "SELECT id FROM records WHERE portal_id=? AND obj=? AND archived=0",
                    (portal.portal_id, obj.code),
                )
            ),
            dtype="int64",
        )
        cache[obj.code] = have
    bad = ~pd.Series(ids).isin(pd.Index(have)).to_numpy()
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        row = int(rows[pos]) + 1
        raise SandboxError(
            f"{source}: row {row}, column {column!r}: {obj.singular} {ids[pos]} does not exist "
            "(load the records first)",
            row=row,
            field=column,
        )


def _move_primaries(
    conn: sqlite3.Connection, schema: PortalSchema, portal: Portal, owners: np.ndarray, source: str
) -> None:
    """Check one primary per owner in the frame, and drop owners' other primaries already stored."""
    table = np.unique(owners, axis=0)
    key = pd.DataFrame(table[:, [0, 1, 4]])
    dup = key.duplicated(keep=False).to_numpy()
    if dup.any():
        o_code, o_id, _, _, t = table[np.flatnonzero(dup)[0]]
        raise SandboxError(
            f"{source}: {schema.objects[int(o_code)].singular} {o_id} has more than one primary "
            f"(type {t}) in the data; a record has at most one"
        )
    pid = portal.portal_id
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS load_primary(owner_obj INTEGER, owner_id INTEGER, "
        "to_obj INTEGER, to_id INTEGER, type_id INTEGER)"
    )
    conn.execute("DELETE FROM load_primary")
    conn.executemany("INSERT INTO load_primary VALUES (?,?,?,?,?)", table.tolist())
    old = conn.execute(
        "SELECT a.from_obj, a.from_id, a.to_obj, a.to_id, a.type_id FROM load_primary n "
        "JOIN assoc a ON a.portal_id=? AND a.from_obj=n.owner_obj AND a.from_id=n.owner_id "
        "AND a.to_obj=n.to_obj AND a.type_id=n.type_id WHERE a.to_id<>n.to_id",
        (pid,),
    ).fetchall()
    conn.execute("DELETE FROM load_primary")
    rows = []
    for f_code, f_id, t_code, t_id, type_id in old:
        rows.append((pid, f_code, f_id, t_code, t_id, type_id))
        rows.append((pid, t_code, t_id, f_code, f_id, schema.assoc_types[type_id].inverse_id))
    conn.executemany(
        "DELETE FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? AND to_obj=? "
        "AND to_id=? AND type_id=?",
        rows,
    )
