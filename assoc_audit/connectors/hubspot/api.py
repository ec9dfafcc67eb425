"""Calling HubSpot through the official client: one client, limits, retries, errors, usage.

:class:`HubSpotApis` builds ONE ``hubspot.HubSpot`` client (``host`` and
``base_url`` both set, so the generated APIs and raw requests go to the same
place) and keeps the API objects it needs: every attribute access on the
client builds a new ApiClient and connection pool, so they are taken once.
urllib3's own retries are switched off (``retry=False``): its default retries
GET but never POST, silently retries a 429 that carries ``Retry-After``, and
hides dropped connections; all retrying happens here, where it is counted.

:class:`ApiCaller` runs one SDK ``*_with_http_info`` call: it waits for the
shared :class:`~.ratelimit.RateLimiter`, retries 429 (honouring
``Retry-After``, pausing every thread), 5xx, 423 and dropped connections with
backoff (POST included), checks every answer before it is used: the status is
one the endpoint documents (a 207 is returned as such, never as plain success;
any other 2xx would become ``None`` in the SDK) and the body has the endpoint's
shape (:mod:`.hubspot_shapes`: JSON, the fields that endpoint must have). An
answer that fails either check is retried like a 5xx (a proxy's page may be
transient) and, when it persists, is a :class:`~assoc_audit.errors.HubSpotAPIError`
naming the endpoint, the status and what was missing: never an empty page. It
feeds the rate-limit headers back to the limiter and records the call in the
connector's :class:`~.base.UsageMeter`.

Errors from any generated package (each has its own ``ApiException``) are
recognised by their ``status``/``body``/``headers`` attributes and become
:class:`~assoc_audit.errors.HubSpotAPIError` with HubSpot's status, category
and correlation id; 401 and 403 become :class:`~assoc_audit.errors.AuthError`
naming the token's environment variable and the missing scopes. No message
ever contains the token.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import urllib3

from assoc_audit.connectors.base import UsageMeter
from assoc_audit.connectors.hubspot.ratelimit import RateLimiter, RetryPolicy, _header
from assoc_audit.connectors.hubspot.shapes import SHAPES, Shape, content_problem
from assoc_audit.errors import AuthError, ConnectorError, HubSpotAPIError, RateLimited
from assoc_audit.secrets import redact_text

__all__ = ["ApiCaller", "HubSpotApis", "Reply", "api_error", "error_fields"]

DEFAULT_HOST = "https://api.hubapi.com"
#: Transport failures that are retried: dropped connections, resets, timeouts.
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    urllib3.exceptions.HTTPError,
    ConnectionError,
    TimeoutError,
)
#: Longest ``Retry-After`` (seconds) worth waiting for inside one run.
MAX_RETRY_AFTER = 120.0


class HubSpotApis:
    """One official client and the API objects the connector uses (built once)."""

    def __init__(self, token: str, base_url: str | None, *, pool_size: int = 10) -> None:
        from hubspot import HubSpot

        host = (base_url or DEFAULT_HOST).rstrip("/")
        self.host = host
        self.client = HubSpot(
            access_token=token,
            host=host,
            base_url=host,
            retry=False,
            connection_pool_maxsize=pool_size,
        )
        crm = self.client.crm
        self.objects_basic = crm.objects.basic_api
        self.objects_batch = crm.objects.batch_api
        self.properties_batch = crm.properties.batch_api
        v4 = crm.associations.v4
        self.assoc_batch = v4.batch_api
        self.assoc_definitions = v4.schema.definitions_api
        self.assoc_configurations = v4.schema.definition_configurations_api

    def account_details_with_http_info(self, **kwargs: Any) -> Any:
        """``GET /account-info/v3/details`` as ``(data, status, headers)``; data is plain JSON.

        SDK 12 has no generated account-info API. This goes through a generated
        ApiClient's ``call_api`` (the objects API's, already built) rather than the
        client's raw ``api_request``: ``call_api`` uses the same urllib3 pool, host,
        bearer auth and timeout as every other call, answers ``(data, status,
        headers)`` and raises that package's ``ApiException`` on an error status, so
        :class:`ApiCaller` applies its limiter, retries, error mapping and shape check
        unchanged. ``api_request`` goes through ``requests`` instead: another
        connection pool, other exceptions, and no status handling.
        """
        return self.objects_basic.api_client.call_api(
            "/account-info/v3/details",
            "GET",
            header_params={"Accept": "application/json"},
            response_types_map={200: "object"},
            auth_settings=["oauth2"],
            _return_http_data_only=False,
            _preload_content=True,
            _request_timeout=kwargs.get("_request_timeout"),
        )

    def close(self) -> None:
        """Close every connection pool."""
        for api in (
            self.objects_basic,
            self.objects_batch,
            self.properties_batch,
            self.assoc_batch,
            self.assoc_definitions,
            self.assoc_configurations,
        ):
            rest = getattr(getattr(api, "api_client", None), "rest_client", None)
            pool = getattr(rest, "pool_manager", None)
            if pool is not None:
                pool.clear()


@dataclass(frozen=True)
class Reply:
    """A successful response: the SDK model (None for 204), status and headers."""

    data: Any
    status: int
    headers: Mapping[str, Any] = field(default_factory=dict)


def _body_json(body: Any) -> dict[str, Any]:
    if isinstance(body, bytes | bytearray):
        body = bytes(body).decode("utf-8", "replace")
    if not isinstance(body, str) or not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def error_fields(exc: BaseException) -> dict[str, Any]:
    """HubSpot's error body fields of an SDK exception (any package), as plain data."""
    body = _body_json(getattr(exc, "body", None))
    headers = getattr(exc, "headers", None)
    scopes: list[str] = []
    for item in body.get("errors") or []:
        context = item.get("context") if isinstance(item, dict) else None
        if isinstance(context, dict):
            scopes += [str(s) for s in context.get("requiredScopes") or []]
    context = body.get("context")
    if isinstance(context, dict):
        scopes += [str(s) for s in context.get("requiredScopes") or []]
    return {
        "status": getattr(exc, "status", None),
        "message": str(body.get("message") or getattr(exc, "reason", "") or "").strip(),
        "category": body.get("category") or body.get("errorType"),
        "sub_category": body.get("subCategory"),
        "correlation_id": body.get("correlationId") or _header(headers, "X-HubSpot-Correlation-Id"),
        "policy": body.get("policyName"),
        "retry_after": _header(headers, "Retry-After"),
        "scopes": list(dict.fromkeys(scopes)),
    }


def api_error(
    exc: BaseException,
    *,
    what: str,
    token_env: str,
    scopes: Sequence[str] = (),
) -> HubSpotAPIError:
    """The assoc_audit error for an SDK exception carrying an HTTP error response."""
    f = error_fields(exc)
    status = f["status"] if isinstance(f["status"], int) else None
    category = f["category"]
    cid = f["correlation_id"]
    detail = redact_text(f["message"]) or "no message"
    tail = f" (correlation id {cid})" if cid else ""
    code = f"{status} {category}" if category else f"{status}"
    if status == 401:
        return AuthError(
            f"HubSpot refused the access token in ${token_env} while {what} ({code}: {detail}); "
            f"check that ${token_env} holds a valid private-app token for this portal{tail}",
            token_env=token_env,
            status=status,
            category=category,
            correlation_id=cid,
        )
    if status == 403:
        missing = f["scopes"] or list(scopes)
        which = (
            f"missing scopes: {', '.join(missing)}"
            if f["scopes"]
            else f"this call needs the scopes {', '.join(missing)}"
            if missing
            else "the token lacks a scope this call needs"
        )
        return AuthError(
            f"the token in ${token_env} may not do this: {what} was refused ({code}: {detail}); "
            f"{which}{tail}",
            token_env=token_env,
            scopes=missing,
            status=status,
            category=category,
            correlation_id=cid,
        )
    if status == 429:
        retry_after = _seconds(f["retry_after"])
        return RateLimited(
            f"HubSpot kept refusing requests while {what}: rate limit "
            f"{f['policy'] or 'unknown'} ({detail}){tail}",
            policy=f["policy"],
            retry_after=retry_after,
            status=status,
            category=category,
            correlation_id=cid,
        )
    if not status:
        return HubSpotAPIError(
            f"HubSpot's response could not be read while {what}: {detail}", category=category
        )
    sub = f" [{f['sub_category']}]" if f["sub_category"] else ""
    return HubSpotAPIError(
        f"HubSpot answered {code}{sub} while {what}: {detail}{tail}",
        status=status,
        category=category,
        correlation_id=cid,
    )


def _seconds(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        return None


def _answer_problem(
    form: Shape, status: int, headers: Mapping[str, Any] | None, data: Any, ok: Collection[int]
) -> str | None:
    """Why a 2xx answer cannot be used (the tail of the error message), or None."""
    if status not in ok or (data is None and form.body):
        expected = ", ".join(map(str, sorted(ok)))
        return f", which this endpoint does not document (expected {expected})"
    if not form.body:
        return None
    problem = content_problem(headers) or form.check(data, status)
    return None if problem is None else f" with a body that is not a valid response: {problem}"


def _is_http_error(exc: BaseException) -> bool:
    """An SDK ApiException of any generated package: an int ``status`` and a ``body``."""
    return isinstance(getattr(exc, "status", None), int) and hasattr(exc, "body")


class ApiCaller:
    """Runs SDK calls under the shared limiter with retries; records usage (thread-safe)."""

    def __init__(
        self,
        *,
        limiter: RateLimiter,
        meter: UsageMeter,
        token_env: str,
        host: str,
        policy: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] | None = None,
        timeout: tuple[float, float] = (10.0, 120.0),
    ) -> None:
        self.limiter = limiter
        self.meter = meter
        self.token_env = token_env
        self.host = host
        self.policy = policy or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._rand = rand or random.Random().random
        self._timeout = timeout

    def call(
        self,
        endpoint: str,
        what: str,
        fn: Callable[..., Any],
        *args: Any,
        ok: Collection[int] = (200,),
        scopes: Sequence[str] = (),
        shape: Shape | None = None,
        idempotent: bool = True,
        **kwargs: Any,
    ) -> Reply:
        """Call ``fn`` (an SDK ``*_with_http_info`` method) until it succeeds or must fail.

        ``endpoint`` names the call in the usage breakdown and picks the answer's
        :class:`~.hubspot_shapes.Shape` (``shape`` overrides it), ``what`` names it in
        messages ("listing contacts"); ``ok`` are the statuses that count as answered
        (e.g. 200 and 207 for a batch read). A 2xx answer that is not one of ``ok`` or
        not of the endpoint's shape is retried like a 5xx, except when the call is not
        ``idempotent`` (a record create: it ran, and sending it again would repeat it).
        """
        form = shape or SHAPES.get(endpoint)
        if form is None:
            raise ValueError(f"no response shape is known for the endpoint {endpoint!r}")
        spent = 0.0  # seconds in HTTP requests (not in the limiter's waits or backoff)
        tries = 0
        while True:
            self.limiter.acquire()
            sent = self._clock()
            tries += 1
            try:
                data, status, headers = fn(*args, _request_timeout=self._timeout, **kwargs)
            except TRANSPORT_ERRORS as exc:
                spent += self._clock() - sent
                if tries >= self.policy.attempts:
                    self.meter.record(endpoint, seconds=spent, retries=tries - 1)
                    reason = redact_text(f"{type(exc).__name__}: {exc}").splitlines()[0]
                    raise ConnectorError(
                        f"cannot reach HubSpot at {self.host} while {what} "
                        f"({tries} tries): {reason}",
                        file=self.host,
                    ) from None
                self._sleep(self.policy.delay(tries, self._rand()))
                continue
            except Exception as exc:
                if not _is_http_error(exc):
                    raise
                spent += self._clock() - sent
                if tries >= self.policy.attempts or not self._retry_wait(exc, tries):
                    self.meter.record(endpoint, seconds=spent, retries=tries - 1)
                    raise api_error(
                        exc, what=what, token_env=self.token_env, scopes=scopes
                    ) from None
                continue
            spent += self._clock() - sent
            self.limiter.observe(headers, sent)
            problem = _answer_problem(form, int(status), headers, data, ok)
            if problem is None:
                self.meter.record(endpoint, seconds=spent, retries=tries - 1)
                return Reply(data, int(status), headers or {})
            if idempotent and tries < self.policy.attempts:
                self._sleep(self.policy.delay(tries, self._rand()))
                continue
            self.meter.record(endpoint, seconds=spent, retries=tries - 1)
            tail = "" if idempotent else "; it may have taken effect, so it was not sent again"
            raise HubSpotAPIError(
                redact_text(
                    f"HubSpot answered HTTP {status} while {what} ({form.method} {endpoint})"
                    f"{problem}; the response was not used{tail}"
                ),
                status=int(status),
                correlation_id=_header(headers, "X-HubSpot-Correlation-Id"),
            )

    def _retry_wait(self, exc: BaseException, retry: int) -> bool:
        """Wait before retrying a failed response (sleep, or pause every thread after a 429
        or 423); False when it must not be retried."""
        f = error_fields(exc)
        status = int(f["status"])
        retry_after = _seconds(f["retry_after"])
        backoff = self.policy.delay(retry, self._rand())
        if status == 429:
            if f["policy"] == "DAILY":
                return False
            wait = retry_after if retry_after is not None else backoff
            if wait > MAX_RETRY_AFTER:
                return False
            self.limiter.pause(wait)  # the window is full for every thread
            return True
        if status in (423, 477):
            wait = retry_after if retry_after is not None else max(2.0, backoff)
            if wait > MAX_RETRY_AFTER:
                return False
            self.limiter.pause(wait)
            return True
        if 500 <= status <= 599:
            wait = retry_after if retry_after is not None else backoff
            self._sleep(min(wait, MAX_RETRY_AFTER))
            return True
        return False
