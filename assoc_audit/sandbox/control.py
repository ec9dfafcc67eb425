"""The emulator's control API, under ``/_sandbox`` (a prefix HubSpot never uses).

Every control call but ``GET /_sandbox/health`` needs a sandbox token
(``Authorization: Bearer …``) and acts on, and answers about, that token's
portal only: no answer carries another portal's id, settings or statistics.
Control calls are not rate limited, never get faults and are not counted in
request statistics.

- ``GET /_sandbox/health``: ``{"status": "ok", "portals": N}``;
- ``GET /_sandbox/portal``: the caller's portal (hub id, object type ids, record counts);
- ``POST /_sandbox/portals`` ``{"token": …}``: add a portal for a new sandbox token
  (201 with the new portal's id); a token the CLI would refuse (:mod:`.tokens`) is a 400 that
  does not echo it, a token that already has a portal a 409 that does not name that portal;
- ``POST /_sandbox/reset``: empty the caller's portal, its statistics and rate windows (204);
- ``POST /_sandbox/seed`` ``{"contacts": N, "seed": 0, "reset": true}``: load a synthetic portal
  through the server's *seeder* (a callable given to :class:`~.server.Sandbox` or
  :func:`~.server.serve`; the emulator itself ships no data: ``assoc-audit sandbox serve``
  passes :func:`assoc_audit.demo.synthetic.control_seeder`); without one, a 400;
- ``POST /_sandbox/object-types`` ``{"name", "singular", "properties",
  "primaryDisplayProperty"}``: register a custom object type (201);
- ``GET``/``PUT /_sandbox/limits``: read or change the caller's portal's limits (a partial
  body; 0 or null turns a rate limit off);
- ``GET``/``PUT /_sandbox/faults``: read or change the caller's portal's fault injection;
- ``GET``/``DELETE /_sandbox/stats``: the caller's request statistics, or reset them.
"""

from __future__ import annotations

import threading
from importlib import metadata
from typing import TYPE_CHECKING, Any

from assoc_audit.sandbox.errors import SandboxError
from assoc_audit.sandbox.exceptions import conflict, validation
from assoc_audit.sandbox.tokens import token_refusal
from assoc_audit.sandbox.wire import Request, Response

if TYPE_CHECKING:
    from assoc_audit.sandbox.app import SandboxApp

__all__ = ["ControlResponses"]


def _version() -> str:
    try:
        return metadata.version("assoc-audit")
    except metadata.PackageNotFoundError:  # a source tree, not installed
        return "0.0.0+unknown"


def _body(req: Request) -> dict[str, Any]:
    body = req.body if req.body is not None else {}
    if not isinstance(body, dict):
        raise validation("the control API takes a JSON object")
    return body


def _settings_error(exc: Exception) -> Exception:
    return validation(exc.message if isinstance(exc, SandboxError) else str(exc))


class ControlResponses:
    """Handlers for ``/_sandbox/...``."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self._adding = threading.Lock()  # one registration at a time: find, then add

    def health(self, req: Request) -> Response:
        return Response(
            200,
            {
                "status": "ok",
                "portals": len(self.app.backend.registry.all()),
                "version": _version(),
            },
        )

    def portal(self, req: Request) -> Response:
        assert req.portal is not None
        backend = self.app.backend
        schema = backend.registry.schema(req.portal)
        counts = {
            obj.name: backend.count_records(req.portal, obj.name) for obj in schema.objects.values()
        }
        return Response(
            200,
            {
                "portalId": req.portal.hub_id,
                "objectTypes": {o.name: o.type_id for o in schema.objects.values()},
                "records": counts,
            },
        )

    def add_portal(self, req: Request) -> Response:
        token = _body(req).get("token")
        refusal = token_refusal(token)
        if refusal:
            raise validation(f"'token' {refusal}")
        assert isinstance(token, str)
        registry = self.app.backend.registry
        with self._adding:
            if registry.find(token) is not None:
                raise conflict("a portal for this token already exists")
            portal = self.app.backend.add_portal(token)
        return Response(201, {"portalId": portal.hub_id})

    def reset(self, req: Request) -> Response:
        assert req.portal is not None
        self.app.reset_portal(req.portal)
        return Response(204)

    def seed(self, req: Request) -> Response:
        assert req.portal is not None
        seeder = self.app.seeder
        if seeder is None:
            raise validation(
                "this emulator has no seeder: POST /_sandbox/seed needs one "
                "(Sandbox(seeder=...); assoc-audit sandbox serve has the synthetic one)"
            )
        body = _body(req)
        try:
            load = seeder(body)  # checks the request and builds the data: nothing changed yet
        except (TypeError, ValueError, SandboxError) as exc:
            raise validation(f"cannot synthesise this portal: {exc}") from None
        if body.get("reset", True):
            self.app.reset_portal(req.portal)
        return Response(200, {"loaded": load(self.app.backend, req.portal)})

    def register_object(self, req: Request) -> Response:
        assert req.portal is not None
        body = _body(req)
        if not body.get("name"):
            raise validation("'name' is required")
        obj = self.app.backend.register_object(
            req.portal,
            str(body["name"]),
            singular=body.get("singular"),
            properties=body.get("properties") or (),
            primary_display_property=body.get("primaryDisplayProperty"),
        )
        return Response(
            201,
            {
                "objectTypeId": obj.type_id,
                "name": obj.name,
                "singular": obj.singular,
                "fullyQualifiedName": f"p{req.portal.hub_id}_{obj.name}",
            },
        )

    def get_limits(self, req: Request) -> Response:
        assert req.portal is not None
        return Response(200, self.app.limits_for(req.portal).to_dict())

    def set_limits(self, req: Request) -> Response:
        assert req.portal is not None
        try:
            limits = self.app.set_limits(req.portal, **_body(req))
        except (SandboxError, TypeError) as exc:
            raise _settings_error(exc) from None
        return Response(200, limits.to_dict())

    def get_faults(self, req: Request) -> Response:
        assert req.portal is not None
        return Response(200, self.app.faults_for(req.portal).to_dict())

    def set_faults(self, req: Request) -> Response:
        assert req.portal is not None
        try:
            faults = self.app.set_faults(req.portal, **_body(req))
        except (SandboxError, TypeError) as exc:
            raise _settings_error(exc) from None
        return Response(200, faults.to_dict())

    def get_stats(self, req: Request) -> Response:
        assert req.portal is not None
        return Response(200, self.app.stats.snapshot(req.portal.portal_id))

    def reset_stats(self, req: Request) -> Response:
        assert req.portal is not None
        self.app.stats.reset(req.portal.portal_id)
        return Response(204)
