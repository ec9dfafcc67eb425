"""The integration config's models (DESIGN §5): frozen pydantic models, no I/O.

:class:`IntegrationConfig` and its parts, the types of its fields, and the
rules derived from it (:func:`derive_direction`, :func:`identifier_column`).
Build one with :func:`assoc_audit.config.load_config` (:mod:`.loader`), which
reports every problem at once (:mod:`.problems`, :mod:`.checks`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
)

from assoc_audit.config.names import resolve_path
from assoc_audit.normalize import Normalizer

__all__ = [
    "HUBSPOT_PRIMARY_PAIRS",
    "OBJECT_NAME_PATTERN",
    "AppConfig",
    "AssociationEntry",
    "Direction",
    "HubSpotConfig",
    "IntegrationConfig",
    "MatchRule",
    "ObjectConfig",
    "Side",
    "Sync",
    "derive_direction",
    "identifier_column",
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
        return resolve_path(path, self.base_dir)

    def digest(self) -> str:
        """SHA-256 of the config's canonical JSON (paths as written)."""
        data = self.model_dump(mode="json", by_alias=True)
        blob = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def identifier_column(side: Side, column: str) -> str:
    """The records-table column of a match rule's field (``id``/``hs_object_id`` → record_id)."""
    if (side == "app" and column == "id") or (side == "hubspot" and column == "hs_object_id"):
        return "record_id"
    return column
