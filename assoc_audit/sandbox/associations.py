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
from dataclasses import dataclass

from .exceptions import ApiError, not_found, validation
from .objecttypes import AssocType, ObjectType
from .portals import Portal, PortalSchema, Registry
from .store import Store

__all__ = ["AssocPage", "Associations", "Link", "LinkSpec", "to_record_id"]

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


class Associations:
    """Reads and writes of association rows for every portal in a store."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self._store = store
        self._registry = registry

    # -- helpers -----------------------------------------------------------------

    @staticmethod
    def record_exists(conn: sqlite3.Connection, portal: Portal, obj: ObjectType, rid: int) -> bool:
        row = conn.execute(
            "SELECT 1 FROM records WHERE portal_id=? AND obj=? AND id=? AND archived=0",
            (portal.portal_id, obj.code, rid),
        ).fetchone()
        return row is not None

    @staticmethod
    def _pair_type_ids(
        conn: sqlite3.Connection, portal: Portal, a: ObjectType, a_id: int, b: ObjectType, b_id: int
    ) -> set[int]:
        rows = conn.execute(
            "SELECT type_id FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? "
            "AND to_obj=? AND to_id=?",
            (portal.portal_id, a.code, a_id, b.code, b_id),
        ).fetchall()
        return {int(r[0]) for r in rows}

    @staticmethod
    def _count(
        conn: sqlite3.Connection, portal: Portal, a_code: int, a_id: int, b_code: int, type_id: int
    ) -> int:
        row = conn.execute(
            "SELECT count(*) FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? "
            "AND to_obj=? AND type_id=?",
            (portal.portal_id, a_code, a_id, b_code, type_id),
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
        self,
        conn: sqlite3.Connection,
        portal: Portal,
        schema: PortalSchema,
        from_obj: ObjectType,
        from_id: int,
        to_obj: ObjectType,
        to_id: int,
        types: Sequence[AssocType],
        *,
        enforce_limits: bool = True,
    ) -> list[AssocType]:
        """Add ``types`` (and the unlabeled type) between two records; returns the new ones."""
        if from_obj.code == to_obj.code and from_id == to_id:
            raise validation(f"cannot associate {from_obj.singular} {from_id} with itself")
        for obj, rid in ((from_obj, from_id), (to_obj, to_id)):
            if not self.record_exists(conn, portal, obj, rid):
                raise not_found(
                    f"{obj.upper} {rid} does not exist",
                    context={"objectType": [obj.name], "id": [str(rid)]},
                )
        unlabeled = schema.unlabeled(from_obj.code, to_obj.code)
        if unlabeled is None:
            raise validation(f"{from_obj.name} cannot be associated with {to_obj.name}")
        wanted = {unlabeled.type_id, *(t.type_id for t in types)}
        existing = self._pair_type_ids(conn, portal, from_obj, from_id, to_obj, to_id)
        new = [schema.assoc_types[t] for t in sorted(wanted - existing)]
        if not new:
            return []
        pid = portal.portal_id
        if enforce_limits:
            for t in new:
                inverse = schema.assoc_types[t.inverse_id]
                for typ, a_code, a_id, b_obj in (
                    (t, from_obj.code, from_id, to_obj),
                    (inverse, to_obj.code, to_id, from_obj),
                ):
                    limit = schema.limits.get(typ.type_id)
                    if limit is None or typ.kind == "primary":
                        continue
                    held = self._count(conn, portal, a_code, a_id, b_obj.code, typ.type_id)
                    if held >= limit:
                        owner = schema.objects[a_code]
                        raise validation(
                            f"{owner.singular} {a_id} already has {held} association(s) of type "
                            f"{typ.type_id} to {b_obj.name}; the limit configured for this type "
                            f"is {limit}",
                            sub_category=LIMIT_SUBCATEGORY,
                            context={
                                "fromObjectId": [str(a_id)],
                                "associationTypeId": [str(typ.type_id)],
                                "limit": [str(limit)],
                            },
                        )
        for t in new:
            if t.kind == "primary":
                self._clear_primary(conn, portal, schema, t, from_obj, from_id, to_obj, to_id)
        rows = []
        for t in new:
            rows.append((pid, from_obj.code, from_id, to_obj.code, to_id, t.type_id))
            rows.append((pid, to_obj.code, to_id, from_obj.code, from_id, t.inverse_id))
        conn.executemany("INSERT OR IGNORE INTO assoc VALUES (?,?,?,?,?,?)", rows)
        return new

    def _clear_primary(
        self,
        conn: sqlite3.Connection,
        portal: Portal,
        schema: PortalSchema,
        t: AssocType,
        from_obj: ObjectType,
        from_id: int,
        to_obj: ObjectType,
        to_id: int,
    ) -> None:
        """Remove the owner's current primary (another record) before setting a new one."""
        if t.primary_owner == "from":
            owner, owner_id, other, other_id, owner_type = from_obj, from_id, to_obj, to_id, t
        else:
            owner, owner_id, other, other_id = to_obj, to_id, from_obj, from_id
            owner_type = schema.assoc_types[t.inverse_id]
        pid = portal.portal_id
        old = [
            int(r[0])
            for r in conn.execute(
                "SELECT to_id FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? "
                "AND to_obj=? AND type_id=? AND to_id<>?",
                (pid, owner.code, owner_id, other.code, owner_type.type_id, other_id),
            )
        ]
        for old_id in old:
            self._delete_types(conn, portal, owner, owner_id, other, old_id, [owner_type], schema)

    @staticmethod
    def _delete_types(
        conn: sqlite3.Connection,
        portal: Portal,
        a: ObjectType,
        a_id: int,
        b: ObjectType,
        b_id: int,
        types: Sequence[AssocType],
        schema: PortalSchema,
    ) -> None:
        pid = portal.portal_id
        rows = []
        for t in types:
            rows.append((pid, a.code, a_id, b.code, b_id, t.type_id))
            rows.append((pid, b.code, b_id, a.code, a_id, t.inverse_id))
        conn.executemany(
            "DELETE FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? AND to_obj=? "
            "AND to_id=? AND type_id=?",
            rows,
        )

    def unlink(
        self,
        conn: sqlite3.Connection,
        portal: Portal,
        schema: PortalSchema,
        from_obj: ObjectType,
        from_id: int,
        to_obj: ObjectType,
        to_id: int,
        types: Sequence[AssocType] | None = None,
    ) -> None:
        """Remove ``types`` between two records; None, or the unlabeled type, removes all."""
        if types is None or any(t.kind == "unlabeled" for t in types):
            pid = portal.portal_id
            conn.execute(
                "DELETE FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? AND to_obj=? "
                "AND to_id=?",
                (pid, from_obj.code, from_id, to_obj.code, to_id),
            )
            conn.execute(
                "DELETE FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? AND to_obj=? "
                "AND to_id=?",
                (pid, to_obj.code, to_id, from_obj.code, from_id),
            )
            return
        self._delete_types(conn, portal, from_obj, from_id, to_obj, to_id, types, schema)

    def remove_record(self, conn: sqlite3.Connection, portal: Portal, obj: ObjectType, rid: int) -> None:
        """Remove every association of a record (it was archived)."""
        pid = portal.portal_id
        others = conn.execute(
            "SELECT DISTINCT to_obj, to_id FROM assoc WHERE portal_id=? AND from_obj=? "
            "AND from_id=?",
            (pid, obj.code, rid),
        ).fetchall()
        conn.executemany(
            "DELETE FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? AND to_obj=? "
            "AND to_id=?",
            [(pid, o, i, obj.code, rid) for o, i in others],
        )
        conn.execute(
            "DELETE FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=?",
            (pid, obj.code, rid),
        )

    # -- reads -------------------------------------------------------------------

    def page(
        self,
        conn: sqlite3.Connection,
        portal: Portal,
        schema: PortalSchema,
        from_obj: ObjectType,
        from_id: int,
        to_obj: ObjectType,
        *,
        after: int | None,
        limit: int,
    ) -> AssocPage:
        """Up to ``limit`` associated records (by to id) after the ``after`` cursor."""
        cur = conn.execute(
            "SELECT to_id, type_id FROM assoc WHERE portal_id=? AND from_obj=? AND from_id=? "
            "AND to_obj=? AND to_id>? ORDER BY to_id, type_id",
            (portal.portal_id, from_obj.code, from_id, to_obj.code, -1 if after is None else after),
        )
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
            t = schema.assoc_types.get(type_id)
            if t is not None:
                types.append(t)
        else:
            if current is not None and types:
                links.append(Link(current, tuple(types)))
        cur.close()
        next_after = links[-1].to_id if more and links else None
        return AssocPage(from_id, tuple(links), next_after)

    def record_maps(
        self,
        conn: sqlite3.Connection,
        portal: Portal,
        schema: PortalSchema,
        from_obj: ObjectType,
        ids: Sequence[int],
        to_obj: ObjectType,
        limit: int,
    ) -> dict[int, tuple[list[tuple[int, AssocType]], int | None]]:
        """For each record, its first ``limit`` (to id, type) pairs and whether more exist."""
        out: dict[int, tuple[list[tuple[int, AssocType]], int | None]] = {}
        if not ids:
            return out
        marks = ",".join("?" * len(ids))
        rows = conn.execute(
            "SELECT from_id, to_id, type_id FROM (SELECT from_id, to_id, type_id, "
            "row_number() OVER (PARTITION BY from_id ORDER BY to_id, type_id) AS rn "
            f"FROM assoc WHERE portal_id=? AND from_obj=? AND to_obj=? AND from_id IN ({marks})) "
            "WHERE rn<=? ORDER BY from_id, to_id, type_id",
            (portal.portal_id, from_obj.code, to_obj.code, *ids, limit + 1),
        ).fetchall()
        for from_id, to_id, type_id in rows:
            t = schema.assoc_types.get(type_id)
            if t is None:
                continue
            entries, _ = out.setdefault(from_id, ([], None))
            entries.append((to_id, t))
        for from_id, (entries, _) in list(out.items()):
            if len(entries) > limit:
                out[from_id] = (entries[:limit], entries[limit - 1][0])
        return out

    def missing_error(self, from_obj: ObjectType, to_obj: ObjectType, from_id: str) -> ApiError:
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
