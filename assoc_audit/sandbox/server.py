"""The emulator's HTTP server: :class:`Sandbox` (a background thread) and :func:`serve`.

A ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive (and Nagle off, so
small responses are not held back), one thread per client connection, on
loopback. It hands every request to :class:`~.app.SandboxApp` and writes what
it returns; a dropped-connection fault closes the socket without a response.

Use it in tests and notebooks as a context manager::

    with Sandbox(tokens=("tok-a", "tok-b")) as sb:
        api = sb.client("tok-a")          # hubspot.HubSpot pointed at sb.url
        sb.backend.load_records("tok-a", "contacts", frame)
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from assoc_audit.sandbox.app import SandboxApp, Seeder
from assoc_audit.sandbox.clock import Clock
from assoc_audit.sandbox.errors import SandboxError
from assoc_audit.sandbox.faults import FaultSettings
from assoc_audit.sandbox.limits import Limits, parse_rate
from assoc_audit.sandbox.models import SandboxBackend
from assoc_audit.sandbox.tokens import token_refusal

__all__ = ["DEFAULT_TOKEN", "Sandbox", "faults_from", "limits_from", "serve"]

log = logging.getLogger("assoc_audit.sandbox")

#: The token a sandbox accepts when none is given (a sandbox token, not a secret).
DEFAULT_TOKEN = "sandbox-token"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def version_string(self) -> str:
        return "assoc-audit-sandbox"

    def _serve(self) -> None:
        length = self.headers.get("Content-Length")
        try:
            body = self.rfile.read(int(length)) if length else b""
        except ValueError:
            body = b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        out = self.server.app.handle(self.command, self.path, headers, body)
        if out.delay:
            time.sleep(out.delay)
        if out.drop_before or out.drop_after:
            self.close_connection = True
            return
        self.send_response(out.status)
        for name, value in out.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(out.body)))
        self.end_headers()
        if out.body:
            self.wfile.write(out.body)

    do_GET = _serve
    do_POST = _serve
    do_PUT = _serve
    do_PATCH = _serve
    do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: SandboxApp) -> None:
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, addr = super().get_request()
        with self._open_lock:
            self._open.add(sock)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            socks = list(self._open)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def limits_from(
    rate_limit: int | str | None, limits: Limits | Mapping[str, Any] | None = None
) -> Limits:
    """Limits from a ``rate_limit`` shorthand (None = HubSpot's 190/10 s; 0 or "off" = none)."""
    base = limits if isinstance(limits, Limits) else Limits().updated(dict(limits or {}))
    if rate_limit is None:
        return base
    return base.updated({"rate_per_10s": parse_rate(rate_limit)})


def faults_from(faults: float | FaultSettings | Mapping[str, Any] | None) -> FaultSettings:
    """Fault settings from a rate (all kinds, equal weights), a mapping or settings."""
    if faults is None:
        return FaultSettings()
    if isinstance(faults, FaultSettings):
        return faults
    if isinstance(faults, int | float):
        return FaultSettings(rate=float(faults))
    return FaultSettings().updated(dict(faults))


class Sandbox:
    """The emulator on a free loopback port, served from a background thread.

    ``tokens``: one portal per token (created when new; tokens that look real are
    refused, :mod:`.tokens`). ``data``: None keeps
    the state in a temporary database; a path persists it. ``rate_limit``:
    None = HubSpot's 190 per 10 s, an int or ``"N/10s"`` another, 0 or
    ``"off"`` none. ``faults``: None, a rate (0–1, every kind), a mapping or
    :class:`FaultSettings`. ``limits`` overrides any other limit. These are every
    portal's defaults; :meth:`set_limits` / :meth:`set_faults` change them at run
    time, for all portals or one token's.
    """

    def __init__(
        self,
        tokens: Iterable[str] = (DEFAULT_TOKEN,),
        data: Path | str | None = None,
        rate_limit: int | str | None = None,
        faults: float | FaultSettings | Mapping[str, Any] | None = None,
        *,
        limits: Limits | Mapping[str, Any] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        seeder: Seeder | None = None,
    ) -> None:
        self.tokens = tuple(tokens)
        if not self.tokens:
            raise SandboxError("a sandbox needs at least one token")
        for token in self.tokens:
            _check_token(token)
        self._data = data
        self._limits = limits_from(rate_limit, limits)
        self._faults = faults_from(faults)
        self._host = host
        self._port = port
        self._clock = clock
        self._seeder = seeder
        self._backend: SandboxBackend | None = None
        self._app: SandboxApp | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> Sandbox:
        if self._server is not None:
            return self
        backend = SandboxBackend(self._data, clock=self._clock)
        try:
            for token in self.tokens:
                backend.add_portal(token)
            app = SandboxApp(backend, limits=self._limits, faults=self._faults, seeder=self._seeder)
            server = _Server((self._host, self._port), app)
        except BaseException:
            backend.close()
            raise
        self._backend, self._app, self._server = backend, app, server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="assoc-audit-sandbox",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread, backend = self._server, self._thread, self._backend
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.close_connections()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        if backend is not None:
            backend.close()
        self._backend = None
        self._app = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- access ------------------------------------------------------------------------

    @property
    def app(self) -> SandboxApp:
        if self._app is None:
            raise SandboxError("the sandbox is not running")
        return self._app

    @property
    def backend(self) -> SandboxBackend:
        """The in-process state (load, inspect) of the running sandbox."""
        return self.app.backend

    @property
    def port(self) -> int:
        if self._server is None:
            raise SandboxError("the sandbox is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def client(self, token: str | None = None, **kwargs: Any) -> Any:
        """An official ``hubspot.HubSpot`` client for ``token``, pointed at this sandbox."""
        from hubspot import HubSpot

        return HubSpot(
            access_token=token or self.tokens[0], host=self.url, base_url=self.url, **kwargs
        )

    # -- run-time settings ----------------------------------------------------------------

    def set_limits(self, token: str | None = None, **changes: Any) -> Limits:
        """Change limits now (e.g. ``rate_per_10s=5``, ``retry_after=True``; 0 = off): of
        every portal (and the defaults of portals added later), or only ``token``'s."""
        if "rate_per_10s" in changes:
            changes["rate_per_10s"] = parse_rate(changes["rate_per_10s"])
        portal = None if token is None else self.backend.portal(token)
        return self.app.set_limits(portal, **changes)

    def set_faults(self, token: str | None = None, **changes: Any) -> FaultSettings:
        """Change fault injection now (``rate``, ``seed``, ``weights``, ``slow_seconds``,
        ``match``): of every portal (and the defaults), or only ``token``'s."""
        portal = None if token is None else self.backend.portal(token)
        return self.app.set_faults(portal, **changes)

    def limits(self, token: str | None = None) -> Limits:
        """The limits that apply to a token's portal (default: the first token's)."""
        return self.app.limits_for(self.backend.portal(token or self.tokens[0]))

    def faults(self, token: str | None = None) -> FaultSettings:
        """The fault settings that apply to a token's portal (default: the first token's)."""
        return self.app.faults_for(self.backend.portal(token or self.tokens[0]))

    def stats(self, token: str | None = None) -> dict[str, Any]:
        """Request statistics of a token's portal (see :mod:`.stats`)."""
        portal = self.backend.portal(token or self.tokens[0])
        return self.app.stats.snapshot(portal.portal_id)

    def reset_stats(self, token: str | None = None) -> None:
        portal = self.backend.portal(token or self.tokens[0])
        self.app.stats.reset(portal.portal_id)

    def reset(self, token: str | None = None) -> None:
        """Empty a portal (records, links, labels, limits) and its statistics."""
        self.app.reset_portal(self.backend.portal(token or self.tokens[0]))

    def hide_control(self, hidden: bool = True) -> None:
        """Answer ``/_sandbox/...`` with 404 (``hidden``), as a real HubSpot portal does: the
        server then passes for a real portal (nothing detects it as the emulator)."""
        self.app.control_api = not hidden

    def add_portal(self, token: str) -> None:
        """Serve one more portal, for a new sandbox token (real-looking tokens are refused)."""
        _check_token(token)
        self.backend.add_portal(token)


def _check_token(token: str) -> None:
    refusal = token_refusal(token)
    if refusal:
        raise SandboxError(f"sandbox token {refusal}")


def serve(
    *,
    port: int = 8765,
    host: str = "127.0.0.1",
    data: Path | str | None = None,
    tokens: Iterable[str] = (DEFAULT_TOKEN,),
    limits: Limits | None = None,
    faults: FaultSettings | None = None,
    prepare: Callable[[SandboxBackend], None] | None = None,
    ready: Callable[[str], None] | None = None,
    stop: threading.Event | None = None,
    seeder: Seeder | None = None,
) -> None:
    """Serve the emulator until interrupted (or ``stop`` is set). Blocking.

    ``prepare`` runs on the backend before the port opens (e.g. seeding);
    ``ready`` is called with the URL once requests are accepted.
    """
    backend = SandboxBackend(data)
    server: _Server | None = None
    try:
        for token in tokens:
            backend.add_portal(token)
        if prepare is not None:
            prepare(backend)
        app = SandboxApp(backend, limits=limits, faults=faults, seeder=seeder)
        try:
            server = _Server((host, port), app)
        except OSError as exc:
            raise SandboxError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        url = f"http://{host}:{server.server_address[1]}"
        if ready is not None:
            ready(url)
        if stop is None:
            server.serve_forever(poll_interval=0.2)
        else:
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
            )
            thread.start()
            stop.wait()
            server.shutdown()
            thread.join(timeout=5)
    finally:
        if server is not None:
            server.close_connections()
            server.server_close()
        backend.close()
