"""Closest-counterpart suggestions for unmatched records (shown in findings' details).

For a record that no rule matched, the most similar never-matched record of
the same object on the other side is suggested, with its similarity score
(``rapidfuzz`` ``fuzz.ratio`` of the normalised rule keys, 0–100). Candidates
are found by the sorted-neighbourhood method on each rule's keys (and on the
keys reversed, to catch differences at the start), so the work grows with the
number of unmatched records, not their product. Scores below
:data:`MIN_SCORE` are not suggested. This never changes matching: it is a hint
for the person reading the finding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from assoc_audit.matching import MatchStatus, _keys, rule_column

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig, MatchRule
    from assoc_audit.matching import Matches
    from assoc_audit.tables import SideTables

__all__ = ["MIN_SCORE", "empty_suggestions", "suggest"]

#: Suggestions scoring below this are not shown.
MIN_SCORE = 60
#: Neighbours taken on each side of a key's place in the sorted candidates.
_WINDOW = 4
#: Upper bound on the pairs scored per object, side and rule.
_MAX_PAIRS = 2_000_000


def empty_suggestions() -> pa.Table:
    return pa.table(
        {
            "side": pa.array([], pa.int8()),
            "row": pa.array([], pa.int64()),
            "cand": pa.array([], pa.int64()),
            "score": pa.array([], pa.int64()),
        }
    )


def suggest(
    config: IntegrationConfig,
    hubspot: SideTables,
    app: SideTables,
    matches: Matches,
    wanted: dict[int, np.ndarray],
) -> pa.Table:
    """The best candidate per wanted record.

    Columns: ``side``, ``row``, ``cand`` (the other side's row) and ``score``.

    ``wanted`` maps a side code (0 HubSpot, 1 app) to record rows needing a suggestion.
    """
    if not any(len(rows) for rows in wanted.values()):
        return empty_suggestions()
    sides = (hubspot, app)
    results: list[pd.DataFrame] = []
    objects = list(config.audited_objects)
    obj_col = matches.object_codes
    for code, obj in enumerate(objects):
        rules = config.match_rules(obj)
        if not rules:
            continue
        for s in (0, 1):
            rows = wanted.get(s, np.array([], dtype=np.int64))
            rows = rows[obj_col[s][rows] == code]
            if not len(rows):
                continue
            other = matches.side("app" if s == 0 else "hubspot")
            status = other.status
            cands = np.flatnonzero(
                (obj_col[1 - s] == code)
                & ((status == MatchStatus.UNMATCHED) | (status == MatchStatus.AMBIGUOUS))
            )
            if not len(cands):
                continue
            for number, rule in enumerate(rules, start=1):
                q_keys = _rule_keys(matches, (obj, number), s, sides[s], rows, rule)
                c_keys = _rule_keys(matches, (obj, number), 1 - s, sides[1 - s], cands, rule)
                found = _best(rows, q_keys, cands, c_keys)
                if found is not None:
                    results.append(found.assign(side=s))
    if not results:
        return empty_suggestions()
    df = pd.concat(results, ignore_index=True)
    df = df.sort_values(["side", "row", "score", "cand"], ascending=[True, True, False, True])
    df = df.drop_duplicates(["side", "row"], keep="first")
    df = df[df["score"] >= MIN_SCORE]
    return pa.table(
        {
            "side": pa.array(df["side"].to_numpy(), pa.int8()),
            "row": pa.array(df["row"].to_numpy(), pa.int64()),
            "cand": pa.array(df["cand"].to_numpy(), pa.int64()),
            "score": pa.array(df["score"].to_numpy(), pa.int64()),
        }
    )


def _rule_keys(
    matches: Matches,
    rule_at: tuple[str, int],
    s: int,
    tables: SideTables,
    rows: np.ndarray,
    rule: MatchRule,
) -> pa.Array:
    """A rule's keys of ``rows``: matching's own (kept for the records it never matched),
    else normalised again (e.g. for matches built or changed elsewhere)."""
    kept = matches.unmatched_keys.get(rule_at)
    if kept is not None:
        keys = kept[s].lookup(rows)
        if keys is not None:
            return keys
    return _keys(tables, rows, rule_column(tables.side, rule), rule.normalize)


def _best(
    rows: np.ndarray, q_keys: pa.Array, cands: np.ndarray, c_keys: pa.Array
) -> pd.DataFrame | None:
    q_ok = np.asarray(pc.is_valid(q_keys).to_numpy(zero_copy_only=False))
    c_ok = np.asarray(pc.is_valid(c_keys).to_numpy(zero_copy_only=False))
    if not q_ok.any() or not c_ok.any():
        return None
    q_rows, c_rows = rows[q_ok], cands[c_ok]
    q_text = np.asarray(q_keys.filter(pa.array(q_ok)).to_pylist(), dtype=object)
    c_text = np.asarray(c_keys.filter(pa.array(c_ok)).to_pylist(), dtype=object)
    window = max(1, min(_WINDOW, _MAX_PAIRS // max(1, 4 * len(q_text))))
    qi_parts, ci_parts = [], []
    for q_sort, c_sort in ((q_text, c_text), (_reverse(q_text), _reverse(c_text))):
        order = np.argsort(c_sort, kind="stable")
        place = np.searchsorted(c_sort[order], q_sort)
        offsets = np.arange(-window, window)
        idx = np.clip(place[:, None] + offsets[None, :], 0, len(order) - 1)
        qi_parts.append(np.repeat(np.arange(len(q_text)), idx.shape[1]))
        ci_parts.append(order[idx.ravel()])
    pairs = pd.DataFrame({"q": np.concatenate(qi_parts), "c": np.concatenate(ci_parts)})
    pairs = pairs.drop_duplicates(ignore_index=True)
    scores = process.cpdist(
        q_text[pairs["q"].to_numpy()].tolist(),
        c_text[pairs["c"].to_numpy()].tolist(),
        scorer=fuzz.ratio,
        workers=-1,
    )
    pairs["score"] = np.rint(np.asarray(scores, dtype=np.float64)).astype(np.int64)
    pairs["row"] = q_rows[pairs["q"].to_numpy()]
    pairs["cand"] = c_rows[pairs["c"].to_numpy()]
    return pairs[["row", "cand", "score"]]


def _reverse(values: np.ndarray) -> np.ndarray:
    reversed_ = pc.utf8_reverse(pa.array(values, pa.string()))
    return np.asarray(reversed_.to_numpy(zero_copy_only=False), dtype=object)
