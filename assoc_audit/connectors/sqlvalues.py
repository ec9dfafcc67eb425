"""Values between the canonical tables' text and SQL column types, and database error text.

Canonical ids and labels are text; an integer or numeric column gets the number
(a value it cannot hold is a ValueError, or for ids simply not there), any
other column the text. A database error is shown by its own first line, with
no SQL and no parameters, secrets hidden.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa

from assoc_audit.secrets import redact_text

__all__ = ["error_text", "typed", "typed_ids"]

_INT = re.compile(r"^[+-]?[0-9]+$")


def error_text(exc: BaseException) -> str:
    """A database error's own first line (no SQL, no parameters), secrets hidden."""
    inner = getattr(exc, "orig", None) or exc
    lines = str(inner).strip().splitlines()
    return redact_text(lines[0] if lines else type(inner).__name__)


def _python_type(column: sa.Column[Any]) -> type:
    try:
        return column.type.python_type
    except NotImplementedError:
        return str


def typed(column: sa.Column[Any], value: str | None) -> Any:
    """A text value converted for ``column``'s type; ValueError if it cannot be stored."""
    if value is None:
        return None
    kind = _python_type(column)
    if kind is int:
        if not _INT.match(value):
            raise ValueError(f"{value!r} is not a whole number for column {column.name!r}")
        return int(value)
    if kind in (float, Decimal):
        try:
            return kind(value)
        except (ValueError, InvalidOperation):
            raise ValueError(f"{value!r} is not a number for column {column.name!r}") from None
    return value


def typed_ids(column: sa.Column[Any], values: Collection[str]) -> list[Any]:
    """Ids converted for ``column``; ids that cannot be stored there are left out."""
    out = []
    for v in values:
        try:
            out.append(typed(column, v))
        except ValueError:
            continue
    return out
