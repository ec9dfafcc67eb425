"""Snapshot folders: persistence of one side's canonical tables as Parquet (DESIGN §4).

A snapshot folder holds ``hubspot/`` and ``app/``, each with
``records.parquet``, ``associations.parquet`` and an optional ``meta.json``
(when it was read, from where, which identifier columns). Users may prepare
side folders themselves (from a warehouse or an export); they are validated
exactly like any connector's output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from assoc_audit.atomicfile import atomic_copy, atomic_link, atomic_write, atomic_write_text
from assoc_audit.errors import SnapshotError
from assoc_audit.tables import (
    ASSOCIATION_COLUMNS,
    Side,
    SideTables,
    identifier_columns,
    validate_associations,
    validate_records,
)
from assoc_audit.text import is_text_type

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig

__all__ = ["SnapshotSource", "read_meta", "read_side", "side_meta", "write_side"]

_TABLE_FILES = ("records.parquet", "associations.parquet")
#: Text columns with few distinct values, read as dictionaries.
_CODED = {"records": ("object",), "associations": ("from_object", "to_object", "label")}


@dataclass(frozen=True)
class SnapshotSource:
    """The snapshot folder a side was read from, with its files' size, mtime and inode then.

    :func:`write_side` copies (or hard-links) those files instead of re-encoding the
    tables when they are unchanged on disk: reading them again gives the same tables.
    """

    folder: Path
    stamps: tuple[tuple[str, int, int, int], ...]  # (file name, *_stamp)

    @classmethod
    def of(cls, folder: Path) -> SnapshotSource:
        return cls(folder, tuple((name, *_stamp(folder / name)) for name in _TABLE_FILES))

    def unchanged(self) -> bool:
        try:
            return SnapshotSource.of(self.folder).stamps == self.stamps
        except OSError:
            return False


def _atomic_parquet(df: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


#: What a file's stamp holds (:func:`_stamp`), as ``meta.json`` names them.
_STAMP_KEYS = ("size", "mtime_ns", "inode")


def _stamp(path: Path) -> tuple[int, int, int]:
    """A file's size, modification time and inode: another file or an edit changes it."""
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ino


def write_side(folder: Path | str, tables: SideTables, *, link: bool = False, **meta: Any) -> str:
    """Write a side's tables to ``folder`` (created if needed); returns how: ``"written"``,
    ``"copied from <folder>"`` or ``"hard-linked from <folder>"``.

    A side read from a snapshot folder whose files are unchanged is not re-encoded: its
    files are copied, or with ``link`` hard-linked (copied where the file system refuses).
    A linked file shares its data with its source, so ``meta.json`` records its stamp
    (``linked``), and :func:`side_meta` refuses the folder once a source file was rewritten
    in place.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    source = tables.source
    how = "written"
    if source is not None and source.unchanged():
        linked = {}
        for name, *stamp in source.stamps:  # the stamps unchanged() has just checked
            src = source.folder / name
            if link and atomic_link(src, out / name):
                linked[name] = {"from": str(src), **dict(zip(_STAMP_KEYS, stamp, strict=True))}
            else:
                atomic_copy(src, out / name)
        stored = "hard-linked" if len(linked) == len(_TABLE_FILES) else "copied"
        how = f"{stored} from {source.folder}"
        if link:
            meta["linked"] = linked
    else:
        _atomic_parquet(tables.records, out / "records.parquet")
        _atomic_parquet(tables.associations, out / "associations.parquet")
    info = {
        "side": tables.side,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **tables.meta,
        **meta,
        "records": len(tables.records),
        "associations": len(tables.associations),
    }
    atomic_write_text(out / "meta.json", json.dumps(info, indent=2, default=str) + "\n")
    return how


def side_meta(folder: Path) -> dict[str, Any]:
    """A side folder's ``meta.json``, refused if one of its hard-linked files changed since
    it was written; without the ``linked`` stamps (they describe this folder's files, not
    its tables).

    A linked file shares its data with the snapshot it was read from; a tool that
    rewrites that source *in place* changes this snapshot too, which then no longer
    holds what its run audited (a baseline would miss or invent deletions).
    """
    meta = read_meta(folder)
    linked = meta.pop("linked", None)
    if not isinstance(linked, dict):
        return meta
    for name, stamp in sorted(linked.items()):
        path = folder / str(name)
        if not isinstance(stamp, dict) or not path.exists():
            continue
        now = dict(zip(_STAMP_KEYS, _stamp(path), strict=True))
        if any(stamp.get(k) != v for k, v in now.items()):
            raise SnapshotError(
                f"{path}: changed since this snapshot was written: it is a hard link to "
                f"{stamp.get('from')}, which was rewritten in place, so it no longer holds what "
                "its run audited. Use another baseline (or none); write snapshot files as new "
                "files (a temporary name, then rename), or copy report folders with `cp -r` "
                "before rewriting their sources in place",
                file=str(path),
            )
    return meta


def read_meta(folder: Path) -> dict[str, Any]:
    """A side folder's ``meta.json`` (optional: ``{}`` when absent)."""
    meta_file = folder / "meta.json"
    if not meta_file.exists():
        return {}
    try:
        meta = json.loads(meta_file.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise SnapshotError(
            f"{meta_file}: unreadable meta.json: {exc}", file=str(meta_file)
        ) from None
    return meta if isinstance(meta, dict) else {}


def read_side(folder: Path | str, *, side: Side, config: IntegrationConfig) -> SideTables:
    """Read and validate a snapshot side folder for ``config``."""
    root = Path(folder)
    if not root.is_dir():
        raise SnapshotError(f"{root}: snapshot folder not found", file=str(root))
    meta = side_meta(root)
    try:
        source = SnapshotSource.of(root)
    except OSError:
        source = None
    identifiers = identifier_columns(config, side)
    wanted = {
        "records": ("object", "record_id", *identifiers, "display_name", "updated_at"),
        "associations": ASSOCIATION_COLUMNS,
    }
    tables: dict[str, pa.Table] = {}
    for name in ("records", "associations"):
        path = root / f"{name}.parquet"
        if not path.exists():
            raise SnapshotError(f"{root}: snapshot has no {name}.parquet", file=str(path))
        try:
            schema = pq.read_schema(path)
            present = schema.names
            # read only the columns validation uses (all of them if some are missing,
            # so that the error lists what the file has)
            columns = [c for c in dict.fromkeys(wanted[name]) if c in present]
            required = [c for c in wanted[name] if c not in ("display_name", "updated_at")]
            use = columns if set(required) <= set(present) else None
            # few distinct values: read as dictionaries, validated on their codes
            coded = [c for c in _CODED[name] if c in present and is_text_type(schema.field(c).type)]
            tables[name] = pq.read_table(path, columns=use, read_dictionary=coded)
        except (OSError, pa.ArrowException) as exc:
            raise SnapshotError(f"{path}: unreadable Parquet file: {exc}", file=str(path)) from None
    records, rstats = validate_records(
        tables["records"],
        source=str(root / "records.parquet"),
        identifiers=identifiers,
        objects=config.audited_objects,
    )
    associations, astats = validate_associations(
        tables["associations"],
        source=str(root / "associations.parquet"),
        pairs=config.pairs,
    )
    meta.setdefault("source", f"snapshot {root}")
    del tables
    # give back what reading and validating used (the pools of this thread keep it otherwise)
    pa.default_memory_pool().release_unused()
    return SideTables(side, records, associations, meta, rstats, astats, source)
