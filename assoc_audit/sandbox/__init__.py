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
"""

from .faults import FaultSettings
from .limits import Limits
from .models import SandboxBackend
from .server import DEFAULT_TOKEN, Sandbox, serve

__all__ = ["DEFAULT_TOKEN", "FaultSettings", "Limits", "Sandbox", "SandboxBackend", "serve"]
