"""The integration config (DESIGN §5): models, loading with every problem at once, names.

::

    config = load_config("acme.yaml")      # IntegrationConfig, or ConfigError listing every problem
    config.direction(("contacts", "companies"))

Modules: :mod:`.model` (the frozen pydantic models and derived rules),
:mod:`.loader` (YAML, duplicate keys, :func:`load_config`, :func:`parse_config`),
:mod:`.problems` (pydantic's problems in YAML terms), :mod:`.checks` (rules
across fields), :mod:`.names` (names that are not paths, safe base URLs,
paths). The imports run one way (model ← names/problems ← checks ← loader):
no cycle.
"""

from assoc_audit.config.loader import load_config, parse_config
from assoc_audit.config.model import (
    HUBSPOT_PRIMARY_PAIRS,
    OBJECT_NAME_PATTERN,
    AppConfig,
    AssociationEntry,
    Direction,
    HubSpotConfig,
    IntegrationConfig,
    MatchRule,
    ObjectConfig,
    Side,
    Sync,
    derive_direction,
    identifier_column,
)
from assoc_audit.config.names import (
    LOOPBACK_NAMES,
    base_url_problem,
    is_loopback,
    name_problem,
    resolve_path,
    sqlite_file,
    sqlite_path,
)

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
    "Side",
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
