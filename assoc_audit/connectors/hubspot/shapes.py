"""What a successful HubSpot answer must look like, per endpoint the connector calls.

The SDK turns a body it cannot use into an empty answer rather than an error:
a body that is not JSON (a proxy's or captive portal's HTML page) is kept as
text and deserialised into a model whose fields are all None, and a JSON body
that lacks required fields (``{}``) parses the same way, because
``client_side_validation`` is off. Read naively, either is an empty page: no
records, no links, and an audit of an "empty" portal.

:data:`SHAPES` names, for every endpoint name :class:`~.hubspot_api.ApiCaller`
is called with, the HTTP method (for messages) and a check of the
deserialised answer that returns the first problem found (or None):

- a body is JSON (``Content-Type`` ``application/json`` or ``…+json``), unless
  the endpoint answers 204 without one;
- collections have a ``results`` list; ``paging``, when present, carries a
  non-empty ``next.after``;
- each result has the fields the connector relies on and HubSpot's spec
  requires: a record's ``id`` and ``properties``; a v4 batch read result's
  ``from.id``, ``to[].toObjectId`` and ``to[].associationTypes[]`` (each with a
  ``typeId``); label definitions' and limit configurations' ``typeId`` and
  ``category``; properties' ``name``, ``label``, ``type``, ``fieldType``,
  ``groupName``; association batch writes' ``fromObjectTypeId``,
  ``fromObjectId``, ``toObjectTypeId``, ``toObjectId``, ``labels``;
- batch answers have ``status``, ``startedAt``, ``completedAt`` and, on a 207,
  an ``errors`` list whose entries carry ``category`` and ``message``;
- the account details have an integer ``portalId``.

Checks read SDK models by attribute and plain JSON (the account details,
deserialised as ``object``) by key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from assoc_audit.connectors.hubspot.ratelimit import _header

__all__ = ["SHAPES", "Shape", "content_problem"]

#: A check of one deserialised answer (and its status): the first problem, or None.
Check = Callable[[Any, int], "str | None"]


@dataclass(frozen=True)
class Shape:
    """One endpoint's answer: its HTTP method (for messages) and the check of its body.

    ``body=False``: the endpoint answers 204 without a body (nothing to check).
    """

    method: str
    check: Check
    body: bool = True


def _field(obj: Any, attr: str, key: str) -> Any:
    """``obj.attr`` of an SDK model, ``obj[key]`` of plain JSON; None when absent."""
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, attr, None)


def _present(value: Any) -> bool:
    """A usable id or text: not None, not empty, not only blanks."""
    if value is None or isinstance(value, bool):
        return False
    return bool(str(value).strip())


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def content_problem(headers: Mapping[str, Any] | None) -> str | None:
    """Why a response's ``Content-Type`` is not JSON (None when it is)."""
    value = _header(headers, "Content-Type")
    if value is None:
        return "no Content-Type (a JSON body was expected)"
    media = value.split(";", 1)[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return None
    return f"Content-Type {media or value!r}, not JSON"


def _paging(paging: Any) -> str | None:
    if paging is None:
        return None
    after = _field(_field(paging, "next", "next"), "after", "after")
    if not (isinstance(after, str) and after.strip()):
        return "'paging' without a 'next.after' cursor"
    return None


Item = Callable[[Any], "str | None"]


def _requires(*fields: tuple[str, str]) -> Item:
    """An item check: each (attribute, JSON key) is present and not empty."""

    def check(item: Any) -> str | None:
        for attr, key in fields:
            if not _present(_field(item, attr, key)):
                return f"has no {key!r}"
        return None

    return check


def _record(item: Any) -> str | None:
    if not _present(_field(item, "id", "id")):
        return "has no 'id'"
    if not isinstance(_field(item, "properties", "properties"), Mapping):
        return "has no 'properties' object"
    return None


def _type_spec(item: Any) -> str | None:
    if not _whole(_field(item, "type_id", "typeId")):
        return "has no 'typeId' number"
    if not _present(_field(item, "category", "category")):
        return "has no 'category'"
    return None


def _property(item: Any) -> str | None:
    for attr, key in (
        ("name", "name"),
        ("label", "label"),
        ("type", "type"),
        ("field_type", "fieldType"),
        ("group_name", "groupName"),
    ):
        if not _present(_field(item, attr, key)):
            return f"has no {key!r}"
    return None


def _assoc_read(item: Any) -> str | None:
    if not _present(_field(_field(item, "_from", "from"), "id", "id")):
        return "has no 'from.id'"
    to = _field(item, "to", "to")
    if not isinstance(to, list):
        return "has no 'to' list"
    for j, target in enumerate(to):
        if not _present(_field(target, "to_object_id", "toObjectId")):
            return f"has no 'to[{j}].toObjectId'"
        types = _field(target, "association_types", "associationTypes")
        if not isinstance(types, list):
            return f"has no 'to[{j}].associationTypes' list"
        for k, kind in enumerate(types):
            if not _whole(_field(kind, "type_id", "typeId")):
                return f"has no 'to[{j}].associationTypes[{k}].typeId' number"
    return _paging(_field(item, "paging", "paging"))


def _assoc_written(item: Any) -> str | None:
    problem = _requires(
        ("from_object_type_id", "fromObjectTypeId"),
        ("from_object_id", "fromObjectId"),
        ("to_object_type_id", "toObjectTypeId"),
        ("to_object_id", "toObjectId"),
    )(item)
    if problem:
        return problem
    if not isinstance(_field(item, "labels", "labels"), list):
        return "has no 'labels' list"
    return None


def _results(data: Any, item: Item | None) -> str | None:
    results = _field(data, "results", "results")
    if not isinstance(results, list):
        return "no 'results' list"
    if item is not None:
        for i, result in enumerate(results):
            problem = item(result)
            if problem:
                return f"result {i + 1} {problem}"
    return None


def collection(item: Item | None = None, *, paging: bool = False) -> Check:
    """A ``{results: [...], paging?}`` answer (``paging`` checked when the endpoint pages)."""

    def check(data: Any, status: int) -> str | None:
        problem = _results(data, item)
        if problem is None and paging:
            problem = _paging(_field(data, "paging", "paging"))
        return problem

    return check


def batch(item: Item | None = None) -> Check:
    """A batch answer: ``status``, ``results``, ``startedAt``, ``completedAt``; 207 ``errors``."""

    def check(data: Any, status: int) -> str | None:
        if not _present(_field(data, "status", "status")):
            return "no 'status'"
        for attr, key in (("started_at", "startedAt"), ("completed_at", "completedAt")):
            if _field(data, attr, key) is None:
                return f"no {key!r}"
        problem = _results(data, item)
        if problem or status != 207:
            return problem
        errors = _field(data, "errors", "errors")
        if not isinstance(errors, list):
            return "a 207 without an 'errors' list"
        for i, err in enumerate(errors):
            for attr in ("category", "message"):
                if not _present(_field(err, attr, attr)):
                    return f"error {i + 1} has no {attr!r}"
        return None

    return check


def _account(data: Any, status: int) -> str | None:
    if not isinstance(data, Mapping):
        return "not a JSON object"
    if not _whole(data.get("portalId")):
        return "no 'portalId' number"
    return None


def _nothing(data: Any, status: int) -> str | None:
    return None


#: Every endpoint the connector calls (the names its usage breakdown uses).
SHAPES: Mapping[str, Shape] = {
    "objects.list": Shape("GET", collection(_record, paging=True)),
    "objects.batch_read": Shape("POST", batch(_requires(("id", "id")))),
    "objects.batch_create": Shape("POST", batch(_record)),
    "objects.batch_archive": Shape("POST", _nothing, body=False),
    "properties.batch_read": Shape("POST", batch(_property)),
    "assoc.labels": Shape("GET", collection(_type_spec)),
    "assoc.limits": Shape("GET", collection(_type_spec)),
    "assoc.batch_read": Shape("POST", batch(_assoc_read)),
    "assoc.batch_create": Shape("POST", batch(_assoc_written)),
    "assoc.batch_archive": Shape("POST", _nothing, body=False),
    "assoc.batch_archive_labels": Shape("POST", _nothing, body=False),
    "account.details": Shape("GET", _account),
}
