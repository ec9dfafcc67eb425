"""The config rules that span several fields, checked on every part of the raw mapping.

Unique app objects, match rules needed exactly when an object syncs, one
from→to order per pair, ``Primary`` only where HubSpot has a primary type,
unique labels and app labels, keys that belong to the app's kind, names that
are not paths, safe base URLs, SQL secrets from the environment, snapshot
folders and their columns (DESIGN §5). Structural problems are
:mod:`.problems`'; :mod:`.loader` reports both together. Values that may be
secrets are never echoed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from assoc_audit.config.model import HUBSPOT_PRIMARY_PAIRS, OBJECT_NAME_PATTERN, identifier_column
from assoc_audit.config.names import base_url_problem, name_problem, resolve_path, sqlite_file
from assoc_audit.config.problems import show
from assoc_audit.errors import ConfigProblem
from assoc_audit.secrets import redact_url

__all__ = ["dedupe", "semantic_problems"]


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
                        f"{show(app_object)} is already the app object of {other}",
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
    return [ConfigProblem(where, f"{show(value)} {why}", value, (_PLAIN_NAME,))]


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


def _entries(raw_entries: list[Any]) -> list[_Entry]:
    """The association entries that parsed well enough to check across entries."""
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
    return entries


def _association_problems(raw_entries: Any) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    if not isinstance(raw_entries, list):
        return problems
    entries = _entries(raw_entries)
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
            what = f"label {show(e.label)}" if e.label else "the unlabeled link"
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
                            f"app label {show(app_text)} of {e.pair[0]}→{e.pair[1]} is already "
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
    return problems + _shadowed_entries(entries, whole_pair)


def _shadowed_entries(
    entries: list[_Entry], whole_pair: dict[tuple[str, str], int]
) -> list[ConfigProblem]:
    """Entries of a pair that another entry marks as wholly unsupported: they never apply."""
    problems = []
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
                f"app.url {show(url)} has a password already: remove it from the URL "
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
