"""The emulator's request pipeline, independent of sockets: :class:`SandboxApp`.

For each request: route → authenticate (401) → fault injection → rate limit
(429) → parse the JSON body → handler → HubSpot-style response (error bodies
with ``correlationId``, ``X-HubSpot-Correlation-Id`` on every response,
``X-HubSpot-RateLimit-*`` headers), and per-token request statistics.
The HTTP server (:mod:`.server`) only moves bytes.

Limits and fault settings are per portal: the settings the app starts with
are every portal's defaults; :meth:`SandboxApp.set_limits` and
:meth:`SandboxApp.set_faults` change one portal's (the control API: the
caller's) or, without a portal, every portal's and the defaults.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from assoc_audit.sandbox.control import ControlResponses
from assoc_audit.sandbox.exceptions import ApiError, not_found
from assoc_audit.sandbox.faults import FaultSettings, decide
from assoc_audit.sandbox.limits import Limits, RateLimiter
from assoc_audit.sandbox.models import SandboxBackend
from assoc_audit.sandbox.portals import Portal, unauthorized
from assoc_audit.sandbox.responses_account import AccountResponses
from assoc_audit.sandbox.responses_associations import AssociationResponses
from assoc_audit.sandbox.responses_objects import ObjectResponses
from assoc_audit.sandbox.stats import RequestStats
from assoc_audit.sandbox.urls import Route, compile_routes
from assoc_audit.sandbox.wire import Request, Response

__all__ = ["Outcome", "SandboxApp", "Seeder"]

#: ``seeder(request body)`` checks a seed request and returns ``load(backend, portal) ->
#: counts``; it raises ValueError (or SandboxError) for a request it cannot serve.
Seeder = Callable[[Mapping[str, Any]], Callable[[SandboxBackend, Portal], Mapping[str, int]]]

log = logging.getLogger("assoc_audit.sandbox")

JSON_TYPE = "application/json;charset=utf-8"
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass
class Outcome:
    """What the server must do: send a response, possibly after a delay, or drop the connection."""

    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    delay: float = 0.0
    drop_before: bool = False
    drop_after: bool = False


#: What a captive portal or an intercepting proxy answers instead of HubSpot (``html_body``).
CAPTIVE_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Network login</title></head>"
    b"<body><h1>Sign in to continue</h1><p>This network requires you to sign in before "
    b"you can reach the internet.</p></body></html>\n"
)


def _encode(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _lose_body(out: Outcome) -> None:
    """``bad_body``: the answer's body becomes ``{}`` (a 204, which has none, a 200)."""
    if out.status == 204:
        out.status = 200
    out.body = b"{}"
    if not any(name.lower() == "content-type" for name, _ in out.headers):
        out.headers.insert(0, ("Content-Type", JSON_TYPE))


class SandboxApp:
    """Routes, authenticates, limits, injects faults and counts; thread-safe."""

    def __init__(
        self,
        backend: SandboxBackend,
        *,
        limits: Limits | None = None,
        faults: FaultSettings | None = None,
        seeder: Seeder | None = None,
    ) -> None:
        self.backend = backend
        #: Builds a portal's data for ``POST /_sandbox/seed`` (the emulator ships none).
        self.seeder = seeder
        self._lock = threading.Lock()
        self._limits = limits or Limits()
        self._faults = faults or FaultSettings()
        self._portal_limits: dict[int, Limits] = {}
        self._portal_faults: dict[int, FaultSettings] = {}
        self.stats = RequestStats()
        self.limiter = RateLimiter(backend.clock.monotonic, backend.clock.wall)
        #: False: the control API (``/_sandbox/...``) answers 404, as HubSpot would, so the
        #: server passes for a real portal (tests of what happens against one).
        self.control_api = True
        self._routes = compile_routes()
        self._groups: dict[str, object] = {
            "objects": ObjectResponses(backend),
            "assoc": AssociationResponses(backend),
            "account": AccountResponses(),
            "control": ControlResponses(self),
        }

    # -- settings -------------------------------------------------------------------

    @property
    def limits(self) -> Limits:
        """The default limits (a portal's own may differ: :meth:`limits_for`)."""
        return self._limits

    @property
    def faults(self) -> FaultSettings:
        """The default fault settings (a portal's own may differ: :meth:`faults_for`)."""
        return self._faults

    def limits_for(self, portal: Portal) -> Limits:
        """The limits that apply to ``portal``'s requests."""
        return self._portal_limits.get(portal.portal_id, self._limits)

    def faults_for(self, portal: Portal) -> FaultSettings:
        """The fault settings that apply to ``portal``'s requests."""
        return self._portal_faults.get(portal.portal_id, self._faults)

    def set_limits(self, portal: Portal | None = None, **changes: Any) -> Limits:
        """Change ``portal``'s limits, or (None) every portal's and the defaults."""
        with self._lock:
            if portal is not None:
                new = self.limits_for(portal).updated(changes)
                self._portal_limits[portal.portal_id] = new
                return new
            defaults = self._limits.updated(changes)
            own = {pid: v.updated(changes) for pid, v in self._portal_limits.items()}
            self._limits, self._portal_limits = defaults, own
            return defaults

    def set_faults(self, portal: Portal | None = None, **changes: Any) -> FaultSettings:
        """Change ``portal``'s fault settings, or (None) every portal's and the defaults."""
        with self._lock:
            if portal is not None:
                new = self.faults_for(portal).updated(changes)
                self._portal_faults[portal.portal_id] = new
                return new
            defaults = self._faults.updated(changes)
            own = {pid: v.updated(changes) for pid, v in self._portal_faults.items()}
            self._faults, self._portal_faults = defaults, own
            return defaults

    def reset_portal(self, portal: Portal) -> None:
        """Empty a portal and forget its statistics and rate windows."""
        self.backend.reset(portal)
        self.stats.reset(portal.portal_id)
        self.limiter.reset(portal.portal_id)

    # -- requests --------------------------------------------------------------------

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        other_method = False
        for route in self._routes:
            m = route.pattern.match(path)
            if m is None:
                continue
            if route.method != method:
                other_method = True
                continue
            return route, {k: unquote(v) for k, v in m.groupdict().items()}, False
        return None, {}, other_method

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Outcome:
        """Answer one request (``target`` is the request line's path and query)."""
        correlation = str(uuid.uuid4())
        split = urlsplit(target)
        path = split.path
        route, params, other_method = self._match(method, path)
        if route is not None and route.kind == "control" and not self.control_api:
            route, other_method = None, False
        if route is None:
            if other_method:
                err = ApiError(405, "VALIDATION_ERROR", f"Method {method} is not allowed on {path}")
            else:
                err = not_found(f"Unable to find a route for {method} {path}")
            return self._error(err, correlation, {})
        portal = self._authenticate(headers)
        if route.kind == "control":
            if portal is None and route.handler != "health":
                return self._error(unauthorized(), correlation, {"X-HubSpot-Auth-Failure": "401"})
            return self._run(
                route, params, split.query, portal, body, correlation=correlation, headers={}
            )
        if portal is None:
            return self._error(unauthorized(), correlation, {"X-HubSpot-Auth-Failure": "401"})
        return self._api(
            route, params, split.query, path=path, portal=portal, body=body, correlation=correlation
        )

    def _authenticate(self, headers: Mapping[str, str]) -> Portal | None:
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.backend.registry.find(token.strip())

    def _api(
        self,
        route: Route,
        params: dict[str, str],
        query: str,
        *,
        path: str,
        portal: Portal,
        body: bytes,
        correlation: str,
    ) -> Outcome:
        pid = portal.portal_id
        limits = self.limits_for(portal)
        fault = decide(self.faults_for(portal), pid, self.stats.next_seq(pid), path)
        delay = 0.0
        if fault is not None:
            if fault.kind == "drop":
                self.stats.record(pid, route.name, None, fault=fault.kind)
                return Outcome(drop_before=True)
            if fault.kind == "html_body":  # a captive portal answered: nothing reached HubSpot
                self.stats.record(pid, route.name, 200, fault=fault.kind)
                return Outcome(200, CAPTIVE_PAGE, [("Content-Type", "text/html; charset=utf-8")])
            if fault.kind == "rate_limit":
                decision = self.limiter.peek(pid, limits)
                out = self._outcome(
                    429,
                    decision.body(correlation, limits.group_name),
                    correlation,
                    decision.headers,
                )
                self.stats.record(pid, route.name, 429, fault=fault.kind)
                return out
            if fault.kind == "server_error" and fault.status is not None:
                err = ApiError(
                    fault.status,
                    "INTERNAL_ERROR" if fault.status == 500 else "SERVICE_UNAVAILABLE",
                    f"{_REASONS.get(fault.status, 'Server Error')} (injected by the sandbox)",
                )
                self.stats.record(pid, route.name, fault.status, fault=fault.kind)
                return self._error(err, correlation, {})
            delay = fault.delay
        decision = self.limiter.check(pid, route.kind, limits)  # type: ignore[arg-type]
        if not decision.allowed:
            self.stats.record(
                pid, route.name, 429, rate_limited=True, fault=fault.kind if fault else None
            )
            out = self._outcome(
                429, decision.body(correlation, limits.group_name), correlation, decision.headers
            )
            out.delay = delay
            return out
        out = self._run(
            route, params, query, portal, body, correlation=correlation, headers=decision.headers
        )
        out.delay = delay
        out.drop_after = fault is not None and fault.kind == "drop_after"
        if fault is not None and fault.kind == "bad_body":
            _lose_body(out)
        self.stats.record(pid, route.name, out.status, fault=fault.kind if fault else None)
        return out

    def _run(
        self,
        route: Route,
        params: dict[str, str],
        query: str,
        portal: Portal | None,
        body: bytes,
        *,
        correlation: str,
        headers: dict[str, str],
    ) -> Outcome:
        try:
            parsed: Any = None
            if body.strip():
                try:
                    parsed = json.loads(body)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise ApiError(400, "VALIDATION_ERROR", f"Invalid input JSON: {exc}") from None
            req = Request(
                method=route.method,
                path=route.pattern.pattern,
                params=params,
                query=parse_qs(query, keep_blank_values=True),
                body=parsed,
                portal=portal,
                limits=self._limits if portal is None else self.limits_for(portal),
            )
            handler: Callable[[Request], Response] = getattr(
                self._groups[route.group], route.handler
            )
            resp = handler(req)
        except ApiError as exc:
            return self._error(exc, correlation, headers)
        except Exception:  # an emulator bug must still answer like a server: 500
            log.exception("sandbox handler %s failed", route.name)
            err = ApiError(500, "INTERNAL_ERROR", "internal error in the sandbox emulator")
            return self._error(err, correlation, headers)
        return self._outcome(resp.status, resp.body, correlation, {**headers, **resp.headers})

    def _outcome(
        self, status: int, body: Any, correlation: str, headers: Mapping[str, str]
    ) -> Outcome:
        out_headers = [("X-HubSpot-Correlation-Id", correlation), *headers.items()]
        if status == 204 or body is None:
            return Outcome(status, b"", out_headers)
        out_headers.insert(0, ("Content-Type", JSON_TYPE))
        return Outcome(status, _encode(body), out_headers)

    def _error(self, err: ApiError, correlation: str, headers: Mapping[str, str]) -> Outcome:
        return self._outcome(err.status or 500, err.body(correlation), correlation, headers)
