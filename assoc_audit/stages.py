"""The DuckDB tables the engine's stages hand each other, named once.

An audit runs in one DuckDB connection; each stage leaves tables that later
stages read. Their names (and who makes and reads them) live here, so SQL in
every module refers to the same constants::

    matching ─► REC_H, REC_A (per record row: object, id, match status, partner),
                MATCH_AMBIGUITY (hubspot_row, app_row, rule)
    configtables ─► PAIRS, ENTRIES, LIMITS (the config as lookup tables)
    linkmap ─► LINKS_H, LINKS_A (p, f, t, fm, tm, lab, rc: links on small integers;
                Arrow tables registered on the connection, read by the diff and the limits
                and dropped by ``reconcile.classify``, their last reader)
    baseline ─► BASELINE_BOTH (p, fm, tm, lab: links the baseline had on both sides)
    reconcile ─► CLASSIFIED (one row per one-sided link: reason, action, …)
    audit (suggestions) ─► SUGGESTIONS (side, row, name, score)
    findings ◄─ CLASSIFIED, SUGGESTIONS, REC_H/REC_A … → the findings table

Tables a stage makes and drops itself (``cand_``, ``detailed_``, …) stay in
that stage's module.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "BASELINE_BOTH",
    "CLASSIFIED",
    "ENTRIES",
    "LIMITS",
    "LINKS_A",
    "LINKS_H",
    "MATCH_AMBIGUITY",
    "PAIRS",
    "REC_A",
    "REC_H",
    "SUGGESTIONS",
    "links_table",
    "records_table_name",
]

REC_H: Final = "rec_h"
REC_A: Final = "rec_a"
MATCH_AMBIGUITY: Final = "match_ambiguity"
PAIRS: Final = "pairs_"
ENTRIES: Final = "entries_"
LIMITS: Final = "limits_"
LINKS_H: Final = "links_h"
LINKS_A: Final = "links_a"
BASELINE_BOTH: Final = "baseline_both"
CLASSIFIED: Final = "classified_"
SUGGESTIONS: Final = "suggestions_"


def records_table_name(side: Literal["hubspot", "app"]) -> str:
    """``REC_H`` or ``REC_A``."""
    return REC_H if side == "hubspot" else REC_A


def links_table(side: Literal["hubspot", "app"]) -> str:
    """``LINKS_H`` or ``LINKS_A``."""
    return LINKS_H if side == "hubspot" else LINKS_A
