"""CRM records (v3 objects), without HTTP: read, create, update, archive, batch.

Records are rows of ``records`` with their property values as one JSON object
(text values only; a cleared value is absent). ``hs_object_id``, the create
date and the last-modified date are computed from the row. Unique properties
(contacts' ``email``, ``hasUniqueValue`` properties) are indexed in ``uniq``;
emails compare without regard to case. Archiving a record frees its unique
values and removes its associations, as deleting a record does in HubSpot.

Batch create is all-or-nothing (HubSpot fails the whole batch on a conflict
and reports the first one); batch read, update and upsert report per-input
failures for a 207 multi-status.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assoc_audit.sandbox.associations import Associations, LinkSpec, Ref, Tx, to_record_id
from assoc_audit.sandbox.clock import Clock, parse_timestamp
from assoc_audit.sandbox.exceptions import ApiError, BatchItemError, conflict, not_found, validation
from assoc_audit.sandbox.objecttypes import ObjectType
from assoc_audit.sandbox.portals import Portal, PortalSchema, Registry
from assoc_audit.sandbox.properties import READ_ONLY, coerce_value
from assoc_audit.sandbox.store import Store

__all__ = ["AssocInput", "Objects", "Record", "WriteInput", "record_from_row"]

_COLUMNS = "id, created, updated, archived, archived_at, props"


@dataclass(frozen=True)
class Record:
    """One stored record."""

    id: int
    created: str
    updated: str
    archived: bool
    archived_at: str | None
    props: dict[str, str]


@dataclass(frozen=True)
class AssocInput:
    """An association to create with a new record: the target id and its types."""

    to_id: str
    specs: tuple[LinkSpec, ...]


@dataclass(frozen=True)
class WriteInput:
    """One create/update/upsert input."""

    properties: Mapping[str, Any]
    id: str | None = None
    id_property: str | None = None
    associations: tuple[AssocInput, ...] = field(default=())


def record_from_row(row: Sequence[Any]) -> Record:
    props = json.loads(row[5])
    if None in props.values():
        props = {k: v for k, v in props.items() if v is not None}
    return Record(int(row[0]), row[1], row[2], bool(row[3]), row[4], props)


def _unique_key(prop: str, value: str) -> str:
    return value.lower() if prop == "email" else value


def _invalid_properties(problems: list[dict[str, Any]]) -> ApiError:
    return validation(
        "Property values were not valid: " + json.dumps(problems, separators=(",", ":")),
        errors=[{"message": p["message"], "code": p["error"]} for p in problems],
    )


class Objects:
    """Record operations for every portal in a store."""

    def __init__(self, store: Store, registry: Registry, assoc: Associations, clock: Clock) -> None:
        self._store = store
        self._registry = registry
        self._assoc = assoc
        self._clock = clock

    # -- lookups -------------------------------------------------------------------

    @staticmethod
    def _resolve_ids(
        tx: Tx, obj: ObjectType, keys: Sequence[str], id_property: str | None
    ) -> dict[str, int]:
        """Map each key (an id, or a unique property value) to a record id where one exists."""
        out: dict[str, int] = {}
        if id_property in (None, "", "hs_object_id"):
            for key in keys:
                rid = to_record_id(key)
                if rid is not None:
                    out[key] = rid
            return out
        assert id_property is not None
        prop = tx.schema.props(obj).get(id_property)
        if prop is None or not prop.has_unique_value:
            raise validation(
                f"{id_property} is not a unique property of {obj.name}; "
                "idProperty must name a property with unique values",
                context={"idProperty": [id_property]},
            )
        for key in keys:
            row = tx.conn.execute(
                "SELECT id FROM uniq WHERE portal_id=? AND obj=? AND prop=? AND value=?",
                (tx.pid, obj.code, id_property, _unique_key(id_property, key)),
            ).fetchone()
            if row is not None:
                out[key] = int(row[0])
        return out

    @staticmethod
    def _fetch(
        tx: Tx, obj: ObjectType, ids: Sequence[int], archived: bool | None
    ) -> dict[int, Record]:
        out: dict[int, Record] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            sql = f"SELECT {_COLUMNS} FROM records WHERE portal_id=? AND obj=? AND id IN ({marks})"
            args: list[Any] = [tx.pid, obj.code, *chunk]
            if archived is not None:
                sql += " AND archived=?"
                args.append(int(archived))
            for row in tx.conn.execute(sql, args):
                rec = record_from_row(row)
                out[rec.id] = rec
        return out

    def _find(self, tx: Tx, obj: ObjectType, key: str, id_property: str | None) -> Record | None:
        ids = self._resolve_ids(tx, obj, [key], id_property)
        if key not in ids:
            return None
        return self._fetch(tx, obj, [ids[key]], False).get(ids[key])

    # -- reads ------------------------------------------------------------------------

    def list_page(
        self, portal: Portal, obj: ObjectType, *, limit: int, after: int | None, archived: bool
    ) -> tuple[list[Record], int | None]:
        """Records in id order after the cursor; the second item is the next cursor."""
        with self._store.read() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM records WHERE portal_id=? AND obj=? AND id>? "
                "AND archived=? ORDER BY id LIMIT ?",
                (
                    portal.portal_id,
                    obj.code,
                    -1 if after is None else after,
                    int(archived),
                    limit + 1,
                ),
            ).fetchall()
        records = [record_from_row(r) for r in rows[:limit]]
        return records, (records[-1].id if len(rows) > limit else None)

    def get(
        self,
        portal: Portal,
        obj: ObjectType,
        key: str,
        *,
        id_property: str | None = None,
        archived: bool = False,
    ) -> Record:
        with self._assoc.read_tx(portal) as tx:
            ids = self._resolve_ids(tx, obj, [key], id_property)
            found = self._fetch(tx, obj, list(ids.values()), archived)
        if key not in ids or ids[key] not in found:
            raise not_found(context={"id": [key]})
        return found[ids[key]]

    def batch_read(
        self,
        portal: Portal,
        obj: ObjectType,
        keys: Sequence[str],
        *,
        id_property: str | None = None,
        archived: bool = False,
    ) -> tuple[list[Record], list[BatchItemError]]:
        unique_keys = list(dict.fromkeys(keys))
        with self._assoc.read_tx(portal) as tx:
            ids = self._resolve_ids(tx, obj, unique_keys, id_property)
            found = self._fetch(tx, obj, list(dict.fromkeys(ids.values())), archived)
        results: list[Record] = []
        seen: set[int] = set()
        missing: list[str] = []
        for key in unique_keys:
            rid = ids.get(key)
            if rid is None or rid not in found:
                missing.append(key)
            elif rid not in seen:
                seen.add(rid)
                results.append(found[rid])
        return results, _missing(obj, "get", missing)

    # -- writes ------------------------------------------------------------------------

    @staticmethod
    def _clean(
        schema: PortalSchema, obj: ObjectType, properties: Mapping[str, Any]
    ) -> tuple[dict[str, str | None], str | None]:
        """Validated property values (None = clear) and a create-date override."""
        defs = schema.props(obj)
        out: dict[str, str | None] = {}
        problems: list[dict[str, Any]] = []
        created: str | None = None
        for name, value in properties.items():
            prop = defs.get(name)
            if prop is None:
                problems.append(
                    _problem(name, f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST")
                )
                continue
            if name in READ_ONLY:
                problems.append(
                    _problem(
                        name,
                        f"{name} is a read only property; its value cannot be set.",
                        "READ_ONLY_VALUE",
                    )
                )
                continue
            text = coerce_value(prop, name, value)
            if name == obj.created_property:
                created = parse_timestamp(text) if text else None
                continue
            if text is not None and prop.type in ("datetime", "date"):
                text = parse_timestamp(text) or text
            out[name] = text
        if problems:
            raise _invalid_properties(problems)
        return out, created

    @staticmethod
    def _check_unique(
        tx: Tx, obj: ObjectType, rid: int | None, values: Mapping[str, str | None]
    ) -> None:
        for prop in tx.schema.unique_properties(obj):
            value = values.get(prop)
            if value is None:
                continue
            row = tx.conn.execute(
                "SELECT id FROM uniq WHERE portal_id=? AND obj=? AND prop=? AND value=?",
                (tx.pid, obj.code, prop, _unique_key(prop, value)),
            ).fetchone()
            if row is not None and int(row[0]) != rid:
                existing = int(row[0])
                if prop == "email":
                    message = f"{obj.singular.capitalize()} already exists. Existing ID: {existing}"
                else:
                    message = (
                        f"A {obj.singular} with {prop} {value!r} already exists. "
                        f"Existing ID: {existing}"
                    )
                raise conflict(message, context={"existingId": [str(existing)], "property": [prop]})

    @staticmethod
    def _write_unique(
        tx: Tx, obj: ObjectType, rid: int, before: Mapping[str, str], after: Mapping[str, str]
    ) -> None:
        for prop in tx.schema.unique_properties(obj):
            old, new = before.get(prop), after.get(prop)
            if old == new:
                continue
            if old is not None:
                tx.conn.execute(
                    "DELETE FROM uniq WHERE portal_id=? AND obj=? AND prop=? AND value=? AND id=?",
                    (tx.pid, obj.code, prop, _unique_key(prop, old), rid),
                )
            if new is not None:
                tx.conn.execute(
                    "INSERT OR REPLACE INTO uniq VALUES (?,?,?,?,?)",
                    (tx.pid, obj.code, prop, _unique_key(prop, new), rid),
                )

    def _insert(self, tx: Tx, obj: ObjectType, item: WriteInput, rid: int, now: str) -> Record:
        values, created = self._clean(tx.schema, obj, item.properties)
        props = {k: v for k, v in values.items() if v is not None}
        self._check_unique(tx, obj, None, props)
        rec = Record(rid, created or now, now, False, None, props)
        tx.conn.execute(
            "INSERT INTO records VALUES (?,?,?,0,?,?,NULL,?)",
            (tx.pid, obj.code, rid, rec.created, rec.updated, json.dumps(props)),
        )
        self._write_unique(tx, obj, rid, {}, props)
        for assoc in item.associations:
            self._associate_new(tx, Ref(obj, rid), assoc)
        return rec

    def _associate_new(self, tx: Tx, ref: Ref, assoc: AssocInput) -> None:
        if not assoc.specs:
            raise validation("an association input needs at least one type")
        first = tx.schema.assoc_types.get(assoc.specs[0][1])
        if first is None or first.from_code != ref.obj.code:
            raise validation(
                f"{assoc.specs[0][1]} is not a valid association type from {ref.obj.name}",
                sub_category="crm.associations.INVALID_ASSOCIATION_TYPE",
            )
        to_obj = tx.schema.objects[first.to_code]
        types = self._assoc.resolve_specs(tx.schema, ref.obj, to_obj, assoc.specs)
        to_id = to_record_id(assoc.to_id)
        if to_id is None:
            raise not_found(f"{to_obj.upper} {assoc.to_id} does not exist")
        self._assoc.link(tx, ref, Ref(to_obj, to_id), types)

    def create(self, portal: Portal, obj: ObjectType, item: WriteInput) -> Record:
        return self.batch_create(portal, obj, [item])[0]

    def batch_create(
        self, portal: Portal, obj: ObjectType, items: Sequence[WriteInput]
    ) -> list[Record]:
        """Create every input or none (the first problem fails the batch)."""
        now = self._clock.now_iso()
        with self._assoc.write_tx(portal) as tx:
            first = self._registry.take_ids(tx.conn, portal, len(items))
            return [self._insert(tx, obj, item, first + i, now) for i, item in enumerate(items)]

    def _update_one(
        self, tx: Tx, obj: ObjectType, rec: Record, properties: Mapping[str, Any], now: str
    ) -> Record:
        values, created = self._clean(tx.schema, obj, properties)
        props = dict(rec.props)
        for name, value in values.items():
            if value is None:
                props.pop(name, None)
            else:
                props[name] = value
        self._check_unique(tx, obj, rec.id, props)
        new = Record(rec.id, created or rec.created, now, False, None, props)
        tx.conn.execute(
            "UPDATE records SET created=?, updated=?, props=? WHERE portal_id=? AND obj=? AND id=?",
            (new.created, now, json.dumps(props), tx.pid, obj.code, rec.id),
        )
        self._write_unique(tx, obj, rec.id, rec.props, props)
        return new

    def update(self, portal: Portal, obj: ObjectType, item: WriteInput) -> Record:
        records, errors = self.batch_update(portal, obj, [item])
        if errors:
            raise not_found(context={"id": [str(item.id)]})
        return records[0]

    def batch_update(
        self, portal: Portal, obj: ObjectType, items: Sequence[WriteInput]
    ) -> tuple[list[Record], list[BatchItemError]]:
        keys = [str(i.id) for i in items]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise validation(f"Duplicate IDs found in batch input: {dupes}")
        now = self._clock.now_iso()
        results: list[Record] = []
        missing: list[str] = []
        with self._assoc.write_tx(portal) as tx:
            for item in items:
                rec = self._find(tx, obj, str(item.id), item.id_property)
                if rec is None:
                    missing.append(str(item.id))
                    continue
                results.append(self._update_one(tx, obj, rec, item.properties, now))
        return results, _missing(obj, "update", missing)

    def batch_upsert(
        self, portal: Portal, obj: ObjectType, items: Sequence[WriteInput]
    ) -> list[tuple[Record, bool]]:
        """Update the record each input names by its unique property, or create it."""
        keys = [(i.id_property, str(i.id)) for i in items]
        if len(set(keys)) != len(keys):
            raise validation("Duplicate IDs found in batch input")
        now = self._clock.now_iso()
        out: list[tuple[Record, bool]] = []
        with self._assoc.write_tx(portal) as tx:
            for item in items:
                if not item.id_property:
                    raise validation("idProperty is required for each upsert input")
                key = str(item.id)
                rec = self._find(tx, obj, key, item.id_property)
                if rec is not None:
                    out.append((self._update_one(tx, obj, rec, item.properties, now), False))
                    continue
                if item.id_property == "hs_object_id":
                    raise validation(f"{obj.singular} {key} does not exist; cannot upsert by id")
                props = {**item.properties, item.id_property: key}
                rid = self._registry.take_ids(tx.conn, portal, 1)
                out.append((self._insert(tx, obj, WriteInput(props), rid, now), True))
        return out

    def archive(self, portal: Portal, obj: ObjectType, keys: Sequence[str]) -> None:
        """Archive records (ids that do not exist are ignored, as HubSpot does)."""
        now = self._clock.now_iso()
        with self._assoc.write_tx(portal) as tx:
            ids = self._resolve_ids(tx, obj, list(keys), None)
            for rec in self._fetch(tx, obj, list(ids.values()), False).values():
                tx.conn.execute(
                    "UPDATE records SET archived=1, archived_at=?, updated=? "
                    "WHERE portal_id=? AND obj=? AND id=?",
                    (now, now, tx.pid, obj.code, rec.id),
                )
                self._write_unique(tx, obj, rec.id, rec.props, {})
                self._assoc.remove_record(tx, Ref(obj, rec.id))


def _problem(name: str, message: str, error: str) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": error, "name": name}


def _missing(obj: ObjectType, verb: str, keys: list[str]) -> list[BatchItemError]:
    if not keys:
        return []
    return [
        BatchItemError(
            category="OBJECT_NOT_FOUND",
            message=f"Could not {verb} some {obj.upper} objects, they may be deleted or not "
            "exist. Check that ids are valid.",
            context={"ids": keys},
        )
    ]
