"""One table of the files connector: a CSV or Parquet file, read and rewritten safely.

**CSV**: UTF-8 (a byte-order mark is tolerated and kept on rewrite), RFC 4180
(comma, double quotes, doubled quotes inside, quoted fields may hold line
breaks), first line the header. Every cell is read as text, verbatim
(``007`` stays ``007``, ``NA`` stays ``NA``); an empty cell is null later.
Problems name the file, the data row and the CSV line it starts on (they
differ when quoted cells hold line breaks).

**Parquet**: read with its types (integers become whole-number text exactly;
see :mod:`.columns`); rows are numbered from 1 in file order.

Rewrites (for fixes, undo and scenarios) go through
:func:`assoc_audit.atomicfile.atomic_write` (a temporary file in the same
folder, fsynced, swapped in with ``os.replace``, the folder fsynced), so a
reader sees either the old file or the new one, never a mix. CSV rewrites
keep every column and cell as text (quoting only where RFC 4180 needs it, the
file's line ending and BOM); Parquet rewrites keep the file's schema.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import fcntl
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from assoc_audit.atomicfile import atomic_write
from assoc_audit.connectors.columns import arrow_to_frame
from assoc_audit.errors import DataError
from assoc_audit.tables import TEXT

__all__ = ["TableFile", "locate", "locked"]

Format = Literal["csv", "parquet"]
_SUFFIXES: dict[str, Format] = {".csv": "csv", ".parquet": "parquet"}
_BOM = codecs.BOM_UTF8


def locate(folder: Path, stem: str, *, what: str, required: bool = True) -> TableFile | None:
    """The file for table ``stem`` in ``folder`` (``stem.csv`` or ``stem.parquet``).

    A ``stem`` ending in ``.csv`` or ``.parquet`` names the file exactly. Both
    files present is an error (which one is meant?); none is an error when
    ``required``, otherwise None. A file that resolves outside ``folder`` is an
    error before anything is read.
    """
    suffix = Path(stem).suffix.lower()
    if suffix in _SUFFIXES:
        candidates = [folder / stem]
    else:
        candidates = [folder / f"{stem}.csv", folder / f"{stem}.parquet"]
    for candidate in candidates:
        _check_inside(folder, candidate, what)
    found = [p for p in candidates if p.is_file()]
    if len(found) > 1:
        raise DataError(
            f"{folder}: both {found[0].name} and {found[1].name} exist for {what}; keep one",
            file=str(found[0]),
        )
    if not found:
        if not required:
            return None
        names = " or ".join(p.name for p in candidates)
        raise DataError(f"{folder}: no file for {what} (expected {names})", file=str(candidates[0]))
    path = found[0]
    return TableFile(path, _SUFFIXES[path.suffix.lower()])


@contextlib.contextmanager
def locked(*files: TableFile) -> Iterator[None]:
    """Hold an exclusive lock on each table file for a read-modify-write.

    The lock is an ``fcntl.flock`` on a sidecar file in the same folder
    (``.<file name>.lock``, left in place): the data file itself is replaced on
    every rewrite, so its inode cannot carry the lock. Another writer (thread or
    process) waits until the lock is released; readers never wait (they see the
    old file or the new one). Several files are locked in one order (by path),
    so two writers cannot deadlock.
    """
    with contextlib.ExitStack() as stack:
        for path in sorted({f.lock_path for f in files}):
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            stack.callback(os.close, fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
            stack.callback(fcntl.flock, fd, fcntl.LOCK_UN)
        yield


def _check_inside(folder: Path, path: Path, what: str) -> None:
    """Refuse a table file that is not inside ``folder`` once resolved (``..``, an absolute
    name, a symlink leading out): nothing outside the app folder is read or rewritten.

    The config already refuses such names; this holds for configs built past it too.
    """
    try:
        inside = path.resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError):  # e.g. a NUL in the name, a symlink loop
        inside = False
    if not inside:
        raise DataError(
            f"{path}: the file for {what} is outside the app folder {folder}; refused "
            "(app.tables and objects.*.app_object name files inside it)",
            file=str(path),
        )


class TableFile:
    """One CSV or Parquet table file."""

    def __init__(self, path: Path, fmt: Format) -> None:
        self.path = path
        self.format: Format = fmt

    @property
    def source(self) -> str:
        return str(self.path)

    @property
    def lock_path(self) -> Path:
        """The sidecar file :func:`locked` locks for this table."""
        return self.path.with_name(f".{self.path.name}.lock")

    def _fail(
        self, problem: str, *, line: int | None = None, column: str | None = None
    ) -> DataError:
        where = f"line {line}, " if line else ""
        kind = "CSV" if self.format == "csv" else "Parquet"
        return DataError(
            f"{self.source}: {where}unreadable {kind} file: {problem}",
            file=self.source,
            field=column,
        )

    # -- reading ---------------------------------------------------------
    def columns(self) -> list[str]:
        """The file's column names; duplicate names are an error."""
        if self.format == "csv":
            names = self._csv_header()
        else:
            try:
                names = list(pq.read_schema(self.path).names)
            except (OSError, pa.ArrowException) as exc:
                raise self._fail(str(exc)) from None
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise DataError(
                    f"{self.source}: duplicate column {name!r} in the header",
                    file=self.source,
                    field=name,
                )
            seen.add(name)
        return names

    def _csv_header(self) -> list[str]:
        try:
            with open(self.path, encoding="utf-8-sig", newline="") as fh:
                header = next(csv.reader(fh, strict=True), None)
        except UnicodeDecodeError:
            raise self._utf8_problem() from None
        except csv.Error as exc:
            raise (self._unterminated_quote() or self._fail(str(exc), line=1)) from None
        except OSError as exc:
            raise self._fail(exc.strerror or str(exc)) from None
        if not header:
            raise self._fail("empty file (no header line)")
        return header

    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The file's rows (only ``columns`` when given), text columns as ``TEXT``."""
        if self.format == "parquet":
            return arrow_to_frame(self.read_arrow(columns))
        names = list(columns) if columns is not None else self.columns()
        read = pacsv.ReadOptions(use_threads=True)
        parse = pacsv.ParseOptions(newlines_in_values=True)
        convert = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.large_string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            include_columns=names,
        )
        try:
            table = pacsv.read_csv(
                self.path, read_options=read, parse_options=parse, convert_options=convert
            )
        except pa.ArrowInvalid as exc:
            raise self._csv_problem(str(exc)) from None
        except OSError as exc:
            raise self._fail(exc.strerror or str(exc)) from None
        if self._odd_quotes():  # Arrow accepts a last field left open to the end of the file
            unterminated = self._unterminated_quote()
            if unterminated is not None:
                raise unterminated
        frame: pd.DataFrame = table.to_pandas(types_mapper=lambda t: TEXT, split_blocks=True)
        return frame

    def _odd_quotes(self) -> bool:
        """Whether the file holds an odd number of ``"`` (a cheap hint of an open quote:
        well-formed quoting always pairs them; a literal ``"`` inside an unquoted cell
        is a false alarm that :meth:`_unterminated_quote` clears)."""
        count = 0
        with open(self.path, "rb") as fh:
            while chunk := fh.read(1 << 23):
                count += chunk.count(b'"')
        return count % 2 == 1

    def read_arrow(self, columns: Sequence[str] | None = None) -> pa.Table:
        """A Parquet file as an Arrow table (its own types)."""
        try:
            return pq.read_table(self.path, columns=list(columns) if columns else None)
        except (OSError, pa.ArrowException) as exc:
            raise self._fail(str(exc)) from None

    def _csv_problem(self, text: str) -> DataError:
        """A parse error from Arrow, located with Python's csv module (error path only)."""
        if "invalid UTF8" in text:
            return self._utf8_problem()
        if "Empty CSV" in text:
            return self._fail("empty file (no header line)")
        unterminated = self._unterminated_quote()
        if unterminated is not None:
            return unterminated
        match = re.search(r"Expected (\d+) columns, got (\d+)", text)
        if match:
            ragged = self._first_ragged_line(int(match[1]))
            return self._fail(f"expected {match[1]} fields, got {match[2]}", line=ragged)
        return self._fail(text.splitlines()[0] if text else "parse error")

    def _utf8_problem(self) -> DataError:
        """The line of the first byte that is not UTF-8 (error path only)."""
        data = self.path.read_bytes()
        start = len(_BOM) if data.startswith(_BOM) else 0
        try:
            data[start:].decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: start + exc.start].count(b"\n") + 1
            return self._fail("not UTF-8 text", line=line)
        return self._fail("not UTF-8 text")

    def _unterminated_quote(self) -> DataError | None:
        """The error for a quoted field never closed (it runs to the end of the file), if any.

        Error path only: finds the record it is in with Python's csv module, then
        the field's opening quote in that record.
        """
        start = 1
        with open(self.path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=True)
            try:
                for _ in reader:
                    start = reader.line_num + 1
            except csv.Error as exc:
                if "unexpected end of data" not in str(exc):
                    return None
            else:
                return None
        with open(self.path, encoding="utf-8-sig", newline="") as fh:
            for _ in range(start - 1):
                fh.readline()
            rest = fh.read()
        opening = _unclosed_quote(rest)
        if opening is None:  # pragma: no cover - the csv module found one
            return None
        head = rest[:opening]
        line = start + head.count("\n") + head.count("\r") - head.count("\r\n")
        return self._fail(f"unterminated quoted field starting on line {line}")

    def _first_ragged_line(self, width: int) -> int | None:
        with open(self.path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            start = 1
            for row in reader:
                if len(row) != width:
                    return start
                start = reader.line_num + 1
        return None

    def line_of(self, row: int) -> int | None:
        """The CSV line on which data row ``row`` (1-based) starts."""
        if self.format != "csv":
            return None
        with open(self.path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            start = 1
            for index, _ in enumerate(reader):
                if index == row:
                    return start
                start = reader.line_num + 1
        return None

    def note(self, row: int, column: str = "") -> str | None:
        """A note for messages about data row ``row``: its CSV line."""
        line = self.line_of(row)
        return f"line {line}" if line is not None else None

    # -- rewriting -------------------------------------------------------
    def read_all(self) -> pd.DataFrame | pa.Table:
        """The whole file for a rewrite: CSV as text columns, Parquet as Arrow."""
        if self.format == "csv":
            return self.read()
        return self.read_arrow()

    def rewrite(self, content: pd.DataFrame | pa.Table) -> None:
        """Replace the file's rows with ``content`` (from :meth:`read_all`, changed)."""
        if isinstance(content, pa.Table):
            table = content
            atomic_write(self.path, lambda tmp: pq.write_table(table, tmp))
            return
        frame = content
        head = self._head()
        bom = head.startswith(_BOM)
        newline = "\r\n" if b"\r\n" in head.split(b"\n", 1)[0] + b"\n" else "\n"

        def write(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
                _write_csv(frame, fh, newline)

        atomic_write(self.path, write)

    def _head(self) -> bytes:
        with open(self.path, "rb") as fh:
            return fh.read(65536)

    def appended(
        self, content: pd.DataFrame | pa.Table, rows: pd.DataFrame
    ) -> pd.DataFrame | pa.Table:
        """``content`` with ``rows`` (text values; missing columns empty) added at the end.

        Raises DataError when a value cannot be stored in a Parquet column's type.
        """
        unknown = [c for c in rows.columns if c not in _names(content)]
        if unknown:
            raise DataError(
                f"{self.source}: no column {unknown[0]!r} (columns present: "
                f"{', '.join(_names(content))})",
                file=self.source,
                field=unknown[0],
            )
        if isinstance(content, pd.DataFrame):
            extra = pd.DataFrame({c: rows.get(c, pd.NA) for c in content.columns})
            extra = extra.astype(TEXT)
            return pd.concat([content, extra], ignore_index=True)
        arrays = []
        for field in content.schema:
            values = rows[field.name] if field.name in rows else pd.Series([None] * len(rows))
            plain = pa.array(
                values.astype(object).where(values.notna(), None).tolist(), pa.large_string()
            )
            try:
                arrays.append(plain.cast(field.type))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise DataError(
                    f"{self.source}: cannot store {values.dropna().tolist()[:3]} in column "
                    f"{field.name!r} of type {field.type}: {exc}",
                    file=self.source,
                    field=field.name,
                ) from None
        extra_table = pa.Table.from_arrays(arrays, schema=content.schema)
        return pa.concat_tables([content, extra_table])


_FIELD_END = re.compile(r"[,\r\n]")


def _unclosed_quote(record: str) -> int | None:
    """The offset of the opening quote of a field never closed in ``record`` (the text
    from the start of one CSV record to the end of the file), or None."""
    pos = 0
    while True:
        if record.startswith('"', pos):
            i = pos + 1
            while True:
                j = record.find('"', i)
                if j < 0:
                    return pos
                if not record.startswith('"', j + 1):
                    break
                i = j + 2  # a doubled quote inside the field
            pos = j + 1
            if not record.startswith(",", pos):
                return None  # the record ends here (or is malformed otherwise)
            pos += 1
            continue
        end = _FIELD_END.search(record, pos)
        if end is None or end.group() != ",":
            return None
        pos = end.end()


def _names(content: pd.DataFrame | pa.Table) -> list[str]:
    return (
        [str(c) for c in content.columns]
        if isinstance(content, pd.DataFrame)
        else content.column_names
    )


def _write_csv(frame: pd.DataFrame, fh: IO[str], newline: str) -> None:
    frame.to_csv(fh, index=False, lineterminator=newline, na_rep="", quoting=csv.QUOTE_MINIMAL)
