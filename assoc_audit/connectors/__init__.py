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
hubspot       :class:`~.hubspot.HubSpotConnector`             ``connectors/hubspot.py``
app hubspot   :class:`~.hubspot.HubSpotConnector` (side app)  ``connectors/hubspot.py``
============  ==============================================  =========================

:func:`load_side` with ``save_to`` also writes what it read as a snapshot side
folder (Parquet, DESIGN §4), which a later run can name in ``snapshot:``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assoc_audit.connectors.base import (
    ApiUsage,
    Connector,
    Edge,
    EdgeOutcome,
    WriteResult,
    edge_table,
)
from assoc_audit.snapshot import read_side, write_side
from assoc_audit.tables import Side, SideTables

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig

__all__ = [
    "ApiUsage",
    "Connector",
    "Edge",
    "EdgeOutcome",
    "WriteResult",
    "connector_for",
    "edge_table",
    "load_side",
    "portal_ids",
]


def connector_for(config: IntegrationConfig, side: Side, **options: Any) -> Connector:
    """The live connector of one side (ignores ``snapshot:``; snapshots cannot be written).

    The caller closes it (``with contextlib.closing(connector_for(...)) as c:``).
    ``options`` go to the HubSpot connector (``workers``, ``rate_limit``, ``progress``, …).
    """
    if side == "hubspot" or config.app.kind == "hubspot":
        from assoc_audit.connectors.hubspot.connector import HubSpotConnector

        return HubSpotConnector(config, side, **options)
    if config.app.kind == "files":
        from assoc_audit.connectors.files import FilesConnector

        return FilesConnector(config)
    from assoc_audit.connectors.sql import SqlConnector

    return SqlConnector(config)


def portal_ids(connectors: Mapping[str, Connector]) -> dict[str, int]:
    """The HubSpot portal id behind each connector that is a portal (side → id).

    HubSpot connectors answer ``portal_id()`` (``GET /account-info/v3/details``,
    one call each); files and SQL connectors have none and are left out.
    """
    out: dict[str, int] = {}
    for side, connector in connectors.items():
        lookup = getattr(connector, "portal_id", None)
        if callable(lookup):
            found = lookup()
            if found is not None:
                out[side] = int(found)
    return out


def load_side(
    config: IntegrationConfig, side: Side, *, save_to: Path | str | None = None, **options: Any
) -> SideTables:
    """Read one side of ``config`` as validated canonical tables.

    From the side's ``snapshot:`` folder when the config names one, else live.
    ``save_to``: also write the tables there as a snapshot side folder
    (``records.parquet``, ``associations.parquet``, ``meta.json``).
    """
    snapshot = config.hubspot.snapshot if side == "hubspot" else config.app.snapshot
    if snapshot is not None:
        tables = read_side(config.resolve(snapshot), side=side, config=config)
    else:
        with closing(connector_for(config, side, **options)) as connector:
            tables = connector.read_side()
    if save_to is not None:
        write_side(save_to, tables)
    return tables
