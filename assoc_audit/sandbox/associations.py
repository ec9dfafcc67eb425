"""Association state and rules (v4), without HTTP.

Every link is stored once per direction: ``A→B`` with type ``t`` and ``B→A``
with ``t``'s inverse, so either end reads with one index range scan. Rules,
applied by :meth:`Associations.link` and :meth:`Associations.unlink`:

- a labelled association implies the unlabeled one (it is added with it);
- removing the unlabeled association removes every label on the pair;
- a record has at most one primary company (contact/deal/ticket → company):
  setting a new one moves it;
- association limit configurations (``definitions/configurations``) refuse a
  *new* link when the record already holds the limit; existing links over a
  newly lowered limit stay;
- both records must exist and not be archived.

A refused link raises :class:`ApiError` before anything is written, so batch
callers can record it as one failed input and go on.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, NamedTuple

from assoc_audit.sandbox.exceptions import ApiError, not_found, validation
from assoc_audit.sandbox.objecttypes import AssocType, ObjectType
from assoc_audit.sandbox.portals import Portal, PortalSchema, Registry
from assoc_audit.sandbox.store import Store

__all__ = ["AssocPage", "Associations", "Link", "LinkSpec", "Ref", "Tx", "to_record_id"]

#: ``(associationCategory or None, associationTypeId)`` as a client sends it.
LinkSpec = tuple[str | None, int]

LIMIT_SUBCATEGORY = "crm.associations.ASSOCIATION_LIMIT_EXCEEDED"
NO_ASSOCIATIONS_SUBCATEGORY = "crm.associations.NO_ASSOCIATIONS_FOUND"


def to_record_id(value: object) -> int | None:
    """A record id as an int, or None when it is not a HubSpot record id."""
    text = str(value).strip()
    if not text.isdigit() or len(text) > 18:
        return None
    return int(text)


@dataclass(frozen=True)
class Link:
    """One associated record and the types linking it (sorted by type id)."""

    to_id: int
    types: tuple[AssocType, ...]


@dataclass(frozen=True)
class AssocPage:
    """One page of a record's associations to one object type."""

    from_id: int
    links: tuple[Link, ...]
    next_after: int | None  # the last to_id of this page when another page exists


class Ref(NamedTuple):
    """One record: its object type and id."""

    obj: ObjectType
    id: int


@dataclass(frozen=True)
class Tx:
    """An open transaction on one portal, with that portal's schema."""

    conn: sqlite3.Connection
    portal: Portal
    schema: PortalSchema

    @property
    def pid(self) -> int:
        return self.portal.portal_id


class Associations:
    """Reads and writes of association rows for every portal in a store."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self._store = store
        self._registry = registry

    def read_tx(self, portal: Portal) -> _TxContext:
        """``with assoc.read_tx(portal) as tx:`` — a read transaction with the schema."""
        return _TxContext(self._store, self._registry, portal, write=False)

    def write_tx(self, portal: Portal) -> _TxContext:
        """``with assoc.write_tx(portal) as tx:`` — the write transaction with the schema."""
        return _TxContext(self._store, self._registry, portal, write=True)

    # -- helpers -----------------------------------------------------------------

    @staticmethod
    def record_exists(tx: Tx, ref: Ref) -> bool:
        row = tx.conn.execute(
            "SELECT 1 FROM records WHERE portal_id=? AND obj=? AND id=? AND archived=0",
            (tx.pid, ref.obj.code, ref.id),
        ).fetchone()
        return row is not None

    @staticmethod
    def _pair_type_ids(tx: Tx, a: Ref, b: Ref) -> set[int]:
        rows = tx.conn.execute(
            "SELECT type_id FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? "
            "AND to_obj=? AND to_id=?",
            (tx.pid, a.obj.code, a.id, b.obj.code, b.id),
        ).fetchall()
        return {int(r[0]) for r in rows}

    @staticmethod
    def _count(tx: Tx, a: Ref, b_code: int, type_id: int) -> int:
        row = tx.conn.execute(
            "SELECT count(*) FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? "
            "AND to_obj=? AND type_id=?",
            (tx.pid, a.obj.code, a.id, b_code, type_id),
        ).fetchone()
        return int(row[0])

    @staticmethod
    def resolve_specs(
        schema: PortalSchema, from_obj: ObjectType, to_obj: ObjectType, specs: Iterable[LinkSpec]
    ) -> list[AssocType]:
        """The association types ``specs`` name on from→to (400 for any other)."""
        out: list[AssocType] = []
        for category, type_id in specs:
            t = schema.assoc_types.get(type_id)
            if (
                t is None
                or t.from_code != from_obj.code
                or t.to_code != to_obj.code
                or (category is not None and category != t.category)
            ):
                raise validation(
                    f"{category or ''}:{type_id} is not a valid association type from "
                    f"{from_obj.name} to {to_obj.name}",
                    sub_category="crm.associations.INVALID_ASSOCIATION_TYPE",
                    context={"associationTypeId": [str(type_id)]},
                )
            out.append(t)
        return out

    # -- writes ------------------------------------------------------------------

    def link(
        self, tx: Tx, a: Ref, b: Ref, types: Sequence[AssocType], *, enforce_limits: bool = True
    ) -> list[AssocType]:
        """Add ``types`` (and the unlabeled type) from ``a`` to ``b``; returns the new ones."""
        schema = tx.schema
        if a.obj.code == b.obj.code and a.id == b.id:
            raise validation(f"cannot associate {a.obj.singular} {a.id} with itself")
        for ref in (a, b):
            if not self.record_exists(tx, ref):
                raise not_found(
                    f"{ref.obj.upper} {ref.id} does not exist",
                    context={"objectType": [ref.obj.name], "id": [str(ref.id)]},
                )
        unlabeled = schema.unlabeled(a.obj.code, b.obj.code)
        if unlabeled is None:
            raise validation(f"{a.obj.name} cannot be associated with {b.obj.name}")
        wanted = {unlabeled.type_id, *(t.type_id for t in types)}
        new = [schema.assoc_types[t] for t in sorted(wanted - self._pair_type_ids(tx, a, b))]
        if not new:
            return []
        if enforce_limits:
            for t in new:
                self._check_limit(tx, t, a, b)
                self._check_limit(tx, schema.assoc_types[t.inverse_id], b, a)
        for t in new:
            if t.kind == "primary":
                self._clear_primary(tx, t, a, b)
        rows = []
        for t in new:
            rows.append((tx.pid, a.obj.code, a.id, b.obj.code, b.id, t.type_id))
            rows.append((tx.pid, b.obj.code, b.id, a.obj.code, a.id, t.inverse_id))
        tx.conn.executemany("INSERT OR IGNORE INTO assoc VALUES (?,?,?,?,?,?)", rows)
        return new

    def _check_limit(self, tx: Tx, t: AssocType, a: Ref, b: Ref) -> None:
        """Refuse a new ``t`` link from ``a`` when ``a`` holds the configured limit already."""
        limit = tx.schema.limits.get(t.type_id)
        if limit is None or t.kind == "primary":
            return
        held = self._count(tx, a, b.obj.code, t.type_id)
        if held >= limit:
            raise validation(
                f"{a.obj.singular} {a.id} already has {held} association(s) of type "
                f"{t.type_id} to {b.obj.name}; the limit configured for this type is {limit}",
                sub_category=LIMIT_SUBCATEGORY,
                context={
                    "fromObjectId": [str(a.id)],
                    "associationTypeId": [str(t.type_id)],
                    "limit": [str(limit)],
                },
            )

    def _clear_primary(self, tx: Tx, t: AssocType, a: Ref, b: Ref) -> None:
        """Remove the owner's current primary (another record) before setting a new one."""
        if t.primary_owner == "from":
            owner, other, owner_type = a, b, t
        else:
            owner, other, owner_type = b, a, tx.schema.assoc_types[t.inverse_id]
        old = [
            int(r[0])
            for r in tx.conn.execute(
                "SELECT to_id FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? "
                "AND to_obj=? AND type_id=? AND to_id<>?",
                (tx.pid, owner.obj.code, owner.id, other.obj.code, owner_type.type_id, other.id),
            )
        ]
        for old_id in old:
            self._delete_types(tx, owner, Ref(other.obj, old_id), [owner_type])

    @staticmethod
    def _delete_types(tx: Tx, a: Ref, b: Ref, types: Sequence[AssocType]) -> None:
        rows = []
        for t in types:
            rows.append((tx.pid, a.obj.code, a.id, b.obj.code, b.id, t.type_id))
            rows.append((tx.pid, b.obj.code, b.id, a.obj.code, a.id, t.inverse_id))
        tx.conn.executemany(
            "DELETE FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? AND to_obj=? "
            "AND to_id=? AND type_id=?",
            rows,
        )

    def unlink(self, tx: Tx, a: Ref, b: Ref, types: Sequence[AssocType] | None = None) -> None:
        """Remove ``types`` between two records; None, or the unlabeled type, removes all."""
        if types is None or any(t.kind == "unlabeled" for t in types):
            sql = (
                "DELETE FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? AND to_obj=? "
                "AND to_id=?"
            )
            tx.conn.execute(sql, (tx.pid, a.obj.code, a.id, b.obj.code, b.id))
            tx.conn.execute(sql, (tx.pid, b.obj.code, b.id, a.obj.code, a.id))
            return
        self._delete_types(tx, a, b, types)

    @staticmethod
    def remove_record(tx: Tx, ref: Ref) -> None:
        """Remove every association of a record (it was archived)."""
        others = tx.conn.execute(
            "SELECT DISTINCT to_obj, to_id FROM assoc WHERE portal_id=? AND from_obj=? "
            "AND from_id=?",
            (tx.pid, ref.obj.code, ref.id),
        ).fetchall()
        tx.conn.executemany(
            "DELETE FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? AND to_obj=? "
            "AND to_id=?",
            [(tx.pid, o, i, ref.obj.code, ref.id) for o, i in others],
        )
        tx.conn.execute(
            "DELETE FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=?",
            (tx.pid, ref.obj.code, ref.id),
        )

    # -- reads -------------------------------------------------------------------

    @staticmethod
    def page(tx: Tx, a: Ref, to_obj: ObjectType, *, after: int | None, limit: int) -> AssocPage:
        """Up to ``limit`` associated records (by to id) after the ``after`` cursor."""
        cur = tx.conn.execute(
            "SELECT to_id, type_id FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? "
            "AND to_obj=? AND to_id>? ORDER BY to_id, type_id",
            (tx.pid, a.obj.code, a.id, to_obj.code, -1 if after is None else after),
        )
        types_of = tx.schema.assoc_types
        links: list[Link] = []
        current: int | None = None
        types: list[AssocType] = []
        more = False
        for to_id, type_id in cur:
            if to_id != current:
                if current is not None and types:
                    links.append(Link(current, tuple(types)))
                if len(links) >= limit:
                    more = True
                    break
                current, types = to_id, []
            t = types_of.get(type_id)
            if t is not None:
                types.append(t)
        else:
            if current is not None and types:
                links.append(Link(current, tuple(types)))
        cur.close()
        next_after = links[-1].to_id if more and links else None
        return AssocPage(a.id, tuple(links), next_after)

    @staticmethod
    def record_maps(
        tx: Tx, from_obj: ObjectType, ids: Sequence[int], to_obj: ObjectType, limit: int
    ) -> dict[int, tuple[list[tuple[int, AssocType]], int | None]]:
        """For each record, its first ``limit`` (to id, type) pairs and whether more exist."""
        out: dict[int, tuple[list[tuple[int, AssocType]], int | None]] = {}
        if not ids:
            return out
        marks = ",".join("?" * len(ids))
        rows = tx.conn.execute(
            "SELECT from_id, to_id, type_id FROM (SELECT from_id, to_id, type_id, "
            "row_number() OVER (PARTITION BY from_id ORDER BY to_id, type_id) AS rn "
            f"FROM assoc WHERE portal_id=? AND from_obj=? AND to_obj=? AND from_id IN ({marks})) "
            "WHERE rn<=? ORDER BY from_id, to_id, type_id",
            (tx.pid, from_obj.code, to_obj.code, *ids, limit + 1),
        ).fetchall()
        for from_id, to_id, type_id in rows:
            t = tx.schema.assoc_types.get(type_id)
            if t is None:
                continue
            entries, _ = out.setdefault(from_id, ([], None))
            entries.append((to_id, t))
        for from_id, (entries, _) in list(out.items()):
            if len(entries) > limit:
                out[from_id] = (entries[:limit], entries[limit - 1][0])
        return out

    @staticmethod
    def missing_error(from_obj: ObjectType, to_obj: ObjectType, from_id: str) -> ApiError:
        """HubSpot's per-input error for a batch read input without associations."""
        return ApiError(
            404,
            "OBJECT_NOT_FOUND",
            f"No {to_obj.singular} is associated with {from_obj.singular} {from_id}.",
            sub_category=NO_ASSOCIATIONS_SUBCATEGORY,
            context={
                "fromObjectId": [from_id],
                "fromObjectType": [from_obj.singular],
                "toObjectType": [to_obj.singular],
            },
        )


class _TxContext:
    def __init__(self, store: Store, registry: Registry, portal: Portal, *, write: bool) -> None:
        self._store = store
        self._registry = registry
        self._portal = portal
        self._write = write
        self._cm: AbstractContextManager[sqlite3.Connection] | None = None

    def __enter__(self) -> Tx:
        self._cm = self._store.write() if self._write else self._store.read()
        conn = self._cm.__enter__()
        return Tx(conn, self._portal, self._registry.schema(self._portal))

    def __exit__(self, *exc: Any) -> None:
        assert self._cm is not None
        self._cm.__exit__(*exc)
