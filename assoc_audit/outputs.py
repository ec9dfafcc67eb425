"""Writing an audit's output folder (DESIGN §6 "Outputs").

``findings.csv`` and ``findings.parquet``, ``records.csv``, ``summary.json``
and ``snapshot/`` (both sides' canonical tables, the base for the next run's
deletion detection). CSV files are UTF-8 with RFC 4180 quoting (fields with a
comma, quote or line break are quoted, quotes doubled), ``\\n`` line endings,
empty for null. Every file is written atomically and fsynced
(:mod:`assoc_audit.atomicfile`).

**Spreadsheet formulas are neutralised in every CSV** :func:`write_csv` writes
(findings, records, fix plans, scenario results): a text cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``
(OWASP's rule against CSV injection), so a spreadsheet shows the text instead
of running it. Ids, names and labels come from the portal and the app, that is
from anyone who can edit a record there. Parquet files keep the raw values.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from assoc_audit import duck
from assoc_audit.atomicfile import atomic_write, atomic_write_text
from assoc_audit.matching import RECORDS_COLUMNS, MatchStatus
from assoc_audit.reasons import Reason, count_failing
from assoc_audit.snapshot import write_side
from assoc_audit.tables import arrow_text, text_series

if TYPE_CHECKING:
    from assoc_audit.audit import AuditResult
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.matching import Matches
    from assoc_audit.summary import AuditSummary
    from assoc_audit.tables import SideTables

__all__ = [
    "FORMULA_PREFIXES",
    "TIMESTAMP_FORMAT",
    "default_report_folder",
    "records_frame",
    "records_table",
    "text_order",
    "threshold_exceeded",
    "write_csv",
    "write_outputs",
    "write_outputs_summary",
]

#: Report folder names: the run's start in UTC, sortable (``20261128T130500Z``).
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"

#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _arrow(df: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(df, preserve_index=False)


def _is_text(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def _csv_select(schema: pa.Schema) -> str:
    """The SELECT list of a CSV export: formula-like text cells get a leading ``'``.

    Done in SQL (one vectorised CASE per text column), not per row in Python.
    """
    starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_PREFIXES)
    items = []
    for field in schema:
        col = '"' + field.name.replace('"', '""') + '"'
        if _is_text(field.type):
            items.append(
                f"CASE WHEN left({col}, 1) IN ({starts}) THEN chr(39) || {col} "
                f"ELSE {col} END AS {col}"
            )
        else:
            items.append(col)
    return ", ".join(items) or "*"


def write_csv(df: pd.DataFrame | pa.Table, path: Path) -> None:
    """Write a table as RFC 4180 CSV (header, empty for null), atomically.

    Text cells that a spreadsheet would run as a formula get a leading ``'``
    (see the module docstring); everything else is written as it is, rows in
    order. DuckDB's ``COPY`` runs on one thread: with more, DuckDB 2.0 can
    write the rows of a ``CASE`` projection out of order. Writers of different
    files run in parallel instead (:func:`write_outputs`).
    """
    table = df if isinstance(df, pa.Table) else _arrow(df)
    select = _csv_select(table.schema)

    def write(tmp: Path) -> None:
        con = duck.connect(threads=1)
        try:
            duck.register(con, "out_", table)
            target = str(tmp).replace("'", "''")
            con.execute(
                f"COPY (SELECT {select} FROM out_) TO '{target}' "
                "(FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR '')"
            )
        finally:
            con.close()

    atomic_write(path, write)


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    table = _arrow(df)
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def write_outputs(result: AuditResult, folder: Path) -> Path:
    """Write every output of ``result`` into ``folder`` (created if needed).

    ``summary.json`` is the result's summary with the seconds spent writing the other
    files (``timings["write"]``, included in ``total_seconds``) and how each side's
    snapshot was stored (``snapshot``); :func:`write_outputs_summary` returns it.
    """
    write_outputs_summary(result, folder)
    return folder


def write_outputs_summary(result: AuditResult, folder: Path) -> AuditSummary:
    """:func:`write_outputs`, returning the summary it wrote to ``summary.json``."""
    tick = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    snapshot = folder / "snapshot"
    jobs: dict[str, Callable[[], object]] = {
        "records.csv": lambda: write_csv(result.records, folder / "records.csv"),
        "findings.csv": lambda: write_csv(result.findings, folder / "findings.csv"),
        "findings.parquet": lambda: _write_parquet(result.findings, folder / "findings.parquet"),
        # unchanged snapshot inputs are hard-linked, not rewritten (snapshot.write_side)
        "hubspot": lambda: write_side(snapshot / "hubspot", result.hubspot, link=True),
        "app": lambda: write_side(snapshot / "app", result.app, link=True),
    }
    # the writers spend their time in DuckDB, Arrow and the file system, off the GIL
    workers = max(1, min(len(jobs), duck.available_cores()))
    with ThreadPoolExecutor(workers, thread_name_prefix="assoc-audit-write") as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        done = {name: future.result() for name, future in futures.items()}
    seconds = time.perf_counter() - tick
    timings = dict(result.summary.timings)
    timings["write"] = seconds
    timings["total_seconds"] = timings.get("total_seconds", 0.0) + seconds
    summary = replace(
        result.summary,
        timings=timings,
        snapshot={side: str(done[side]) for side in ("hubspot", "app")},
    )
    text = json.dumps(summary.to_dict(), indent=2, ensure_ascii=False, default=str)
    atomic_write_text(folder / "summary.json", text + "\n")
    return summary


def default_report_folder(
    name: str, *, now: datetime | None = None, root: Path | str = "reports"
) -> Path:
    """``<root>/<name>/<UTC timestamp>/``, with ``-2``, ``-3``… if that folder exists."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    base = Path(root) / name / moment.strftime(TIMESTAMP_FORMAT)
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    return folder


def threshold_exceeded(
    by_reason: Mapping[str, int], fail_on: Iterable[Reason | str], max_findings: int
) -> bool:
    """DESIGN §8's exit-1 rule, the one place it is decided: more than ``max_findings``
    findings have one of the ``fail_on`` reasons."""
    return count_failing(dict(by_reason), fail_on) > max_findings


# -- records.csv ---------------------------------------------------------------------------

#: Digit-only ids up to this length sort as integers: (length, value) is their text order.
_NUMERIC_DIGITS = 15
_VALUE_BITS = 50  # 10**15 < 2**50


def text_order(texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Positions of ``texts`` in DESIGN's id order (length, then code point; nulls first) and,
    per place in that order, whether its text equals the previous place's (null equals null).

    Digit-only texts (HubSpot ids) sort as ``(length, integer)`` keys in NumPy; the others
    with Arrow's string sort, then merged in exactly: a text that is not all digits goes
    before the first digit-only text greater than it, found from its leading digits.
    """
    n = len(texts)
    valid = np.asarray(pc.is_valid(texts).to_numpy(zero_copy_only=False))
    lens = np.asarray(pc.fill_null(pc.utf8_length(texts), 0).to_numpy(zero_copy_only=False))
    digits = np.asarray(
        pc.fill_null(pc.ascii_is_decimal(texts), False).to_numpy(zero_copy_only=False)
    )
    numeric = digits & (lens <= _NUMERIC_DIGITS)
    nulls, num_at, other_at = (np.flatnonzero(x) for x in (~valid, numeric, valid & ~numeric))
    keys = np.empty(0, dtype=np.int64)
    if len(num_at):
        values = pc.cast(texts.take(pa.array(num_at)), pa.int64()).to_numpy(zero_copy_only=False)
        keys = (lens[num_at].astype(np.int64) << _VALUE_BITS) | values
        by = np.argsort(keys, kind="stable")
        num_at, keys = num_at[by], keys[by]
    others = texts.take(pa.array(other_at))
    if len(other_at):
        by = pc.sort_indices(
            pa.table({"l": lens[other_at], "s": others}), [("l", "ascending"), ("s", "ascending")]
        ).to_numpy()
        other_at, others = other_at[by], others.take(pa.array(by))
    major = _numeric_below(others, lens[other_at], keys)
    order = np.empty(n, dtype=np.int64)
    order[: len(nulls)] = nulls
    base = len(nulls)
    order[
        base + np.arange(len(num_at)) + np.searchsorted(major, np.arange(len(num_at)), "right")
    ] = num_at
    order[base + major + np.arange(len(other_at))] = other_at
    same = np.zeros(n, dtype=bool)
    same[1 : len(nulls)] = True
    kind = np.zeros(n, dtype=np.int8)  # per place: 0 null, 1 digit-only, 2 other
    kind[numeric[order]] = 1
    kind[(valid & ~numeric)[order]] = 2
    places_num, places_other = np.flatnonzero(kind == 1), np.flatnonzero(kind == 2)
    same[places_num[1:][keys[1:] == keys[:-1]]] = True  # equal texts are adjacent
    if len(places_other) > 1:
        eq = np.asarray(pc.equal(others[1:], others[:-1]).to_numpy(zero_copy_only=False))
        same[places_other[1:][eq]] = True
    return order, same


def _numeric_below(others: pa.Array, lens: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """How many of the sorted digit-only ``keys`` sort before each of ``others`` (texts that
    are not digit-only, sorted). A digit-only text ``s`` of t's length sorts before ``t``
    iff s's first digits are below t's leading digits ``d``, or equal to them when t's next
    character is above '9': iff its value is below ``(d + above) * 10**(rest of t)``."""
    if not len(keys) or not len(others):
        return np.zeros(len(others), dtype=np.int64)
    short = (lens <= _NUMERIC_DIGITS) & (lens > 0)
    lead = np.asarray(pc.find_substring_regex(others, "[^0-9]").to_numpy(zero_copy_only=False))
    short &= lead >= 0
    values = np.zeros(len(others), dtype=np.int64)
    for j in np.unique(lead[short & (lead > 0)]):  # one cast per length of leading digits
        at = np.flatnonzero(short & (lead == j))
        head = pc.utf8_slice_codeunits(others.take(pa.array(at)), 0, int(j))
        values[at] = pc.cast(head, pa.int64()).to_numpy(zero_copy_only=False)
    above = np.asarray(
        pc.match_substring_regex(others, "^[0-9]*[^\\x00-9]").to_numpy(zero_copy_only=False)
    )
    rest = np.where(short, lens - lead, 0)
    bound = (np.where(short, lens, 0).astype(np.int64) << _VALUE_BITS) | (
        (values + above) * np.power(10, rest, dtype=np.int64)
    )
    below = np.searchsorted(keys, bound, "left")
    return np.where(short, below, np.where(lens > 0, len(keys), 0)).astype(np.int64)


def records_table(
    config: IntegrationConfig, hubspot: SideTables, app: SideTables, matches: Matches
) -> pa.Table:
    """records.csv (DESIGN §6) as an Arrow table, from the matching arrays (no joins).

    One row per matched pair and per unmatched or ambiguous record, for objects with
    rules; an ambiguous record lists the other side's records of its groups (length,
    then text; ``;``). Sorted by object, HubSpot id, app id (each by length, then code
    point; empty first) with integer keys (:func:`text_order`).
    """
    objects = list(config.audited_objects)
    if not any(config.match_rules(o) for o in objects):
        return _empty_records_table()
    ids = (_ids(hubspot), _ids(app))
    codes = matches.object_codes
    h, a = matches.hubspot, matches.app
    parts: list[tuple[np.ndarray, pa.Array, pa.Array, np.ndarray, str]] = []
    rows = np.flatnonzero(h.status == MatchStatus.MATCHED)
    parts.append(
        (
            codes[0][rows],
            _take(ids[0], rows),
            _take(ids[1], h.partner[rows]),
            h.rule[rows],
            "matched",
        )
    )
    for s, m in ((0, h), (1, a)):
        rows = np.flatnonzero(m.status == MatchStatus.UNMATCHED)
        own, none = _take(ids[s], rows), pa.nulls(len(rows), pa.large_string())
        parts.append(
            (codes[s][rows], *((own, none) if s == 0 else (none, own)), m.rule[rows], "unmatched")
        )
    for s, m in ((0, h), (1, a)):
        rows = np.flatnonzero(m.status == MatchStatus.AMBIGUOUS)
        own, lists = _take(ids[s], rows), _lists(matches.ambiguity, s, rows, ids[1 - s])
        parts.append(
            (codes[s][rows], *((own, lists) if s == 0 else (lists, own)), m.rule[rows], "ambiguous")
        )
    obj = np.concatenate([p[0] for p in parts])
    hub = pa.concat_arrays([p[1] for p in parts])
    app_ids = pa.concat_arrays([p[2] for p in parts])
    rule = np.concatenate([p[3] for p in parts]).astype(np.int32)
    status = np.concatenate([np.full(len(p[0]), i, dtype=np.int8) for i, p in enumerate(parts)])
    order = _records_order(objects, obj, hub, app_ids)
    names = pa.array(objects, pa.large_string())
    kinds = pa.array([p[4] for p in parts], pa.large_string())
    at = pa.array(order)
    return pa.table(
        {
            "object": names.take(pa.array(obj[order])),
            "hubspot_id": hub.take(at),
            "app_id": app_ids.take(at),
            "rule": pa.array(rule[order], pa.int32(), mask=rule[order] == 0),
            "status": kinds.take(pa.array(status[order])),
        }
    )


def _ids(tables: SideTables) -> pa.Array:
    ids = arrow_text(tables.records["record_id"])
    assert ids is not None
    return ids.combine_chunks().cast(pa.large_string())


def _take(values: pa.Array, rows: np.ndarray) -> pa.Array:
    return values.take(pa.array(rows, pa.int64()))


def _lists(ambiguity: pd.DataFrame, s: int, rows: np.ndarray, other_ids: pa.Array) -> pa.Array:
    """Per ambiguous record in ``rows`` (ascending) of side ``s``: the other side's ids of
    its groups, once each, by length then text, joined by ``;``."""
    own_col, other_col = ("hubspot_row", "app_row") if s == 0 else ("app_row", "hubspot_row")
    pairs = ambiguity[[own_col, other_col]].drop_duplicates()
    own = pairs[own_col].to_numpy(dtype=np.int64)
    keep = np.isin(own, rows)
    own = own[keep]
    other = _take(other_ids, pairs[other_col].to_numpy(dtype=np.int64)[keep])
    by = pc.sort_indices(
        pa.table({"r": own, "l": pc.utf8_length(other), "s": other}),
        [("r", "ascending"), ("l", "ascending"), ("s", "ascending")],
    )
    own, other = own[by.to_numpy()], other.take(by)
    starts = np.flatnonzero(np.diff(own, prepend=-1) != 0)
    assert np.array_equal(own[starts], rows)  # every ambiguous record shares a group
    # 64-bit offsets throughout: the lists of one side may hold more than 2 GiB of ids
    offsets = pa.array(np.append(starts, len(own)), pa.int64())
    lists = pa.LargeListArray.from_arrays(offsets, other.cast(pa.large_string()))
    return pc.binary_join(lists, pa.scalar(";", pa.large_string()))


def _records_order(objects: list[str], obj: np.ndarray, hub: pa.Array, app: pa.Array) -> np.ndarray:
    """Row order of records.csv: object name, then HubSpot id, then app id (id order)."""
    out = []
    present = np.flatnonzero(np.bincount(obj, minlength=len(objects)))
    for code in sorted(present.tolist(), key=lambda c: objects[c]):
        rows = np.flatnonzero(obj == code)
        order, same = text_order(_take(hub, rows))
        rows = rows[order]
        tied = same | np.append(same[1:], False)  # places in a run of equal HubSpot ids
        if tied.any():
            run = np.cumsum(~same)[tied]
            at = rows[tied]
            texts = _take(app, at)
            by = pc.sort_indices(
                pa.table(
                    {
                        "run": run,
                        "l": pc.fill_null(pc.utf8_length(texts), -1),
                        "s": texts,
                        "i": at,
                    }
                ),
                [("run", "ascending"), ("l", "ascending"), ("s", "ascending"), ("i", "ascending")],
            )
            rows[tied] = at[by.to_numpy()]
        out.append(rows)
    return np.concatenate(out) if out else np.empty(0, dtype=np.int64)


def _empty_records_table() -> pa.Table:
    return pa.table(
        {
            "object": pa.array([], pa.large_string()),
            "hubspot_id": pa.array([], pa.large_string()),
            "app_id": pa.array([], pa.large_string()),
            "rule": pa.array([], pa.int32()),
            "status": pa.array([], pa.large_string()),
        }
    )


_INT64 = {pa.int64(): pd.Int64Dtype()}


def records_frame(table: pa.Table) -> pd.DataFrame:
    """records.csv as a DataFrame: text columns :data:`~assoc_audit.tables.TEXT`, rule Int64."""
    cols: dict[str, pd.Series] = {}
    for name in RECORDS_COLUMNS:
        column = table.column(name)
        if name == "rule":
            values = pc.cast(column, pa.int64()).to_pandas(types_mapper=_INT64.get)
            cols[name] = pd.Series(values, dtype="Int64")
        else:
            cols[name] = text_series(column)
    return pd.DataFrame(cols)
