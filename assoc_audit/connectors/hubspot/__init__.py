"""The HubSpot connector: a portal as canonical tables, through the official client.

Modules: :mod:`.connector` (:class:`HubSpotConnector`: reads, writes, portal
identity), :mod:`.api` (one client, retries, errors, usage), :mod:`.shapes`
(what every 2xx body must hold), :mod:`.fetch` (concurrent list pages and v4
batch reads at the rate limit), :mod:`.schema` (object names, association
types, labels), :mod:`.write` (batched v4 writes with per-link outcomes),
:mod:`.ratelimit` (the shared limiter fed by HubSpot's headers).
"""

from assoc_audit.connectors.hubspot.connector import HubSpotConnector

__all__ = ["HubSpotConnector"]
