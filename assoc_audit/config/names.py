"""Names and places in a config: app object and table names, base URLs, paths.

App object names and ``app.tables`` values are *names*, never paths
(:func:`name_problem`); a ``base_url`` carries a bearer token, so it is
``https://`` except to this machine (:func:`base_url_problem`); relative paths
resolve against the config file's folder (:func:`resolve_path`, and SQLite
URLs: :func:`sqlite_path`). Connectors check these again for configs built
past validation.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "LOOPBACK_NAMES",
    "base_url_problem",
    "is_loopback",
    "name_problem",
    "resolve_path",
    "sqlite_file",
    "sqlite_path",
]


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an app object or table, or None when it can.

    App object names and ``app.tables`` values are names, not paths, for every
    app kind: the files connector joins them onto its folder, the SQL connector
    uses them as table names, the HubSpot connector puts them in API paths.
    So no absolute path (``/x``, ``~x``, ``C:x``, ``\\\\server``), no ``.`` or
    ``..``, no ``/`` or ``\\`` and no NUL.
    """
    if name.startswith(("/", "\\")):
        return "is an absolute path"
    if re.match(r"^[A-Za-z]:", name):
        return "starts with a Windows drive"
    if name.startswith("~"):
        return "starts with ~ (a home folder)"
    if name in (".", ".."):
        return "is a folder reference"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if "\x00" in name:
        return "contains a NUL character"
    return None


#: Hosts a ``base_url`` may reach over plain ``http://`` (the local sandbox emulator).
LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost``, an address in 127.0.0.0/8 or ``::1``."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url_problem(url: str) -> str | None:
    """Why ``url`` is not a safe ``base_url`` for a bearer token, or None when it is.

    ``https://`` for every host; ``http://`` only for loopback hosts (the
    emulator). No user name or password, no query string, no fragment.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is not a valid URL"
    if "@" in parts.netloc:
        return "must not contain a user name or password (the token comes from token_env)"
    if "?" in url:
        return "must not have a query string"
    if "#" in url:
        return "must not have a fragment"
    if parts.scheme not in ("http", "https") or not host:
        return "must be an https:// URL with a host"
    if parts.scheme == "http" and not is_loopback(host):
        return (
            "uses http:// for a host that is not this machine: use https:// (the access token "
            "must not travel in clear text; http:// is only for 127.0.0.1, ::1 and localhost)"
        )
    return None


def resolve_path(path: Path | str, base_dir: Path) -> Path:
    """``path`` (``~`` expanded) resolved against ``base_dir`` unless it is absolute."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base_dir / p).resolve()


def sqlite_file(url: str, base_dir: Path) -> Path | None:
    """The database file of a ``sqlite:///`` URL (None for memory or other databases)."""
    match = re.match(r"^sqlite(?:\+\w+)?:///(.*?)(?:\?.*)?$", url)
    if not match or match.group(1) in ("", ":memory:"):
        return None
    return resolve_path(match.group(1), base_dir)


def sqlite_path(url: str, base_dir: Path) -> str:
    """A SQLAlchemy URL with a relative SQLite path resolved against ``base_dir``."""
    db = sqlite_file(url, base_dir)
    if db is None:
        return url
    prefix = url.split(":///", 1)[0]
    query = url.split("?", 1)[1] if "?" in url else ""
    return f"{prefix}:///{db}" + (f"?{query}" if query else "")
