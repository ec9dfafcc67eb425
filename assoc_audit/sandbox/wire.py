"""Wire helpers shared by the response modules: requests, responses, parsing, formatting.

A :class:`Request` is what the server parsed (method, path parameters, query
as a multi-dict, JSON body, the caller's portal); a handler returns a
:class:`Response` (status, JSON-able body or None for 204, extra headers).
List query parameters are accepted both repeated (``properties=a&properties=b``,
what the SDK sends) and comma-separated (``properties=a,b``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assoc_audit.sandbox.associations import LinkSpec
from assoc_audit.sandbox.exceptions import validation
from assoc_audit.sandbox.limits import Limits
from assoc_audit.sandbox.objects import Record
from assoc_audit.sandbox.objecttypes import AssocType, ObjectType
from assoc_audit.sandbox.portals import Portal, PortalSchema

__all__ = [
    "Request",
    "Response",
    "batch_body",
    "decode_cursor",
    "encode_cursor",
    "link_specs",
    "record_json",
]


@dataclass
class Request:
    """One parsed API request."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    body: Any
    portal: Portal | None
    limits: Limits
    now_iso: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)

    def list_param(self, name: str) -> list[str] | None:
        """A list parameter in repeated or comma form (None when absent)."""
        if name not in self.query:
            return None
        out: list[str] = []
        for value in self.query[name]:
            out.extend(v.strip() for v in value.split(",") if v.strip())
        return out

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def bool_param(self, name: str, default: bool = False) -> bool:
        value = self.param(name)
        if value is None or value == "":
            return default
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise validation(f"query parameter {name} must be true or false, got {value!r}")

    def int_param(self, name: str, default: int) -> int:
        value = self.param(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise validation(
                f"query parameter {name} must be a whole number, got {value!r}"
            ) from None

    def json_body(self) -> Any:
        if self.body is None:
            raise validation("Invalid JSON input: a request body was expected, but none found")
        return self.body

    def inputs(self, max_inputs: int) -> list[Any]:
        """The ``inputs`` list of a batch body, within the batch size limit."""
        body = self.json_body()
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise validation("Invalid input JSON: 'inputs' must be a list")
        if len(inputs) > max_inputs:
            raise validation(
                f"Batch input size {len(inputs)} exceeds the maximum of {max_inputs} inputs",
                context={"maxInputs": [str(max_inputs)]},
            )
        return inputs


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def link_specs(types: Any) -> tuple[LinkSpec, ...]:
    """``[{associationCategory, associationTypeId}, …]`` as (category, type id) pairs."""
    if not isinstance(types, list):
        raise validation("association 'types' must be a list")
    out: list[LinkSpec] = []
    for t in types:
        if not isinstance(t, dict) or "associationTypeId" not in t:
            raise validation(
                "each association type needs associationCategory and associationTypeId"
            )
        try:
            out.append((t.get("associationCategory"), int(t["associationTypeId"])))
        except (TypeError, ValueError):
            raise validation(
                f"associationTypeId {t.get('associationTypeId')!r} is not a number"
            ) from None
    return tuple(out)


def encode_cursor(value: int) -> str:
    """An opaque paging cursor for an id or offset."""
    return base64.b64encode(str(value).encode()).decode()


def decode_cursor(text: str | None) -> int | None:
    """The id behind an ``after`` cursor (plain digits are accepted too)."""
    if text is None or text == "":
        return None
    if text.isdigit():
        return int(text)
    try:
        raw = base64.b64decode(text.encode(), validate=True).decode().strip()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw.isdigit():
        raise validation(f"Invalid paging cursor {text!r}", context={"after": [text]})
    return int(raw)


def paging(after: int | None, *, link: str | None = None) -> dict[str, Any]:
    """``{"paging": …}`` for a next page, or ``{}`` on the last page."""
    if after is None:
        return {}
    cursor = encode_cursor(after)
    nxt: dict[str, Any] = {"after": cursor}
    if link is not None:
        nxt["link"] = f"{link}?after={cursor}"
    return {"paging": {"next": nxt}}


def record_json(
    rec: Record,
    obj: ObjectType,
    schema: PortalSchema,
    wanted: Sequence[str] | None,
    *,
    history: Sequence[str] | None = None,
    associations: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A record as HubSpot's ``SimplePublicObject`` (with associations when given)."""
    known = schema.props(obj)
    names = obj.default_properties if wanted is None else wanted
    values = rec.props
    props: dict[str, str | None] = {}
    for name in names:
        if name in known:
            props[name] = values.get(name)
    props["hs_object_id"] = str(rec.id)
    props[obj.created_property] = rec.created
    props[obj.modified_property] = rec.updated
    out: dict[str, Any] = {
        "id": str(rec.id),
        "properties": props,
        "createdAt": rec.created,
        "updatedAt": rec.updated,
        "archived": rec.archived,
    }
    if rec.archived_at:
        out["archivedAt"] = rec.archived_at
    if history:
        hist: dict[str, list[dict[str, Any]]] = {}
        for name in history:
            if name not in known:
                continue
            if name == "hs_object_id":
                value: str | None = str(rec.id)
            elif name == obj.created_property:
                value = rec.created
            elif name == obj.modified_property:
                value = rec.updated
            else:
                value = values.get(name)
            hist[name] = (
                []
                if value is None
                else [
                    {
                        "value": value,
                        "timestamp": rec.updated,
                        "sourceType": "API",
                        "sourceId": "sandbox",
                    }
                ]
            )
        out["propertiesWithHistory"] = hist
    if associations:
        out["associations"] = associations
    return out


def v3_association_map(
    entries: Sequence[tuple[int, AssocType]], more_after: int | None
) -> dict[str, Any]:
    """One object type's entry in a record's v3 ``associations`` map."""
    out: dict[str, Any] = {"results": [{"id": str(to_id), "type": t.name} for to_id, t in entries]}
    out.update(paging(more_after))
    return out


def batch_body(
    results: list[Any], errors: Sequence[Any], started: str, completed: str
) -> dict[str, Any]:
    """A batch response body (with ``numErrors``/``errors`` when some inputs failed)."""
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": started,
        "completedAt": completed,
    }
    if errors:
        body["numErrors"] = len(errors)
        body["errors"] = [e.to_dict() for e in errors]
    return body
