"""Which tokens the emulator accepts for a portal: sandbox tokens only (DESIGN §10).

One rule, used by ``assoc-audit sandbox serve --token``, by
``POST /_sandbox/portals`` and by :class:`~.server.Sandbox`: a token is refused
when it is empty, looks like a real HubSpot private-app token (``pat-<region>-…``)
or equals the value of ``HUBSPOT_ACCESS_TOKEN`` (the variable real tokens live
in). The reason never contains the token.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

__all__ = ["REAL_TOKEN_ENV", "token_refusal"]

#: The environment variable that holds a real HubSpot token by convention.
REAL_TOKEN_ENV = "HUBSPOT_ACCESS_TOKEN"
_REAL_TOKEN = re.compile(r"^pat-[a-z0-9]+-", re.IGNORECASE)


def token_refusal(token: object, *, environ: Mapping[str, str] | None = None) -> str | None:
    """Why ``token`` may not open a sandbox portal (a phrase without the token), or None.

    ``environ`` defaults to the process environment (read at call time).
    """
    if not isinstance(token, str) or not token.strip():
        return "must be non-empty text"
    env = os.environ if environ is None else environ
    real = env.get(REAL_TOKEN_ENV)
    if _REAL_TOKEN.match(token.strip()) or (real and token == real):
        return (
            f"looks like a real HubSpot token (a private-app token, or the value of "
            f"{REAL_TOKEN_ENV}); the sandbox takes sandbox tokens only (any other text)"
        )
    return None
