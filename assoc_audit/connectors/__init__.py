"""Connectors: each side of an integration as the canonical tables (DESIGN §4).

:func:`load_side` is the one entry point the audit uses: it reads a side from
its ``snapshot:`` folder when the config names one, otherwise through the
connector for the side's kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ConnectorError
from ..snapshot import Side, SideTables, read_side

if TYPE_CHECKING:
    from ..config import IntegrationConfig

__all__ = ["load_side"]


def load_side(config: IntegrationConfig, side: Side) -> SideTables:
    """Read one side of ``config`` as validated canonical tables."""
    snapshot = config.hubspot.snapshot if side == "hubspot" else config.app.snapshot
    if snapshot is not None:
        return read_side(config.resolve(snapshot), side=side, config=config)
    kind = "hubspot" if side == "hubspot" else config.app.kind
    raise ConnectorError(f"{side}: no connector for kind {kind!r} is available yet")
