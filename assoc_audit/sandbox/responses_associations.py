"""HTTP handlers for associations v4 and the v4 association schema (labels, limits)."""

from __future__ import annotations

from typing import Any

from assoc_audit.sandbox.assoc_batch import CreatedPair
from assoc_audit.sandbox.associations import AssocPage, LinkSpec
from assoc_audit.sandbox.exceptions import validation
from assoc_audit.sandbox.labels import LimitInput
from assoc_audit.sandbox.models import SandboxBackend
from assoc_audit.sandbox.objecttypes import AssocType, ObjectType
from assoc_audit.sandbox.portals import Portal, PortalSchema
from assoc_audit.sandbox.wire import (
    Request,
    Response,
    batch_body,
    decode_cursor,
    encode_cursor,
    link_specs,
)

__all__ = ["AssociationResponses"]


def _links(page: AssocPage) -> list[dict[str, Any]]:
    return [
        {"toObjectId": link.to_id, "associationTypes": [t.spec() for t in link.types]}
        for link in page.links
    ]


def _pair_json(p: CreatedPair) -> dict[str, Any]:
    return {
        "fromObjectTypeId": p.from_obj.type_id,
        "fromObjectId": p.from_id,
        "toObjectTypeId": p.to_obj.type_id,
        "toObjectId": p.to_id,
        "labels": list(p.labels),
    }


def _id_of(raw: Any, key: str) -> str:
    node = raw.get(key) if isinstance(raw, dict) else None
    if not isinstance(node, dict) or node.get("id") in (None, ""):
        raise validation(f"Invalid input JSON: each input needs '{key}': {{'id': …}}")
    return str(node["id"])


def _config_json(t: AssocType, limit: int) -> dict[str, Any]:
    return {
        "category": t.category,
        "typeId": t.type_id,
        "label": t.label,
        "userEnforcedMaxToObjectIds": limit,
        "maxToObjectIds": limit,
    }


class AssociationResponses:
    """Handlers for ``/crm/v4/objects/.../associations/...`` and ``/crm/v4/associations/...``."""

    def __init__(self, backend: SandboxBackend) -> None:
        self.backend = backend

    def _pair(
        self, req: Request, a: str = "from_type", b: str = "to_type"
    ) -> tuple[Portal, PortalSchema, ObjectType, ObjectType]:
        assert req.portal is not None
        schema = self.backend.registry.schema(req.portal)
        return req.portal, schema, schema.resolve(req.params[a]), schema.resolve(req.params[b])

    # -- per record --------------------------------------------------------------------

    def record_page(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req, "object_type", "to_object_type")
        limit = req.int_param("limit", 500)
        if limit < 1:
            raise validation(f"limit must be at least 1, got {limit}")
        if limit > req.limits.assoc_page_max:
            if req.limits.list_over_max == "error":
                raise validation(f"limit must be less than or equal to {req.limits.assoc_page_max}")
            limit = req.limits.assoc_page_max
        page = self.backend.assoc.page(
            portal,
            f,
            req.params["object_id"],
            t,
            after=decode_cursor(req.param("after")),
            limit=limit,
        )
        body: dict[str, Any] = {"results": _links(page)}
        if page.next_after is not None:
            cursor = encode_cursor(page.next_after)
            body["paging"] = {"next": {"after": cursor, "link": f"?after={cursor}"}}
        return Response(200, body)

    def record_create(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req, "object_type", "to_object_type")
        body = req.json_body()
        if not isinstance(body, list) or not body:
            raise validation("Invalid input JSON: expected a non-empty list of association specs")
        specs: tuple[LinkSpec, ...] = link_specs(body)
        results, errors = self.backend.assoc.create(
            portal, f, t, [(req.params["object_id"], req.params["to_object_id"], specs)]
        )
        if errors:
            err = errors[0]
            raise err.error()
        return Response(201, _pair_json(results[0]))

    def record_default(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req, "object_type", "to_object_type")
        started = self.backend.clock.now_iso()
        results, errors = self.backend.assoc.create_default(
            portal, f, t, [(req.params["object_id"], req.params["to_object_id"])]
        )
        if errors:
            raise errors[0].error()
        return Response(
            200,
            batch_body(self._defaults(f, t, results), [], started, self.backend.clock.now_iso()),
        )

    @staticmethod
    def _defaults(f: ObjectType, t: ObjectType, results: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "from": {"id": str(r.from_id)},
                "to": {"id": str(r.to_id)},
                "associationSpec": {
                    "associationCategory": r.type.category,
                    "associationTypeId": r.type.type_id,
                },
            }
            for r in results
        ]

    def record_archive(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req, "object_type", "to_object_type")
        self.backend.assoc.archive(
            portal, f, t, [(req.params["object_id"], [req.params["to_object_id"]])]
        )
        return Response(204)

    # -- batch ---------------------------------------------------------------------------

    def batch_read(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req)
        inputs: list[tuple[str, int | None]] = []
        for raw in req.inputs(req.limits.assoc_batch_read_max):
            if not isinstance(raw, dict) or raw.get("id") in (None, ""):
                raise validation("Invalid input JSON: each input needs an 'id'")
            after = raw.get("after")
            inputs.append((str(raw["id"]), decode_cursor(str(after)) if after else None))
        started = self.backend.clock.now_iso()
        results, errors = self.backend.assoc.read(
            portal, f, t, inputs, req.limits.assoc_batch_read_page
        )
        out = []
        for from_text, page in results:
            item: dict[str, Any] = {"from": {"id": from_text}, "to": _links(page)}
            if page.next_after is not None:
                cursor = encode_cursor(page.next_after)
                item["paging"] = {"next": {"after": cursor, "link": None}}
            out.append(item)
        body = batch_body(out, errors, started, self.backend.clock.now_iso())
        return Response(207 if errors else 200, body)

    def batch_create(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req)
        items = []
        for raw in req.inputs(req.limits.assoc_batch_write_max):
            items.append((_id_of(raw, "from"), _id_of(raw, "to"), link_specs(raw.get("types"))))
        started = self.backend.clock.now_iso()
        results, errors = self.backend.assoc.create(portal, f, t, items)
        body = batch_body(
            [_pair_json(p) for p in results], errors, started, self.backend.clock.now_iso()
        )
        return Response(207 if errors else 201, body)

    def batch_default(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req)
        items = [
            (_id_of(raw, "from"), _id_of(raw, "to"))
            for raw in req.inputs(req.limits.assoc_batch_write_max)
        ]
        started = self.backend.clock.now_iso()
        results, errors = self.backend.assoc.create_default(portal, f, t, items)
        body = batch_body(
            self._defaults(f, t, results), errors, started, self.backend.clock.now_iso()
        )
        return Response(200, body)

    def batch_archive(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req)
        items = []
        for raw in req.inputs(req.limits.assoc_batch_write_max):
            to = raw.get("to") if isinstance(raw, dict) else None
            if not isinstance(to, list):
                raise validation("Invalid input JSON: 'to' must be a list of {'id': …}")
            items.append(
                (_id_of(raw, "from"), [str(x.get("id")) for x in to if isinstance(x, dict)])
            )
        self.backend.assoc.archive(portal, f, t, items)
        return Response(204)

    def batch_archive_labels(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req)
        items = []
        for raw in req.inputs(req.limits.assoc_batch_write_max):
            items.append((_id_of(raw, "from"), _id_of(raw, "to"), link_specs(raw.get("types"))))
        self.backend.assoc.archive_labels(portal, f, t, items)
        return Response(204)

    # -- label definitions -----------------------------------------------------------------

    def labels_get(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req)
        types = self.backend.labels.definitions(portal, f, t)
        return Response(200, {"results": [x.spec() for x in types]})

    def labels_create(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req)
        body = req.json_body()
        if not isinstance(body, dict) or not body.get("label"):
            raise validation("Invalid input JSON: 'label' is required")
        types = self.backend.labels.create(
            portal,
            f,
            t,
            str(body["label"]),
            name=body.get("name") or None,
            inverse_label=body.get("inverseLabel") or None,
        )
        return Response(200, {"results": [x.spec() for x in types]})

    def labels_update(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req)
        body = req.json_body()
        if not isinstance(body, dict) or body.get("associationTypeId") is None:
            raise validation("Invalid input JSON: 'associationTypeId' is required")
        self.backend.labels.update(
            portal,
            f,
            t,
            int(body["associationTypeId"]),
            label=body.get("label") or None,
            inverse_label=body.get("inverseLabel") or None,
        )
        return Response(204)

    def labels_delete(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req)
        try:
            type_id = int(req.params["type_id"])
        except ValueError:
            raise validation(
                f"associationTypeId {req.params['type_id']!r} is not a number"
            ) from None
        self.backend.labels.delete(portal, f, t, type_id)
        return Response(204)

    # -- limit configurations ----------------------------------------------------------------

    def configs_all(self, req: Request) -> Response:
        assert req.portal is not None
        configs = self.backend.labels.limit_configs(req.portal)
        return Response(200, {"results": [_config_json(t, m) for t, m in configs]})

    def configs_pair(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req)
        configs = self.backend.labels.limit_configs(portal, f, t)
        return Response(200, {"results": [_config_json(x, m) for x, m in configs]})

    def _limit_inputs(self, req: Request) -> list[LimitInput]:
        out: list[LimitInput] = []
        for raw in req.inputs(req.limits.assoc_batch_write_max):
            if (
                not isinstance(raw, dict)
                or raw.get("typeId") is None
                or raw.get("maxToObjectIds") is None
            ):
                raise validation(
                    "Invalid input JSON: each input needs category, typeId and maxToObjectIds"
                )
            try:
                out.append((raw.get("category"), int(raw["typeId"]), int(raw["maxToObjectIds"])))
            except (TypeError, ValueError):
                raise validation("typeId and maxToObjectIds must be whole numbers") from None
        return out

    def configs_create(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req)
        started = self.backend.clock.now_iso()
        done, errors = self.backend.labels.set_limits(
            portal, f, t, self._limit_inputs(req), mode="create"
        )
        results = [
            {
                "category": x.category,
                "typeId": x.type_id,
                "label": x.label,
                "userEnforcedMaxToObjectIds": m,
            }
            for x, m in done
        ]
        body = batch_body(results, errors, started, self.backend.clock.now_iso())
        return Response(207 if errors else 201, body)

    def configs_update(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req)
        started = self.backend.clock.now_iso()
        done, errors = self.backend.labels.set_limits(
            portal, f, t, self._limit_inputs(req), mode="update"
        )
        results = [
            {"category": x.category, "typeId": x.type_id, "userEnforcedMaxToObjectIds": m}
            for x, m in done
        ]
        body = batch_body(results, errors, started, self.backend.clock.now_iso())
        return Response(207 if errors else 200, body)

    def configs_purge(self, req: Request) -> Response:
        portal, _, f, t = self._pair(req)
        ids = []
        for raw in req.inputs(req.limits.assoc_batch_write_max):
            if not isinstance(raw, dict) or raw.get("typeId") is None:
                raise validation("Invalid input JSON: each input needs category and typeId")
            ids.append(int(raw["typeId"]))
        self.backend.labels.purge_limits(portal, f, t, ids)
        return Response(204)
