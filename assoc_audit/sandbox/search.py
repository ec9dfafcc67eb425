"""CRM search (``POST /crm/v3/objects/{type}/search``), without HTTP.

Filters become one SQL ``WHERE`` over the stored records: groups are ORed,
filters inside a group ANDed. Property types decide comparisons: ``number``
numerically, ``datetime``/``date`` chronologically (values as ISO-8601 or
epoch milliseconds), everything else as text without regard to case (EQ, IN)
or lexically (LT, GT, …). ``NEQ``/``NOT_IN``/``NOT_CONTAINS_TOKEN`` also match
records without a value. Archived records never match. The free-text ``query``
matches records where every word of it occurs in one of the object's default
searchable properties. Paging is by offset (``after`` = the offset as text);
no page starts at or beyond the configured ceiling (HubSpot: 10,000).
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from assoc_audit.sandbox.clock import parse_timestamp
from assoc_audit.sandbox.exceptions import validation
from assoc_audit.sandbox.objects import Record, record_from_row
from assoc_audit.sandbox.objecttypes import ObjectType
from assoc_audit.sandbox.portals import Portal, PortalSchema, Registry
from assoc_audit.sandbox.store import SqlFunction, Store

__all__ = ["OPERATORS", "SQL_FUNCTIONS", "Search", "SearchCaps", "SearchRequest"]

OPERATORS = (
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
)
_WORD = re.compile(r"[\w]+", re.UNICODE)


def _py_lower(value: object) -> str | None:
    return None if value is None else str(value).lower()


def _py_token(value: object, pattern: object) -> int:
    if value is None or pattern is None:
        return 0
    pat = str(pattern).lower()
    words = _WORD.findall(str(value).lower())
    if "*" in pat:
        text = str(value).lower()
        return int(
            fnmatch.fnmatchcase(text, pat) or any(fnmatch.fnmatchcase(w, pat) for w in words)
        )
    return int(pat in words or pat == str(value).lower())


def _py_query(props: object, query: object, names: object) -> int:
    if props is None or query is None:
        return 0
    data = json.loads(str(props))
    haystack = " ".join(str(data.get(n, "")) for n in str(names).split(",")).lower()
    return int(all(word in haystack for word in str(query).lower().split()))


SQL_FUNCTIONS: tuple[SqlFunction, ...] = (
    ("py_lower", 1, _py_lower),
    ("py_token", 2, _py_token),
    ("py_query", 3, _py_query),
)


@dataclass(frozen=True)
class SearchCaps:
    """Search limits (see :class:`~assoc_audit.sandbox.limits.Limits`)."""

    page_max: int = 200
    total_max: int = 10_000
    max_groups: int = 5
    max_filters_per_group: int = 10
    max_filters: int = 25
    max_query_length: int = 3000


@dataclass(frozen=True)
class SearchRequest:
    filter_groups: tuple[tuple[Mapping[str, Any], ...], ...] = ()
    sorts: tuple[Any, ...] = ()
    query: str | None = None
    limit: int = 10
    after: int = 0


class _Builder:
    def __init__(self, schema: PortalSchema, obj: ObjectType) -> None:
        self.schema = schema
        self.obj = obj
        self.args: list[Any] = []

    def column(self, name: str) -> tuple[str, str]:
        """SQL for a property's value and its comparison kind (number, time, text)."""
        obj = self.obj
        if name == "hs_object_id":
            return "id", "id"
        if name == obj.created_property:
            return "created", "time"
        if name == obj.modified_property:
            return "updated", "time"
        prop = self.schema.props(obj).get(name)
        if prop is None:
            raise validation(
                f"There was a problem with the request: property {name!r} does not exist on "
                f"{obj.name}",
                context={"propertyName": [name]},
            )
        path = ("$." + json.dumps(name)).replace("'", "''")
        expr = f"json_extract(props, '{path}')"  # a literal: filters may use it twice
        if prop.type == "number":
            return f"CAST({expr} AS REAL)", "number"
        if prop.type in ("datetime", "date"):
            return expr, "time"
        return expr, "text"

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return "?"

    def value(self, kind: str, raw: Any, prop: str) -> Any:
        if raw is None:
            raise validation(f"filter on {prop} needs a value")
        text = str(raw).lower() if isinstance(raw, bool) else str(raw)
        if kind in ("number", "id"):
            try:
                return float(text)
            except ValueError:
                raise validation(f"{text!r} is not a number (filter on {prop})") from None
        if kind == "time":
            stamp = parse_timestamp(text)
            if stamp is None:
                raise validation(f"{text!r} is not a date or time (filter on {prop})")
            return stamp
        return text.lower()

    def filter(self, f: Mapping[str, Any]) -> str:
        prop = f.get("propertyName")
        op = f.get("operator", "EQ")
        if not prop or op not in OPERATORS:
            raise validation(
                f"invalid filter {dict(f)!r}: needs propertyName and an operator "
                f"({', '.join(OPERATORS)})"
            )
        col, kind = self.column(str(prop))
        cmp = f"py_lower({col})" if kind == "text" else col
        if op == "HAS_PROPERTY":
            return f"{col} IS NOT NULL"
        if op == "NOT_HAS_PROPERTY":
            return f"{col} IS NULL"
        if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            token = self.arg(str(f.get("value", "")))
            if op == "CONTAINS_TOKEN":
                return f"py_token({col}, {token}) = 1"
            return f"({col} IS NULL OR py_token({col}, {token}) = 0)"
        if op in ("IN", "NOT_IN"):
            values = f.get("values")
            if not isinstance(values, list) or not values:
                raise validation(f"operator {op} needs a non-empty 'values' list")
            marks = ",".join(self.arg(self.value(kind, v, str(prop))) for v in values)
            if op == "IN":
                return f"{cmp} IN ({marks})"
            return f"({col} IS NULL OR {cmp} NOT IN ({marks}))"
        if op == "BETWEEN":
            low = self.arg(self.value(kind, f.get("value"), str(prop)))
            high = self.arg(self.value(kind, f.get("highValue"), str(prop)))
            return f"{cmp} BETWEEN {low} AND {high}"
        mark = self.arg(self.value(kind, f.get("value"), str(prop)))
        sql_op = {"EQ": "=", "NEQ": "<>", "LT": "<", "LTE": "<=", "GT": ">", "GTE": ">="}[op]
        if op == "NEQ":
            return f"({col} IS NULL OR {cmp} <> {mark})"
        return f"{cmp} {sql_op} {mark}"

    def order(self, sorts: Sequence[Any]) -> str:
        if len(sorts) > 1:
            raise validation("Only one sort is supported per search request")
        if not sorts:
            return "id ASC"
        sort = sorts[0]
        if isinstance(sort, str):
            text = sort.strip()
            if text.startswith("{"):
                sort = json.loads(text)
            else:
                desc = text.startswith("-")
                name = text.lstrip("-")
                sort = {"propertyName": name, "direction": "DESCENDING" if desc else "ASCENDING"}
        if not isinstance(sort, Mapping) or not sort.get("propertyName"):
            raise validation(f"invalid sort {sort!r}")
        col, kind = self.column(str(sort["propertyName"]))
        direction = (
            "DESC" if str(sort.get("direction", "ASCENDING")).upper().startswith("DESC") else "ASC"
        )
        key = f"py_lower({col})" if kind == "text" else col
        return f"{key} {direction}, id {direction}"


class Search:
    """Runs search requests against the stored records."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self._store = store
        self._registry = registry

    def run(
        self, portal: Portal, obj: ObjectType, req: SearchRequest, caps: SearchCaps
    ) -> tuple[list[Record], int, int | None]:
        """(records of this page, total matches, next offset or None)."""
        groups = req.filter_groups
        if len(groups) > caps.max_groups:
            raise validation(
                f"Too many filter groups: {len(groups)} (the maximum is {caps.max_groups})"
            )
        if any(len(g) > caps.max_filters_per_group for g in groups):
            raise validation(
                f"Too many filters in a filter group (the maximum is {caps.max_filters_per_group})"
            )
        if sum(len(g) for g in groups) > caps.max_filters:
            raise validation(f"Too many filters (the maximum is {caps.max_filters} in total)")
        if req.limit < 0 or req.limit > caps.page_max:
            raise validation(f"limit must be between 0 and {caps.page_max}, got {req.limit}")
        if req.after < 0 or req.after >= caps.total_max:
            raise validation(
                f"Paging beyond {caps.total_max} results is not supported "
                f"(after={req.after}); narrow the search with filters",
                context={"after": [str(req.after)]},
            )
        if req.query is not None and len(req.query) > caps.max_query_length:
            raise validation(f"query is longer than {caps.max_query_length} characters")
        schema = self._registry.schema(portal)
        b = _Builder(schema, obj)
        where = "portal_id=? AND obj=? AND archived=0"
        base_args: list[Any] = [portal.portal_id, obj.code]
        parts = []
        for group in groups:
            if not group:
                continue
            parts.append("(" + " AND ".join(b.filter(f) for f in group) + ")")
        if parts:
            where += " AND (" + " OR ".join(parts) + ")"
        if req.query:
            query, names = b.arg(req.query), b.arg(",".join(obj.search_properties))
            where += f" AND py_query(props, {query}, {names}) = 1"
        where_args = [*base_args, *b.args]
        order = b.order(req.sorts)
        order_args = b.args[len(where_args) - len(base_args) :]
        limit = min(req.limit, caps.total_max - req.after)
        with self._store.read() as conn:
            total = int(
                conn.execute(f"SELECT count(*) FROM records WHERE {where}", where_args).fetchone()[
                    0
                ]
            )
            rows = conn.execute(
                "SELECT id, created, updated, archived, archived_at, props FROM records "
                f"WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
                [*where_args, *order_args, limit, req.after],
            ).fetchall()
        records = [record_from_row(r) for r in rows]
        end = req.after + len(records)
        return records, total, (end if end < total and records else None)
