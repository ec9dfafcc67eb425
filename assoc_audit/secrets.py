"""Keeping access tokens out of every text the toolkit writes (DESIGN §10).

Tokens are only ever read from environment variables, by name, at the moment a
client is built (:func:`read_token`). Everything that turns data into text for
people (error messages, logs, reports) can pass it through :func:`redact_text`,
which hides HubSpot-style tokens, bearer headers and every token value read so
far in this process, and :func:`redact_url`, which hides URL passwords.
"""

from __future__ import annotations

import os
import re
import threading

__all__ = ["REDACTED", "read_token", "redact_text", "redact_url", "register_secret"]

REDACTED = "<redacted>"

_PATTERNS = (
    re.compile(r"\bpat-[A-Za-z0-9-]{6,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"(?i)(hapikey=)[^&\s]+"),
)
_URL_PASSWORD = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@")

_lock = threading.Lock()
_known: set[str] = set()


def register_secret(value: str) -> None:
    """Remember a secret value so :func:`redact_text` hides it wherever it appears."""
    if value and len(value) >= 4:
        with _lock:
            _known.add(value)


def read_token(env_name: str) -> str | None:
    """The token in environment variable ``env_name`` (registered for redaction), or None."""
    value = os.environ.get(env_name)
    if value:
        register_secret(value)
        return value
    return None


def redact_url(text: str) -> str:
    """Hide the password part of ``scheme://user:password@host`` URLs."""
    return _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{REDACTED}@", text)


def redact_text(text: str) -> str:
    """Hide token-like strings and every registered secret in ``text``."""
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + REDACTED, text)
    return redact_url(text)
