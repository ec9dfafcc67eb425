"""One small app data set, written in every layout the connectors read (CSV, Parquet, SQL).

Each table is a list of rows with a logical type per column (``text``, ``int``,
``timestamp``); the writers map those types to each format's own, so every
backend must read back exactly :func:`expected_records` / :func:`expected_links`.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

TS1 = datetime(2024, 1, 1, tzinfo=UTC)
TS2 = datetime(2024, 2, 1, 12, tzinfo=timezone(timedelta(hours=1)))

# name -> (columns with logical types, rows)
TABLES: dict[str, tuple[dict[str, str], list[tuple[Any, ...]]]] = {
    "persons": (
        {
            "id": "text",
            "email": "text",
            "full_name": "text",
            "updated_at": "timestamp",
            "notes": "text",
        },
        [
            ("007", "ada@x.io", "Ada, Countess", TS1, "two\nlines"),
            ("8", "", 'Bob "B"', None, ""),
            ("9", "Bob@Y.io", "", TS2, "x"),
        ],
    ),
    "organizations": (
        {"id": "text", "website": "text", "display_name": "text"},
        [("o1", "https://www.x.io/", "Org One"), ("o2", "y.io", "Org Two")],
    ),
    "deals": ({"id": "int", "display_name": "text"}, [(1001, "Deal A"), (1002, "Deal B")]),
    "associations": (
        {
            "from_object": "text",
            "from_id": "text",
            "to_object": "text",
            "to_id": "text",
            "label": "text",
        },
        [
            ("persons", "007", "organizations", "o1", ""),
            ("persons", "007", "organizations", "o1", "primary"),
            ("organizations", "o2", "persons", "8", ""),  # reversed: flipped
            ("persons", "007", "organizations", "o1", ""),  # duplicate: merged
            ("deals", "1001", "persons", "007", "participant"),
            ("widgets", "w1", "persons", "007", ""),  # not an app object: skipped
            ("deals", "1002", "organizations", "o1", ""),  # pair not audited: skipped
        ],
    ),
}


def tables(**changes: tuple[dict[str, str], list[tuple[Any, ...]]] | None) -> dict:
    """The data set with some tables replaced (or dropped with None)."""
    out = dict(TABLES)
    for name, value in changes.items():
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def write_csv(path: Path, columns: dict[str, str], rows: list[tuple[Any, ...]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(columns))
        writer.writerows([[_cell(v) for v in row] for row in rows])
    return path


_ARROW = {"text": pa.string(), "int": pa.int64(), "timestamp": pa.timestamp("us", tz="UTC")}


def write_parquet(path: Path, columns: dict[str, str], rows: list[tuple[Any, ...]]) -> Path:
    arrays = [
        pa.array([row[i] for row in rows], type=_ARROW[kind])
        for i, kind in enumerate(columns.values())
    ]
    pq.write_table(pa.table(arrays, names=list(columns)), path)
    return path


def write_folder(folder: Path, data: dict, fmt: str = "csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, (columns, rows) in data.items():
        if fmt == "csv":
            write_csv(folder / f"{name}.csv", columns, rows)
        else:
            write_parquet(folder / f"{name}.parquet", columns, rows)
    return folder


def write_sql(engine: sa.Engine, data: dict, *, names: dict[str, str] | None = None) -> None:
    """Create and fill one table per entry (``names`` renames tables)."""
    names = names or {}
    sqlite = engine.dialect.name == "sqlite"
    types = {
        "text": sa.Text(),
        "int": sa.BigInteger(),
        "timestamp": sa.Text() if sqlite else sa.DateTime(timezone=True),
    }
    meta = sa.MetaData()
    for name, (columns, rows) in data.items():
        table = sa.Table(
            names.get(name, name), meta, *(sa.Column(c, types[k]) for c, k in columns.items())
        )
        with engine.begin() as conn:
            table.create(conn)
            values = []
            for row in rows:
                item = dict(zip(columns, row, strict=True))
                if sqlite:
                    item = {
                        k: v.isoformat() if isinstance(v, datetime) else v for k, v in item.items()
                    }
                values.append(item)
            if values:
                conn.execute(table.insert(), values)


def expected_records() -> list[dict[str, Any]]:
    ts = pd.Timestamp
    return [
        {
            "object": "companies",
            "record_id": "o1",
            "email": None,
            "website": "https://www.x.io/",
            "display_name": "Org One",
            "updated_at": None,
        },
        {
            "object": "companies",
            "record_id": "o2",
            "email": None,
            "website": "y.io",
            "display_name": "Org Two",
            "updated_at": None,
        },
        {
            "object": "contacts",
            "record_id": "007",
            "email": "ada@x.io",
            "website": None,
            "display_name": "Ada, Countess",
            "updated_at": ts("2024-01-01T00:00:00Z"),
        },
        {
            "object": "contacts",
            "record_id": "8",
            "email": None,
            "website": None,
            "display_name": 'Bob "B"',
            "updated_at": None,
        },
        {
            "object": "contacts",
            "record_id": "9",
            "email": "Bob@Y.io",
            "website": None,
            "display_name": None,
            "updated_at": ts("2024-02-01T11:00:00Z"),
        },
        {
            "object": "deals",
            "record_id": "1001",
            "email": None,
            "website": None,
            "display_name": "Deal A",
            "updated_at": None,
        },
        {
            "object": "deals",
            "record_id": "1002",
            "email": None,
            "website": None,
            "display_name": "Deal B",
            "updated_at": None,
        },
    ]


def expected_links() -> list[dict[str, Any]]:
    def link(f: str, fid: str, t: str, tid: str, label: str | None) -> dict[str, Any]:
        return {"from_object": f, "from_id": fid, "to_object": t, "to_id": tid, "label": label}

    return [
        link("contacts", "007", "companies", "o1", None),
        link("contacts", "007", "companies", "o1", "primary"),
        link("contacts", "8", "companies", "o2", None),
        link("deals", "1001", "contacts", "007", "participant"),
    ]


def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as sorted plain rows (nulls as None) for comparisons."""
    plain = frame.astype(object).where(frame.notna(), None)
    out = plain.to_dict("records")
    return sorted(out, key=lambda r: tuple("" if v is None else str(v) for v in r.values()))
