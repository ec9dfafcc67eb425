"""Where a fix plan writes: each side's resolved target, bound into the plan's digest.

Everything that decides where a confirmed write lands is resolved when the
plan is made, recorded in the plan's ``targets`` and covered by its digest
(:mod:`.digest`), so editing the config after review cannot send the same
confirmed writes somewhere else::

    {"hubspot": {"kind": "hubspot", "url": "https://api.hubapi.com", "portal_id": 123},
     "app": {"kind": "sql", "url": "postgresql+psycopg://crm:***@db/crm",
             "routes": {"contacts→companies": {
                 "from": {"object": "contacts", "app_object": "persons", "table": "people_v"},
                 "to": {"object": "companies", "app_object": "organizations",
                        "table": "organizations"},
                 "associations_table": "links_v",
                 "labels": [[null, null], ["Primary", "primary"]],
                 "unlabeled": [null, "participant"]}}}}

- every side has its **location**: the HubSpot base URL, the app's folder
  (absolute), database URL (password hidden) or second portal's base URL;
- a side the plan writes to and that is a HubSpot portal also has its
  ``portal_id`` (``GET /account-info/v3/details``), so two portals behind one
  base URL never share a digest;
- the app side has one **route** per object pair its operations touch: the
  app object names and tables of both ends, the associations table (files and
  SQL), and the pair's whole label mapping (HubSpot label → app text, and the
  app's spellings of the unlabeled link).

At apply (and undo) the same resolution runs on the current config and the
live connectors (:func:`check_targets`): any difference refuses the apply
before anything is read or written, naming the first difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assoc_audit.errors import ConnectorError, DigestMismatch, PlanError
from assoc_audit.fixes.model import SIDES, Side, SideModel, label_key
from assoc_audit.secrets import redact_url

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.connectors.base import Connector
    from assoc_audit.fixes.model import Operation

__all__ = [
    "HUBSPOT_API",
    "check_targets",
    "difference_within",
    "first_difference",
    "hubspot_sides",
    "location",
    "portal_ids_of",
    "resolve_targets",
    "written_sides",
]

#: The real HubSpot API (what ``base_url: null`` means).
HUBSPOT_API = "https://api.hubapi.com"


def _url(base_url: str | None) -> str:
    return (base_url or HUBSPOT_API).rstrip("/")


def location(config: IntegrationConfig, side: str) -> dict[str, Any]:
    """Where ``side`` is written (no secrets): HubSpot URL, app folder, database URL."""
    if side == "hubspot":
        return {"kind": "hubspot", "url": _url(config.hubspot.base_url)}
    app = config.app
    if app.kind == "hubspot":
        return {"kind": "hubspot", "url": _url(app.base_url)}
    if app.kind == "files":
        path = str(config.resolve(app.path)) if app.path is not None else ""
        return {"kind": "files", "path": path}
    from assoc_audit.connectors.sqlurl import database_url

    try:
        shown = database_url(config).render_as_string(hide_password=True)
    except ConnectorError:  # no URL configured: the connector says so when it is opened
        shown = ""
    return {"kind": "sql", "url": redact_url(shown)}


def hubspot_sides(config: IntegrationConfig) -> tuple[Side, ...]:
    """The sides that are HubSpot portals (HubSpot itself, and a HubSpot-kind app)."""
    return ("hubspot", "app") if config.app.kind == "hubspot" else ("hubspot",)


def written_sides(operations: Iterable[Operation]) -> tuple[Side, ...]:
    """The sides that operations write to (implied operations are HubSpot's own doing)."""
    sides = {op.side for op in operations}
    return tuple(s for s in SIDES if s in sides)


def _labels(model: SideModel, pair: tuple[str, str]) -> dict[str, Any]:
    mapping = model.from_hubspot.get(pair, {None: None})
    labels = sorted(([h, a] for h, a in mapping.items()), key=lambda x: label_key(x[0]))
    unlabeled = sorted(model.unlabeled.get(pair, frozenset({None})), key=label_key)
    return {"labels": labels, "unlabeled": unlabeled}


def _routes(
    config: IntegrationConfig, pairs: Sequence[tuple[str, str]]
) -> dict[str, dict[str, Any]]:
    from assoc_audit.connectors.app import AppLayout

    layout = AppLayout.from_config(config)
    model = SideModel.of(config, "app")
    tabled = config.app.kind != "hubspot"
    routes: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        ends = {}
        for end, obj in zip(("from", "to"), pair, strict=True):
            app_object = config.app_object_of(obj)
            ends[end] = {"object": obj, "app_object": app_object}
            if tabled:
                ends[end]["table"] = layout.table(app_object)
        route: dict[str, Any] = dict(ends)
        if tabled:
            route["associations_table"] = layout.associations_table
        route.update(_labels(model, pair))
        routes[f"{pair[0]}→{pair[1]}"] = route
    return routes


def resolve_targets(
    config: IntegrationConfig,
    operations: Sequence[Operation],
    portal_ids: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """The plan's ``targets`` (module docstring) for ``operations`` under ``config``.

    ``portal_ids`` (side → id) are the portals of the written HubSpot sides,
    as read from the live connectors (:func:`portal_ids_of`) or a journal.
    """
    ids = dict(portal_ids or {})
    writes = written_sides(operations)
    out: dict[str, dict[str, Any]] = {}
    for side in SIDES:
        target = location(config, side)
        if side in writes and side in hubspot_sides(config):
            target["portal_id"] = ids.get(side)
        if side == "app":
            pairs = sorted({(op.from_object, op.to_object) for op in operations if op.side == side})
            if pairs:
                target["routes"] = _routes(config, pairs)
        out[side] = target
    return out


def portal_ids_of(
    config: IntegrationConfig, sides: Iterable[str], connectors: Mapping[str, Connector]
) -> dict[str, int]:
    """The portal id behind each HubSpot side in ``sides`` (one call per connector)."""
    from assoc_audit.connectors import portal_ids

    wanted = [s for s in sides if s in hubspot_sides(config)]
    return portal_ids({s: connectors[s] for s in wanted})


def _walk(recorded: Any, now: Any, path: str, where: str, *, both: bool) -> str | None:
    """The first difference of ``now`` from ``recorded`` (``where``: "the plan" or "the
    journal"), in sorted key order; ``both``: keys only in ``recorded`` count too."""
    if isinstance(recorded, Mapping) and isinstance(now, Mapping):
        keys = set(recorded) | set(now) if both else set(now)
        for key in sorted(keys, key=str):
            at = f"{path}.{key}" if path else str(key)
            if key not in recorded:
                return f"{at} is {now[key]!r} now but not in {where}"
            if key not in now:
                return f"{at} is {recorded[key]!r} in {where} but not there now"
            found = _walk(recorded[key], now[key], at, where, both=both)
            if found is not None:
                return found
        return None
    if recorded != now:
        return f"{path} is {recorded!r} in {where} but {now!r} now"
    return None


def first_difference(plan: Mapping[str, Any], now: Mapping[str, Any]) -> str | None:
    """The first place (in sorted key order) where two targets differ, told for people."""
    return _walk(dict(plan), dict(now), "", "the plan", both=True)


def difference_within(outer: Mapping[str, Any], inner: Mapping[str, Any]) -> str | None:
    """The first place where ``inner`` (an undo's targets) is not part of ``outer`` (the
    targets its apply's journal records): every key of ``inner`` must hold the same there."""
    return _walk(dict(outer), dict(inner), "", "the journal", both=False)


def check_targets(
    targets: Mapping[str, Any],
    resolved: Mapping[str, Any],
    *,
    confirm: str | None,
) -> None:
    """Refuse (exit 2, nothing written) when the plan's targets are not the resolved ones."""
    difference = first_difference(targets, resolved)
    if difference is None:
        return
    message = (
        f"this plan was made for other targets than the config writes to: {difference}; "
        "nothing was written (make a new plan with this config and review it)"
    )
    if confirm is not None:
        raise DigestMismatch(message)
    raise PlanError(message)
