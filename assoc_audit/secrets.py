"""Keeping access tokens out of every text the toolkit writes (DESIGN §10).

Tokens are only ever read from environment variables, by name, at the moment a
client is built (:func:`read_token`), which registers the value whatever it
looks like (OAuth access tokens do not start with ``pat-``). Everything that
turns data into text for people (error messages, logs, reports) can pass it
through :func:`redact_text`, which hides HubSpot-style tokens, bearer headers
and every registered secret — also in the forms it takes inside files: JSON-
escaped (once or twice, ASCII or not), URL-encoded and HTML-escaped — and
:func:`redact_url`, which hides URL passwords.
"""

from __future__ import annotations

import html
import json
import os
import re
import threading
from urllib.parse import quote, quote_plus

__all__ = [
    "REDACTED",
    "read_token",
    "redact_text",
    "redact_url",
    "register_secret",
    "secret_forms",
]

REDACTED = "<redacted>"

_PATTERNS = (
    re.compile(r"\bpat-[A-Za-z0-9-]{6,}"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"(?i)(hapikey=)[^&\s]+"),
)
_URL_PASSWORD = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@")

_lock = threading.Lock()
_known: set[str] = set()


def _json_inner(value: str, *, ascii_only: bool) -> str:
    return json.dumps(value, ensure_ascii=ascii_only)[1:-1]


def secret_forms(value: str) -> set[str]:
    """The texts ``value`` may appear as in a file: itself, JSON-escaped (a notebook's
    output inside its ``.ipynb``, and once more for JSON printed into a cell), URL-encoded
    and HTML-escaped."""
    forms = {value}
    for ascii_only in (False, True):
        once = _json_inner(value, ascii_only=ascii_only)
        forms |= {once, _json_inner(once, ascii_only=ascii_only)}
    forms |= {quote(value, safe=""), quote(value), quote_plus(value, safe=""), html.escape(value)}
    return {f for f in forms if f}


def register_secret(value: str) -> None:
    """Remember a secret value so :func:`redact_text` hides it (in every form of
    :func:`secret_forms`) wherever it appears."""
    if value and len(value) >= 4:
        with _lock:
            _known.update(secret_forms(value))


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
