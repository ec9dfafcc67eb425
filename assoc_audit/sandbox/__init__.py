"""The sandbox portal emulator: a HubSpot CRM portal on loopback (DESIGN §9).

The official ``hubspot-api-client`` talks to it unchanged::

    from assoc_audit.sandbox import Sandbox

    with Sandbox(tokens=("tok-a",)) as sb:
        api = sb.client("tok-a")
        sb.backend.load_records("tok-a", "contacts", frame)
        page = api.crm.contacts.basic_api.get_page(limit=100)

Layout (moto-style): :mod:`.models` holds state and logic without HTTP
(split by concept into :mod:`.objects`, :mod:`.associations`, :mod:`.labels`,
:mod:`.search`, :mod:`.bulk`, …, stored by :mod:`.store`); :mod:`.urls` is the
route table; :mod:`.responses_objects` and :mod:`.responses_associations`
parse requests and format responses; :mod:`.app` runs the pipeline (auth,
faults, rate limits, statistics); :mod:`.server` serves it over HTTP.

The names below are imported on first use, so ``assoc-audit --help`` does not
load the emulator.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assoc_audit.sandbox.faults import FaultSettings
    from assoc_audit.sandbox.limits import Limits
    from assoc_audit.sandbox.models import SandboxBackend
    from assoc_audit.sandbox.server import DEFAULT_TOKEN, Sandbox, serve

__all__ = ["DEFAULT_TOKEN", "FaultSettings", "Limits", "Sandbox", "SandboxBackend", "serve"]

_WHERE = {
    "DEFAULT_TOKEN": "server",
    "FaultSettings": "faults",
    "Limits": "limits",
    "Sandbox": "server",
    "SandboxBackend": "models",
    "serve": "server",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
