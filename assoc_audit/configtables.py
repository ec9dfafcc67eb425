"""The config as small DuckDB lookup tables: audited pairs, label entries, limits.

Every stage that speaks SQL reads the config through these tables instead of
Python loops: ``pairs_`` (one row per audited pair: objects, direction, which
side's changes it carries, …), ``entries_`` (one row per label entry: HubSpot
and app text, primary) and ``limits_`` (per pair, label and target side: the
most links a record may hold). :func:`config_tables` builds them (with
HubSpot's configured association limits, when the connector read them) and
:func:`register_config_tables` puts them on a connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from assoc_audit import duck
from assoc_audit.stages import ENTRIES, LIMITS, PAIRS

if TYPE_CHECKING:
    import duckdb

    from assoc_audit.config import IntegrationConfig

__all__ = ["PRIMARY", "ConfigTables", "config_tables", "register_config_tables"]

PRIMARY = "Primary"


@dataclass(frozen=True)
class ConfigTables:
    """Small lookup tables derived from the config (see :func:`config_tables`)."""

    pairs: pa.Table
    entries: pa.Table
    limits: pa.Table


def _direction_flags(direction: str) -> tuple[bool, bool]:
    """Whether the direction carries changes made in HubSpot, and made in the app."""
    return direction in ("two_way", "hubspot_to_app"), direction in ("two_way", "app_to_hubspot")


# long function: one pass over the config's pairs and entries building three small tables row by
# row; the rows share the per-pair state
def config_tables(
    config: IntegrationConfig, hubspot_limits: list[dict[str, Any]] | None = None
) -> ConfigTables:
    """The pairs, entries and limits of a config as Arrow tables.

    ``hubspot_limits`` are the portal's configured association limits when the
    connector could read them: dicts with ``from_object``, ``to_object``,
    ``label`` (None = the unlabeled link, i.e. linked pairs) and ``max_per_record``
    (the shape the HubSpot connector writes to ``SideTables.meta["limits"]``).
    """
    objects = list(config.audited_objects)
    pair_rows: list[dict[str, Any]] = []
    entry_rows: list[dict[str, Any]] = [
        {"lab": 0, "hs_label": None, "app_label": None, "is_primary": False, "p": -1}
    ]
    limit_rows: list[dict[str, Any]] = []
    lab_of: dict[tuple[int, str | None], int] = {}
    winner = 0 if config.conflict_winner == "hubspot" else 1
    for p, pair in enumerate(config.pairs):
        direction = config.direction(pair)
        carries_h, carries_a = _direction_flags(direction)
        entries = config.entries_for(pair)
        whole = any(e.whole_pair_unsupported for e in entries)
        relabel: int | None
        if direction == "two_way":
            relabel = 1 - winner
        elif direction == "hubspot_to_app":
            relabel = 1
        elif direction == "app_to_hubspot":
            relabel = 0
        else:
            relabel = None
        pair_rows.append(
            {
                "p": p,
                "from_obj": objects.index(pair[0]),
                "to_obj": objects.index(pair[1]),
                "from_object": pair[0],
                "to_object": pair[1],
                "direction": direction,
                "off": config.sync_of(pair[0]) == "off" or config.sync_of(pair[1]) == "off",
                "whole_unsupported": whole,
                "carries_h": carries_h,
                "carries_a": carries_a,
                "one_way": direction in ("hubspot_to_app", "app_to_hubspot"),
                "relabel_target": relabel,
            }
        )
        lab_of[(p, None)] = 0
        for e in entries:
            if not e.app_supported:
                continue
            if e.label is None:
                if e.app_max_per_record is not None:
                    limit_rows.append({"p": p, "lab": 0, "target": 1, "max": e.app_max_per_record})
                continue
            lab = 1 + config.associations.index(e)
            lab_of[(p, e.label)] = lab
            app_text = e.effective_app_label
            primary = e.label == PRIMARY
            entry_rows.append(
                {
                    "lab": lab,
                    "hs_label": e.label,
                    "app_label": app_text,
                    "is_primary": primary,
                    "p": p,
                }
            )
            if e.app_max_per_record is not None:
                limit_rows.append({"p": p, "lab": lab, "target": 1, "max": e.app_max_per_record})
            if primary:
                limit_rows.append({"p": p, "lab": lab, "target": 1, "max": 1})
                limit_rows.append({"p": p, "lab": lab, "target": 0, "max": 1})
    pair_index = {pair: p for p, pair in enumerate(config.pairs)}
    for item in hubspot_limits or ():
        p_ = pair_index.get((str(item.get("from_object")), str(item.get("to_object"))))
        label = item.get("label")
        lab_ = lab_of.get((p_, label)) if p_ is not None else None
        maximum = item.get("max_per_record")
        if lab_ is not None and isinstance(maximum, int) and maximum >= 0:
            limit_rows.append({"p": p_, "lab": lab_, "target": 0, "max": maximum})
    return ConfigTables(
        pairs=_table(pair_rows, _PAIR_SCHEMA),
        entries=_table(entry_rows, _ENTRY_SCHEMA),
        limits=_table(limit_rows, _LIMIT_SCHEMA),
    )


_PAIR_SCHEMA = pa.schema(
    [
        ("p", pa.int32()),
        ("from_obj", pa.int32()),
        ("to_obj", pa.int32()),
        ("from_object", pa.string()),
        ("to_object", pa.string()),
        ("direction", pa.string()),
        ("off", pa.bool_()),
        ("whole_unsupported", pa.bool_()),
        ("carries_h", pa.bool_()),
        ("carries_a", pa.bool_()),
        ("one_way", pa.bool_()),
        ("relabel_target", pa.int8()),
    ]
)
_ENTRY_SCHEMA = pa.schema(
    [
        ("lab", pa.int32()),
        ("hs_label", pa.string()),
        ("app_label", pa.string()),
        ("is_primary", pa.bool_()),
        ("p", pa.int32()),
    ]
)
_LIMIT_SCHEMA = pa.schema(
    [("p", pa.int32()), ("lab", pa.int32()), ("target", pa.int8()), ("max", pa.int64())]
)


def _table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


def register_config_tables(con: duckdb.DuckDBPyConnection, tables: ConfigTables) -> None:
    """Register ``pairs_``, ``entries_`` and ``limits_`` (max over duplicates: min)."""
    duck.register(con, PAIRS, tables.pairs)
    duck.register(con, ENTRIES, tables.entries)
    duck.register(con, "limits_raw_", tables.limits)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {LIMITS} AS "
        "SELECT p, lab, target, min(max) AS max FROM limits_raw_ GROUP BY p, lab, target"
    )
