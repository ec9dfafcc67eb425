"""``GET /account-info/v3/details``: the account behind the token (its portal id).

The body has the fields HubSpot documents for this endpoint, each required
there: ``portalId`` (this portal's hub id), ``accountType``, ``timeZone``,
``companyCurrency``, ``additionalCurrencies``, ``utcOffset``,
``utcOffsetMilliseconds``, ``uiDomain`` and ``dataHostingLocation``. Apart from
``portalId`` the values are fixed: a standard account on UTC (the emulator's
daily limit resets at UTC midnight too), in US dollars, hosted in ``na1``.
"""

from __future__ import annotations

from typing import Any

from assoc_audit.sandbox.wire import Request, Response

__all__ = ["AccountResponses", "account_details"]


def account_details(hub_id: int) -> dict[str, Any]:
    """The account details body of the portal with ``hub_id``."""
    return {
        "portalId": hub_id,
        "accountType": "STANDARD",
        "timeZone": "UTC",
        "companyCurrency": "USD",
        "additionalCurrencies": [],
        "utcOffset": "+00:00",
        "utcOffsetMilliseconds": 0,
        "uiDomain": "app.hubspot.com",
        "dataHostingLocation": "na1",
    }


class AccountResponses:
    """Handlers for ``/account-info/v3/...``."""

    def details(self, req: Request) -> Response:
        assert req.portal is not None
        return Response(200, account_details(req.portal.hub_id))
