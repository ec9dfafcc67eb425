"""An emulator portal as a connector, in-process: :class:`PortalSide`.

The data-sync simulator (:mod:`.datasync`) acts on a HubSpot portal the way
HubSpot's own data sync does: inside HubSpot, not through the public API.
When the emulator runs in the same process (a :class:`~.server.Sandbox` in a
test or a notebook), :class:`PortalSide` gives the simulator (and anything
else that speaks the :class:`~assoc_audit.connectors.Connector` protocol)
one portal of the :class:`~.models.SandboxBackend` directly: no HTTP, no rate
limits, no faults, no request statistics.

It reads like the HubSpot connector (canonical tables in HubSpot object names,
``Primary`` for HubSpot-defined primary types, null for the unlabeled type,
the label text otherwise; display names from the standard display properties)
and writes with the API's rules: labels must exist in the portal, configured
association limits are enforced, a new primary moves the old one, and removing
the unlabeled link removes every label of the pair. With ``side="app"`` it is
the app portal of a HubSpot-to-HubSpot sync (app object and property names).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd

from assoc_audit.connectors.base import (
    ApiUsage,
    WriteResult,
    edge_table,
    outcome_frame,
    read_side_by_parts,
)
from assoc_audit.errors import ConnectorError, DataError
from assoc_audit.sandbox.errors import SandboxError
from assoc_audit.sandbox.exceptions import ApiError
from assoc_audit.sandbox.objects import WriteInput
from assoc_audit.tables import ASSOCIATION_COLUMNS, TEXT, validate_associations, validate_records

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.sandbox.models import SandboxBackend
    from assoc_audit.tables import Side, SideTables

__all__ = [
    "DISPLAY_PROPERTIES",
    "REQUIRED_PROPERTIES",
    "PortalSide",
    "display_names",
    "display_values",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def _connector_errors(method: _F) -> _F:
    """The emulator's own errors (it stands alone) as the connector errors callers expect."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except SandboxError as exc:
            raise ConnectorError(
                f"{self.describe()}: {exc.message}", status=exc.status, category=exc.category
            ) from None

    return wrapper  # type: ignore[return-value]


#: HubSpot's display properties of the standard objects (contacts: first and last name).
DISPLAY_PROPERTIES: dict[str, str] = {
    "companies": "name",
    "deals": "dealname",
    "tickets": "subject",
}
_DISPLAY = DISPLAY_PROPERTIES
#: Properties a record needs to be created through HubSpot's API (a real portal may
#: refuse deals and tickets without a pipeline and stage); the default pipeline's ids.
REQUIRED_PROPERTIES: dict[str, dict[str, str]] = {
    "deals": {"pipeline": "default", "dealstage": "appointmentscheduled"},
    "tickets": {"hs_pipeline": "0", "hs_pipeline_stage": "1"},
}


def display_values(obj: str, text: str | None) -> dict[str, str]:
    """HubSpot properties that give a new record of ``obj`` the display name ``text``."""
    if text is None:
        return {}
    if obj == "contacts":
        first, _, last = text.partition(" ")
        return {"firstname": first, "lastname": last} if last else {"firstname": first}
    column = DISPLAY_PROPERTIES.get(obj)
    return {column: text} if column else {}


def display_names(obj: str, frame: pd.DataFrame, primary: str | None = None) -> pd.Series:
    """HubSpot display names: first and last name (else email), company name, deal name, …"""
    if obj == "contacts":
        first = frame.get("firstname", pd.Series(None, index=frame.index, dtype=object))
        last = frame.get("lastname", pd.Series(None, index=frame.index, dtype=object))
        full = (first.fillna("").astype(str) + " " + last.fillna("").astype(str)).str.strip()
        email = frame.get("email", pd.Series(None, index=frame.index, dtype=object))
        return full.where(full != "", email).astype(TEXT)
    column = _DISPLAY.get(obj, primary)
    if column is None or column not in frame.columns:
        return pd.Series(None, index=frame.index, dtype=TEXT)
    return frame[column].astype(TEXT)


def _display_properties(obj: str, primary: str | None) -> tuple[str, ...]:
    if obj == "contacts":
        return ("firstname", "lastname", "email")
    column = _DISPLAY.get(obj, primary)
    return (column,) if column else ()


class PortalSide:
    """One emulator portal as a :class:`~assoc_audit.connectors.Connector`, in-process."""

    kind = "hubspot"

    def __init__(
        self,
        config: IntegrationConfig,
        backend: SandboxBackend,
        token: str,
        side: Side = "hubspot",
    ) -> None:
        self._config = config
        self._backend = backend
        self._token = token
        self._side: Side = side

    # -- identity ------------------------------------------------------------------

    @property
    def side(self) -> Side:
        return self._side

    def describe(self) -> str:
        return "sandbox portal (in-process)" + (" (app portal)" if self._side == "app" else "")

    def portal_id(self) -> int:
        """The portal's id (its hub id), as ``GET /account-info/v3/details`` answers it."""
        return int(self._backend.portal(self._token).hub_id)

    def usage(self) -> ApiUsage:
        return ApiUsage()

    def close(self) -> None:
        """Nothing to release: the backend belongs to the sandbox."""

    def _api(self, obj: str) -> str:
        return obj if self._side == "hubspot" else self._config.app_object_of(obj)

    def _check_pair(self, pair: Sequence[str]) -> tuple[str, str]:
        p = (str(pair[0]), str(pair[1]))
        if p not in self._config.pairs:
            raise DataError(f"pair {p[0]}→{p[1]} is not audited by this config")
        return p

    # -- reading -------------------------------------------------------------------

    @_connector_errors
    def read_records(self, obj: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        if columns is None:
            identifiers = self._config.identifier_columns(self._side, obj)
        else:
            skip = "hs_object_id" if self._side == "hubspot" else "id"
            identifiers = tuple(c for c in dict.fromkeys(columns) if c not in (skip, "record_id"))
        api = self._api(obj)
        kind = self._backend.object_type(self._token, api)
        custom_display = (
            self._config.app.display_name.get(api) if self._side == "app" else None
        ) or kind.primary_display_property
        shown = _display_properties(api, custom_display)
        raw = self._backend.records_frame(
            self._token, api, tuple(dict.fromkeys([*identifiers, *shown]))
        )
        frame = pd.DataFrame(
            {
                "object": pd.Series([obj] * len(raw), dtype=TEXT),
                "record_id": raw["id"].astype(TEXT),
            }
        )
        for col in identifiers:
            frame[col] = raw[col].astype(TEXT)
        frame["display_name"] = display_names(api, raw, custom_display)
        frame["updated_at"] = pd.to_datetime(raw["lastmodifieddate"], utc=True, format="ISO8601")
        records, _ = validate_records(
            frame, source=f"{self.describe()} {api} records", identifiers=identifiers
        )
        return records

    @_connector_errors
    def read_associations(
        self, pair: tuple[str, str], *, from_ids: Collection[str] | None = None
    ) -> pd.DataFrame:
        p = self._check_pair(pair)
        raw = self._backend.associations_frame(self._token, self._api(p[0]), self._api(p[1]))
        raw["from_object"] = pd.Series([p[0]] * len(raw), dtype=TEXT)
        raw["to_object"] = pd.Series([p[1]] * len(raw), dtype=TEXT)
        if from_ids is not None:
            raw = raw.loc[raw["from_id"].isin([str(i) for i in from_ids]).to_numpy()]
        links, _ = validate_associations(
            raw.reset_index(drop=True), source=f"{self.describe()} {p[0]}→{p[1]}", pairs=[p]
        )
        return links

    @_connector_errors
    def read_side(self) -> SideTables:
        return read_side_by_parts(self, self._config, meta={"portal": "in-process"})

    # -- writing links -----------------------------------------------------------------

    def _oriented(self, edges: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """Edges in their audited pair's direction, and a mask of rows of unaudited pairs."""
        frame = edge_table(edges)
        pairs = set(self._config.pairs)
        keys = list(zip(frame["from_object"], frame["to_object"], strict=True))
        forward = np.array([k in pairs for k in keys], dtype=bool)
        reverse = np.array([(k[1], k[0]) in pairs for k in keys], dtype=bool) & ~forward
        if reverse.any():
            cols = ["from_object", "from_id", "to_object", "to_id"]
            frame.loc[reverse, cols] = frame.loc[
                reverse, ["to_object", "to_id", "from_object", "from_id"]
            ].to_numpy()
        return frame, ~(forward | reverse)

    def _write_edges(self, edges: pd.DataFrame, *, create: bool) -> WriteResult:
        frame, bad = self._oriented(edges)
        n = len(frame)
        status = np.full(n, "already", dtype=object)
        message = np.full(n, None, dtype=object)
        status[bad] = "failed"
        message[bad] = "pair is not audited by this config"
        seen: set[tuple[Any, ...]] = set()
        stored: dict[tuple[str, str], set[tuple[str, str, str | None]]] = {}
        for pos, row in enumerate(frame.astype(object).itertuples(index=False)):
            if bad[pos]:
                continue
            f_obj, f_id, t_obj, t_id, label = (None if pd.isna(v) else str(v) for v in row)
            assert f_obj and f_id and t_obj and t_id
            key = (f_obj, f_id, t_obj, t_id, label)
            if key in seen:
                continue
            seen.add(key)
            pair = (f_obj, t_obj)
            if pair not in stored:
                links = self.read_associations(pair)
                stored[pair] = set(
                    zip(
                        links["from_id"], links["to_id"], links["label"].astype(object), strict=True
                    )
                )
            here = stored[pair]
            labels = {lab for (f, t, lab) in here if f == f_id and t == t_id}
            present = bool(labels) if label is None else label in labels
            if present == create:
                continue
            try:
                self._write_one(pair, f_id, t_id, label, create=create)
            except (ApiError, KeyError) as exc:
                status[pos] = "failed"
                message[pos] = exc.message if isinstance(exc, ApiError) else str(exc.args[0])
                continue
            status[pos] = "ok"
            del stored[pair]  # re-read: a write can move a primary or drop labels
        op = "create_edges" if create else "remove_edges"
        return WriteResult(op, outcome_frame(frame[list(ASSOCIATION_COLUMNS)], status, message))

    def _write_one(
        self, pair: tuple[str, str], f_id: str, t_id: str, label: str | None, *, create: bool
    ) -> None:
        backend, token = self._backend, self._token
        portal = backend.portal(token)
        f_api, t_api = self._api(pair[0]), self._api(pair[1])
        f_obj, t_obj = backend.object_type(token, f_api), backend.object_type(token, t_api)
        type_id = backend.label_type_id(token, f_api, t_api, label)
        if create:
            _, errors = backend.assoc.create(
                portal, f_obj, t_obj, [(f_id, t_id, [(None, type_id)])]
            )
            if errors:
                raise ApiError(400, errors[0].category, errors[0].message)
        elif label is None:
            backend.assoc.archive(portal, f_obj, t_obj, [(f_id, [t_id])])
        else:
            backend.assoc.archive_labels(portal, f_obj, t_obj, [(f_id, t_id, [(None, type_id)])])

    @_connector_errors
    def create_edges(self, edges: pd.DataFrame, *, check: bool = True) -> WriteResult:
        return self._write_edges(edges, create=True)

    @_connector_errors
    def remove_edges(self, edges: pd.DataFrame, *, check: bool = True) -> WriteResult:
        return self._write_edges(edges, create=False)

    # -- writing records -----------------------------------------------------------------

    @_connector_errors
    def create_records(self, obj: str, records: pd.DataFrame) -> pd.DataFrame:
        backend, token = self._backend, self._token
        kind = backend.object_type(token, self._api(obj))
        values = records.astype(object).where(records.notna(), None)
        inputs = [
            WriteInput({str(k): v for k, v in row.items() if v is not None and k != "id"})
            for row in values.to_dict("records")
        ]
        try:
            created = backend.objects.batch_create(backend.portal(token), kind, inputs)
        except ApiError as exc:
            raise DataError(f"{self.describe()} {kind.name}: {exc.message}") from None
        out = records.copy()
        out["record_id"] = pd.Series([str(r.id) for r in created], index=records.index, dtype=TEXT)
        return out

    @_connector_errors
    def delete_records(self, obj: str, ids: Collection[str]) -> WriteResult:
        backend, token = self._backend, self._token
        api = self._api(obj)
        wanted = pd.Series([str(i) for i in ids], dtype=TEXT)
        live = backend.records_frame(token, api)["id"]
        present = wanted.isin(live).to_numpy() & ~wanted.duplicated().to_numpy()
        backend.objects.archive(
            backend.portal(token), backend.object_type(token, api), wanted.unique().tolist()
        )
        keys = pd.DataFrame({"object": [obj] * len(wanted), "record_id": wanted.to_numpy()})
        status = np.where(present, "ok", "already").astype(object)
        return WriteResult("delete_records", outcome_frame(keys, status, [None] * len(wanted)))
