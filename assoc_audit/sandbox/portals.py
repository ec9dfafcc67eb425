"""Portals (one per token) and each portal's schema: object types, properties,
association types and association limits.

Tokens are never stored: a portal is found by the SHA-256 of its token. A
portal's schema is read from SQLite once and cached (:class:`PortalSchema` is
an immutable snapshot); every change to it calls :meth:`Registry.invalidate`,
which drops the cached copy again after the change commits, so readers on
other threads never keep a stale one.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from assoc_audit.sandbox.exceptions import ApiError, validation
from assoc_audit.sandbox.objecttypes import HUBSPOT_DEFINED, STANDARD_OBJECTS, AssocType, ObjectType
from assoc_audit.sandbox.properties import PropertyDef, standard_properties
from assoc_audit.sandbox.store import PORTAL_TABLES, Store

__all__ = ["Portal", "PortalSchema", "Registry", "token_hash"]

FIRST_RECORD_ID = 1001
FIRST_OBJECT_CODE = 100
HUB_ID_BASE = 90_000_000

UNAUTHORIZED_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
    "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def unauthorized() -> ApiError:
    return ApiError(401, "INVALID_AUTHENTICATION", UNAUTHORIZED_MESSAGE)


@dataclass(frozen=True)
class Portal:
    """One emulated HubSpot account."""

    portal_id: int
    hub_id: int


@dataclass(frozen=True)
class PortalSchema:
    """An immutable snapshot of one portal's object types, properties and association types."""

    objects: dict[int, ObjectType]
    aliases: dict[str, ObjectType]
    properties: dict[int, dict[str, PropertyDef]]
    assoc_types: dict[int, AssocType]
    limits: dict[int, int] = field(default_factory=dict)

    def resolve(self, name: str) -> ObjectType:
        """The object type a URL names (``contacts``, ``contact``, ``0-1``, …)."""
        obj = self.aliases.get(name.lower())
        if obj is None:
            raise validation(f"Unable to infer object type from: {name}")
        return obj

    def props(self, obj: ObjectType) -> dict[str, PropertyDef]:
        return self.properties.get(obj.code, {})

    def unique_properties(self, obj: ObjectType) -> tuple[str, ...]:
        return tuple(p.name for p in self.props(obj).values() if p.has_unique_value)

    def pair_types(self, from_code: int, to_code: int) -> list[AssocType]:
        return [
            t
            for t in self.assoc_types.values()
            if t.from_code == from_code and t.to_code == to_code
        ]

    def unlabeled(self, from_code: int, to_code: int) -> AssocType | None:
        for t in self.pair_types(from_code, to_code):
            if t.kind == "unlabeled":
                return t
        return None

    def primary(self, from_code: int, to_code: int) -> AssocType | None:
        for t in self.pair_types(from_code, to_code):
            if t.kind == "primary":
                return t
        return None

    def by_label(self, from_code: int, to_code: int, label: str) -> AssocType | None:
        for t in self.pair_types(from_code, to_code):
            if t.kind == "label" and t.label == label:
                return t
        return None


class Registry:
    """Token → portal, and each portal's cached schema."""

    def __init__(self, store: Store, now_iso: Callable[[], str]) -> None:
        self._store = store
        self._now_iso = now_iso
        self._lock = threading.Lock()
        self._by_hash: dict[str, Portal] = {}
        self._schemas: dict[int, PortalSchema] = {}
        self._dirty = threading.local()

    # -- portals ---------------------------------------------------------------

    def find(self, token: str) -> Portal | None:
        """The portal of ``token``, or None."""
        key = token_hash(token)
        portal = self._by_hash.get(key)
        if portal is not None:
            return portal
        with self._store.read() as conn:
            row = conn.execute(
                "SELECT portal_id, hub_id FROM portals WHERE token_hash=?", (key,)
            ).fetchone()
        if row is None:
            return None
        portal = Portal(int(row[0]), int(row[1]))
        with self._lock:
            self._by_hash[key] = portal
        return portal

    def get(self, token: str) -> Portal:
        """The portal of ``token``; an unknown token is HubSpot's 401."""
        portal = self.find(token)
        if portal is None:
            raise unauthorized()
        return portal

    def add(self, token: str) -> Portal:
        """The portal of ``token``, created (empty) if it does not exist yet."""
        if not token or not token.strip():
            raise validation("a sandbox token must not be empty")
        existing = self.find(token)
        if existing is not None:
            return existing
        with self._store.write() as conn:
            row = conn.execute("SELECT coalesce(max(portal_id), 0) + 1 FROM portals").fetchone()
            pid = int(row[0])
            hub_id = HUB_ID_BASE + pid * 1117
            conn.execute(
                "INSERT INTO portals(portal_id, token_hash, hub_id, next_id, next_type_id, "
                "next_object_code, created_at) VALUES (?,?,?,?,?,?,?)",
                (
                    pid,
                    token_hash(token),
                    hub_id,
                    FIRST_RECORD_ID,
                    1000 + pid,
                    FIRST_OBJECT_CODE,
                    self._now_iso(),
                ),
            )
        return self.get(token)

    def all(self) -> list[Portal]:
        with self._store.read() as conn:
            rows = conn.execute(
                "SELECT portal_id, hub_id FROM portals ORDER BY portal_id"
            ).fetchall()
        return [Portal(int(a), int(b)) for a, b in rows]

    def clear(self, portal: Portal) -> None:
        """Remove every record, association, custom type, property and label of ``portal``."""
        with self._store.write() as conn:
            for table in PORTAL_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE portal_id=?", (portal.portal_id,))
            conn.execute(
                "UPDATE portals SET next_id=?, next_type_id=?, next_object_code=? "
                "WHERE portal_id=?",
                (FIRST_RECORD_ID, 1000 + portal.portal_id, FIRST_OBJECT_CODE, portal.portal_id),
            )
        self.invalidate(portal)

    # -- id counters (call inside a write transaction) -------------------------------

    def take_ids(self, conn: sqlite3.Connection, portal: Portal, count: int) -> int:
        """Reserve ``count`` record ids; returns the first."""
        row = conn.execute(
            "UPDATE portals SET next_id = next_id + ? WHERE portal_id=? RETURNING next_id",
            (count, portal.portal_id),
        ).fetchone()
        return int(row[0]) - count

    def bump_ids(self, conn: sqlite3.Connection, portal: Portal, above: int) -> None:
        """Make sure new record ids are larger than ``above``."""
        conn.execute(
            "UPDATE portals SET next_id = max(next_id, ?) WHERE portal_id=?",
            (above + 1, portal.portal_id),
        )

    def take_type_id(self, conn: sqlite3.Connection, portal: Portal) -> int:
        row = conn.execute(
            "UPDATE portals SET next_type_id = next_type_id + 1 WHERE portal_id=? "
            "RETURNING next_type_id",
            (portal.portal_id,),
        ).fetchone()
        return int(row[0]) - 1

    def take_object_code(self, conn: sqlite3.Connection, portal: Portal) -> int:
        row = conn.execute(
            "UPDATE portals SET next_object_code = next_object_code + 1 WHERE portal_id=? "
            "RETURNING next_object_code",
            (portal.portal_id,),
        ).fetchone()
        return int(row[0]) - 1

    # -- schema ------------------------------------------------------------------

    def schema(self, portal: Portal) -> PortalSchema:
        """The portal's schema (fresh inside a write that changed it, else cached)."""
        dirty: set[int] = getattr(self._dirty, "portals", set())
        if portal.portal_id not in dirty:
            cached = self._schemas.get(portal.portal_id)
            if cached is not None:
                return cached
        with self._store.read() as conn:
            schema = _load_schema(conn, portal)
        if portal.portal_id not in dirty:
            with self._lock:
                self._schemas[portal.portal_id] = schema
        return schema

    def invalidate(self, portal: Portal) -> None:
        """Forget the cached schema of ``portal`` (now, and again once the write commits)."""
        pid = portal.portal_id
        with self._lock:
            self._schemas.pop(pid, None)
        if self._store.in_write():
            dirty: set[int] = getattr(self._dirty, "portals", set())
            dirty.add(pid)
            self._dirty.portals = dirty

            def done() -> None:
                with self._lock:
                    self._schemas.pop(pid, None)
                dirty.discard(pid)

            self._store.after_commit(done)

    # -- schema writes (inside a write transaction) ---------------------------

    def save_object_type(self, conn: sqlite3.Connection, portal: Portal, obj: ObjectType) -> None:
        data = asdict(obj)
        conn.execute(
            "INSERT OR REPLACE INTO object_types(portal_id, code, definition) VALUES (?,?,?)",
            (portal.portal_id, obj.code, json.dumps(data)),
        )

    def save_property(
        self, conn: sqlite3.Connection, portal: Portal, obj: ObjectType, prop: PropertyDef
    ) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO properties(portal_id, obj, name, definition) VALUES (?,?,?,?)",
            (portal.portal_id, obj.code, prop.name, prop.to_json()),
        )

    def save_assoc_types(
        self, conn: sqlite3.Connection, portal: Portal, types: Iterable[AssocType]
    ) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO assoc_types(portal_id, type_id, definition) VALUES (?,?,?)",
            [(portal.portal_id, t.type_id, json.dumps(asdict(t))) for t in types],
        )


def _object_from_json(text: str) -> ObjectType:
    data = json.loads(text)
    for key in ("default_properties", "search_properties", "unique_properties", "extra_aliases"):
        data[key] = tuple(data.get(key) or ())
    return ObjectType(**data)


def _load_schema(conn: sqlite3.Connection, portal: Portal) -> PortalSchema:
    pid = portal.portal_id
    objects: dict[int, ObjectType] = {o.code: o for o in STANDARD_OBJECTS}
    for (text,) in conn.execute("SELECT definition FROM object_types WHERE portal_id=?", (pid,)):
        obj = _object_from_json(text)
        objects[obj.code] = obj
    aliases: dict[str, ObjectType] = {}
    for obj in objects.values():
        for alias in obj.aliases:
            aliases[alias.lower()] = obj
    properties: dict[int, dict[str, PropertyDef]] = {
        code: standard_properties(obj) for code, obj in objects.items()
    }
    for code, text in conn.execute(
        "SELECT obj, definition FROM properties WHERE portal_id=?", (pid,)
    ):
        if code in properties:
            prop = PropertyDef.from_json(text)
            properties[code][prop.name] = prop
    types: dict[int, AssocType] = {t.type_id: t for t in HUBSPOT_DEFINED}
    for (text,) in conn.execute("SELECT definition FROM assoc_types WHERE portal_id=?", (pid,)):
        t = AssocType(**json.loads(text))
        types[t.type_id] = t
    limits = {
        int(t): int(m)
        for t, m in conn.execute(
            "SELECT type_id, max_to FROM assoc_limits WHERE portal_id=?", (pid,)
        )
    }
    return PortalSchema(objects, aliases, properties, types, limits)
