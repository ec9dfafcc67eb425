"""SQLite storage for the emulator: schema, connections, transactions.

One database file holds every portal (rows carry ``portal_id``). It runs in
WAL mode so readers never wait for the writer; writes are serialised by one
lock per :class:`Store` and run in ``BEGIN IMMEDIATE`` transactions. Reads run
in a deferred transaction, so one request sees one consistent snapshot.
A write on a thread that already writes (or a read inside a write) reuses that
thread's transaction, so backend methods compose.

Records keep their properties as one JSON text column (list and get read one
row per record); timestamps are stored as fixed-width ISO-8601 text
(``2024-01-01T10:00:00.000Z``), which sorts chronologically and is served
without formatting. Associations are stored once per direction, so reading
either end is an index range scan.
"""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assoc_audit.sandbox.errors import SandboxError

__all__ = ["SCHEMA_VERSION", "SqlFunction", "Store"]

SCHEMA_VERSION = 1

SqlFunction = tuple[str, int, Callable[..., Any]]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS portals(
    portal_id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    hub_id INTEGER NOT NULL,
    next_id INTEGER NOT NULL,
    next_type_id INTEGER NOT NULL,
    next_object_code INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS object_types(
    portal_id INTEGER NOT NULL,
    code INTEGER NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY(portal_id, code)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS properties(
    portal_id INTEGER NOT NULL,
    obj INTEGER NOT NULL,
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY(portal_id, obj, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records(
    portal_id INTEGER NOT NULL,
    obj INTEGER NOT NULL,
    id INTEGER NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    archived_at TEXT,
    props TEXT NOT NULL,
    PRIMARY KEY(portal_id, obj, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uniq(
    portal_id INTEGER NOT NULL,
    obj INTEGER NOT NULL,
    prop TEXT NOT NULL,
    value TEXT NOT NULL,
    id INTEGER NOT NULL,
    PRIMARY KEY(portal_id, obj, prop, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS assoc(
    portal_id INTEGER NOT NULL,
    from_obj INTEGER NOT NULL,
    from_id INTEGER NOT NULL,
    to_obj INTEGER NOT NULL,
    to_id INTEGER NOT NULL,
    type_id INTEGER NOT NULL,
    PRIMARY KEY(portal_id, from_obj, from_id, to_obj, to_id, type_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS assoc_types(
    portal_id INTEGER NOT NULL,
    type_id INTEGER NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY(portal_id, type_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS assoc_limits(
    portal_id INTEGER NOT NULL,
    type_id INTEGER NOT NULL,
    max_to INTEGER NOT NULL,
    PRIMARY KEY(portal_id, type_id)
) WITHOUT ROWID;
"""

#: Tables that hold one portal's data (everything but ``portals``).
PORTAL_TABLES: tuple[str, ...] = (
    "object_types",
    "properties",
    "records",
    "uniq",
    "assoc",
    "assoc_types",
    "assoc_limits",
)


class Store:
    """A SQLite database file with a connection pool and one writer lock.

    ``path=None`` makes a temporary file that is removed by :meth:`close`.
    """

    def __init__(self, path: Path | str | None, *, functions: Sequence[SqlFunction] = ()) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="assoc-audit-sandbox-")
            path = Path(self._tmp.name) / "sandbox.sqlite"
        self.path = Path(path)
        self._functions = tuple(functions)
        self._pool: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._closed = False
        self._init_schema()

    # -- connections ---------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=60
            )
        except sqlite3.Error as exc:
            raise SandboxError(f"cannot open sandbox data file {self.path}: {exc}") from exc
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-131072")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA mmap_size=1073741824")
        for name, nargs, fn in self._functions:
            conn.create_function(name, nargs, fn, deterministic=True)
        with self._all_lock:
            self._all.append(conn)
        return conn

    def _acquire(self) -> sqlite3.Connection:
        if self._closed:
            raise SandboxError("the sandbox store is closed")
        try:
            return self._pool.get_nowait()
        except queue.Empty:
            return self._connect()

    def _init_schema(self) -> None:
        conn = self._acquire()
        try:
            try:
                conn.execute("PRAGMA page_size=4096")  # takes effect on a new file only
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                tables = conn.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type='table'"
                ).fetchone()[0]
            except sqlite3.DatabaseError as exc:
                raise SandboxError(f"{self.path} is not a sandbox data file: {exc}") from exc
            if str(mode).lower() != "wal":
                raise SandboxError(f"{self.path}: cannot switch the database to WAL mode")
            if tables and version != SCHEMA_VERSION:
                raise SandboxError(
                    f"{self.path}: sandbox data format {version} is not supported "
                    f"(this version writes {SCHEMA_VERSION}); use another --data file"
                )
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        finally:
            self._pool.put(conn)

    # -- transactions --------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection inside a read transaction (or this thread's write transaction)."""
        current: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        conn = self._acquire()
        try:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")
        finally:
            self._pool.put(conn)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside this store's one write transaction (re-entrant per thread)."""
        current: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        with self._write_lock:
            conn = self._acquire()
            self._local.conn = conn
            self._local.callbacks = []
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                callbacks: list[Callable[[], None]] = self._local.callbacks
                self._local.conn = None
                self._local.callbacks = []
                self._pool.put(conn)
                for callback in callbacks:
                    callback()

    @contextmanager
    def bulk(self, conn: sqlite3.Connection) -> Iterator[None]:
        """A larger page cache on ``conn`` while a bulk load runs."""
        conn.execute("PRAGMA cache_size=-1048576")
        try:
            yield
        finally:
            conn.execute("PRAGMA cache_size=-131072")

    def in_write(self) -> bool:
        """Whether this thread is inside a write transaction."""
        return getattr(self._local, "conn", None) is not None

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` when this thread's write transaction ends (now if none)."""
        if self.in_write():
            self._local.callbacks.append(callback)
        else:
            callback()

    def close(self) -> None:
        """Close every connection (and remove a temporary database)."""
        if self._closed:
            return
        self._closed = True
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
