"""The integration config (DESIGN §5): pydantic models and :func:`load_config`.

``load_config(path)`` returns a frozen :class:`IntegrationConfig` or raises one
:class:`~assoc_audit.errors.ConfigError` listing *every* problem found, each
with its YAML path, the bad value and the allowed values. Structural problems
(types, unknown keys, bad enum values) come from pydantic; rules that span
several fields (unique app objects, one pair order, ``Primary`` only where
HubSpot has a primary type, …) are checked on every part that parsed, so one
run reports both kinds together.

Values are never echoed when they could be secrets: anything under a key that
looks like a token, password or secret, any ``pat-…`` string, and the password
part of a URL are shown as ``<redacted>``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
)

from .errors import ConfigError, ConfigProblem
from .normalize import Normalizer

__all__ = [
    "HUBSPOT_PRIMARY_PAIRS",
    "LOOPBACK_NAMES",
    "OBJECT_NAME_PATTERN",
    "AppConfig",
    "AssociationEntry",
    "Direction",
    "HubSpotConfig",
    "IntegrationConfig",
    "MatchRule",
    "ObjectConfig",
    "Sync",
    "base_url_problem",
    "derive_direction",
    "identifier_column",
    "is_loopback",
    "load_config",
    "name_problem",
    "parse_config",
    "resolve_path",
    "sqlite_file",
    "sqlite_path",
]

Sync = Literal["two_way", "hubspot_to_app", "app_to_hubspot", "off"]
Direction = Literal["two_way", "hubspot_to_app", "app_to_hubspot", "blocked", "off"]
Side = Literal["hubspot", "app"]

#: HubSpot object names: lower-case names (``contacts``, ``p_cars``) or type ids (``2-1234``).
OBJECT_NAME_PATTERN = r"^(?:[a-z][a-z0-9_]{0,99}|[0-9]+-[0-9]+)$"
#: Pairs (from, to) on which HubSpot defines a primary association type.
HUBSPOT_PRIMARY_PAIRS: frozenset[tuple[str, str]] = frozenset(
    {("contacts", "companies"), ("deals", "companies"), ("tickets", "companies")}
)

ObjectName = Annotated[str, StringConstraints(pattern=OBJECT_NAME_PATTERN)]
AppObjectName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Column = Annotated[str, StringConstraints(min_length=1, max_length=200)]
LabelText = Annotated[str, StringConstraints(min_length=1, max_length=500)]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
ReportName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s/]+(?:/\S*)?$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class MatchRule(_Model):
    """One match rule: equal normalised keys pair a HubSpot record with an app record."""

    hubspot: Column
    app: Column
    normalize: Normalizer = "none"


class ObjectConfig(_Model):
    """How one HubSpot object syncs and how its records are matched."""

    sync: Sync
    app_object: AppObjectName | None = None
    match: tuple[MatchRule, ...] = ()


class HubSpotConfig(_Model):
    """Where to read the HubSpot side (the API, or a snapshot folder)."""

    token_env: EnvName = "HUBSPOT_ACCESS_TOKEN"
    base_url: HttpUrl | None = None
    snapshot: Path | None = None


class AppConfig(_Model):
    """Where to read the connected app's side."""

    name: Annotated[str, StringConstraints(min_length=1)] = "app"
    kind: Literal["files", "sql", "hubspot"]
    url: Annotated[str, StringConstraints(min_length=1)] | None = None
    #: sql: the environment variable holding the whole SQLAlchemy URL (instead of ``url``).
    url_env: EnvName | None = None
    #: sql: the environment variable holding the password of ``url`` (a URL without one).
    password_env: EnvName | None = None
    path: Path | None = None
    token_env: EnvName | None = None
    base_url: HttpUrl | None = None
    snapshot: Path | None = None
    tables: dict[AppObjectName, Annotated[str, StringConstraints(min_length=1)]] = Field(
        default_factory=dict
    )
    display_name: dict[AppObjectName, Column] = Field(default_factory=dict)


class AssociationEntry(_Model):
    """One audited (pair, label) and its app equivalent."""

    from_: ObjectName = Field(alias="from")
    to: ObjectName
    label: LabelText | None = None
    app_label: LabelText | None = None
    app_supported: StrictBool = True
    app_max_per_record: Annotated[StrictInt, Field(ge=1)] | None = None

    @property
    def pair(self) -> tuple[str, str]:
        return (self.from_, self.to)

    @property
    def whole_pair_unsupported(self) -> bool:
        return not self.app_supported and self.label is None

    @property
    def effective_app_label(self) -> str | None:
        """The app's text for this entry (``app_label``, defaulting to ``label``)."""
        return self.app_label if self.app_label is not None else self.label


def derive_direction(from_sync: Sync, to_sync: Sync) -> Direction:
    """An association's direction from its two objects' sync directions (DESIGN §5)."""
    if from_sync == "off" or to_sync == "off":
        return "off"
    if from_sync == to_sync:
        return from_sync
    if from_sync == "two_way":
        return to_sync
    if to_sync == "two_way":
        return from_sync
    return "blocked"


class IntegrationConfig(_Model):
    """A validated integration config. Build it with :func:`load_config`."""

    name: ReportName
    hubspot: HubSpotConfig = Field(default_factory=HubSpotConfig)
    app: AppConfig
    objects: dict[ObjectName, ObjectConfig] = Field(default_factory=dict)
    associations: tuple[AssociationEntry, ...] = Field(min_length=1)
    conflict_winner: Literal["hubspot", "app"] = "hubspot"
    mirror_deletions: StrictBool = False
    #: Folder of the config file; relative paths resolve against it. Not part of the YAML.
    base_dir: Path = Field(default=Path("."), exclude=True)

    # -- objects ---------------------------------------------------------
    def sync_of(self, obj: str) -> Sync:
        """The object's sync direction; ``off`` when it is missing from ``objects``."""
        cfg = self.objects.get(obj)
        return cfg.sync if cfg else "off"

    def app_object_of(self, obj: str) -> str:
        cfg = self.objects.get(obj)
        return cfg.app_object if cfg and cfg.app_object else obj

    @property
    def app_object_names(self) -> dict[str, str]:
        """Map app object name -> HubSpot object name for every object the config names."""
        names = {self.app_object_of(obj): obj for obj in self.audited_objects}
        return names

    def match_rules(self, obj: str) -> tuple[MatchRule, ...]:
        cfg = self.objects.get(obj)
        return cfg.match if cfg else ()

    @property
    def audited_objects(self) -> tuple[str, ...]:
        """Every object named in ``objects`` or in an association entry, in first-seen order."""
        seen: dict[str, None] = dict.fromkeys(self.objects)
        for entry in self.associations:
            seen.setdefault(entry.from_)
            seen.setdefault(entry.to)
        return tuple(seen)

    def identifier_columns(self, side: Side, obj: str) -> tuple[str, ...]:
        """The identifier columns a side's records table needs for ``obj``'s match rules."""
        cols: dict[str, None] = {}
        for rule in self.match_rules(obj):
            col = identifier_column(side, rule.hubspot if side == "hubspot" else rule.app)
            if col != "record_id":
                cols.setdefault(col)
        return tuple(cols)

    # -- associations ----------------------------------------------------
    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """The audited (from, to) pairs, in first-seen order."""
        return tuple(dict.fromkeys(entry.pair for entry in self.associations))

    def entries_for(self, pair: tuple[str, str]) -> tuple[AssociationEntry, ...]:
        return tuple(e for e in self.associations if e.pair == pair)

    def direction(self, pair: tuple[str, str]) -> Direction:
        return derive_direction(self.sync_of(pair[0]), self.sync_of(pair[1]))

    # -- paths and identity ----------------------------------------------
    def resolve(self, path: Path | str) -> Path:
        """A path from the config, resolved against the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    def digest(self) -> str:
        """SHA-256 of the config's canonical JSON (paths as written)."""
        data = self.model_dump(mode="json", by_alias=True)
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an app object or table, or None when it can.

    App object names and ``app.tables`` values are names, not paths, for every
    app kind: the files connector joins them onto its folder, the SQL connector
    uses them as table names, the HubSpot connector puts them in API paths.
    So no absolute path (``/x``, ``~x``, ``C:x``, ``\\\\server``), no ``.`` or
    ``..``, no ``/`` or ``\\`` and no NUL.
    """
    if name.startswith(("/", "\\")):
        return "is an absolute path"
    if re.match(r"^[A-Za-z]:", name):
        return "starts with a Windows drive"
    if name.startswith("~"):
        return "starts with ~ (a home folder)"
    if name in (".", ".."):
        return "is a folder reference"
    if "/" in name or "\\" in name:
        return "contains a path separator"
    if "\x00" in name:
        return "contains a NUL character"
    return None


#: Hosts a ``base_url`` may reach over plain ``http://`` (the local sandbox emulator).
LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost``, an address in 127.0.0.0/8 or ``::1``."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url_problem(url: str) -> str | None:
    """Why ``url`` is not a safe ``base_url`` for a bearer token, or None when it is.

    ``https://`` for every host; ``http://`` only for loopback hosts (the
    emulator). No user name or password, no query string, no fragment.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return "is not a valid URL"
    if "@" in parts.netloc:
        return "must not contain a user name or password (the token comes from token_env)"
    if "?" in url:
        return "must not have a query string"
    if "#" in url:
        return "must not have a fragment"
    if parts.scheme not in ("http", "https") or not host:
        return "must be an https:// URL with a host"
    if parts.scheme == "http" and not is_loopback(host):
        return (
            "uses http:// for a host that is not this machine: use https:// (the access token "
            "must not travel in clear text; http:// is only for 127.0.0.1, ::1 and localhost)"
        )
    return None


def identifier_column(side: Side, column: str) -> str:
    """The records-table column of a match rule's field (``id``/``hs_object_id`` → record_id)."""
    if (side == "app" and column == "id") or (side == "hubspot" and column == "hs_object_id"):
        return "record_id"
    return column


# ---------------------------------------------------------------------------
# Loading and validation


class _Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false are booleans (``sync: off`` stays the text 'off')."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _first in "tTfF":
    _Loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), [_first]
    )


def load_config(path: str | Path) -> IntegrationConfig:
    """Read and validate an integration config file; raise ConfigError listing every problem."""
    file = Path(path)
    name = str(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(name, [ConfigProblem("", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(name, [ConfigProblem("", f"cannot read file: {reason}")]) from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        duplicates = _duplicate_keys(node)
        raw = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(name, [ConfigProblem("", f"malformed YAML: {where}{problem}")]) from None
    finally:
        loader.dispose()
    if not duplicates:
        return parse_config(raw, base_dir=file.resolve().parent, source=name)
    try:  # the rest of the file's problems too, as YAML would read it (the last key wins)
        parse_config(raw, base_dir=file.resolve().parent, source=name)
        others: tuple[ConfigProblem, ...] = ()
    except ConfigError as exc:
        others = exc.problems
    raise ConfigError(name, [*duplicates, *others])


def _duplicate_keys(root: yaml.Node | None) -> list[ConfigProblem]:
    """Every key given twice (or more) in one mapping, at any depth, with its lines.

    YAML itself keeps the last one silently, which can drop a whole block
    (a second ``contacts:`` under ``objects``). Problems are in file order.
    """
    found: list[tuple[int, ConfigProblem]] = []
    seen: set[int] = set()
    todo: list[tuple[yaml.Node, str]] = [(root, "")] if root is not None else []
    while todo:
        node, where = todo.pop()
        if id(node) in seen:  # an alias: its anchor is checked once
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            lines: dict[tuple[str, str], list[int]] = {}
            for key, value in node.value:
                if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
                    continue
                lines.setdefault((key.tag, key.value), []).append(key.start_mark.line + 1)
                todo.append((value, f"{where}.{key.value}" if where else str(key.value)))
            for (_, text), at in lines.items():
                if len(at) > 1:
                    numbers = ", ".join(map(str, at[:-1])) + f" and {at[-1]}"
                    message = f"duplicate key on lines {numbers} (YAML would keep only the last)"
                    path = f"{where}.{text}" if where else text
                    found.append((at[0], ConfigProblem(path, message, text)))
        elif isinstance(node, yaml.SequenceNode):
            todo.extend((item, f"{where}[{i}]") for i, item in enumerate(node.value))
    return [problem for _, problem in sorted(found, key=lambda item: item[0])]


def parse_config(
    raw: Any, *, base_dir: Path | str = ".", source: str = "<config>"
) -> IntegrationConfig:
    """Validate an already-parsed config mapping (see :func:`load_config`)."""
    from . import config_checks as checks

    if not isinstance(raw, Mapping):
        got = "an empty file" if raw is None else f"a {type(raw).__name__}"
        raise ConfigError(source, [ConfigProblem("", f"expected a mapping of settings, got {got}")])
    problems: list[ConfigProblem] = []
    config: IntegrationConfig | None = None
    data = {k: v for k, v in raw.items() if k != "base_dir"}
    try:
        config = IntegrationConfig.model_validate({**data, "base_dir": Path(base_dir)})
    except ValidationError as exc:
        problems.extend(checks.pydantic_problems(exc, raw))
    if "base_dir" in raw:
        problems.append(checks.unknown_key_problem(("base_dir",), raw["base_dir"]))
    problems.extend(checks.semantic_problems(raw, Path(base_dir)))
    if problems:
        raise ConfigError(source, checks.dedupe(problems))
    assert config is not None
    return config


# -- paths ------------------------------------------------------------------


def resolve_path(path: str, base_dir: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base_dir / p).resolve()


def sqlite_file(url: str, base_dir: Path) -> Path | None:
    """The database file of a ``sqlite:///`` URL (None for memory or other databases)."""
    match = re.match(r"^sqlite(?:\+\w+)?:///(.*?)(?:\?.*)?$", url)
    if not match or match.group(1) in ("", ":memory:"):
        return None
    return resolve_path(match.group(1), base_dir)


def sqlite_path(url: str, base_dir: Path) -> str:
    """A SQLAlchemy URL with a relative SQLite path resolved against ``base_dir``."""
    db = sqlite_file(url, base_dir)
    if db is None:
        return url
    prefix = url.split(":///", 1)[0]
    query = url.split("?", 1)[1] if "?" in url else ""
    return f"{prefix}:///{db}" + (f"?{query}" if query else "")
