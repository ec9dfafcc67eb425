"""Association label definitions and association limit configurations (v4 schema API).

A label is a USER_DEFINED association type on one object pair and direction;
creating one also creates its inverse (the same link read from the other
end), labelled ``inverseLabel`` or, without one, the same text. On a
self-pair (company→company) a label without an inverse is its own inverse.
USER_DEFINED type ids come from a per-portal counter that starts at a
different number in every portal, so clients cannot hard-code them.

Limit configurations cap how many records of the target type one record may
be linked to with a given type (``maxToObjectIds``); they are checked when a
link is created (see :mod:`~assoc_audit.sandbox.associations`).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import replace

from assoc_audit.sandbox.exceptions import ApiError, BatchItemError, conflict, not_found, validation
from assoc_audit.sandbox.objecttypes import AssocType, ObjectType
from assoc_audit.sandbox.portals import Portal, PortalSchema, Registry
from assoc_audit.sandbox.store import Store

__all__ = ["Labels", "LimitInput"]

#: ``(category or None, typeId, maxToObjectIds)`` of one configuration input.
LimitInput = tuple[str | None, int, int]


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "label"


class Labels:
    """Label definitions and limit configurations for every portal in a store."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self._store = store
        self._registry = registry

    # -- label definitions --------------------------------------------------------------

    def definitions(
        self, portal: Portal, from_obj: ObjectType, to_obj: ObjectType
    ) -> list[AssocType]:
        schema = self._registry.schema(portal)
        return sorted(schema.pair_types(from_obj.code, to_obj.code), key=lambda t: t.type_id)

    def create(
        self,
        portal: Portal,
        from_obj: ObjectType,
        to_obj: ObjectType,
        label: str,
        *,
        name: str | None = None,
        inverse_label: str | None = None,
    ) -> list[AssocType]:
        """Create a label on from→to (and its inverse); returns [type, inverse]."""
        with self._store.write() as conn:
            out = self.create_in(
                conn, portal, from_obj, to_obj, label, name=name, inverse_label=inverse_label
            )
        self._registry.invalidate(portal)
        return out

    def create_in(
        self,
        conn: sqlite3.Connection,
        portal: Portal,
        from_obj: ObjectType,
        to_obj: ObjectType,
        label: str,
        *,
        name: str | None = None,
        inverse_label: str | None = None,
    ) -> list[AssocType]:
        """:meth:`create` inside the caller's write transaction."""
        if not isinstance(label, str) or not label.strip():
            raise validation("label must be non-empty text")
        schema = self._registry.schema(portal)
        if schema.unlabeled(from_obj.code, to_obj.code) is None:
            raise validation(f"{from_obj.name} cannot be associated with {to_obj.name}")
        name = name or _snake(label)
        for t in schema.pair_types(from_obj.code, to_obj.code):
            if t.label == label or (t.kind == "label" and t.name == name):
                raise conflict(
                    f"An association label {label!r} (name {name!r}) already exists from "
                    f"{from_obj.name} to {to_obj.name}",
                    context={"typeId": [str(t.type_id)]},
                )
        self_pair = from_obj.code == to_obj.code
        type_id = self._registry.take_type_id(conn, portal)
        inverse_id = (
            type_id
            if self_pair and inverse_label is None
            else self._registry.take_type_id(conn, portal)
        )
        forward = AssocType(
            type_id, "USER_DEFINED", from_obj.code, to_obj.code, "label", label, name, inverse_id
        )
        types = [forward]
        if inverse_id != type_id:
            types.append(
                AssocType(
                    inverse_id,
                    "USER_DEFINED",
                    to_obj.code,
                    from_obj.code,
                    "label",
                    inverse_label or label,
                    f"{name}_inverse" if self_pair else name,
                    type_id,
                )
            )
        self._registry.save_assoc_types(conn, portal, types)
        self._registry.invalidate(portal)
        return types

    def _user_type(
        self, schema: PortalSchema, from_obj: ObjectType, to_obj: ObjectType, type_id: int
    ) -> AssocType:
        t = schema.assoc_types.get(type_id)
        if t is None or t.from_code != from_obj.code or t.to_code != to_obj.code:
            raise not_found(
                f"No association label with typeId {type_id} from {from_obj.name} to {to_obj.name}"
            )
        if t.category != "USER_DEFINED":
            raise validation(f"association type {type_id} is HubSpot-defined and cannot be changed")
        return t

    def update(
        self,
        portal: Portal,
        from_obj: ObjectType,
        to_obj: ObjectType,
        type_id: int,
        *,
        label: str | None,
        inverse_label: str | None = None,
    ) -> None:
        schema = self._registry.schema(portal)
        t = self._user_type(schema, from_obj, to_obj, type_id)
        changed = []
        if label:
            changed.append(replace(t, label=label))
        if inverse_label and t.inverse_id != t.type_id:
            changed.append(replace(schema.assoc_types[t.inverse_id], label=inverse_label))
        with self._store.write() as conn:
            self._registry.save_assoc_types(conn, portal, changed)
        self._registry.invalidate(portal)

    def delete(
        self, portal: Portal, from_obj: ObjectType, to_obj: ObjectType, type_id: int
    ) -> None:
        """Delete a label (and its inverse), with every link of those types."""
        schema = self._registry.schema(portal)
        t = self._user_type(schema, from_obj, to_obj, type_id)
        ids = sorted({t.type_id, t.inverse_id})
        marks = ",".join("?" * len(ids))
        pid = portal.portal_id
        with self._store.write() as conn:
            for table in ("assoc_types", "assoc_limits"):
                conn.execute(
                    f"DELETE FROM {table} WHERE portal_id=? AND type_id IN ({marks})", (pid, *ids)
                )
            conn.execute(
                f"DELETE FROM assoc WHERE portal_id=? AND from_obj IN (?,?) AND to_obj IN (?,?) "
                f"AND type_id IN ({marks})",
                (pid, from_obj.code, to_obj.code, from_obj.code, to_obj.code, *ids),
            )
        self._registry.invalidate(portal)

    # -- limit configurations -------------------------------------------------------------

    def limit_configs(
        self, portal: Portal, from_obj: ObjectType | None = None, to_obj: ObjectType | None = None
    ) -> list[tuple[AssocType, int]]:
        """Configured limits (all, or of one pair and direction), by type id."""
        schema = self._registry.schema(portal)
        out = []
        for type_id, limit in sorted(schema.limits.items()):
            t = schema.assoc_types.get(type_id)
            if t is None:
                continue
            if from_obj is not None and (t.from_code != from_obj.code):
                continue
            if to_obj is not None and (t.to_code != to_obj.code):
                continue
            out.append((t, limit))
        return out

    def set_limits(
        self,
        portal: Portal,
        from_obj: ObjectType,
        to_obj: ObjectType,
        items: Sequence[LimitInput],
        *,
        mode: str,
    ) -> tuple[list[tuple[AssocType, int]], list[BatchItemError]]:
        """Create (``mode="create"``) or change (``"update"``) limits; per-input errors."""
        schema = self._registry.schema(portal)
        done: list[tuple[AssocType, int]] = []
        errors: list[BatchItemError] = []
        limits = dict(schema.limits)
        with self._store.write() as conn:
            for category, type_id, max_to in items:
                try:
                    t = self._check_limit(
                        schema,
                        limits,
                        from_obj=from_obj,
                        to_obj=to_obj,
                        category=category,
                        type_id=type_id,
                        max_to=max_to,
                        mode=mode,
                    )
                except ApiError as exc:
                    errors.append(exc.item())
                    continue
                limits[type_id] = max_to
                conn.execute(
                    "INSERT OR REPLACE INTO assoc_limits(portal_id, type_id, max_to) "
                    "VALUES (?,?,?)",
                    (portal.portal_id, type_id, max_to),
                )
                done.append((t, max_to))
        self._registry.invalidate(portal)
        return done, errors

    @staticmethod
    def _check_limit(
        schema: PortalSchema,
        limits: dict[int, int],
        *,
        from_obj: ObjectType,
        to_obj: ObjectType,
        category: str | None,
        type_id: int,
        max_to: int,
        mode: str,
    ) -> AssocType:
        t = schema.assoc_types.get(type_id)
        if (
            t is None
            or t.from_code != from_obj.code
            or t.to_code != to_obj.code
            or (category is not None and category != t.category)
        ):
            raise validation(
                f"{category}:{type_id} is not an association type from {from_obj.name} to "
                f"{to_obj.name}",
                context={"typeId": [str(type_id)]},
            )
        if t.kind == "primary":
            raise validation(f"the primary association type {type_id} always allows one record")
        if mode == "create" and type_id in limits:
            raise conflict(
                f"A limit is already configured for type {type_id}; use batch/update to change it",
                context={"typeId": [str(type_id)]},
            )
        if mode == "update" and type_id not in limits:
            raise not_found(
                f"No limit is configured for type {type_id}; use batch/create",
                context={"typeId": [str(type_id)]},
            )
        ceiling = None
        if t.kind == "label":
            unlabeled = schema.unlabeled(from_obj.code, to_obj.code)
            ceiling = limits.get(unlabeled.type_id) if unlabeled is not None else None
        if not isinstance(max_to, int) or max_to < 1 or (ceiling is not None and max_to > ceiling):
            top = ceiling if ceiling is not None else "the object limit"
            raise validation(
                f"maxToObjectIds for type {type_id} must be between 1 and {top}, got {max_to}",
                context={"typeId": [str(type_id)]},
            )
        return t

    def purge_limits(
        self, portal: Portal, from_obj: ObjectType, to_obj: ObjectType, type_ids: Sequence[int]
    ) -> None:
        schema = self._registry.schema(portal)
        with self._store.write() as conn:
            for type_id in type_ids:
                t = schema.assoc_types.get(type_id)
                if t is None or t.from_code != from_obj.code or t.to_code != to_obj.code:
                    raise validation(
                        f"{type_id} is not an association type from {from_obj.name} "
                        f"to {to_obj.name}"
                    )
                conn.execute(
                    "DELETE FROM assoc_limits WHERE portal_id=? AND type_id=?",
                    (portal.portal_id, type_id),
                )
        self._registry.invalidate(portal)
