"""Where the SQL app is: its SQLAlchemy URL, from the config or the environment.

``app.url`` is a SQLAlchemy URL, or ``app.url_env`` names the environment
variable that holds it (recommended for anything with a password);
``app.password_env`` names a variable holding only the password of a ``url``
written without one. Variables are read when connecting, their values
registered for redaction. The fix-plan digest and the scenario plan name the
database by :func:`database_url` (password hidden).
"""

from __future__ import annotations

import re
from contextlib import suppress
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from assoc_audit.config import sqlite_path
from assoc_audit.errors import ConnectorError
from assoc_audit.secrets import read_token, redact_text, register_secret

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig

__all__ = ["database_url"]


def _from_env(name: str, what: str, key: str) -> str:
    """The value of environment variable ``name`` (registered as a secret); never echoed."""
    value = read_token(name)
    if value is None:
        raise ConnectorError(
            f"${name} is not set: put {what} in that environment variable ({key} names it)",
            field=key,
        )
    return value


#: Query parameters of a database URL that hold secrets (hidden wherever they appear).
_SECRET_QUERY = re.compile(r"(pass|pwd|secret|token|key)", re.IGNORECASE)


def _register_url_secrets(parsed: sa.URL, text: str) -> None:
    """Hide the URL's password (as parsed and as written) and secret query values."""
    if parsed.password:
        register_secret(str(parsed.password))
    with suppress(ValueError):
        written = urlsplit(text).password
        if written:
            register_secret(written)
    for key, value in parsed.query.items():
        if _SECRET_QUERY.search(key):
            for item in (value,) if isinstance(value, str) else value:
                register_secret(str(item))


def database_url(config: IntegrationConfig, url: str | None = None) -> sa.URL:
    """The app's SQLAlchemy URL, resolved: from ``url`` (when given), ``app.url_env`` or
    ``app.url``, with the password from ``app.password_env`` when the config names one.

    Environment variables are read here, when connecting (never at import or
    config load), and their values registered for redaction; an unset or empty
    variable is a ConnectorError naming the variable. Relative SQLite paths
    resolve against the config's folder; PostgreSQL goes through psycopg 3.
    ``render_as_string(hide_password=True)`` is the form to show.
    """
    app = config.app
    env = app.url_env if url is None else None
    text: str | None = url if url is not None else app.url
    if env:
        text = _from_env(env, "the app database's SQLAlchemy URL", "app.url_env")
    if not text:
        raise ConnectorError(
            "app.url: required to read or write the app's database (or app.url_env: the "
            "name of an environment variable holding the URL)"
        )
    text = sqlite_path(text, config.base_dir)
    text = re.sub(r"^(?:postgres|postgresql)://", "postgresql+psycopg://", text)
    try:
        parsed = sa.make_url(text)
    except sa_exc.ArgumentError:
        if env:
            raise ConnectorError(
                f"app.url_env: ${env} does not hold a database URL", field="app.url_env"
            ) from None
        raise ConnectorError(f"app.url: not a database URL: {redact_text(text)}") from None
    _register_url_secrets(parsed, text)
    if app.password_env:
        if parsed.password:
            where = f"the URL in ${env}" if env else "app.url"
            raise ConnectorError(
                f"app.password_env: {where} has a password already; remove one of them",
                field="app.password_env",
            )
        password = _from_env(app.password_env, "the app database's password", "app.password_env")
        parsed = parsed.set(password=password)
    return parsed
