"""The files connector: an app side exported as CSV or Parquet files in one folder.

Layout (DESIGN §5), in the folder ``app.path``:

- ``<app_object>.csv`` or ``.parquet`` per object: ``id``, the identifier
  columns the match rules name, optionally the display-name column named by
  ``app.display_name`` (else a column called ``display_name``, if any) and
  ``updated_at``. Other columns are ignored.
- ``associations.csv`` or ``.parquet``: ``from_object, from_id, to_object,
  to_id, label`` in app object names (empty label = the unlabeled link).

``app.tables`` renames a file per app object (or ``associations``): a stem
(``people`` → ``people.csv|.parquet``) or a file name with its suffix.
Records of objects whose sync is ``off`` are read only when their file exists.

Writes rewrite the whole file atomically (see :mod:`.tablefile`), each under
an exclusive lock held from the read to the replace (:func:`.tablefile.locked`),
so concurrent writers (two applies, a scenario run) wait for each other
instead of losing each other's changes. Table files are always inside the
folder: a name or symlink that resolves outside it is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from assoc_audit.connectors.app import (
    AppLayout,
    canonical_associations,
    canonical_records,
    combine_stats,
)
from assoc_audit.connectors.base import ApiUsage, WriteResult, assemble_records, outcome_frame
from assoc_audit.connectors.columns import arrow_to_frame, isin_text
from assoc_audit.connectors.tablefile import TableFile, locate, locked
from assoc_audit.connectors.writeplan import (
    EdgeRequest,
    new_record_ids,
    record_rows,
    stored_edge_keys,
)
from assoc_audit.errors import ConnectorError, DataError
from assoc_audit.tables import ASSOCIATION_COLUMNS, TEXT, TableStats, to_text

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.tables import Side, SideTables

__all__ = ["FilesConnector"]

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class FilesConnector:
    """The app side as CSV/Parquet files (see the module docstring for the layout)."""

    kind = "files"

    def __init__(
        self, config: IntegrationConfig, *, folder: Path | str | None = None, clock: Clock = _now
    ) -> None:
        if folder is None:
            if config.app.path is None:
                raise ConnectorError("app.path: required to read or write the app's files")
            folder = config.resolve(config.app.path)
        self._folder = Path(folder)
        if not self._folder.is_dir():
            raise ConnectorError(f"{self._folder}: folder not found", file=str(self._folder))
        self._config = config
        self._layout = AppLayout.from_config(config)
        self._clock = clock

    @property
    def side(self) -> Side:
        return "app"

    @property
    def folder(self) -> Path:
        return self._folder

    def describe(self) -> str:
        return f"files {self._folder}"

    def usage(self) -> ApiUsage:
        return ApiUsage()

    def close(self) -> None:
        """Nothing to release."""

    # -- files -------------------------------------------------------------
    def _object_file(self, obj: str, *, required: bool = True) -> TableFile | None:
        app_obj = self._layout.app_object(obj)
        return locate(
            self._folder,
            self._layout.table(app_obj),
            what=f"app object {app_obj!r} ({obj})",
            required=required,
        )

    def _associations_file(self) -> TableFile:
        found = locate(self._folder, self._layout.associations_table, what="associations")
        assert found is not None
        return found

    # -- reading -----------------------------------------------------------
    def _identifiers(self, obj: str, columns: Sequence[str] | None) -> tuple[str, ...]:
        cols = self._config.identifier_columns("app", obj) if columns is None else columns
        return tuple(c for c in dict.fromkeys(cols) if c != "id")

    def _read_object(
        self, obj: str, identifiers: Sequence[str], *, required: bool = True
    ) -> tuple[pd.DataFrame, TableStats] | None:
        tf = self._object_file(obj, required=required)
        if tf is None:
            return None
        plan = self._layout.record_columns(obj, identifiers, tf.columns(), tf.source)
        raw = tf.read(list(dict.fromkeys(plan.values())))
        return canonical_records(
            raw, obj=obj, columns=plan, identifiers=identifiers, source=tf.source, note=tf.note
        )

    def read_records(self, obj: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
        result = self._read_object(obj, self._identifiers(obj, columns))
        assert result is not None
        return result[0]

    def _read_links(self) -> tuple[pd.DataFrame, TableStats, str]:
        tf = self._associations_file()
        available = tf.columns()
        missing = [c for c in ASSOCIATION_COLUMNS if c not in available]
        raw = tf.read([c for c in ASSOCIATION_COLUMNS if c in available])
        if missing:
            raw = raw.reindex(columns=[*raw.columns, *missing])  # reported by validation
        links, stats = canonical_associations(
            raw, layout=self._layout, source=tf.source, note=tf.note
        )
        return links, stats, tf.source

    def read_associations(
        self, pair: tuple[str, str], *, from_ids: Collection[str] | None = None
    ) -> pd.DataFrame:
        if tuple(pair) not in self._config.pairs:
            raise DataError(f"pair {pair[0]}→{pair[1]} is not audited by this config")
        links, _, _ = self._read_links()
        keep = (links["from_object"] == pair[0]) & (links["to_object"] == pair[1])
        if from_ids is not None:
            keep &= isin_text(links["from_id"], [str(i) for i in from_ids])
        return links.loc[keep.to_numpy()].reset_index(drop=True)

    def read_side(self) -> SideTables:
        from assoc_audit.tables import SideTables, identifier_columns

        read_at = self._clock()
        frames, stats, files = [], [], {}
        for obj in self._config.audited_objects:
            required = obj in self._layout.synced
            result = self._read_object(obj, self._identifiers(obj, None), required=required)
            if result is None:
                continue
            frames.append(result[0])
            stats.append(result[1])
            tf = self._object_file(obj, required=False)
            files[obj] = tf.path.name if tf else None
        records = assemble_records(frames, identifier_columns(self._config, "app"))
        links, link_stats, link_source = self._read_links()
        meta: dict[str, Any] = {
            "source": self.describe(),
            "kind": self.kind,
            "read_at": read_at.isoformat(timespec="seconds"),
            "identifier_columns": {
                obj: list(self._config.identifier_columns("app", obj))
                for obj in self._config.audited_objects
            },
            "files": {**files, "associations": Path(link_source).name},
        }
        return SideTables("app", records, links, meta, combine_stats(stats), link_stats)

    # -- writing links -------------------------------------------------------
    def _stored(self, content: pd.DataFrame | pa.Table) -> pd.DataFrame:
        if isinstance(content, pa.Table):
            names = [c for c in ASSOCIATION_COLUMNS if c in content.column_names]
            return arrow_to_frame(content.select(names))
        return content

    def _write_edges(self, edges: pd.DataFrame, *, create: bool) -> WriteResult:
        request = EdgeRequest.build(edges, self._layout)
        tf = self._associations_file()
        with locked(tf):  # from the read to the replace: another writer waits
            content = tf.read_all()
            stored = self._stored(content)
            missing = [c for c in ASSOCIATION_COLUMNS if c not in stored.columns]
            if missing:
                raise DataError(
                    f"{tf.source}: missing column {missing[0]!r}", file=tf.source, field=missing[0]
                )
            keys = stored_edge_keys(stored, self._layout)
            write, status = request.decide(keys, create=create)
            message = request.error.to_numpy(dtype=object).copy()
            if write.any():
                try:
                    if create:
                        tf.rewrite(tf.appended(content, request.app_rows(write)))
                    else:
                        drop = isin_text(keys, request.keys[write])
                        tf.rewrite(_without(content, drop))
                except (DataError, OSError) as exc:
                    status[write] = "failed"
                    message[write] = str(exc)
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
    def create_records(self, obj: str, records: pd.DataFrame) -> pd.DataFrame:
        tf = self._object_file(obj)
        assert tf is not None
        with locked(tf):
            content = tf.read_all()
            current = tf.read(["id"]) if "id" in tf.columns() else None
            if current is None:
                raise DataError(f"{tf.source}: missing column 'id'", file=tf.source, field="id")
            existing = to_text(current["id"], source=tf.source, column="id", whole_numbers=False)
            ids = new_record_ids(records, existing, source="records")
            clash = ids[isin_text(ids, existing)]
            if len(clash):
                raise DataError(
                    f"{tf.source}: record id {clash.iloc[0]!r} already exists",
                    file=tf.source,
                    field="id",
                )
            rows = record_rows(records, ids)
            tf.rewrite(tf.appended(content, rows))
        out = records.copy()
        out["record_id"] = pd.Series(ids.to_numpy(), index=records.index, dtype=TEXT)
        return out

    def delete_records(self, obj: str, ids: Collection[str]) -> WriteResult:
        app_obj = self._layout.app_object(obj)
        wanted = pd.Series([str(i) for i in ids], dtype=TEXT)
        tf = self._object_file(obj)
        assert tf is not None
        links_file = self._associations_file()
        with locked(tf, links_file):
            content = tf.read_all()
            stored_ids = to_text(
                self._column(content, "id"), source=tf.source, column="id", whole_numbers=False
            )
            present = isin_text(wanted, stored_ids)
            first = ~wanted.duplicated().to_numpy()
            status = np.where(present & first, "ok", "already").astype(object)
            if present.any():
                links = links_file.read_all()
                stored = self._stored(links)
                gone = wanted[present]
                touch = np.zeros(len(stored), dtype=bool)
                for end in ("from", "to"):
                    names = to_text(
                        stored[f"{end}_object"], source="", column="", whole_numbers=False
                    )
                    end_ids = to_text(
                        stored[f"{end}_id"], source="", column="", whole_numbers=False
                    )
                    touch |= names.eq(app_obj).fillna(False).to_numpy() & isin_text(end_ids, gone)
                if touch.any():
                    links_file.rewrite(_without(links, touch))
                tf.rewrite(_without(content, isin_text(stored_ids, gone)))
        keys = pd.DataFrame({"object": [obj] * len(wanted), "record_id": wanted.to_numpy()})
        return WriteResult("delete_records", outcome_frame(keys, status, [None] * len(wanted)))

    @staticmethod
    def _column(content: pd.DataFrame | pa.Table, name: str) -> pd.Series:
        if isinstance(content, pa.Table):
            return arrow_to_frame(content.select([name]))[name]
        return content[name]


def _without(content: pd.DataFrame | pa.Table, drop: np.ndarray) -> pd.DataFrame | pa.Table:
    if isinstance(content, pa.Table):
        return content.filter(pa.array(~drop))
    return content.loc[~drop].reset_index(drop=True)
