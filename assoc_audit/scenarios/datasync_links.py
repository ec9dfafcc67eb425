"""What one data-sync pass does with links: carry, remove or skip each one (whole tables).

Both sides' links are put in HubSpot terms (app ids through the record
matches, app labels through the config's entries), a labelled link implying
the unlabeled one, and compared by ``(pair, from, to, label)``. Each link
present on one side only is then decided by the first rule that applies, in
the order the audit explains links (DESIGN §6):

1. the pair or label has no app equivalent → skipped (``unsupported_in_app``);
2. an endpoint is ambiguous (duplicates) → skipped (``ambiguous_match``);
3. an endpoint has no match → skipped (``record_unmatched``);
4. the link was in sync after the previous pass, so the other side removed
   it → removed here too if the direction carries the other side's changes
   (``removed``), else skipped (``direction_blocked``);
5. the sides label the linked pair differently → both skipped (``label_mismatch``);
6. the association's direction does not carry this side's changes → skipped
   (``direction_blocked``);
7. the target has no free slot (``app_max_per_record``; one ``Primary`` per
   record, which a two-way sync moves only for its ``conflict_winner``) →
   skipped (``limit_exceeded``);
8. otherwise it is created on the other side, in that side's label text
   (``created``).

:class:`~.datasync.SyncBehaviour` switches turn single rules off, to break the
simulator on purpose in tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from assoc_audit.scenarios.simmatch import SimStatus
from assoc_audit.tables import ASSOCIATION_COLUMNS, TEXT

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.scenarios.datasync import SyncBehaviour
    from assoc_audit.scenarios.simmatch import SimMatches, SimSide
    from assoc_audit.tables import Side, SideTables

__all__ = ["EVENT_COLUMNS", "LinkPlan", "carries", "in_sync_keys", "plan_links"]

_UNSUPPORTED = "\x00unsupported\x00"
_SEP = "\x1f"
_SIDES: tuple[Side, Side] = ("hubspot", "app")
#: Columns of a pass's event table.
EVENT_COLUMNS: tuple[str, ...] = (
    "action",
    "source",
    "target",
    "from_object",
    "to_object",
    "label",
    "source_from_id",
    "source_to_id",
    "target_from_id",
    "target_to_id",
    "reason",
    "message",
)


@dataclass(frozen=True)
class LinkPlan:
    """A pass's decisions.

    ``create`` and ``remove``: per side, the edges to write there (canonical
    columns in that side's ids and label text) plus the ``key`` and ``event``
    (row of ``events``) of each; ``events``: one row per one-sided link
    (:data:`EVENT_COLUMNS`; ``created`` and ``removed`` rows are pending until
    written); ``in_sync``: the keys present on both sides before writing.
    """

    create: dict[Side, pd.DataFrame]
    remove: dict[Side, pd.DataFrame]
    events: pd.DataFrame
    in_sync: frozenset[str]


def _other(side: Side) -> Side:
    return "app" if side == "hubspot" else "hubspot"


def _obj(values: pd.Series) -> np.ndarray:
    """A column as an object array with None for nulls."""
    out = values.astype(object)
    return np.asarray(out.where(out.notna(), None), dtype=object)


def _scalar(value: Any) -> Any:
    """A cell value with every kind of missing value as None."""
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def carries(
    config: IntegrationConfig, behaviour: SyncBehaviour, pair: tuple[str, str], side: Side
) -> bool:
    """True if the association's direction carries changes made on ``side``."""
    if not behaviour.directions:
        return True
    direction = config.direction(pair)
    return direction == "two_way" or direction == f"{side}_to_{_other(side)}"


class _Labels:
    """Label texts of both sides in HubSpot terms, per pair number (through the config)."""

    def __init__(self, config: IntegrationConfig, behaviour: SyncBehaviour) -> None:
        self.mapped = behaviour.labels
        self.whole: set[int] = set()
        self.hub: dict[tuple[int, str | None], bool] = {}
        self.app_in: dict[tuple[int, str | None], str | None] = {}
        self.app_out: dict[tuple[int, str | None], str | None] = {}
        self.limits: dict[tuple[int, str | None], int] = {}
        for p, pair in enumerate(config.pairs):
            for entry in config.entries_for(pair):
                if entry.whole_pair_unsupported:
                    self.whole.add(p)
                    continue
                self.hub[(p, entry.label)] = entry.app_supported
                if entry.app_supported:
                    self.app_in[(p, entry.effective_app_label)] = entry.label
                    self.app_out[(p, entry.label)] = entry.effective_app_label
                    if entry.app_max_per_record is not None:
                        self.limits[(p, entry.label)] = entry.app_max_per_record
            self.hub.setdefault((p, None), p not in self.whole)
            self.app_in.setdefault((p, None), None)
            self.app_out.setdefault((p, None), None)

    def to_hubspot(self, side: Side, p: int, text: str | None) -> tuple[str | None, bool]:
        """(HubSpot-term label, supported) of a stored text; unsupported ones get a marker."""
        text = _scalar(text)
        if side == "app" and self.mapped:
            if (p, text) in self.app_in and p not in self.whole:
                return self.app_in[(p, text)], True
        elif self.hub.get((p, text), False):
            return text, True
        if text is None:
            return None, False
        return _UNSUPPORTED + text, False

    def to_side(self, side: Side, p: int, label: str | None, stored: str | None) -> str | None:
        """The text to write on ``side`` for a HubSpot-term label (``stored``: the source's)."""
        label, stored = _scalar(label), _scalar(stored)
        if label is not None and label.startswith(_UNSUPPORTED):
            return stored
        if side == "hubspot" or not self.mapped:
            return label
        return self.app_out.get((p, label), label)


def _lookup(tables: SideTables, match: SimSide, other: SideTables) -> pd.DataFrame:
    """Per record: object, id, match status and the other side's id (None without a match)."""
    partner = match.partner
    other_ids = _obj(other.records["record_id"])
    has = partner >= 0
    partner_id = np.full(len(partner), None, dtype=object)
    partner_id[has] = other_ids[partner[has]]
    return pd.DataFrame(
        {
            "object": _obj(tables.records["object"]),
            "id": _obj(tables.records["record_id"]),
            "status": match.status.astype(np.int64),
            "other": partner_id,
        }
    )


def _side_rows(
    config: IntegrationConfig, labels: _Labels, side: Side, tables: SideTables, lookup: pd.DataFrame
) -> pd.DataFrame:
    """One side's links in HubSpot terms, with endpoint statuses and implied unlabeled rows."""
    links = tables.associations
    frame = pd.DataFrame({c: _obj(links[c]) for c in ASSOCIATION_COLUMNS})
    number = {f"{f}{_SEP}{t}": p for p, (f, t) in enumerate(config.pairs)}
    frame["p"] = (frame["from_object"] + _SEP + frame["to_object"]).map(number)
    frame = frame.loc[frame["p"].notna()].astype({"p": np.int64})
    for end in ("from", "to"):
        info = lookup.rename(
            columns={
                "object": f"{end}_object",
                "id": f"{end}_id",
                "status": f"{end}_status",
                "other": f"{end}_other",
            }
        )
        frame = frame.merge(info, on=[f"{end}_object", f"{end}_id"], how="left")
        frame[f"{end}_status"] = frame[f"{end}_status"].fillna(int(SimStatus.UNMATCHED))
    frame["label"] = frame["label"].where(frame["label"].notna(), None)
    # map each distinct (pair, label) once, then join
    uniq = frame[["p", "label"]].drop_duplicates()
    mapped = [labels.to_hubspot(side, p, t) for p, t in zip(uniq["p"], uniq["label"], strict=True)]
    uniq = uniq.assign(
        hlab=pd.Series([m[0] for m in mapped], index=uniq.index, dtype=object),
        supported=np.array([m[1] for m in mapped], dtype=bool),
    )
    frame = frame.merge(uniq, on=["p", "label"], how="left")
    frame["hlab"] = frame["hlab"].where(frame["hlab"].notna(), None)
    frame["implied"] = False
    labelled = frame.loc[frame["hlab"].notna()]
    implied = labelled.assign(
        hlab=None, label=None, supported=~labelled["p"].isin(sorted(labels.whole)), implied=True
    )
    frame = pd.concat([frame, implied], ignore_index=True)
    own = side == "hubspot"
    frame["hf"] = frame["from_id"] if own else frame["from_other"]
    frame["ht"] = frame["to_id"] if own else frame["to_other"]
    frame["hkey"] = ("=" + frame["hlab"].astype(object).fillna("").astype(str)).where(
        frame["hlab"].notna(), ""
    )
    frame = frame.sort_values("implied", kind="stable").drop_duplicates(
        ["p", "from_id", "to_id", "hkey"]
    )
    ok = frame["hf"].notna() & frame["ht"].notna()
    key = frame["p"].astype(str) + _SEP + frame["hf"].astype(str) + _SEP + frame["ht"].astype(str)
    frame["key"] = (key + _SEP + frame["hkey"]).where(ok, None)
    frame["pair_key"] = key.where(ok, None)
    return frame.reset_index(drop=True)


def _conflicts(rows: dict[Side, pd.DataFrame], keys: dict[Side, set[str]]) -> set[str]:
    """Keys of labels in a label conflict: a pair linked on both sides, each with one
    supported label the other lacks."""
    lacking: dict[Side, pd.Series] = {}
    for s in _SIDES:
        r = rows[s]
        one = r.loc[
            r["hlab"].notna() & r["supported"] & r["key"].notna() & ~r["key"].isin(keys[_other(s)])
        ]
        lacking[s] = one.groupby("pair_key")["key"].agg(list)
    linked = {k[: k.rindex(_SEP)] for k in keys["hubspot"] & keys["app"] if k.endswith(_SEP)}
    out: set[str] = set()
    common = lacking["hubspot"].index.intersection(lacking["app"].index)
    for pair_key in common:
        a, b = lacking["hubspot"][pair_key], lacking["app"][pair_key]
        if pair_key in linked and len(a) == 1 and len(b) == 1:
            out.update((a[0], b[0]))
    return out


def _text_order(ids: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({"n": ids.astype(str).str.len(), "t": ids.astype(str)}, index=ids.index)


def _over_limit(
    config: IntegrationConfig,
    labels: _Labels,
    cand: pd.DataFrame,
    src_rows: pd.DataFrame,
    dst_rows: pd.DataFrame,
    src: Side,
) -> np.ndarray:
    """Index labels of candidate links the target has no free slot for."""
    if cand.empty:
        return np.array([], dtype=np.int64)
    dst = _other(src)
    cand = cand.copy()
    # the target side's own from id of each candidate
    cand["tf"] = cand["from_other"] if src == "hubspot" else cand["hf"]
    limits = pd.DataFrame(
        [(p, lab, n) for (p, lab), n in labels.limits.items()] if dst == "app" else [],
        columns=["p", "hlab", "limit"],
    )
    cand = cand.merge(limits, on=["p", "hlab"], how="left").set_axis(cand.index)
    cand["limit"] = cand["limit"].astype("Int64").where(cand["hlab"] != "Primary", 1)
    held = dst_rows.groupby(["p", "from_id", "hkey"]).size().rename("held")
    cand = cand.join(held, on=["p", "tf", "hkey"])
    cand["held"] = cand["held"].fillna(0).astype(np.int64)
    src_primary = src_rows.loc[src_rows["hlab"] == "Primary", "pair_key"]
    cand["src_primary"] = cand["pair_key"].isin(src_primary)
    order = _text_order(cand["to_id"])
    cand = cand.assign(n=order["n"], t=order["t"]).sort_values(
        ["src_primary", "n", "t"], ascending=[False, True, True], kind="stable"
    )
    cand["rank"] = cand.groupby(["p", "tf", "hkey"]).cumcount()
    limited = cand["limit"].notna().to_numpy()
    free = (cand["limit"].fillna(0).to_numpy(dtype=np.int64) - cand["held"].to_numpy()).clip(0)
    over = limited & (cand["rank"].to_numpy() >= free)
    # a Primary the target holds elsewhere moves when this side wins (DESIGN §6, Primary)
    moves = (
        cand["p"]
        .map(
            {
                p: config.direction(pair) != "two_way" or config.conflict_winner == src
                for p, pair in enumerate(config.pairs)
            }
        )
        .to_numpy(dtype=bool)
    )
    is_primary = (cand["hlab"] == "Primary").to_numpy()
    taken = is_primary & (cand["held"].to_numpy() > 0)
    over = np.where(taken, ~moves | (cand["rank"].to_numpy() > 0), over)
    return np.asarray(cand.index[over])


def _rows(
    config: IntegrationConfig, labels: _Labels, sides: dict[Side, SideTables], matches: SimMatches
) -> dict[Side, pd.DataFrame]:
    rows: dict[Side, pd.DataFrame] = {}
    for s in _SIDES:
        lookup = _lookup(sides[s], matches.side(s), sides[_other(s)])
        rows[s] = _side_rows(config, labels, s, sides[s], lookup)
    return rows


def in_sync_keys(
    config: IntegrationConfig,
    behaviour: SyncBehaviour,
    sides: dict[Side, SideTables],
    matches: SimMatches,
) -> frozenset[str]:
    """The keys of the links present on both sides."""
    rows = _rows(config, _Labels(config, behaviour), sides, matches)
    return frozenset(set(rows["hubspot"]["key"].dropna()) & set(rows["app"]["key"].dropna()))


def plan_links(
    config: IntegrationConfig,
    behaviour: SyncBehaviour,
    sides: dict[Side, SideTables],
    matches: SimMatches,
    synced: frozenset[str],
) -> LinkPlan:
    """Decide what a pass does with every one-sided link (see the module docstring)."""
    labels = _Labels(config, behaviour)
    rows = _rows(config, labels, sides, matches)
    keys = {s: set(rows[s]["key"].dropna()) for s in _SIDES}
    conflict = _conflicts(rows, keys) if behaviour.conflicts else set()
    creates: dict[Side, list[pd.DataFrame]] = {s: [] for s in _SIDES}
    removes: dict[Side, list[pd.DataFrame]] = {s: [] for s in _SIDES}
    events: list[pd.DataFrame] = []
    offset = 0
    for src in _SIDES:
        dst = _other(src)
        one = rows[src].loc[~rows[src]["key"].isin(keys[dst])].reset_index(drop=True)
        reason = np.full(len(one), None, dtype=object)

        def mark(mask: Any, code: str, reason: np.ndarray = reason) -> None:
            reason[np.asarray(mask, dtype=bool) & pd.isna(reason)] = code

        fwd = (
            one["p"]
            .map({p: carries(config, behaviour, pair, src) for p, pair in enumerate(config.pairs)})
            .to_numpy(dtype=bool)
        )
        back = (
            one["p"]
            .map({p: carries(config, behaviour, pair, dst) for p, pair in enumerate(config.pairs)})
            .to_numpy(dtype=bool)
        )
        if behaviour.support:
            mark(~one["supported"], "unsupported_in_app")
        amb = int(SimStatus.AMBIGUOUS)
        if behaviour.matching:
            mark((one["from_status"] == amb) | (one["to_status"] == amb), "ambiguous_match")
        mark(one["from_other"].isna() | one["to_other"].isna(), "record_unmatched")
        if behaviour.removals:
            deleted = one["key"].isin(synced).to_numpy()
            mark(deleted & back, "removed")
            mark(deleted, "direction_blocked")
        mark(one["key"].isin(conflict), "label_mismatch")
        mark(~fwd, "direction_blocked")
        if behaviour.limits:
            open_ = pd.isna(reason)
            over = _over_limit(config, labels, one.loc[open_], rows[src], rows[dst], src)
            mark(one.index.isin(over), "limit_exceeded")
        mark(np.ones(len(one), dtype=bool), "created")
        one["action"] = np.where(
            reason == "created", "created", np.where(reason == "removed", "removed", "skipped")
        )
        one["reason"] = reason
        one["event"] = np.arange(offset, offset + len(one))
        offset += len(one)
        events.append(_events(config, one, src))
        creates[dst].append(_writes(config, labels, one.loc[one["action"] == "created"], src))
        removes[src].append(_removals(config, one.loc[one["action"] == "removed"]))
        old = _moved_primaries(one, rows[dst], keys[src], src)
        if len(old):
            old["event"] = np.arange(offset, offset + len(old))
            offset += len(old)
            events.append(_primary_events(config, old, src))
            removes[dst].append(_removals(config, old))
    return LinkPlan(
        create={s: pd.concat(creates[s], ignore_index=True) for s in _SIDES},
        remove={s: pd.concat(removes[s], ignore_index=True) for s in _SIDES},
        events=pd.concat(events, ignore_index=True),
        in_sync=frozenset(keys["hubspot"] & keys["app"]),
    )


def _edge_frame(
    config: IntegrationConfig, rows: pd.DataFrame, f: Any, t: Any, label: Any
) -> pd.DataFrame:
    pairs = [config.pairs[p] for p in rows["p"]]
    out = pd.DataFrame(
        {
            "from_object": [a for a, _ in pairs],
            "from_id": list(f),
            "to_object": [b for _, b in pairs],
            "to_id": list(t),
            "label": list(label),
        },
        columns=list(ASSOCIATION_COLUMNS),
    ).astype(TEXT)
    out["key"] = rows["key"].to_numpy()
    out["event"] = rows["event"].to_numpy()
    return out


def _writes(
    config: IntegrationConfig, labels: _Labels, go: pd.DataFrame, src: Side
) -> pd.DataFrame:
    """Edges to create on the other side (unlabeled links first)."""
    go = go.sort_values("hkey", kind="stable")
    dst = _other(src)
    text = [
        labels.to_side(dst, p, lab, stored)
        for p, lab, stored in zip(go["p"], go["hlab"], go["label"], strict=True)
    ]
    if src == "hubspot":
        f, t = go["from_other"], go["to_other"]
    else:
        f, t = go["hf"], go["ht"]
    return _edge_frame(config, go, f, t, text)


def _removals(config: IntegrationConfig, gone: pd.DataFrame) -> pd.DataFrame:
    """Stored links to remove from their own side (exactly as stored)."""
    gone = gone.loc[~gone["implied"]]
    return _edge_frame(config, gone, gone["from_id"], gone["to_id"], gone["label"])


def _moved_primaries(
    one: pd.DataFrame, dst_rows: pd.DataFrame, src_keys: set[str], src: Side
) -> pd.DataFrame:
    """The target's old ``Primary`` rows of from-records whose primary this pass moves.

    HubSpot moves a primary by itself; an app may not, so (as fix plans do,
    DESIGN §7) the old primary is removed explicitly.
    """
    moved = one.loc[(one["action"] == "created") & (one["hlab"] == "Primary")]
    if moved.empty:
        return dst_rows.iloc[0:0].copy()
    tf = moved["from_other"] if src == "hubspot" else moved["hf"]
    owners = pd.DataFrame({"p": moved["p"].to_numpy(), "from_id": tf.to_numpy()})
    old = dst_rows.loc[
        (dst_rows["hlab"] == "Primary") & ~dst_rows["implied"] & ~dst_rows["key"].isin(src_keys)
    ]
    return old.merge(owners.drop_duplicates(), on=["p", "from_id"]).reset_index(drop=True)


def _primary_events(config: IntegrationConfig, old: pd.DataFrame, src: Side) -> pd.DataFrame:
    n = len(old)
    return pd.DataFrame(
        {
            "action": ["removed"] * n,
            "source": [src] * n,
            "target": [_other(src)] * n,
            "from_object": [config.pairs[p][0] for p in old["p"]],
            "to_object": [config.pairs[p][1] for p in old["p"]],
            "label": ["Primary"] * n,
            "source_from_id": old["from_other"].to_numpy(),
            "source_to_id": old["to_other"].to_numpy(),
            "target_from_id": old["from_id"].to_numpy(),
            "target_to_id": old["to_id"].to_numpy(),
            "reason": ["primary_moved"] * n,
            "message": [None] * n,
        },
        columns=list(EVENT_COLUMNS),
    )


def _events(config: IntegrationConfig, one: pd.DataFrame, src: Side) -> pd.DataFrame:
    dst = _other(src)
    own_label = one["hlab"].astype(object).str.removeprefix(_UNSUPPORTED)
    removed = one["action"] == "removed"
    return pd.DataFrame(
        {
            "action": one["action"].to_numpy(),
            "source": np.where(removed, dst, src),
            "target": np.where(removed, src, dst),
            "from_object": [config.pairs[p][0] for p in one["p"]],
            "to_object": [config.pairs[p][1] for p in one["p"]],
            "label": own_label.to_numpy(),
            "source_from_id": one["from_id"].to_numpy(),
            "source_to_id": one["to_id"].to_numpy(),
            "target_from_id": one["from_other"].to_numpy(),
            "target_to_id": one["to_other"].to_numpy(),
            "reason": one["reason"].to_numpy(),
            "message": None,
        },
        columns=list(EVENT_COLUMNS),
    )
