"""The HubSpot connector: a portal (the HubSpot side, or the app side of a HubSpot-to-HubSpot sync).

It reads through the official ``hubspot-api-client`` (see :mod:`.hubspot_api`
for the client, limits and retries, :mod:`.hubspot_fetch` for the concurrent
read) and writes links back in batches (:mod:`.hubspot_write`).

What it reads (DESIGN §4):

- **records** of every audited object whose sync is not ``off`` (and of every
  object a pair's links are read from, since the batch reads need its ids):
  only the properties the match rules name, plus the display-name properties;
  ``updatedAt`` becomes ``updated_at``. Number properties become whole-number
  text. Match-rule properties the portal does not have are an error (the list
  API would silently return nothing for them).
- **links** of every audited pair with v4 batch reads from the pair's ``from``
  object, labels per the pair's label definitions in that direction
  (:mod:`.hubspot_schema`: ``Primary`` for HubSpot-defined primary types, null
  for unlabeled types, the label text otherwise).
- ``meta``: the portal's id (``portal_id``, from ``GET /account-info/v3/details``:
  the fix plan's digest binds it), the association limits configured in the
  portal (``limits``), the labels of each pair, and the API usage of the read
  (``api``).

The app side (``app.kind: hubspot``) is read the same way from the second
portal (``app.token_env``, ``app.base_url``), with the app's object names
(``app_object``) in API calls, the app's property names in the match rules and
``app.display_name``, and the canonical (HubSpot side) names in the tables.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from assoc_audit.connectors.app import RESERVED_COLUMNS, combine_stats
from assoc_audit.connectors.base import (
    ApiUsage,
    EndpointUsage,
    UsageMeter,
    WriteResult,
    assemble_records,
)
from assoc_audit.connectors.hubspot.api import ApiCaller, HubSpotApis
from assoc_audit.connectors.hubspot.fetch import Fetcher, ObjectSpec, PairSpec, read_scopes
from assoc_audit.connectors.hubspot.ratelimit import RateLimiter, RetryPolicy
from assoc_audit.connectors.hubspot.schema import (
    PairTypes,
    display_properties,
    display_series,
    limits_table,
    standard_object,
    whole_number_text,
)
from assoc_audit.connectors.progress import Progress
from assoc_audit.errors import AuthError, ConnectorError, DataError, HubSpotAPIError
from assoc_audit.secrets import read_token
from assoc_audit.tables import (
    TEXT,
    TableStats,
    empty_associations,
    validate_associations,
    validate_records,
)

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.connectors.hubspot.write import EdgeWriter
    from assoc_audit.tables import Side, SideTables

__all__ = ["HubSpotConnector"]

Pair = tuple[str, str]


def _since(now: ApiUsage, before: ApiUsage) -> ApiUsage:
    by = {}
    for name, use in now.by_endpoint.items():
        old = before.by_endpoint.get(name, EndpointUsage())
        if use.calls - old.calls:
            by[name] = EndpointUsage(
                use.calls - old.calls, use.retries - old.retries, use.seconds - old.seconds
            )
    return ApiUsage(
        now.calls - before.calls, now.retries - before.retries, now.seconds - before.seconds, by
    )


@dataclass(frozen=True)
class _Plan:
    """How to list one object: the request, the identifier columns, their number types."""

    spec: ObjectSpec
    identifiers: tuple[str, ...]
    numbers: frozenset[str]
    display: str | None


def _check_target(config: IntegrationConfig, side: Side, key: str, base_url: str | None) -> None:
    """Config validation's rules again, for a config built past it (``model_copy``): the
    token only travels over https (http to loopback), and object names go into API paths."""
    from assoc_audit.config import base_url_problem, name_problem

    problem = base_url_problem(base_url) if base_url else None
    if problem:
        raise ConnectorError(f"{key}.base_url: {problem}; no request was sent", field=key)
    if side == "app":
        for obj in config.audited_objects:
            problem = name_problem(config.app_object_of(obj))
            if problem:
                raise ConnectorError(
                    f"objects.{obj}.app_object: {problem}", field=f"objects.{obj}.app_object"
                )


class HubSpotConnector:
    """One portal as canonical tables (see the module docstring).

    ``workers`` threads share one rate limiter (``rate_limit`` caps requests
    per 10 s below the portal's limit; None uses what HubSpot's headers say).
    ``progress`` shows tqdm bars (None: when interactive). ``clock``/``sleep``
    drive the limiter and backoff (tests use virtual time).
    """

    kind = "hubspot"

    def __init__(
        self,
        config: IntegrationConfig,
        side: Side = "hubspot",
        *,
        workers: int = 6,
        rate_limit: int | None = None,
        retry: RetryPolicy | None = None,
        batch_read_size: int = 1000,
        write_batch_size: int = 100,
        progress: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] | None = None,
    ) -> None:
        if side == "app" and config.app.kind != "hubspot":
            raise ValueError("the app side is a HubSpot portal only when app.kind is hubspot")
        where = config.hubspot if side == "hubspot" else config.app
        self.token_env = where.token_env or "HUBSPOT_ACCESS_TOKEN"
        key = "hubspot" if side == "hubspot" else "app"
        _check_target(config, side, key, where.base_url)
        token = read_token(self.token_env)
        if token is None:
            raise AuthError(
                f"${self.token_env} is not set: put the portal's private-app access token in "
                f"that environment variable ({key}.token_env names it; tokens never go in "
                "config files)",
                token_env=self.token_env,
            )
        self._config = config
        self._side: Side = side
        self._apis = HubSpotApis(token, where.base_url, pool_size=max(4, workers + 2))
        self.host = self._apis.host
        self._meter = UsageMeter()
        self._limiter = RateLimiter(
            max_per_window=rate_limit, slack=max(0, workers - 1), clock=clock, sleep=sleep
        )
        self._caller = ApiCaller(
            limiter=self._limiter,
            meter=self._meter,
            token_env=self.token_env,
            host=self.host,
            policy=retry,
            clock=clock,
            sleep=sleep,
            rand=rand,
        )
        self._fetcher = Fetcher(
            self._apis,
            self._caller,
            workers=workers,
            batch_read_size=batch_read_size,
            progress=Progress(progress),
        )
        self.write_batch_size = write_batch_size
        self._types: dict[Pair, PairTypes] = {}
        self._numbers: dict[tuple[str, tuple[str, ...]], frozenset[str]] = {}
        self._portal_id: int | None = None
        self._portal_lock = threading.Lock()

    # -- identity --------------------------------------------------------------------

    @property
    def side(self) -> Side:
        return self._side

    @property
    def limiter(self) -> RateLimiter:
        return self._limiter

    def describe(self) -> str:
        return f"hubspot {self.host}" + (" (app portal)" if self._side == "app" else "")

    def usage(self) -> ApiUsage:
        return self._meter.usage()

    def close(self) -> None:
        self._apis.close()

    def portal_id(self) -> int:
        """The id of the portal the token opens (HubSpot's ``portalId``, the hub id).

        One ``GET /account-info/v3/details`` per connector (cached), through the same
        limiter, retries and answer checks as every call; errors are
        :class:`~assoc_audit.errors.HubSpotAPIError` (401/403:
        :class:`~assoc_audit.errors.AuthError` naming the token's variable).
        """
        with self._portal_lock:
            if self._portal_id is None:
                reply = self._caller.call(
                    "account.details",
                    "reading the account details (portal id)",
                    self._apis.account_details_with_http_info,
                    scopes=("oauth",),
                )
                self._portal_id = int(reply.data["portalId"])
            return self._portal_id

    def api_object(self, obj: str) -> str:
        """The object name used in API calls for HubSpot object ``obj``."""
        return obj if self._side == "hubspot" else self._config.app_object_of(obj)

    def _where(self) -> str:
        return f"HubSpot {self.host}" + (" (app portal)" if self._side == "app" else "")

    def _check_pair(self, pair: Sequence[str]) -> Pair:
        p = (str(pair[0]), str(pair[1]))
        if p not in self._config.pairs:
            raise DataError(f"pair {p[0]}→{p[1]} is not audited by this config")
        return p

    # -- schema --------------------------------------------------------------------------

    def pair_types(self, pair: Pair, *, refresh: bool = False) -> PairTypes:
        """The association types (and this side's labels) of ``pair`` in its direction."""
        if refresh or pair not in self._types:
            f, t = self.api_object(pair[0]), self.api_object(pair[1])
            reply = self._caller.call(
                "assoc.labels",
                f"reading the association labels of {f}→{t}",
                self._apis.assoc_definitions.get_all_with_http_info,
                f,
                t,
                scopes=read_scopes(f) + read_scopes(t),
            )
            self._types[pair] = PairTypes.from_definitions(pair, reply.data.results or [])
        return self._types[pair]

    def _display_property(self, obj: str) -> str | None:
        if self._side == "app":
            return self._config.app.display_name.get(self.api_object(obj))
        return None

    def _check_properties(self, obj: str, names: Sequence[str]) -> frozenset[str]:
        """Fail on properties the portal lacks; returns the number-typed ones."""
        from hubspot.crm.properties import BatchReadInputPropertyName, PropertyName

        wanted = [n for n in dict.fromkeys(names) if n != "hs_object_id"]
        if not wanted:
            return frozenset()
        api = self.api_object(obj)
        body = BatchReadInputPropertyName(
            archived=False, inputs=[PropertyName(name=n) for n in wanted]
        )
        reply = self._caller.call(
            "properties.batch_read",
            f"reading the {api} properties {', '.join(wanted)}",
            self._apis.properties_batch.read_with_http_info,
            api,
            body,
            ok=(200, 207),
            scopes=(f"crm.schemas.{standard_object(api) or 'custom'}.read",),
        )
        found = {str(p.name): str(p.type or "") for p in reply.data.results or []}
        absent = [n for n in wanted if n not in found]
        if absent:
            named = f"a match rule of objects.{obj}"
            if self._side == "app":
                named += " or app.display_name"
            raise DataError(
                f"{self._where()} {api}: no property {absent[0]!r}"
                + (f" (nor {', '.join(repr(a) for a in absent[1:])})" if absent[1:] else "")
                + f"; {named} names it",
                file=self._where(),
                field=absent[0],
            )
        return frozenset(n for n, kind in found.items() if kind == "number")

    def _plan(self, obj: str, columns: Sequence[str] | None) -> _Plan:
        """What to ask for when listing ``obj`` (checking that the properties exist)."""
        if columns is None:
            identifiers = self._config.identifier_columns(self._side, obj)
        else:
            skip = "hs_object_id" if self._side == "hubspot" else "id"
            identifiers = tuple(c for c in dict.fromkeys(columns) if c not in (skip, "record_id"))
        api = self.api_object(obj)
        clash = [c for c in identifiers if c in RESERVED_COLUMNS]
        if clash:
            raise DataError(
                f"{self._where()} {api}: identifier property {clash[0]!r} clashes with a column "
                f"of the canonical records table ({', '.join(RESERVED_COLUMNS)})",
                file=self._where(),
                field=clash[0],
            )
        display = self._display_property(obj)
        check = (*identifiers, *((display,) if display else ()))
        key = (obj, check)
        if key not in self._numbers:
            self._numbers[key] = self._check_properties(obj, check)
        props = tuple(dict.fromkeys([*identifiers, *display_properties(api, display)]))
        return _Plan(ObjectSpec(obj, api, props), identifiers, self._numbers[key], display)

    # -- reading ---------------------------------------------------------------------------

    def _records(self, plan: _Plan, raw: pd.DataFrame) -> tuple[pd.DataFrame, TableStats]:
        spec = plan.spec
        frame = pd.DataFrame(
            {"object": pd.Series([spec.obj] * len(raw), dtype=TEXT), "record_id": raw["record_id"]}
        )
        for col in plan.identifiers:
            values = raw[col].astype(TEXT)
            frame[col] = whole_number_text(values) if col in plan.numbers else values
        frame["display_name"] = display_series(raw, spec.api, plan.display)
        frame["updated_at"] = pd.to_datetime(raw["updated_ms"], unit="ms", utc=True)
        source = f"{self._where()} {spec.api} records"
        return validate_records(frame, source=source, identifiers=plan.identifiers)

    def _links(
        self, pair: Pair, raw: pd.DataFrame, seen: dict[int, tuple[str | None, str | None]]
    ) -> tuple[pd.DataFrame, TableStats]:
        labels = self.pair_types(pair).label_map(seen)
        n = len(raw)
        frame = pd.DataFrame(
            {
                "from_object": pd.Series([pair[0]] * n, dtype=TEXT),
                "from_id": raw["from_id"],
                "to_object": pd.Series([pair[1]] * n, dtype=TEXT),
                "to_id": raw["to_id"],
                "label": raw["type_id"].map(labels).astype(TEXT),
            }
        )
        f, t = self.api_object(pair[0]), self.api_object(pair[1])
        source = f"{self._where()} {f}→{t} associations"
        return validate_associations(frame, source=source, pairs=[pair])

    def read_records(self, obj: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        plan = self._plan(obj, columns)
        raw = self._fetcher.run([plan.spec], []).records[obj]
        return self._records(plan, raw)[0]

    def read_associations(
        self, pair: tuple[str, str], *, from_ids: Collection[str] | None = None
    ) -> pd.DataFrame:
        p = self._check_pair(pair)
        self.pair_types(p)
        api = (self.api_object(p[0]), self.api_object(p[1]))
        if from_ids is None:
            objects = [ObjectSpec(p[0], api[0], ("hs_object_id",))]
            spec = PairSpec(p, api)
        else:
            objects = []
            spec = PairSpec(p, api, tuple(str(i) for i in from_ids))
        result = self._fetcher.run(objects, [spec])
        return self._links(p, result.links[p], result.seen_types[p])[0]

    def _objects_to_read(self) -> list[str]:
        from_objects = {f for f, _ in self._config.pairs}
        return [
            o
            for o in self._config.audited_objects
            if self._config.sync_of(o) != "off" or o in from_objects
        ]

    def _limits(self) -> tuple[list[dict[str, Any]] | None, str | None]:
        try:
            reply = self._caller.call(
                "assoc.limits",
                "reading the association limits configured in the portal",
                self._apis.assoc_configurations.get_all_with_http_info,
            )
        except HubSpotAPIError as err:
            # a refusal (403, 404, …) leaves the limits unknown; a 401 or an answer that
            # could not be used (2xx) stops the read: it is not "no limits configured"
            if err.status == 401 or (err.status is not None and 200 <= err.status < 300):
                raise
            return None, err.message
        return limits_table(reply.data.results or [], self._types), None

    def read_side(self) -> SideTables:
        from assoc_audit.tables import SideTables, identifier_columns

        read_at = datetime.now(UTC)
        started = time.perf_counter()
        before = self.usage()
        portal_id = self.portal_id()
        pairs = list(self._config.pairs)
        for pair in pairs:
            self.pair_types(pair)
        plans = {obj: self._plan(obj, None) for obj in self._objects_to_read()}
        limits, limits_error = self._limits()
        pair_specs = [PairSpec(p, (self.api_object(p[0]), self.api_object(p[1]))) for p in pairs]
        result = self._fetcher.run([p.spec for p in plans.values()], pair_specs)
        frames, rstats = [], []
        for obj, plan in plans.items():
            frame, stats = self._records(plan, result.records[obj])
            frames.append(frame)
            rstats.append(stats)
        records = assemble_records(frames, identifier_columns(self._config, self._side))
        parts, lstats = [], []
        for pair in pairs:
            links, stats = self._links(pair, result.links[pair], result.seen_types[pair])
            parts.append(links)
            lstats.append(stats)
        associations = pd.concat([empty_associations(), *parts], ignore_index=True).astype(TEXT)
        usage = _since(self.usage(), before)
        meta: dict[str, Any] = {
            "source": self.describe(),
            "kind": self.kind,
            "portal_id": portal_id,
            "read_at": read_at.isoformat(timespec="seconds"),
            "identifier_columns": {
                obj: list(self._config.identifier_columns(self._side, obj))
                for obj in self._config.audited_objects
            },
            "objects": {obj: plan.spec.api for obj, plan in plans.items()},
            "labels": {f"{p[0]}→{p[1]}": list(self.pair_types(p).labels) for p in pairs},
            "limits": limits,
            "api": {
                **usage.to_dict(),
                "wall_seconds": round(time.perf_counter() - started, 3),
                "rate_limit": self._limiter.to_dict(),
            },
        }
        if limits_error:
            meta["limits_error"] = limits_error
        return SideTables(
            self._side, records, associations, meta, combine_stats(rstats), combine_stats(lstats)
        )

    # -- writing -----------------------------------------------------------------------------

    def _writer(self) -> EdgeWriter:
        from assoc_audit.connectors.hubspot.write import EdgeWriter

        return EdgeWriter(self, self._apis, self._caller)

    def create_edges(self, edges: pd.DataFrame, *, check: bool = True) -> WriteResult:
        """Create links; ``check=False`` skips reading the stored links first."""
        return self._writer().write_edges(edges, create=True, check=check)

    def remove_edges(self, edges: pd.DataFrame, *, check: bool = True) -> WriteResult:
        """Remove links; ``check=False`` skips reading the stored links first."""
        return self._writer().write_edges(edges, create=False, check=check)

    def create_records(self, obj: str, records: pd.DataFrame) -> pd.DataFrame:
        return self._writer().create_records(obj, records)

    def delete_records(self, obj: str, ids: Collection[str]) -> WriteResult:
        return self._writer().delete_records(obj, ids)
