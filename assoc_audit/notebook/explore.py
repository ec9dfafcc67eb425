"""Exploring an audit's mismatches: filters, record lists, one record's links side by side.

Pure pandas over an :class:`~assoc_audit.audit.AuditResult`; the widgets of
:mod:`assoc_audit.notebook.widgets` and the static tables of ``mismatches.ipynb`` both
call these functions.

:func:`record_links` is the drill-down: every link of one record on both
sides, aligned on the linked record (through the audit's matches) and the
label (app labels mapped to HubSpot text through the config), with the
finding that explains each one-sided link. Only the links of that one record
are looked at, so it is cheap at any portal size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from assoc_audit.findings import noun
from assoc_audit.reasons import REASONS

if TYPE_CHECKING:
    from assoc_audit.audit import AuditResult
    from assoc_audit.config import IntegrationConfig

__all__ = [
    "RecordRef",
    "RecordView",
    "example_records",
    "filter_findings",
    "finding_records",
    "pair_names",
    "reason_side_counts",
    "record_links",
    "records_table",
]

_UNLABELED = "(unlabeled)"
#: Columns of :attr:`RecordView.links`, in order.
LINK_COLUMNS = (
    "linked object",
    "linked record",
    "label",
    "HubSpot",
    "app",
    "status",
    "reason",
    "why",
)


def pair_names(findings: pd.DataFrame) -> pd.Series:
    """``contacts → companies`` for every finding."""
    return findings["from_object"].astype(str) + " → " + findings["to_object"].astype(str)


def filter_findings(
    findings: pd.DataFrame,
    *,
    reason: str | None = None,
    pair: str | None = None,
    side: str | None = None,
) -> pd.DataFrame:
    """Findings with that reason, object pair (``from → to``) and side (``hubspot``/``app``).

    None (or ``"all"``) leaves a filter off. Unknown values select nothing.
    """
    keep = np.ones(len(findings), dtype=bool)
    if reason not in (None, "", "all"):
        keep &= (findings["reason"].astype(str) == reason).to_numpy()
    if pair not in (None, "", "all"):
        keep &= (pair_names(findings) == str(pair).replace("->", "→")).to_numpy()
    if side not in (None, "", "all"):
        keep &= (findings["present_in"].astype(str) == side).to_numpy()
    return findings.loc[keep].reset_index(drop=True)


def reason_side_counts(findings: pd.DataFrame) -> pd.DataFrame:
    """Findings per reason (precedence order, only reasons present) and side, with totals."""
    columns = ["reason", "only in HubSpot", "only in app", "total"]
    if findings.empty:
        return pd.DataFrame(columns=columns)
    table = pd.crosstab(findings["reason"].astype(str), findings["present_in"].astype(str))
    table = table.reindex(columns=["hubspot", "app"], fill_value=0)
    order = [r for r in REASONS if r in table.index]
    table = table.reindex(order)
    out = pd.DataFrame(
        {
            "reason": table.index,
            "only in HubSpot": table["hubspot"].to_numpy(),
            "only in app": table["app"].to_numpy(),
        }
    )
    out["total"] = out["only in HubSpot"] + out["only in app"]
    return out


@dataclass(frozen=True)
class RecordRef:
    """A record by its object and its id on each side ("" where it has none)."""

    object: str
    hubspot_id: str = ""
    app_id: str = ""

    @property
    def key(self) -> str:
        return f"{self.object}|{self.hubspot_id}|{self.app_id}"

    @classmethod
    def parse(cls, text: str) -> RecordRef:
        """``contacts:hubspot:123`` or ``contacts:app:900000001`` (or a :attr:`key`)."""
        if "|" in text:
            obj, h, a = [*text.split("|"), "", ""][:3]
            return cls(obj, h, a)
        parts = text.split(":")
        if len(parts) != 3 or parts[1] not in ("hubspot", "app"):
            from assoc_audit.errors import AssocAuditError

            raise AssocAuditError(
                f"record {text!r}: expected OBJECT:hubspot:ID or OBJECT:app:ID "
                "(e.g. contacts:hubspot:1000001)",
                field="record",
            )
        obj, side, rid = parts
        return cls(obj, rid, "") if side == "hubspot" else cls(obj, "", rid)


def _text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str)


def finding_records(findings: pd.DataFrame) -> pd.DataFrame:
    """The from-records of these findings: object, ids, and how many findings each has.

    Columns ``object, hubspot_id, app_id, findings, reasons``; sorted by the
    number of findings (most first), then object and ids.
    """
    if findings.empty:
        return pd.DataFrame(columns=["object", "hubspot_id", "app_id", "findings", "reasons"])
    frame = pd.DataFrame(
        {
            "object": _text(findings["from_object"]),
            "hubspot_id": _text(findings["hubspot_from_id"]),
            "app_id": _text(findings["app_from_id"]),
            "reason": _text(findings["reason"]),
        }
    )
    grouped = frame.groupby(["object", "hubspot_id", "app_id"], sort=False)
    out = grouped.agg(
        findings=("reason", "size"), reasons=("reason", lambda s: ", ".join(dict.fromkeys(s)))
    ).reset_index()
    out["_len"] = out["hubspot_id"].str.len()
    out = out.sort_values(
        ["findings", "object", "_len", "hubspot_id", "app_id"],
        ascending=[False, True, True, True, True],
        kind="stable",
    )
    return out.drop(columns="_len").reset_index(drop=True)


def records_table(findings: pd.DataFrame) -> pd.DataFrame:
    """:func:`finding_records` with headers for people."""
    return finding_records(findings).rename(
        columns={"hubspot_id": "HubSpot id", "app_id": "app id"}
    )


def example_records(findings: pd.DataFrame, *, per_reason: int = 1) -> list[RecordRef]:
    """Up to ``per_reason`` from-records per reason, in precedence order, no repeats."""
    seen: dict[str, RecordRef] = {}
    for reason in REASONS:
        rows = findings.loc[findings["reason"].astype(str) == reason]
        picked = 0
        for obj, h, a in zip(
            _text(rows["from_object"]),
            _text(rows["hubspot_from_id"]),
            _text(rows["app_from_id"]),
            strict=True,
        ):
            ref = RecordRef(obj, h, a)
            if ref.key not in seen:
                seen[ref.key] = ref
                picked += 1
            if picked >= per_reason:
                break
    return list(seen.values())


@dataclass(frozen=True)
class RecordView:
    """One record's links on both sides, aligned (see :func:`record_links`)."""

    record: RecordRef
    title: str
    links: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": {
                "object": self.record.object,
                "hubspot_id": self.record.hubspot_id,
                "app_id": self.record.app_id,
            },
            "title": self.title,
            "links": self.links.to_dict(orient="records"),
        }


def _matches(result: AuditResult, obj: str) -> pd.DataFrame:
    recs = result.records
    rows = recs.loc[(recs["object"] == obj) & (recs["status"] == "matched")]
    return pd.DataFrame({"h": _text(rows["hubspot_id"]), "a": _text(rows["app_id"])})


def _names(result: AuditResult, side: str) -> pd.DataFrame:
    tables = result.hubspot if side == "hubspot" else result.app
    records = tables.records
    name = (
        _text(records["display_name"])
        if "display_name" in records.columns
        else pd.Series("", index=records.index)
    )
    return pd.DataFrame(
        {"object": _text(records["object"]), "id": _text(records["record_id"]), "name": name}
    )


def _app_label_map(config: IntegrationConfig) -> dict[tuple[str, str, str], str | None]:
    """(from, to, app label text) → HubSpot label (None = unlabeled) for supported entries."""
    out: dict[tuple[str, str, str], str | None] = {}
    for entry in config.associations:
        if not entry.app_supported:
            continue
        app_text = entry.effective_app_label
        if app_text is not None:
            out[(entry.from_, entry.to, app_text)] = entry.label
    return out


def _side_links(result: AuditResult, side: str, obj: str, rid: str) -> pd.DataFrame:
    """The links touching one record on one side, seen from the record."""
    cols = ["from_object", "to_object", "other_object", "other_id", "label", "stored", "implied"]
    if not rid:
        return pd.DataFrame(columns=cols)
    assoc = (result.hubspot if side == "hubspot" else result.app).associations
    fo, fi = _text(assoc["from_object"]), _text(assoc["from_id"])
    to, ti = _text(assoc["to_object"]), _text(assoc["to_id"])
    label = assoc["label"].astype(object).where(assoc["label"].notna(), None)
    parts = []
    out_mask = ((fo == obj) & (fi == rid)).to_numpy()
    in_mask = ((to == obj) & (ti == rid)).to_numpy()
    for mask, other_o, other_i in ((out_mask, to, ti), (in_mask, fo, fi)):
        if mask.any():
            parts.append(
                pd.DataFrame(
                    {
                        "from_object": fo[mask].to_numpy(),
                        "to_object": to[mask].to_numpy(),
                        "other_object": other_o[mask].to_numpy(),
                        "other_id": other_i[mask].to_numpy(),
                        "stored": label[mask].to_numpy(),
                    }
                )
            )
    if not parts:
        return pd.DataFrame(columns=cols)
    links = pd.concat(parts, ignore_index=True).drop_duplicates()
    if side == "app":
        mapping = _app_label_map(result.config)
        links["label"] = [
            mapping.get((f, t, s), s) if s is not None else None
            for f, t, s in zip(
                links["from_object"], links["to_object"], links["stored"], strict=True
            )
        ]
    else:
        links["label"] = links["stored"]
    links["implied"] = False
    # A labelled link implies the unlabeled link of the same pair (DESIGN §4).
    keys = ["from_object", "to_object", "other_object", "other_id"]
    has_plain = links.loc[links["label"].isna(), keys].drop_duplicates()
    labelled = links.loc[links["label"].notna(), keys].drop_duplicates()
    missing = labelled.merge(has_plain, how="left", on=keys, indicator=True)
    missing = missing.loc[missing["_merge"] == "left_only", keys]
    if not missing.empty:
        extra = missing.assign(label=None, stored=None, implied=True)
        links = pd.concat([links, extra], ignore_index=True)
    return links[cols].drop_duplicates(subset=[*keys, "label"]).reset_index(drop=True)


def _resolve(result: AuditResult, ref: RecordRef) -> RecordRef:
    """Fill the other side's id through the matches when the record is matched."""
    if ref.hubspot_id and ref.app_id:
        return ref
    m = _matches(result, ref.object)
    if ref.hubspot_id:
        hit = m.loc[m["h"] == ref.hubspot_id, "a"]
        return RecordRef(ref.object, ref.hubspot_id, hit.iloc[0] if len(hit) else "")
    hit = m.loc[m["a"] == ref.app_id, "h"]
    return RecordRef(ref.object, hit.iloc[0] if len(hit) else "", ref.app_id)


def _lookup(frame: pd.DataFrame, key: str, value_col: str, keys: pd.Series) -> pd.Series:
    mapping = dict(zip(frame[key], frame[value_col], strict=True))
    return keys.map(lambda k: mapping.get(k, "")).astype(str)


def record_links(result: AuditResult, record: RecordRef | str) -> RecordView:
    """Every link of one record on both sides, side by side, with why each differs.

    ``record`` is a :class:`RecordRef` (either id may be empty: the other is
    found through the matches) or text accepted by :meth:`RecordRef.parse`.
    Rows: one per (linked record, HubSpot label), links in sync first; the
    linked record is aligned across sides through the audit's matches, app
    labels are mapped to HubSpot text (an unmapped app label keeps its text).
    ``status`` is ``in sync``, ``only in HubSpot`` or ``only in <app>``;
    ``reason`` and ``why`` come from the finding of a one-sided link.
    """
    ref = _resolve(result, RecordRef.parse(record) if isinstance(record, str) else record)
    obj = ref.object
    app_name = result.config.app.name
    merged = _merged_links(
        result,
        _side_links(result, "hubspot", obj, ref.hubspot_id),
        _side_links(result, "app", obj, ref.app_id),
    )
    fx = _record_findings(result, ref)
    h_name = {(o, i): n for o, i, n in _names(result, "hubspot").itertuples(index=False)}
    a_name = {(o, i): n for o, i, n in _names(result, "app").itertuples(index=False)}
    rows = [
        _link_row(row, ref, app_name, fx, h_name, a_name)
        for row in merged.to_dict(orient="records")
    ]
    rows.sort(key=lambda r: r["_order"])
    links = pd.DataFrame([{k: v for k, v in r.items() if k != "_order"} for r in rows])
    if links.empty:
        links = pd.DataFrame(columns=list(LINK_COLUMNS))
    links = links.rename(columns={"app": app_name})
    return RecordView(ref, _title(result, ref), links)


def _merged_links(result: AuditResult, h: pd.DataFrame, a: pd.DataFrame) -> pd.DataFrame:
    """Both sides' links of the record, the linked record aligned across sides through the
    matches (HubSpot ids where a match exists), outer-joined (``_merge`` says where)."""
    for frame, own in ((h, "h"), (a, "a")):
        frame["h_other"] = ""
        frame["a_other"] = ""
        for other_obj in frame["other_object"].unique():
            m = _matches(result, str(other_obj))
            sel = frame["other_object"] == other_obj
            ids = frame.loc[sel, "other_id"].astype(str)
            if own == "h":
                frame.loc[sel, "h_other"] = ids
                frame.loc[sel, "a_other"] = _lookup(m, "h", "a", ids).to_numpy()
            else:
                frame.loc[sel, "a_other"] = ids
                frame.loc[sel, "h_other"] = _lookup(m, "a", "h", ids).to_numpy()
    for frame in (h, a):
        frame["align"] = np.where(
            frame["h_other"] != "", "h:" + frame["h_other"], "a:" + frame["a_other"]
        )
        frame["label_key"] = frame["label"].astype(object).where(frame["label"].notna(), "")
    keys = ["from_object", "to_object", "other_object", "align", "label_key"]
    merged = h.merge(a, how="outer", on=keys, suffixes=("_h", "_a"), indicator=True)
    return merged.astype(object).where(merged.notna(), None)


def _record_findings(result: AuditResult, ref: RecordRef) -> pd.DataFrame:
    """The findings about the record (as either endpoint), in short columns."""
    obj, findings = ref.object, result.findings
    touching = np.zeros(len(findings), dtype=bool)
    for side_col, rid in (("hubspot", ref.hubspot_id), ("app", ref.app_id)):
        if rid:
            for end in ("from", "to"):
                touching |= (
                    (findings[f"{end}_object"] == obj) & (findings[f"{side_col}_{end}_id"] == rid)
                ).to_numpy(dtype=bool, na_value=False)
    findings = findings.loc[touching]
    return pd.DataFrame(
        {
            "from_object": _text(findings["from_object"]),
            "to_object": _text(findings["to_object"]),
            "label_key": _text(findings["label"]),
            "present_in": _text(findings["present_in"]),
            "hf": _text(findings["hubspot_from_id"]),
            "ht": _text(findings["hubspot_to_id"]),
            "af": _text(findings["app_from_id"]),
            "at": _text(findings["app_to_id"]),
            "reason": _text(findings["reason"]),
            "why": _text(findings["detail"]),
        }
    )


def _link_row(
    row: Mapping[Any, Any],
    ref: RecordRef,
    app_name: str,
    fx: pd.DataFrame,
    h_name: dict[tuple[Any, Any], str],
    a_name: dict[tuple[Any, Any], str],
) -> dict[str, Any]:
    """One row of the record's view: the linked record, label, where it is, and why."""
    obj = ref.object
    in_h, in_a = row["_merge"] in ("both", "left_only"), row["_merge"] in ("both", "right_only")
    other_obj = row["other_object"]
    h_other = row.get("h_other_h") or row.get("h_other_a") or ""
    a_other = row.get("a_other_a") or row.get("a_other_h") or ""
    name = h_name.get((other_obj, h_other)) or a_name.get((other_obj, a_other)) or ""
    label = row["label_key"] or _UNLABELED
    implied = [
        where
        for where, flag in (
            ("HubSpot", in_h and row.get("implied_h")),
            (app_name, in_a and row.get("implied_a")),
        )
        if flag
    ]
    if implied:
        label += f" (implied in {' and '.join(implied)})"
    reason = why = ""
    if in_h != in_a:
        side = "hubspot" if in_h else "app"
        own_id = ref.hubspot_id if in_h else ref.app_id
        other_id = h_other if in_h else a_other
        f_col, t_col = ("hf", "ht") if in_h else ("af", "at")
        record_is_from = row["from_object"] == obj and not (
            row["to_object"] == obj and other_id == own_id
        )
        from_id, to_id = (own_id, other_id) if record_is_from else (other_id, own_id)
        hit = fx.loc[
            (fx["present_in"] == side)
            & (fx["from_object"] == row["from_object"])
            & (fx["to_object"] == row["to_object"])
            & (fx["label_key"] == row["label_key"])
            & (fx[f_col] == from_id)
            & (fx[t_col] == to_id)
        ]
        if len(hit):
            reason, why = hit["reason"].iloc[0], hit["why"].iloc[0]
    status = "in sync" if in_h and in_a else ("only in HubSpot" if in_h else f"only in {app_name}")
    return {
        "linked object": noun(str(other_obj)),
        "linked record": name,
        "label": label,
        "HubSpot": h_other if in_h else "—",
        "app": a_other if in_a else "—",
        "status": status,
        "reason": reason,
        "why": why,
        "_order": (status != "in sync", str(other_obj), len(h_other), h_other, label),
    }


def _title(result: AuditResult, ref: RecordRef) -> str:
    h_name = _names(result, "hubspot")
    a_name = _names(result, "app")
    name = ""
    for names, rid in ((h_name, ref.hubspot_id), (a_name, ref.app_id)):
        if rid and not name:
            hit = names.loc[(names["object"] == ref.object) & (names["id"] == rid), "name"]
            name = hit.iloc[0] if len(hit) else ""
    who = f"{noun(ref.object).capitalize()} '{name}'" if name else noun(ref.object).capitalize()
    ids = []
    ids.append(f"HubSpot {ref.hubspot_id}" if ref.hubspot_id else "no HubSpot counterpart")
    app = result.config.app.name
    ids.append(f"{app} {ref.app_id}" if ref.app_id else f"no {app} counterpart")
    recs = result.records
    status = ""
    if ref.hubspot_id or ref.app_id:
        sel = recs["object"] == ref.object
        if ref.hubspot_id:
            sel &= recs["hubspot_id"] == ref.hubspot_id
        else:
            sel &= recs["app_id"] == ref.app_id
        found = recs.loc[sel]
        if len(found):
            rule = found["rule"].iloc[0]
            status = str(found["status"].iloc[0])
            if not pd.isna(rule) and status != "unmatched":
                status += f" {'by' if status == 'matched' else 'under'} rule {int(rule)}"
    tail = f" — {status}" if status else ""
    return f"{who}: {' ↔ '.join(ids)}{tail}"
