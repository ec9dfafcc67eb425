"""The emulator's route table, as data.

Each route: HTTP method, path template (``{name}`` matches one path segment),
the handler (``group.method``: ``objects`` → :class:`~.responses_objects.ObjectResponses`,
``assoc`` → :class:`~.responses_associations.AssociationResponses`,
``account`` → :class:`~.responses_account.AccountResponses`, ``control`` →
:class:`~.control.ControlResponses`) and the rate-limit class
(``default`` counts against the 10-second window; ``search`` has its own
per-second limit; ``assoc_batch`` is v4 batch, whose counting is
configurable; ``control`` is the emulator's own API: no auth limit, no
faults, no statistics). The handler name is also the endpoint name in
request statistics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CONTROL_PREFIX", "ROUTES", "Route", "compile_routes"]

CONTROL_PREFIX = "/_sandbox"

_OBJ = "/crm/v3/objects/{object_type}"
_PROPS = "/crm/v3/properties/{object_type}"
_V4 = "/crm/v4/objects/{object_type}/{object_id}/associations"
_PAIR = "/crm/v4/associations/{from_type}/{to_type}"
_CONF = "/crm/v4/associations/definitions/configurations"

#: (method, path template, handler, rate class)
ROUTES: tuple[tuple[str, str, str, str], ...] = (
    # CRM objects v3
    ("GET", _OBJ, "objects.list_page", "default"),
    ("POST", _OBJ, "objects.create", "default"),
    ("POST", _OBJ + "/search", "objects.search", "search"),
    ("POST", _OBJ + "/batch/read", "objects.batch_read", "default"),
    ("POST", _OBJ + "/batch/create", "objects.batch_create", "default"),
    ("POST", _OBJ + "/batch/update", "objects.batch_update", "default"),
    ("POST", _OBJ + "/batch/upsert", "objects.batch_upsert", "default"),
    ("POST", _OBJ + "/batch/archive", "objects.batch_archive", "default"),
    ("GET", _OBJ + "/{object_id}", "objects.get", "default"),
    ("PATCH", _OBJ + "/{object_id}", "objects.update", "default"),
    ("DELETE", _OBJ + "/{object_id}", "objects.archive", "default"),
    # Properties v3
    ("GET", _PROPS, "objects.properties_list", "default"),
    ("POST", _PROPS, "objects.property_create", "default"),
    ("POST", _PROPS + "/batch/read", "objects.properties_batch_read", "default"),
    ("POST", _PROPS + "/batch/create", "objects.properties_batch_create", "default"),
    ("POST", _PROPS + "/batch/archive", "objects.properties_batch_archive", "default"),
    ("GET", _PROPS + "/{property_name}", "objects.property_get", "default"),
    ("PATCH", _PROPS + "/{property_name}", "objects.property_update", "default"),
    ("DELETE", _PROPS + "/{property_name}", "objects.property_archive", "default"),
    # Associations v4, per record
    ("GET", _V4 + "/{to_object_type}", "assoc.record_page", "default"),
    ("PUT", _V4 + "/default/{to_object_type}/{to_object_id}", "assoc.record_default", "default"),
    ("PUT", _V4 + "/{to_object_type}/{to_object_id}", "assoc.record_create", "default"),
    ("DELETE", _V4 + "/{to_object_type}/{to_object_id}", "assoc.record_archive", "default"),
    # Associations v4 schema: limit configurations (before the generic pair routes)
    ("GET", _CONF + "/all", "assoc.configs_all", "default"),
    ("POST", _CONF + "/{from_type}/{to_type}/batch/create", "assoc.configs_create", "default"),
    ("POST", _CONF + "/{from_type}/{to_type}/batch/update", "assoc.configs_update", "default"),
    ("POST", _CONF + "/{from_type}/{to_type}/batch/purge", "assoc.configs_purge", "default"),
    ("GET", _CONF + "/{from_type}/{to_type}", "assoc.configs_pair", "default"),
    # Associations v4, batch
    ("POST", _PAIR + "/batch/read", "assoc.batch_read", "assoc_batch"),
    ("POST", _PAIR + "/batch/create", "assoc.batch_create", "assoc_batch"),
    ("POST", _PAIR + "/batch/associate/default", "assoc.batch_default", "assoc_batch"),
    ("POST", _PAIR + "/batch/archive", "assoc.batch_archive", "assoc_batch"),
    ("POST", _PAIR + "/batch/labels/archive", "assoc.batch_archive_labels", "assoc_batch"),
    # Associations v4 schema: label definitions
    ("GET", _PAIR + "/labels", "assoc.labels_get", "default"),
    ("POST", _PAIR + "/labels", "assoc.labels_create", "default"),
    ("PUT", _PAIR + "/labels", "assoc.labels_update", "default"),
    ("DELETE", _PAIR + "/labels/{type_id}", "assoc.labels_delete", "default"),
    # Account information v3
    ("GET", "/account-info/v3/details", "account.details", "default"),
    # The emulator's control API (never used by HubSpot)
    ("GET", CONTROL_PREFIX + "/health", "control.health", "control"),
    ("GET", CONTROL_PREFIX + "/portal", "control.portal", "control"),
    ("POST", CONTROL_PREFIX + "/portals", "control.add_portal", "control"),
    ("POST", CONTROL_PREFIX + "/reset", "control.reset", "control"),
    ("POST", CONTROL_PREFIX + "/seed", "control.seed", "control"),
    ("POST", CONTROL_PREFIX + "/object-types", "control.register_object", "control"),
    ("GET", CONTROL_PREFIX + "/limits", "control.get_limits", "control"),
    ("PUT", CONTROL_PREFIX + "/limits", "control.set_limits", "control"),
    ("GET", CONTROL_PREFIX + "/faults", "control.get_faults", "control"),
    ("PUT", CONTROL_PREFIX + "/faults", "control.set_faults", "control"),
    ("GET", CONTROL_PREFIX + "/stats", "control.get_stats", "control"),
    ("DELETE", CONTROL_PREFIX + "/stats", "control.reset_stats", "control"),
)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    group: str
    handler: str
    kind: str

    @property
    def name(self) -> str:
        return f"{self.group}.{self.handler}"


def compile_routes() -> list[Route]:
    """The route table with each template compiled to a regular expression."""
    out = []
    for method, template, handler, kind in ROUTES:
        regex = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?$"
        group, _, name = handler.partition(".")
        out.append(Route(method, re.compile(regex), group, name, kind))
    return out
