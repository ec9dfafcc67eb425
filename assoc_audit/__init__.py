"""assoc_audit: audit and repair HubSpot association mapping with data sync.

The public API is small on purpose; everything else is reachable through its
module (``assoc_audit.config``, ``assoc_audit.tables``, …).
"""

from importlib import metadata as _metadata

from .audit import AuditResult, AuditSummary, run_audit
from .config import IntegrationConfig, load_config
from .errors import AssocAuditError, ConfigError, DataError
from .normalize import normalize
from .snapshot import SideTables

try:
    __version__ = _metadata.version("assoc-audit")
except _metadata.PackageNotFoundError:  # pragma: no cover - a source tree, not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "AssocAuditError",
    "AuditResult",
    "AuditSummary",
    "ConfigError",
    "DataError",
    "IntegrationConfig",
    "SideTables",
    "__version__",
    "load_config",
    "normalize",
    "run_audit",
]
