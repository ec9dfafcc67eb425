"""HTTP handlers for CRM v3 objects, search and properties: parse, call the backend, format.

Each handler takes a :class:`~.wire.Request` and returns a :class:`~.wire.Response`
with exactly the success status the official SDK expects (201 for creates,
200 for reads and updates, 207 when some batch inputs failed, 204 for
archives).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assoc_audit.sandbox.exceptions import ApiError, BatchItemError, not_found, validation
from assoc_audit.sandbox.models import SandboxBackend
from assoc_audit.sandbox.objects import AssocInput, Record, WriteInput
from assoc_audit.sandbox.objecttypes import ObjectType
from assoc_audit.sandbox.portals import Portal, PortalSchema
from assoc_audit.sandbox.search import SearchRequest
from assoc_audit.sandbox.wire import (
    Request,
    Response,
    batch_body,
    decode_cursor,
    link_specs,
    paging,
    record_json,
    v3_association_map,
)

__all__ = ["ObjectResponses"]


def _write_input(raw: Any, *, need_id: bool = False, need_props: bool = True) -> WriteInput:
    if not isinstance(raw, dict):
        raise validation("Invalid input JSON: each input must be an object")
    props = raw.get("properties", {} if not need_props else None)
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise validation("Invalid input JSON: 'properties' must be an object")
    if need_id and raw.get("id") in (None, ""):
        raise validation("Invalid input JSON: each input needs an 'id'")
    assocs = []
    for a in raw.get("associations") or []:
        if not isinstance(a, dict) or not isinstance(a.get("to"), dict):
            raise validation("each association needs 'to': {'id': …} and 'types'")
        assocs.append(AssocInput(str(a["to"].get("id")), link_specs(a.get("types"))))
    return WriteInput(
        properties=props,
        id=None if raw.get("id") is None else str(raw["id"]),
        id_property=raw.get("idProperty") or None,
        associations=tuple(assocs),
    )


class ObjectResponses:
    """Handlers for ``/crm/v3/objects/...`` and ``/crm/v3/properties/...``."""

    def __init__(self, backend: SandboxBackend) -> None:
        self.backend = backend

    def _ctx(self, req: Request) -> tuple[Portal, PortalSchema, ObjectType]:
        assert req.portal is not None
        schema = self.backend.registry.schema(req.portal)
        return req.portal, schema, schema.resolve(req.params["object_type"])

    def _format(
        self,
        req: Request,
        portal: Portal,
        schema: PortalSchema,
        obj: ObjectType,
        records: Sequence[Record],
        *,
        props: list[str] | None,
        history: list[str] | None,
        assoc_names: list[str] | None,
    ) -> list[dict[str, Any]]:
        maps: dict[int, dict[str, Any]] = {}
        if assoc_names and records:
            ids = [r.id for r in records]
            with self.backend.associations.read_tx(portal) as tx:
                for name in dict.fromkeys(assoc_names):
                    to_obj = schema.aliases.get(name.lower())
                    if to_obj is None or schema.unlabeled(obj.code, to_obj.code) is None:
                        continue
                    found = self.backend.associations.record_maps(
                        tx, obj, ids, to_obj, req.limits.record_assoc_max
                    )
                    for rid, (entries, more) in found.items():
                        maps.setdefault(rid, {})[to_obj.name] = v3_association_map(entries, more)
        return [
            record_json(r, obj, schema, props, history=history, associations=maps.get(r.id))
            for r in records
        ]

    # -- basic ---------------------------------------------------------------------

    def list_page(self, req: Request) -> Response:
        portal, schema, obj = self._ctx(req)
        history = req.list_param("propertiesWithHistory")
        page_max = req.limits.history_page_max if history else req.limits.list_page_max
        limit = req.int_param("limit", 10)
        if limit < 1:
            raise validation(f"limit must be at least 1, got {limit}")
        if limit > page_max:
            if req.limits.list_over_max == "error":
                raise validation(
                    f"limit must be less than or equal to {page_max}, got {limit}",
                    context={"limit": [str(limit)]},
                )
            limit = page_max
        records, next_after = self.backend.objects.list_page(
            portal,
            obj,
            limit=limit,
            after=decode_cursor(req.param("after")),
            archived=req.bool_param("archived"),
        )
        results = self._format(
            req,
            portal,
            schema,
            obj,
            records,
            props=req.list_param("properties"),
            history=history,
            assoc_names=req.list_param("associations"),
        )
        link = f"/crm/v3/objects/{req.params['object_type']}"
        return Response(200, {"results": results, **paging(next_after, link=link)})

    def get(self, req: Request) -> Response:
        portal, schema, obj = self._ctx(req)
        rec = self.backend.objects.get(
            portal,
            obj,
            req.params["object_id"],
            id_property=req.param("idProperty"),
            archived=req.bool_param("archived"),
        )
        result = self._format(
            req,
            portal,
            schema,
            obj,
            [rec],
            props=req.list_param("properties"),
            history=req.list_param("propertiesWithHistory"),
            assoc_names=req.list_param("associations"),
        )
        return Response(200, result[0])

    def create(self, req: Request) -> Response:
        portal, schema, obj = self._ctx(req)
        item = _write_input(req.json_body(), need_props=False)
        rec = self.backend.objects.create(portal, obj, item)
        return Response(201, record_json(rec, obj, schema, list(item.properties)))

    def update(self, req: Request) -> Response:
        portal, schema, obj = self._ctx(req)
        raw = req.json_body()
        item = _write_input(raw)
        item = WriteInput(item.properties, req.params["object_id"], req.param("idProperty"))
        rec = self.backend.objects.update(portal, obj, item)
        return Response(200, record_json(rec, obj, schema, list(item.properties)))

    def archive(self, req: Request) -> Response:
        portal, _, obj = self._ctx(req)
        self.backend.objects.archive(portal, obj, [req.params["object_id"]])
        return Response(204)

    # -- batch ---------------------------------------------------------------------------

    def batch_read(self, req: Request) -> Response:
        portal, schema, obj = self._ctx(req)
        body = req.json_body()
        history = body.get("propertiesWithHistory") if isinstance(body, dict) else None
        cap = req.limits.batch_read_history_max if history else req.limits.batch_read_max
        inputs = req.inputs(cap)
        keys = []
        for raw in inputs:
            if not isinstance(raw, dict) or raw.get("id") in (None, ""):
                raise validation("Invalid input JSON: each input needs an 'id'")
            keys.append(str(raw["id"]))
        started = self.backend.clock.now_iso()
        records, errors = self.backend.objects.batch_read(
            portal,
            obj,
            keys,
            id_property=body.get("idProperty") or None,
            archived=req.bool_param("archived"),
        )
        props = body.get("properties")
        results = self._format(
            req,
            portal,
            schema,
            obj,
            records,
            props=list(props) if isinstance(props, list) else None,
            history=list(history) if isinstance(history, list) else None,
            assoc_names=None,
        )
        return self._batch(results, errors, started, ok=200)

    def _batch(
        self, results: list[Any], errors: Sequence[BatchItemError], started: str, *, ok: int
    ) -> Response:
        body = batch_body(results, errors, started, self.backend.clock.now_iso())
        return Response(207 if errors else ok, body)

    def batch_create(self, req: Request) -> Response:
        portal, schema, obj = self._ctx(req)
        items = [_write_input(raw) for raw in req.inputs(req.limits.batch_max)]
        started = self.backend.clock.now_iso()
        records = self.backend.objects.batch_create(portal, obj, items)
        results = [
            record_json(r, obj, schema, list(i.properties))
            for r, i in zip(records, items, strict=True)
        ]
        return self._batch(results, [], started, ok=201)

    def batch_update(self, req: Request) -> Response:
        portal, schema, obj = self._ctx(req)
        items = [_write_input(raw, need_id=True) for raw in req.inputs(req.limits.batch_max)]
        started = self.backend.clock.now_iso()
        records, errors = self.backend.objects.batch_update(portal, obj, items)
        wanted = sorted({p for i in items for p in i.properties})
        results = [record_json(r, obj, schema, wanted) for r in records]
        return self._batch(results, errors, started, ok=200)

    def batch_upsert(self, req: Request) -> Response:
        portal, schema, obj = self._ctx(req)
        items = [_write_input(raw, need_id=True) for raw in req.inputs(req.limits.batch_max)]
        started = self.backend.clock.now_iso()
        done = self.backend.objects.batch_upsert(portal, obj, items)
        wanted = sorted(
            {p for i in items for p in i.properties} | {i.id_property or "" for i in items} - {""}
        )
        results = [{**record_json(r, obj, schema, wanted), "new": new} for r, new in done]
        return self._batch(results, [], started, ok=200)

    def batch_archive(self, req: Request) -> Response:
        portal, _, obj = self._ctx(req)
        keys = []
        for raw in req.inputs(req.limits.batch_max):
            if not isinstance(raw, dict) or raw.get("id") in (None, ""):
                raise validation("Invalid input JSON: each input needs an 'id'")
            keys.append(str(raw["id"]))
        self.backend.objects.archive(portal, obj, keys)
        return Response(204)

    # -- search -----------------------------------------------------------------------

    def search(self, req: Request) -> Response:
        portal, schema, obj = self._ctx(req)
        body = req.json_body()
        if not isinstance(body, dict):
            raise validation("Invalid input JSON: the search body must be an object")
        groups = []
        for g in body.get("filterGroups") or []:
            filters = g.get("filters") if isinstance(g, dict) else None
            if not isinstance(filters, list):
                raise validation("each filterGroup needs a 'filters' list")
            groups.append(tuple(filters))
        try:
            limit = int(body.get("limit", 10) if body.get("limit") is not None else 10)
            after = int(body.get("after") or 0)
        except (TypeError, ValueError):
            raise validation("limit and after must be whole numbers") from None
        search = SearchRequest(
            filter_groups=tuple(groups),
            sorts=tuple(body.get("sorts") or ()),
            query=body.get("query") or None,
            limit=limit,
            after=after,
        )
        records, total, next_after = self.backend.search.run(
            portal, obj, search, req.limits.search_caps()
        )
        props = body.get("properties")
        results = [
            record_json(r, obj, schema, list(props) if isinstance(props, list) and props else None)
            for r in records
        ]
        out: dict[str, Any] = {"total": total, "results": results}
        if next_after is not None:
            out["paging"] = {"next": {"after": str(next_after), "link": None}}
        return Response(200, out)

    # -- properties -------------------------------------------------------------------------

    def properties_list(self, req: Request) -> Response:
        _, schema, obj = self._ctx(req)
        if req.bool_param("archived"):
            return Response(200, {"results": []})
        return Response(200, {"results": [p.to_api() for p in schema.props(obj).values()]})

    def property_get(self, req: Request) -> Response:
        _, schema, obj = self._ctx(req)
        prop = schema.props(obj).get(req.params["property_name"])
        if prop is None:
            raise not_found(
                f"Unable to find property {req.params['property_name']!r} on {obj.name}"
            )
        return Response(200, prop.to_api())

    def property_create(self, req: Request) -> Response:
        portal, _, obj = self._ctx(req)
        body = req.json_body()
        if not isinstance(body, dict):
            raise validation("Invalid input JSON: the property must be an object")
        prop = self.backend.create_property(portal, obj.name, body)
        return Response(201, prop.to_api())

    def property_update(self, req: Request) -> Response:
        portal, _, obj = self._ctx(req)
        body = req.json_body()
        if not isinstance(body, dict):
            raise validation("Invalid input JSON: the property must be an object")
        prop = self.backend.update_property(portal, obj.name, req.params["property_name"], body)
        return Response(200, prop.to_api())

    def property_archive(self, req: Request) -> Response:
        portal, _, obj = self._ctx(req)
        self.backend.archive_property(portal, obj.name, req.params["property_name"])
        return Response(204)

    def properties_batch_read(self, req: Request) -> Response:
        _, schema, obj = self._ctx(req)
        started = self.backend.clock.now_iso()
        results, missing = [], []
        for raw in req.inputs(req.limits.batch_read_max):
            name = str(raw.get("name")) if isinstance(raw, dict) else ""
            prop = schema.props(obj).get(name)
            if prop is None:
                missing.append(name)
            else:
                results.append(prop.to_api())
        errors = (
            [
                BatchItemError(
                    category="OBJECT_NOT_FOUND",
                    message=f"Unable to find some properties on {obj.name}",
                    context={"names": missing},
                )
            ]
            if missing
            else []
        )
        return self._batch(results, errors, started, ok=200)

    def properties_batch_create(self, req: Request) -> Response:
        portal, _, obj = self._ctx(req)
        started = self.backend.clock.now_iso()
        results, errors = [], []
        for raw in req.inputs(req.limits.batch_max):
            try:
                if not isinstance(raw, dict):
                    raise validation("Invalid input JSON: each property must be an object")
                results.append(self.backend.create_property(portal, obj.name, raw).to_api())
            except ApiError as exc:
                errors.append(exc.item())
        return self._batch(results, errors, started, ok=201)

    def properties_batch_archive(self, req: Request) -> Response:
        portal, _, obj = self._ctx(req)
        for raw in req.inputs(req.limits.batch_max):
            name = str(raw.get("name")) if isinstance(raw, dict) else ""
            self.backend.archive_property(portal, obj.name, name)
        return Response(204)
