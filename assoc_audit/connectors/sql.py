"""The SQL connector: an app side in a database reachable through SQLAlchemy 2.x.

``app.url``, or the environment variable ``app.url_env`` names (plus
``app.password_env``), says where the database is (:mod:`.sqlurl`). SQLite
works out of the box (a relative path
resolves against the config file's folder; a missing database file is an
error, never silently created); PostgreSQL needs the ``postgres`` extra
(psycopg 3), and plain ``postgresql://`` / ``postgres://`` URLs use it.

The logical tables are those of the files connector (DESIGN §5): a table or
view per app object (``id``, identifier columns, optional display-name column
and ``updated_at``) and an ``associations`` table or view. ``app.tables``
names them (``schema.name`` for another schema). Reads select only the
columns needed. Link writes are ``INSERT``/``DELETE`` statements on the
associations table or view (a view needs INSTEAD OF triggers or to be
updatable), one transaction per batch, each batch re-read inside its
transaction so an outcome is ``ok`` only if the change is visible.

Messages name the URL without its password, the table, the row and the column.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from assoc_audit.connectors.app import (
    AppLayout,
    canonical_associations,
    canonical_records,
    combine_stats,
)
from assoc_audit.connectors.base import ApiUsage, WriteResult, assemble_records, outcome_frame
from assoc_audit.connectors.columns import isin_text, rows_to_frame
from assoc_audit.connectors.sqlurl import database_url
from assoc_audit.connectors.sqlvalues import error_text, typed, typed_ids
from assoc_audit.connectors.writeplan import (
    EdgeRequest,
    new_record_ids,
    record_rows,
    stored_edge_keys,
)
from assoc_audit.errors import ConnectorError, DataError
from assoc_audit.tables import ASSOCIATION_COLUMNS, TEXT, TableStats, to_text

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from assoc_audit.config import IntegrationConfig
    from assoc_audit.tables import Side, SideTables

__all__ = ["SqlConnector"]

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class SqlConnector:
    """The app side in a SQL database (see the module docstring)."""

    kind = "sql"

    def __init__(
        self,
        config: IntegrationConfig,
        *,
        url: str | None = None,
        engine: Engine | None = None,
        clock: Clock = _now,
        batch_size: int = 500,
    ) -> None:
        self._url = database_url(config, url)
        self._shown = self._url.render_as_string(hide_password=True)
        if self._url.get_backend_name() == "sqlite":
            db = self._url.database
            if db and db != ":memory:" and not db.startswith("file:") and not Path(db).exists():
                raise ConnectorError(f"{self._shown}: SQLite database file not found", file=db)
        self._engine = engine if engine is not None else sa.create_engine(self._url)
        self._config = config
        self._layout = AppLayout.from_config(config)
        self._clock = clock
        self._batch = max(1, batch_size)
        self._tables: dict[str, sa.Table] = {}

    @property
    def side(self) -> Side:
        return "app"

    @property
    def engine(self) -> Engine:
        return self._engine

    def describe(self) -> str:
        return f"sql {self._shown}"

    def usage(self) -> ApiUsage:
        return ApiUsage()

    def close(self) -> None:
        self._engine.dispose()

    # -- plumbing ----------------------------------------------------------
    @contextmanager
    def _connect(self, *, write: bool = False) -> Iterator[Connection]:
        """A connection (in a transaction that commits on success when ``write``)."""
        try:
            conn = self._engine.connect()
        except sa_exc.SQLAlchemyError as exc:
            raise ConnectorError(
                f"{self._shown}: cannot connect: {error_text(exc)}", file=self._shown
            ) from None
        with conn:
            if write:
                with conn.begin():
                    yield conn
            else:
                yield conn

    def _source(self, name: str) -> str:
        return f"{self._shown} table {name!r}"

    def _table(self, name: str, what: str, *, required: bool = True) -> sa.Table | None:
        if name in self._tables:
            return self._tables[name]
        schema, _, short = name.rpartition(".")
        try:
            with self._connect() as conn:
                table = sa.Table(short, sa.MetaData(), schema=schema or None, autoload_with=conn)
        except sa_exc.NoSuchTableError:
            if not required:
                return None
            raise DataError(
                f"{self._shown}: no table or view {name!r} for {what}", file=self._shown, field=name
            ) from None
        except sa_exc.SQLAlchemyError as exc:
            raise ConnectorError(
                f"{self._shown}: cannot read table {name!r}: {error_text(exc)}", file=self._shown
            ) from None
        self._tables[name] = table
        return table

    def _select(
        self, conn: Connection, table: sa.Table, columns: Sequence[str], where: Any = None
    ) -> tuple[pd.DataFrame, list[Any]]:
        stmt = sa.select(*(table.c[c] for c in columns))
        if where is not None:
            stmt = stmt.where(where)
        errors: tuple[type[BaseException], ...] = (sa_exc.SQLAlchemyError, *self._dbapi_errors)
        try:
            if where is None:  # whole tables: plain DB-API rows, without SQLAlchemy's Row objects
                rows = self._fetch_all(conn, str(stmt.compile(dialect=conn.dialect)))
            else:
                rows = list(conn.execute(stmt).all())
        except errors as exc:
            raise ConnectorError(
                f"{self._source(table.fullname)}: {error_text(exc)}", file=self._shown
            ) from None
        return rows_to_frame(rows, columns), rows

    @property
    def _dbapi_errors(self) -> tuple[type[Exception], ...]:
        dbapi = getattr(self._engine.dialect, "dbapi", None)
        error = getattr(dbapi, "Error", None)
        return (error,) if isinstance(error, type) and issubclass(error, Exception) else ()

    @staticmethod
    def _fetch_all(conn: Connection, sql: str) -> list[Any]:
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    # -- reading -----------------------------------------------------------
    def _identifiers(self, obj: str, columns: Sequence[str] | None) -> tuple[str, ...]:
        cols = self._config.identifier_columns("app", obj) if columns is None else columns
        return tuple(c for c in dict.fromkeys(cols) if c != "id")

    def _read_object(
        self, obj: str, identifiers: Sequence[str], *, required: bool = True
    ) -> tuple[pd.DataFrame, TableStats] | None:
        app_obj = self._layout.app_object(obj)
        name = self._layout.table(app_obj)
        table = self._table(name, f"app object {app_obj!r} ({obj})", required=required)
        if table is None:
            return None
        source = self._source(name)
        plan = self._layout.record_columns(obj, identifiers, list(table.c.keys()), source)
        with self._connect() as conn:
            raw, _ = self._select(conn, table, list(dict.fromkeys(plan.values())))
        ids = raw["id"].astype(object)

        def note(row: int, column: str) -> str | None:
            if column == "id":  # the message shows the id itself
                return None
            value = ids.iloc[row - 1] if 0 < row <= len(ids) else None
            return None if value is None or pd.isna(value) else f"id {str(value)!r}"

        return canonical_records(
            raw, obj=obj, columns=plan, identifiers=identifiers, source=source, note=note
        )

    def read_records(self, obj: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        result = self._read_object(obj, self._identifiers(obj, columns))
        assert result is not None
        return result[0]

    def _links_table(self) -> sa.Table:
        name = self._layout.associations_table
        table = self._table(name, "associations")
        assert table is not None
        missing = [c for c in ASSOCIATION_COLUMNS if c not in table.c]
        if missing:
            raise DataError(
                f"{self._source(name)}: missing column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(repr(c) for c in missing)} (columns present: "
                f"{', '.join(table.c.keys())})",
                file=self._shown,
                field=missing[0],
            )
        return table

    def _pair_filter(
        self, table: sa.Table, pair: tuple[str, str], ids: Collection[str] | None
    ) -> Any:
        a, b = self._layout.app_object(pair[0]), self._layout.app_object(pair[1])
        forward = [table.c.from_object == a, table.c.to_object == b]
        if ids is not None:
            forward.append(table.c.from_id.in_(typed_ids(table.c.from_id, ids)))
        clauses = [sa.and_(*forward)]
        if pair[0] != pair[1]:
            reverse = [table.c.from_object == b, table.c.to_object == a]
            if ids is not None:
                reverse.append(table.c.to_id.in_(typed_ids(table.c.to_id, ids)))
            clauses.append(sa.and_(*reverse))
        return sa.or_(*clauses)

    def _read_links(self, where: Any = None) -> tuple[pd.DataFrame, TableStats]:
        table = self._links_table()
        with self._connect() as conn:
            raw, _ = self._select(conn, table, ASSOCIATION_COLUMNS, where)
        return canonical_associations(
            raw, layout=self._layout, source=self._source(self._layout.associations_table)
        )

    def read_associations(
        self, pair: tuple[str, str], *, from_ids: Collection[str] | None = None
    ) -> pd.DataFrame:
        pair = (pair[0], pair[1])
        if pair not in self._config.pairs:
            raise DataError(f"pair {pair[0]}→{pair[1]} is not audited by this config")
        ids = None if from_ids is None else [str(i) for i in from_ids]
        links, _ = self._read_links(self._pair_filter(self._links_table(), pair, ids))
        keep = (links["from_object"] == pair[0]) & (links["to_object"] == pair[1])
        if ids is not None:
            keep &= isin_text(links["from_id"], ids)
        return links.loc[keep.to_numpy()].reset_index(drop=True)

    def read_side(self) -> SideTables:
        from assoc_audit.tables import SideTables, identifier_columns

        read_at = self._clock()
        frames, stats, tables = [], [], {}
        for obj in self._config.audited_objects:
            required = obj in self._layout.synced
            result = self._read_object(obj, self._identifiers(obj, None), required=required)
            if result is None:
                continue
            frames.append(result[0])
            stats.append(result[1])
            tables[obj] = self._layout.table(self._layout.app_object(obj))
        records = assemble_records(frames, identifier_columns(self._config, "app"))
        links, link_stats = self._read_links()
        meta: dict[str, Any] = {
            "source": self.describe(),
            "kind": self.kind,
            "read_at": read_at.isoformat(timespec="seconds"),
            "identifier_columns": {
                obj: list(self._config.identifier_columns("app", obj))
                for obj in self._config.audited_objects
            },
            "tables": {**tables, "associations": self._layout.associations_table},
        }
        return SideTables("app", records, links, meta, combine_stats(stats), link_stats)

    # -- writing links -------------------------------------------------------
    def _batch_links(
        self, conn: Connection, table: sa.Table, request: EdgeRequest, rows: np.ndarray
    ) -> tuple[pd.DataFrame, list[Any], pd.Series]:
        """Stored rows that could match the request's ``rows``, raw and keyed."""
        edges = request.edges.iloc[rows]
        clauses = []
        for (f, t), group in edges.groupby(["from_object", "to_object"], sort=False):
            ids = group["from_id"].astype(str).unique().tolist()
            clauses.append(self._pair_filter(table, (str(f), str(t)), ids))
        frame, raw = self._select(conn, table, ASSOCIATION_COLUMNS, sa.or_(*clauses))
        return frame, raw, stored_edge_keys(frame, self._layout)

    def _insert(self, conn: Connection, table: sa.Table, rows: pd.DataFrame) -> None:
        label_nullable = table.c.label.nullable is not False
        values = []
        for rec in rows.astype(object).where(rows.notna(), None).to_dict("records"):
            item = {c: typed(table.c[c], rec[c]) for c in ASSOCIATION_COLUMNS}
            if item["label"] is None and not label_nullable:
                item["label"] = ""
            values.append(item)
        conn.execute(sa.insert(table), values)

    def _delete(self, conn: Connection, table: sa.Table, raw: list[Any], drop: np.ndarray) -> None:
        c = table.c
        keys = ("fo", "fi", "to", "ti", "lb")
        match = [c.from_object == sa.bindparam("fo"), c.from_id == sa.bindparam("fi")]
        match += [c.to_object == sa.bindparam("to"), c.to_id == sa.bindparam("ti")]
        gone = [dict(zip(keys, raw[i], strict=True)) for i in np.flatnonzero(drop)]
        labelled = [g for g in gone if g["lb"] is not None]
        unlabelled = [{k: v for k, v in g.items() if k != "lb"} for g in gone if g["lb"] is None]
        if labelled:
            conn.execute(sa.delete(table).where(*match, c.label == sa.bindparam("lb")), labelled)
        if unlabelled:
            conn.execute(sa.delete(table).where(*match, c.label.is_(None)), unlabelled)

    def _write_edges(self, edges: pd.DataFrame, *, create: bool) -> WriteResult:
        request = EdgeRequest.build(edges, self._layout)
        table = self._links_table()
        status = np.where(request.error.notna(), "failed", "already").astype(object)
        message = request.error.to_numpy(dtype=object).copy()
        if create:  # ids that the table's columns cannot hold fail up front
            for col in ("from_id", "to_id"):
                for pos in np.flatnonzero(request.writable & (status != "failed")):
                    try:
                        typed(table.c[col], request.edges[col].iloc[pos])
                    except ValueError as exc:
                        status[pos], message[pos] = "failed", str(exc)
        todo = np.flatnonzero(request.writable & (status != "failed"))
        for start in range(0, len(todo), self._batch):
            rows = todo[start : start + self._batch]
            mask = np.zeros(len(status), dtype=bool)
            mask[rows] = True
            try:
                with self._connect(write=True) as conn:
                    _, raw, keys = self._batch_links(conn, table, request, rows)
                    write, _ = request.decide(keys, create=create)
                    write = write & mask
                    if create and write.any():
                        self._insert(conn, table, request.app_rows(write))
                    elif write.any():
                        drop = isin_text(keys, request.keys[write])
                        self._delete(conn, table, raw, drop)
                    _, _, after = self._batch_links(conn, table, request, rows)
                    now = isin_text(request.keys, after)
                    done = now if create else ~now
                    status[write & done] = "ok"
                    stuck = write & ~done
                    status[stuck] = "failed"
                    message[stuck] = (
                        "the database did not apply the change (for a view: check its "
                        "INSTEAD OF triggers)"
                    )
            except (sa_exc.SQLAlchemyError, ConnectorError) as exc:
                text = exc.message if isinstance(exc, ConnectorError) else error_text(exc)
                status[rows] = "failed"
                message[rows] = text
        op = "create_edges" if create else "remove_edges"
        return WriteResult(op, outcome_frame(request.edges, status, message))

    def create_edges(self, edges: pd.DataFrame, *, check: bool = True) -> WriteResult:
        """Create links; ``check`` is accepted for the protocol (stored rows are always
        compared: it costs no API call)."""
        return self._write_edges(edges, create=True)

    def remove_edges(self, edges: pd.DataFrame, *, check: bool = True) -> WriteResult:
        """Remove links; ``check`` as for :meth:`create_edges`."""
        return self._write_edges(edges, create=False)

    # -- writing records -------------------------------------------------------
    def _object_table(self, obj: str) -> tuple[str, sa.Table]:
        app_obj = self._layout.app_object(obj)
        table = self._table(self._layout.table(app_obj), f"app object {app_obj!r} ({obj})")
        assert table is not None
        if "id" not in table.c:
            raise DataError(
                f"{self._source(table.fullname)}: missing column 'id'", file=self._shown, field="id"
            )
        return app_obj, table

    def create_records(self, obj: str, records: pd.DataFrame) -> pd.DataFrame:
        _, table = self._object_table(obj)
        unknown = [str(c) for c in records.columns if c not in table.c]
        if unknown:
            raise DataError(
                f"{self._source(table.fullname)}: no column {unknown[0]!r} "
                f"(columns present: {', '.join(table.c.keys())})",
                file=self._shown,
                field=unknown[0],
            )
        with self._connect(write=True) as conn:
            current, _ = self._select(conn, table, ["id"])
            existing = to_text(current["id"], source="", column="id", whole_numbers=False)
            ids = new_record_ids(records, existing, source="records")
            clash = ids[isin_text(ids, existing)]
            if len(clash):
                raise DataError(
                    f"{self._source(table.fullname)}: record id {clash.iloc[0]!r} already exists",
                    file=self._shown,
                    field="id",
                )
            rows = record_rows(records, ids)
            try:
                values = [
                    {str(c): typed(table.c[str(c)], v) for c, v in rec.items()}
                    for rec in rows.astype(object).where(rows.notna(), None).to_dict("records")
                ]
                if values:
                    conn.execute(sa.insert(table), values)
            except ValueError as exc:
                raise DataError(
                    f"{self._source(table.fullname)}: {exc}", file=self._shown
                ) from None
            except sa_exc.SQLAlchemyError as exc:
                raise ConnectorError(
                    f"{self._source(table.fullname)}: {error_text(exc)}", file=self._shown
                ) from None
        out = records.copy()
        out["record_id"] = pd.Series(ids.to_numpy(), index=records.index, dtype=TEXT)
        return out

    def delete_records(self, obj: str, ids: Collection[str]) -> WriteResult:
        app_obj, table = self._object_table(obj)
        links = self._links_table()
        wanted = pd.Series([str(i) for i in ids], dtype=TEXT)
        first = ~wanted.duplicated().to_numpy()
        present = np.zeros(len(wanted), dtype=bool)
        unique = wanted.unique().tolist()
        try:
            with self._connect(write=True) as conn:
                for start in range(0, len(unique), self._batch):
                    chunk = [str(v) for v in unique[start : start + self._batch]]
                    typed = typed_ids(table.c.id, chunk)
                    found, _ = self._select(conn, table, ["id"], table.c.id.in_(typed))
                    there = to_text(found["id"], source="", column="id", whole_numbers=False)
                    present |= isin_text(wanted, there)
                    ends = [
                        sa.and_(
                            links.c[f"{e}_object"] == app_obj,
                            links.c[f"{e}_id"].in_(typed_ids(links.c[f"{e}_id"], chunk)),
                        )
                        for e in ("from", "to")
                    ]
                    conn.execute(sa.delete(links).where(sa.or_(*ends)))
                    conn.execute(sa.delete(table).where(table.c.id.in_(typed)))
        except sa_exc.SQLAlchemyError as exc:
            raise ConnectorError(
                f"{self._source(table.fullname)}: {error_text(exc)}", file=self._shown
            ) from None
        status = np.where(present & first, "ok", "already").astype(object)
        keys = pd.DataFrame({"object": [obj] * len(wanted), "record_id": wanted.to_numpy()})
        return WriteResult("delete_records", outcome_frame(keys, status, [None] * len(wanted)))
