"""Connectors: each side of an integration as the canonical tables (DESIGN §4).

:func:`load_side` is the one entry point the audit uses: it reads a side from
its ``snapshot:`` folder when the config names one, otherwise through the
connector for the side's kind (:func:`connector_for`). Connectors follow the
:class:`~assoc_audit.connectors.base.Connector` protocol, which fix plans and
scenarios use to write links back.

============  ==============================================  =========================
side / kind   connector                                       module
============  ==============================================  =========================
app files     :class:`~.files.FilesConnector`                 ``connectors/files.py``
app sql       :class:`~.sql.SqlConnector`                     ``connectors/sql.py``
hubspot       not available yet                               —
============  ==============================================  =========================
"""

from __future__ import annotations

from contextlib import closing
from typing import TYPE_CHECKING

from ..errors import ConnectorError
from ..snapshot import Side, SideTables, read_side
from .base import ApiUsage, Connector, Edge, EdgeOutcome, WriteResult, edge_table

if TYPE_CHECKING:
    from ..config import IntegrationConfig

__all__ = [
    "ApiUsage",
    "Connector",
    "Edge",
    "EdgeOutcome",
    "WriteResult",
    "connector_for",
    "edge_table",
    "load_side",
]


def connector_for(config: IntegrationConfig, side: Side) -> Connector:
    """The live connector of one side (ignores ``snapshot:``; snapshots cannot be written).

    The caller closes it (``with contextlib.closing(connector_for(...)) as c:``).
    """
    if side == "app":
        if config.app.kind == "files":
            from .files import FilesConnector

            return FilesConnector(config)
        if config.app.kind == "sql":
            from .sql import SqlConnector

            return SqlConnector(config)
    kind = "hubspot" if side == "hubspot" else config.app.kind
    raise ConnectorError(f"{side}: no connector for kind {kind!r} is available yet")


def load_side(config: IntegrationConfig, side: Side) -> SideTables:
    """Read one side of ``config`` as validated canonical tables."""
    snapshot = config.hubspot.snapshot if side == "hubspot" else config.app.snapshot
    if snapshot is not None:
        return read_side(config.resolve(snapshot), side=side, config=config)
    with closing(connector_for(config, side)) as connector:
        return connector.read_side()
