"""The emulator's state and logic in one object, without HTTP: :class:`SandboxBackend`.

Everything the HTTP layer serves goes through it, and in-process callers
(seeding, tests, notebooks) use it directly: bulk loading
(:meth:`~SandboxBackend.load_records`, :meth:`~SandboxBackend.load_associations`),
labels, custom object types, and read-only inspection as DataFrames. Every
method takes the portal's token (or a :class:`Portal`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from assoc_audit.sandbox.assoc_batch import AssociationBatch
from assoc_audit.sandbox.associations import Associations
from assoc_audit.sandbox.clock import Clock
from assoc_audit.sandbox.customobjects import register_object
from assoc_audit.sandbox.exceptions import conflict, not_found, validation
from assoc_audit.sandbox.labels import Labels
from assoc_audit.sandbox.objects import Objects
from assoc_audit.sandbox.objecttypes import ObjectType
from assoc_audit.sandbox.portals import Portal, PortalSchema, Registry
from assoc_audit.sandbox.properties import PropertyDef, property_from_request, updated_property
from assoc_audit.sandbox.search import SQL_FUNCTIONS, Search
from assoc_audit.sandbox.store import Store

if TYPE_CHECKING:
    import pandas as pd

#: Text columns of the frames the backend hands out (pandas and NumPy are imported only when
#: frames are loaded or read, so serving the API needs neither).
TEXT: Literal["string[pyarrow]"] = "string[pyarrow]"

__all__ = ["SandboxBackend"]

PortalRef = str | Portal


class SandboxBackend:
    """Every portal's records, associations, labels and limits, stored in SQLite.

    ``data=None`` keeps the database in a temporary file removed by :meth:`close`;
    a path makes the sandbox persist across runs. ``clock`` is injectable for tests.
    """

    def __init__(self, data: Path | str | None = None, *, clock: Clock | None = None) -> None:
        self.clock = clock or Clock()
        self.store = Store(data, functions=SQL_FUNCTIONS)
        self.registry = Registry(self.store, self.clock.now_iso)
        self.associations = Associations(self.store, self.registry)
        self.assoc = AssociationBatch(self.store, self.registry, self.associations)
        self.objects = Objects(self.store, self.registry, self.associations, self.clock)
        self.search = Search(self.store, self.registry)
        self.labels = Labels(self.store, self.registry)

    # -- portals -------------------------------------------------------------------

    def portal(self, token: PortalRef) -> Portal:
        """The portal a token opens (HubSpot's 401 :class:`ApiError` when none)."""
        return token if isinstance(token, Portal) else self.registry.get(token)

    def add_portal(self, token: str) -> Portal:
        """The portal of ``token``, created empty when new."""
        return self.registry.add(token)

    def reset(self, token: PortalRef) -> None:
        """Empty a portal: records, associations, labels, limits, custom types, properties."""
        self.registry.clear(self.portal(token))

    def schema(self, token: PortalRef) -> PortalSchema:
        return self.registry.schema(self.portal(token))

    def object_type(self, token: PortalRef, name: str) -> ObjectType:
        """An object type by any of its names (``contacts``, ``contact``, ``0-1``, …)."""
        return self.schema(token).resolve(name)

    def close(self) -> None:
        self.store.close()

    # -- bulk loading and schema set-up ---------------------------------------------------

    def load_records(self, token: PortalRef, object_type: str, df: pd.DataFrame) -> int:
        """Insert or replace records from a frame (``id`` + one column per property)."""
        from assoc_audit.sandbox.bulk import load_records

        portal = self.portal(token)
        obj = self.object_type(portal, object_type)
        return load_records(self.store, self.registry, self.clock, portal=portal, obj=obj, df=df)

    def load_associations(self, token: PortalRef, df: pd.DataFrame) -> int:
        """Add links from a canonical associations frame (see :mod:`.bulk`)."""
        from assoc_audit.sandbox.bulk import load_associations

        portal = self.portal(token)
        return load_associations(self.store, self.registry, self.labels, portal, df)

    def create_label(
        self,
        token: PortalRef,
        from_object: str,
        to_object: str,
        label: str,
        *,
        inverse_label: str | None = None,
        name: str | None = None,
    ) -> int:
        """Create a USER_DEFINED label on from→to (with its inverse); returns its type id."""
        portal = self.portal(token)
        schema = self.registry.schema(portal)
        types = self.labels.create(
            portal,
            schema.resolve(from_object),
            schema.resolve(to_object),
            label,
            name=name,
            inverse_label=inverse_label,
        )
        return types[0].type_id

    def label_type_id(
        self, token: PortalRef, from_object: str, to_object: str, label: str | None
    ) -> int:
        """The type id of a label text (None = unlabeled, ``Primary``) on from→to."""
        schema = self.schema(token)
        f, t = schema.resolve(from_object), schema.resolve(to_object)
        found = (
            schema.unlabeled(f.code, t.code)
            if label is None
            else schema.primary(f.code, t.code)
            if label == "Primary"
            else schema.by_label(f.code, t.code, label)
        )
        if found is None:
            raise KeyError(f"no association type {label!r} from {f.name} to {t.name}")
        return found.type_id

    def set_association_limit(
        self, token: PortalRef, from_object: str, to_object: str, label: str | None, max_to: int
    ) -> None:
        """Configure (or change) a limit on from→to for a label (None = unlabeled)."""
        portal = self.portal(token)
        schema = self.registry.schema(portal)
        f, t = schema.resolve(from_object), schema.resolve(to_object)
        type_id = self.label_type_id(portal, from_object, to_object, label)
        mode = "update" if type_id in schema.limits else "create"
        _, errors = self.labels.set_limits(portal, f, t, [(None, type_id, max_to)], mode=mode)
        if errors:
            from assoc_audit.sandbox.errors import SandboxError

            raise SandboxError(errors[0].message)

    def register_object(
        self,
        token: PortalRef,
        name: str,
        *,
        singular: str | None = None,
        properties: Sequence[str | Mapping[str, Any]] = (),
        primary_display_property: str | None = None,
    ) -> ObjectType:
        """Register a custom object type; returns it (its ``type_id`` is ``2-N``)."""
        return register_object(
            self.store,
            self.registry,
            self.clock,
            self.portal(token),
            name,
            singular=singular,
            properties=properties,
            primary_display_property=primary_display_property,
        )

    # -- properties ------------------------------------------------------------------------

    def create_property(
        self, token: PortalRef, object_type: str, body: Mapping[str, Any]
    ) -> PropertyDef:
        """Create a property from a Properties API body (409 if the name exists)."""
        portal = self.portal(token)
        obj = self.object_type(portal, object_type)
        prop = property_from_request(body, self.clock.now_iso())
        if prop.name in self.registry.schema(portal).props(obj):
            raise conflict(f"A property named {prop.name!r} already exists on {obj.name}")
        with self.store.write() as conn:
            self.registry.save_property(conn, portal, obj, prop)
        self.registry.invalidate(portal)
        return prop

    def update_property(
        self, token: PortalRef, object_type: str, name: str, body: Mapping[str, Any]
    ) -> PropertyDef:
        portal = self.portal(token)
        obj = self.object_type(portal, object_type)
        prop = self.registry.schema(portal).props(obj).get(name)
        if prop is None:
            raise not_found(f"Unable to find property {name!r} on {obj.name}")
        if prop.hubspot_defined:
            raise validation(f"{name} is a HubSpot-defined property and cannot be changed")
        new = updated_property(prop, body, self.clock.now_iso())
        with self.store.write() as conn:
            self.registry.save_property(conn, portal, obj, new)
        self.registry.invalidate(portal)
        return new

    def archive_property(self, token: PortalRef, object_type: str, name: str) -> None:
        """Archive (delete) a custom property; its values stop being served."""
        portal = self.portal(token)
        obj = self.object_type(portal, object_type)
        prop = self.registry.schema(portal).props(obj).get(name)
        if prop is None:
            return
        if prop.hubspot_defined:
            raise validation(f"{name} is a HubSpot-defined property and cannot be archived")
        with self.store.write() as conn:
            conn.execute(
                "DELETE FROM properties WHERE portal_id=? AND obj=? AND name=?",
                (portal.portal_id, obj.code, name),
            )
            conn.execute(
                "DELETE FROM uniq WHERE portal_id=? AND obj=? AND prop=?",
                (portal.portal_id, obj.code, name),
            )
        self.registry.invalidate(portal)

    # -- inspection ------------------------------------------------------------------------

    def count_records(self, token: PortalRef, object_type: str, *, archived: bool = False) -> int:
        portal = self.portal(token)
        obj = self.object_type(portal, object_type)
        with self.store.read() as conn:
            row = conn.execute(
                "SELECT count(*) FROM records WHERE portal_id=? AND obj=? AND archived=?",
                (portal.portal_id, obj.code, int(archived)),
            ).fetchone()
        return int(row[0])

    def records_frame(
        self, token: PortalRef, object_type: str, properties: Sequence[str] = ()
    ) -> pd.DataFrame:
        """Live records: ``id``, ``createdate``, ``lastmodifieddate``, then ``properties``."""
        import pandas as pd

        portal = self.portal(token)
        obj = self.object_type(portal, object_type)
        with self.store.read() as conn:
            frame = pd.read_sql_query(
                "SELECT id, created, updated, props FROM records WHERE portal_id=? AND obj=? "
                "AND archived=0 ORDER BY id",
                conn,
                params=(portal.portal_id, obj.code),
            )
        out = pd.DataFrame(
            {
                "id": frame["id"].astype(str),
                "createdate": frame["created"],
                "lastmodifieddate": frame["updated"],
            }
        )
        if properties:
            parsed = (
                pd.json_normalize(frame["props"].map(_loads).tolist())
                if len(frame)
                else pd.DataFrame()
            )
            for p in properties:
                out[p] = (
                    parsed[p].astype(object).where(parsed[p].notna(), None) if p in parsed else None
                )
        return out

    def associations_frame(
        self, token: PortalRef, from_object: str, to_object: str
    ) -> pd.DataFrame:
        """Links from→to in the canonical shape (``label`` None = unlabeled, ``Primary``)."""
        import numpy as np
        import pandas as pd

        portal = self.portal(token)
        schema = self.registry.schema(portal)
        f, t = schema.resolve(from_object), schema.resolve(to_object)
        with self.store.read() as conn:
            frame = pd.read_sql_query(
                "SELECT from_id, to_id, type_id FROM assoc WHERE portal_id=? AND from_obj=? "
                "AND to_obj=? ORDER BY from_id, to_id, type_id",
                conn,
                params=(portal.portal_id, f.code, t.code),
            )
        labels = {tid: at.label for tid, at in schema.assoc_types.items()}
        n = len(frame)
        return pd.DataFrame(
            {
                "from_object": pd.Series([f.name] * n, dtype=TEXT),
                "from_id": frame["from_id"].astype(str).astype(TEXT),
                "to_object": pd.Series([t.name] * n, dtype=TEXT),
                "to_id": frame["to_id"].astype(str).astype(TEXT),
                "label": pd.Series(
                    np.array([labels.get(int(x)) for x in frame["type_id"]], dtype=object),
                    dtype=TEXT,
                ),
            }
        )


def _loads(text: str) -> dict[str, Any]:
    import json

    data: dict[str, Any] = json.loads(text)
    return data
