"""How :func:`assoc_audit.config.parse_config` finds every problem in a config.

Two kinds of problems are collected and reported together: structural ones
from pydantic (types, unknown keys, bad enum values), translated into YAML
paths, shown values and allowed values; and rules that span several fields
(unique app objects, one pair order, ``Primary`` only where HubSpot has a
primary type, kind-specific keys, snapshot columns), checked on every part of
the raw mapping that parsed. Values that may be secrets are never echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from .config import (
    HUBSPOT_PRIMARY_PAIRS,
    OBJECT_NAME_PATTERN,
    IntegrationConfig,
    base_url_problem,
    identifier_column,
    name_problem,
    resolve_path,
    sqlite_file,
)
from .errors import ConfigProblem
from .secrets import redact_text, redact_url

__all__ = ["dedupe", "pydantic_problems", "semantic_problems", "unknown_key_problem"]


def _path(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_SECRET_KEY = re.compile(r"(token|secret|password|passwd|api_?key|credential)", re.IGNORECASE)


def _show(value: Any, loc: tuple[str | int, ...] = ()) -> str:
    """A value for a message, with anything that may be a secret redacted."""
    last = loc[-1] if loc else ""
    if isinstance(last, str) and _SECRET_KEY.search(last) and not last.endswith("_env"):
        return "<redacted>"
    if isinstance(value, str):
        shown = redact_url(redact_text(value))
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
    return ConfigProblem(_path(loc), f"unknown key (value {_show(value, loc)})", value, allowed)


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
        path = _path(loc)
        shown = _show(value, loc) if found else None
        if is_key:
            value = loc[-1]
            shown = f"name {_show(value)}"
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


# -- cross-field rules ------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    index: int
    pair: tuple[str, str]
    label: str | None
    app_label: str | None
    app_supported: bool
    has_limit: bool


def _valid_object(name: Any) -> bool:
    return isinstance(name, str) and re.match(OBJECT_NAME_PATTERN, name) is not None


def semantic_problems(raw: Mapping[str, Any], base_dir: Path) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    objects = raw.get("objects") if isinstance(raw.get("objects"), Mapping) else {}
    assert isinstance(objects, Mapping)

    # objects: rules required when synced, forbidden when off; app objects unique.
    app_objects: dict[str, str] = {}
    for name, obj in objects.items():
        if not isinstance(obj, Mapping):
            continue
        sync = obj.get("sync")
        rules = obj.get("match")
        has_rules = isinstance(rules, list) and len(rules) > 0
        if sync == "off" and rules not in (None, []):
            problems.append(
                ConfigProblem(
                    f"objects.{name}.match", "match rules are not allowed when sync is off"
                )
            )
        elif sync in ("two_way", "hubspot_to_app", "app_to_hubspot") and not has_rules:
            problems.append(
                ConfigProblem(
                    f"objects.{name}.match",
                    f"at least one match rule is needed when sync is {sync}",
                )
            )
        app_object = obj.get("app_object") if obj.get("app_object") is not None else name
        if isinstance(obj.get("app_object"), str) and obj["app_object"]:
            problems.extend(_name_problems(f"objects.{name}.app_object", obj["app_object"]))
        if isinstance(app_object, str):
            other = app_objects.get(app_object)
            if other is not None:
                problems.append(
                    ConfigProblem(
                        f"objects.{name}.app_object",
                        f"{_show(app_object)} is already the app object of {other}",
                        app_object,
                        ("an app object name used by no other object",),
                    )
                )
            else:
                app_objects[app_object] = str(name)

    problems.extend(_association_problems(raw.get("associations")))
    problems.extend(_side_problems(raw, objects, app_objects, base_dir))
    return problems


_PLAIN_NAME = (
    "a plain file, table or object name without /, \\, NUL, a leading ~ or drive letter, "
    "and not . or .."
)


def _name_problems(where: str, value: str) -> list[ConfigProblem]:
    """An app object or table name that is a path (see :func:`config.name_problem`)."""
    why = name_problem(value)
    if why is None:
        return []
    return [ConfigProblem(where, f"{_show(value)} {why}", value, (_PLAIN_NAME,))]


def _url_shown(url: str) -> str:
    """A URL for a message: user name, password, query and fragment hidden."""
    text = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@", r"\1<redacted>@", url)
    text = re.sub(r"\?[^#]*", "?<redacted>", text, count=1)
    return repr(re.sub(r"#.*", "#<redacted>", text, count=1))


def _base_url_problems(where: str, url: Any) -> list[ConfigProblem]:
    if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+(?:/\S*)?$", url):
        return []  # not a URL at all: pydantic reports it
    why = base_url_problem(url)
    if why is None:
        return []
    allowed = (
        "https://HOST[/PATH]",
        "http://127.0.0.1:PORT, http://[::1]:PORT or http://localhost:PORT",
    )
    return [ConfigProblem(where, f"{_url_shown(url)} {why}", None, allowed)]


def _association_problems(raw_entries: Any) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    if not isinstance(raw_entries, list):
        return problems
    entries: list[_Entry] = []
    for i, item in enumerate(raw_entries):
        if not isinstance(item, Mapping):
            continue
        frm, to = item.get("from"), item.get("to")
        if not (_valid_object(frm) and _valid_object(to)):
            continue
        label = item.get("label")
        app_label = item.get("app_label")
        if any(v is not None and not (isinstance(v, str) and v) for v in (label, app_label)):
            continue  # a structural problem, already reported
        supported = item.get("app_supported", True)
        entries.append(
            _Entry(
                index=i,
                pair=(str(frm), str(to)),
                label=label if isinstance(label, str) and label else None,
                app_label=app_label if isinstance(app_label, str) and app_label else None,
                app_supported=supported is not False,
                has_limit=item.get("app_max_per_record") is not None,
            )
        )

    order: dict[frozenset[str], _Entry] = {}
    seen_label: dict[tuple[tuple[str, str], str | None], int] = {}
    seen_app_label: dict[tuple[tuple[str, str], str | None], int] = {}
    whole_pair: dict[tuple[str, str], int] = {}
    for e in entries:
        where = f"associations[{e.index}]"
        key = frozenset(e.pair)
        first = order.setdefault(key, e)
        if first.pair != e.pair:
            problems.append(
                ConfigProblem(
                    where,
                    f"lists {e.pair[0]}→{e.pair[1]}, but associations[{first.index}] lists "
                    f"this pair as {first.pair[0]}→{first.pair[1]}; all entries of a pair share "
                    "one from→to order",
                )
            )
            continue
        if e.label is not None and e.label == "Primary" and e.pair not in HUBSPOT_PRIMARY_PAIRS:
            problems.append(
                ConfigProblem(
                    f"{where}.label",
                    f"'Primary' is not a HubSpot association type on {e.pair[0]}→{e.pair[1]}",
                    e.label,
                    tuple(f"{f}→{t}" for f, t in sorted(HUBSPOT_PRIMARY_PAIRS)),
                )
            )
        if not e.app_supported and e.label is None:
            whole_pair[e.pair] = e.index
        prev = seen_label.get((e.pair, e.label))
        if prev is not None:
            what = f"label {_show(e.label)}" if e.label else "the unlabeled link"
            problems.append(
                ConfigProblem(
                    f"{where}.label" if e.label else where,
                    f"{what} of {e.pair[0]}→{e.pair[1]} is already mapped by associations[{prev}]",
                )
            )
        else:
            seen_label[(e.pair, e.label)] = e.index
        if e.app_supported:
            app_text = e.app_label if e.app_label is not None else e.label
            if app_text is not None or e.label is None:
                prev = seen_app_label.get((e.pair, app_text))
                if prev is not None and app_text is not None:
                    problems.append(
                        ConfigProblem(
                            f"{where}.app_label",
                            f"app label {_show(app_text)} of {e.pair[0]}→{e.pair[1]} is already "
                            f"mapped by associations[{prev}]",
                        )
                    )
                else:
                    seen_app_label.setdefault((e.pair, app_text), e.index)
        else:
            if e.app_label is not None:
                problems.append(
                    ConfigProblem(
                        f"{where}.app_label",
                        "has no meaning when app_supported is false (the app has no equivalent)",
                    )
                )
            if e.has_limit:
                problems.append(
                    ConfigProblem(
                        f"{where}.app_max_per_record",
                        "has no meaning when app_supported is false",
                    )
                )
    for e in entries:
        idx = whole_pair.get(e.pair)
        if idx is not None and idx != e.index and e.app_supported:
            problems.append(
                ConfigProblem(
                    f"associations[{e.index}]",
                    f"associations[{idx}] marks the whole pair {e.pair[0]}→{e.pair[1]} as not "
                    "supported by the app, so this entry can never apply",
                )
            )
    return problems


def _side_problems(
    raw: Mapping[str, Any],
    objects: Mapping[str, Any],
    app_objects: Mapping[str, str],
    base_dir: Path,
) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    app = raw.get("app")
    hub = raw.get("hubspot")
    if isinstance(hub, Mapping):
        snap = hub.get("snapshot")
        if isinstance(snap, str) and snap:
            problems.extend(_snapshot_problems("hubspot", snap, objects, base_dir))
        problems.extend(_base_url_problems("hubspot.base_url", hub.get("base_url")))
    if not isinstance(app, Mapping):
        return problems
    kind = app.get("kind")
    snap = app.get("snapshot")
    needs = {"sql": "url", "files": "path", "hubspot": "token_env"}
    not_used = {
        "sql": ("path", "token_env", "base_url"),
        "files": ("url", "url_env", "password_env", "token_env", "base_url"),
        "hubspot": ("url", "url_env", "password_env", "path", "tables"),
    }
    if kind in needs:
        key = needs[kind]
        given = app.get(key) not in (None, "") or (kind == "sql" and app.get("url_env"))
        if not snap and not given:
            also = " (or app.url_env: a variable holding the URL)" if kind == "sql" else ""
            problems.append(ConfigProblem(f"app.{key}", f"required when kind is {kind}{also}"))
        for other in not_used[kind]:
            if app.get(other) not in (None, {}, ""):
                problems.append(ConfigProblem(f"app.{other}", f"not used when kind is {kind}"))
    if kind == "sql":
        problems.extend(_sql_secret_problems(app))
    if kind == "hubspot":
        problems.extend(_base_url_problems("app.base_url", app.get("base_url")))
    url = app.get("url")
    if kind == "sql" and not snap and isinstance(url, str):
        db = sqlite_file(url, base_dir)
        if db is not None and not db.exists():
            problems.append(
                ConfigProblem("app.url", f"SQLite database file not found: {db}", redact_url(url))
            )
    path = app.get("path")
    if kind == "files" and not snap and isinstance(path, str) and path:
        folder = resolve_path(path, base_dir)
        if not folder.is_dir():
            problems.append(ConfigProblem("app.path", f"folder not found: {folder}", path))
    if isinstance(snap, str) and snap:
        problems.extend(_snapshot_problems("app", snap, objects, base_dir))
    allowed_tables = (*app_objects, "associations")
    for section, allowed in (("tables", allowed_tables), ("display_name", tuple(app_objects))):
        mapping = app.get(section)
        if isinstance(mapping, Mapping):
            for key, value in mapping.items():
                if key not in allowed:
                    problems.append(
                        ConfigProblem(
                            f"app.{section}.{key}",
                            "is not an app object of this config",
                            key,
                            tuple(allowed),
                        )
                    )
                if section == "tables" and isinstance(value, str) and value:
                    problems.extend(_name_problems(f"app.tables.{key}", value))
    return problems


def _sql_secret_problems(app: Mapping[str, Any]) -> list[ConfigProblem]:
    """``url`` xor ``url_env``; ``password_env`` only with a ``url`` that has no password."""
    url, url_env, password_env = app.get("url"), app.get("url_env"), app.get("password_env")
    problems = []
    if url not in (None, "") and url_env:
        problems.append(
            ConfigProblem("app.url_env", "give either app.url or app.url_env, not both")
        )
    if password_env and url_env and url in (None, ""):
        problems.append(
            ConfigProblem(
                "app.password_env",
                "not used with app.url_env: the URL in that variable carries its own password "
                "(or use app.url without a password, with app.password_env)",
            )
        )
    if password_env and isinstance(url, str) and _has_password(url):
        problems.append(
            ConfigProblem(
                "app.password_env",
                f"app.url {_show(url)} has a password already: remove it from the URL "
                "(the password comes from the variable)",
            )
        )
    return problems


def _has_password(url: str) -> bool:
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


def _snapshot_problems(
    side: str, snap: str, objects: Mapping[str, Any], base_dir: Path
) -> list[ConfigProblem]:
    folder = resolve_path(snap, base_dir)
    where = f"{side}.snapshot"
    records = folder / "records.parquet"
    if not folder.is_dir():
        return [ConfigProblem(where, f"snapshot folder not found: {folder}", snap)]
    if not records.exists():
        return [ConfigProblem(where, f"snapshot folder has no records.parquet: {folder}", snap)]
    try:
        import pyarrow.parquet as pq

        columns = set(pq.read_schema(records).names)
    except Exception as exc:  # unreadable parquet is a config-time problem here
        return [ConfigProblem(where, f"cannot read {records}: {exc}", snap)]
    problems = []
    for name, obj in objects.items():
        if not isinstance(obj, Mapping) or not isinstance(obj.get("match"), list):
            continue
        for i, rule in enumerate(obj["match"]):
            if not isinstance(rule, Mapping):
                continue
            col = rule.get(side)
            if not isinstance(col, str):
                continue
            column = identifier_column("hubspot" if side == "hubspot" else "app", col)
            if column not in columns:
                problems.append(
                    ConfigProblem(
                        f"objects.{name}.match[{i}].{side}",
                        f"column {col!r} is not in the snapshot {records}",
                        col,
                        tuple(sorted(columns)),
                    )
                )
    return problems


def dedupe(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    seen: set[tuple[str, str]] = set()
    out = []
    for p in problems:
        key = (p.path, p.message)
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out
