"""assoc_audit: audit and repair HubSpot association mapping with data sync.

The public API is small on purpose; everything else is reachable through its
module (``assoc_audit.config``, ``assoc_audit.tables``, …). The names load on
first use, so ``import assoc_audit`` (and ``assoc-audit --help``) does not
import pandas, DuckDB or matplotlib. The whole error tree is exported
(:mod:`assoc_audit.errors` draws it).
"""

from __future__ import annotations

from importlib import metadata as _metadata
from typing import TYPE_CHECKING

from assoc_audit import lazy as _lazy
from assoc_audit import moved as _moved
from assoc_audit.errors import (
    AssocAuditError,
    AuthError,
    ConfigError,
    ConfigProblem,
    ConnectorError,
    DataError,
    DigestMismatch,
    EmptyReadError,
    HubSpotAPIError,
    NotebookError,
    PlanConflict,
    PlanError,
    RateLimited,
    SandboxError,
    SnapshotError,
    TargetLocked,
)

if TYPE_CHECKING:
    from assoc_audit.audit import AuditResult, run_audit
    from assoc_audit.config import IntegrationConfig, load_config
    from assoc_audit.normalize import normalize
    from assoc_audit.summary import AuditSummary
    from assoc_audit.tables import SideTables

try:
    __version__ = _metadata.version("assoc-audit")
except _metadata.PackageNotFoundError:  # pragma: no cover - a source tree, not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "AssocAuditError",
    "AuditResult",
    "AuditSummary",
    "AuthError",
    "ConfigError",
    "ConfigProblem",
    "ConnectorError",
    "DataError",
    "DigestMismatch",
    "EmptyReadError",
    "HubSpotAPIError",
    "IntegrationConfig",
    "NotebookError",
    "PlanConflict",
    "PlanError",
    "RateLimited",
    "SandboxError",
    "SideTables",
    "SnapshotError",
    "TargetLocked",
    "__version__",
    "load_config",
    "normalize",
    "run_audit",
]

_WHERE = {
    "AuditResult": "assoc_audit.audit",
    "run_audit": "assoc_audit.audit",
    "AuditSummary": "assoc_audit.summary",
    "IntegrationConfig": "assoc_audit.config",
    "load_config": "assoc_audit.config",
    "normalize": "assoc_audit.normalize",
    "SideTables": "assoc_audit.tables",
}
__getattr__, __dir__ = _lazy.exports(__name__, _WHERE, __all__)
_moved.install()
