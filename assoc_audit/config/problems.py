"""Structural config problems from pydantic, in YAML terms: path, shown value, allowed values.

pydantic reports types, unknown keys and bad enum values at locations; this
module turns each into a :class:`~assoc_audit.errors.ConfigProblem` with the
YAML path (``objects.contacts.sync``), the value as written (anything that
may be a secret redacted) and the allowed values. :func:`show` is the one way
every config message shows a value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from assoc_audit.config.model import OBJECT_NAME_PATTERN, IntegrationConfig
from assoc_audit.errors import ConfigProblem
from assoc_audit.secrets import redact_text

__all__ = ["pydantic_problems", "show", "unknown_key_problem", "yaml_path"]


def yaml_path(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_SECRET_KEY = re.compile(r"(token|secret|password|passwd|api_?key|credential)", re.IGNORECASE)


def show(value: Any, loc: tuple[str | int, ...] = ()) -> str:
    """A value for a message, with anything that may be a secret redacted."""
    last = loc[-1] if loc else ""
    if isinstance(last, str) and _SECRET_KEY.search(last) and not last.endswith("_env"):
        return "<redacted>"
    if isinstance(value, str):
        shown = redact_text(value)  # URLs too
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return repr(shown)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _value_at(raw: Any, loc: tuple[str | int, ...]) -> tuple[bool, Any]:
    cur = raw
    for part in loc:
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            cur = cur[part]
        else:
            return False, None
    return True, cur


def _unwrap(tp: Any) -> Any:
    """Strip Annotated/Optional wrappers from a type annotation."""
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
            continue
        args = [a for a in get_args(tp) if a is not type(None)]
        if origin is not None and len(args) == 1 and origin not in (tuple, dict, list):
            tp = args[0]
            continue
        return tp


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The pydantic model class that the location ``loc`` points into."""
    current: Any = IntegrationConfig
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next(
                (f for n, f in current.model_fields.items() if part in (n, f.alias)),
                None,
            )
            if field is None:
                return None
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        elif get_origin(current) in (tuple, list):
            current = get_args(current)[0]
        else:
            return None
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _field_names(model: type[BaseModel]) -> tuple[str, ...]:
    return tuple(f.alias or n for n, f in model.model_fields.items() if not f.exclude)


def unknown_key_problem(loc: tuple[str | int, ...], value: Any) -> ConfigProblem:
    model = _model_at(loc[:-1])
    allowed = _field_names(model) if model else ()
    return ConfigProblem(yaml_path(loc), f"unknown key (value {show(value, loc)})", value, allowed)


_MESSAGES = {
    "missing": "required but missing",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "dict_type": "must be a mapping",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "path_type": "must be a path",
    "string_too_short": "must not be empty",
}

_PATTERN_HINTS = {
    OBJECT_NAME_PATTERN: "a HubSpot object name: lower-case letters, digits and _ "
    "(e.g. contacts, p_cars) or an object type id such as 2-1234",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "an environment variable name (letters, digits, _)",
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$": "letters, digits, '.', '_', '-' (used in paths)",
    r"^https?://[^\s/]+(?:/\S*)?$": "an http:// or https:// URL",
}


def pydantic_problems(exc: ValidationError, raw: Any) -> list[ConfigProblem]:
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        # pydantic reports dict-key errors at [key, "[key]"]; keep the YAML path readable.
        is_key = any(isinstance(p, str) and p.endswith("[key]") for p in loc)
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.endswith("[key]")))
        found, value = _value_at(raw, loc)
        kind = err["type"]
        path = yaml_path(loc)
        shown = show(value, loc) if found else None
        if is_key:
            value = loc[-1]
            shown = f"name {show(value)}"
        if kind == "extra_forbidden":
            problems.append(unknown_key_problem(loc, value))
            continue
        allowed: tuple[str, ...] = ()
        ctx = err.get("ctx") or {}
        if kind == "literal_error":
            expected = str(ctx.get("expected", ""))
            allowed = tuple(re.findall(r"'([^']*)'", expected)) or (expected,)
            if not allowed or allowed == ("",):
                allowed = ()
            message = f"{shown} is not an allowed value"
        elif kind == "string_pattern_mismatch":
            pattern = str(ctx.get("pattern", ""))
            message = f"{shown} is not valid"
            allowed = (_PATTERN_HINTS.get(pattern, f"text matching {pattern}"),)
        elif kind in ("greater_than_equal", "greater_than"):
            message = f"{shown} is too small"
            allowed = (f"a whole number >= {ctx.get('ge', ctx.get('gt'))}",)
        elif kind == "too_short" and path == "associations":
            message = "at least one association entry is needed"
        elif kind == "missing":
            message = _MESSAGES[kind]
        else:
            base = _MESSAGES.get(kind, err["msg"].rstrip(".").lower())
            message = f"{shown} {base}" if shown is not None else base
        problems.append(ConfigProblem(path, message, value, allowed))
    return problems
