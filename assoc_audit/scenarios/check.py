"""Checking scenarios: read only the run's records, audit them, judge each scenario.

The check never audits a whole portal: each side is read object by object and
pair by pair (links only from the run's records), subset to the run's records
(their ids, the ids of records the sync created, and any record carrying the
run's tag), and :func:`~assoc_audit.audit.run_audit` runs on those small
tables. A scenario then passes when:

- ``appears``: its probe link is on both sides (on the target side between the
  records meant to match, in the target's label text) and the audit reports
  nothing about the scenario's records;
- ``absent``: the probe link is on its source side only, and the audit's
  finding for it gives the expected reason.

Otherwise it fails, with what was observed and the finding (or its absence)
that explains why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from assoc_audit.audit import run_audit
from assoc_audit.connectors.base import assemble_records
from assoc_audit.scenarios.model import Scenario, side_label, side_name
from assoc_audit.scenarios.results import ScenarioResult
from assoc_audit.tables import TEXT, SideTables, empty_associations, identifier_columns

if TYPE_CHECKING:
    from assoc_audit.audit import AuditResult
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.connectors.base import Connector
    from assoc_audit.tables import Side

__all__ = ["Samples", "evaluate", "read_scoped", "tagged_ids", "target_present"]

_SIDES: tuple[Side, Side] = ("hubspot", "app")
_SEP = "\x1f"
Scope = dict["Side", dict[str, set[str]]]


@dataclass
class Samples:
    """The run's sample records: ids by (scenario, record key, side), failures, extras.

    Mutable on purpose: the runner fills it as records are created, so a
    clean-up after an interrupt still knows every id created so far.
    """

    tag: str
    ids: dict[tuple[str, str, Side], str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    created: dict[Side, dict[str, list[str]]] = field(
        default_factory=lambda: {"hubspot": {}, "app": {}}
    )

    def add(self, side: Side, obj: str, ids: list[str]) -> None:
        self.created[side].setdefault(obj, []).extend(ids)

    def scope(self, extra: Mapping[Side, Mapping[str, list[str]]] | None = None) -> Scope:
        """Ids per side and object: the records created, plus ``extra``."""
        out: Scope = {s: {o: set(v) for o, v in self.created[s].items()} for s in _SIDES}
        for side, objects in (extra or {}).items():
            for obj, ids in objects.items():
                out[side].setdefault(obj, set()).update(ids)
        return out


def tagged_ids(records: pd.DataFrame, tag: str) -> set[str]:
    """Ids of the records whose identifier values or display name contain ``tag``."""
    text_cols = [c for c in records.columns if c not in ("object", "record_id", "updated_at")]
    hit = np.zeros(len(records), dtype=bool)
    for col in text_cols:
        hit |= records[col].astype(TEXT).str.contains(tag, regex=False).fillna(False).to_numpy()
    return set(records.loc[hit, "record_id"].astype(str))


def read_scoped(
    config: IntegrationConfig, connectors: Mapping[Side, Connector], scope: Scope, tag: str
) -> tuple[dict[Side, SideTables], Scope]:
    """Both sides' tables restricted to ``scope`` and tagged records; and the scope used."""
    sides: dict[Side, SideTables] = {}
    used: Scope = {s: {o: set(v) for o, v in scope[s].items()} for s in _SIDES}
    for side in _SIDES:
        connector = connectors[side]
        frames = []
        for obj in config.audited_objects:
            if obj not in used[side]:
                continue
            records = connector.read_records(obj)
            used[side][obj] |= tagged_ids(records, tag)
            keep = records["record_id"].isin(sorted(used[side][obj])).to_numpy()
            frames.append(records.loc[keep])
        records = assemble_records(frames, identifier_columns(config, side))
        parts = [empty_associations()]
        for pair in config.pairs:
            from_ids, to_ids = used[side].get(pair[0]), used[side].get(pair[1])
            if not from_ids or not to_ids:
                continue
            links = connector.read_associations(pair, from_ids=sorted(from_ids))
            parts.append(links.loc[links["to_id"].isin(sorted(to_ids)).to_numpy()])
        links = pd.concat(parts, ignore_index=True).astype(TEXT)
        sides[side] = SideTables(side, records.reset_index(drop=True), links, {"scoped": True})
    return sides, used


def _has_link(
    links: pd.DataFrame,
    pair: tuple[str, str],
    froms: set[str],
    tos: set[str],
    label: str | None,
    any_label: bool,
) -> bool:
    if not froms or not tos:
        return False
    hit = (
        (links["from_object"] == pair[0])
        & (links["to_object"] == pair[1])
        & links["from_id"].isin(sorted(froms))
        & links["to_id"].isin(sorted(tos))
    )
    if not any_label:
        hit &= links["label"].isna() if label is None else links["label"] == label
    return bool(hit.fillna(False).any())


def _finding_dict(row: Any) -> dict[str, Any]:
    keys = ("finding_id", "present_in", "label", "reason", "action", "detail")
    return {k: (None if pd.isna(row[k]) else str(row[k])) for k in keys}


def _counterparts(
    scenario: Scenario, samples: Samples, key: str, side: Side, audit: AuditResult | None
) -> set[str]:
    """Records on ``side`` meant to match record ``key`` (same identity), or matched to it."""
    identity = scenario.record(key).identity
    out = {
        samples.ids[(scenario.id, r.key, side)]
        for r in scenario.records
        if r.identity == identity and (scenario.id, r.key, side) in samples.ids
    }
    other: Side = "app" if side == "hubspot" else "hubspot"
    own = samples.ids.get((scenario.id, key, other))
    if audit is not None and own is not None:
        recs = audit.records
        obj = scenario.record(key).obj
        mine, theirs = f"{other}_id", f"{side}_id"
        hit = (recs["object"] == obj) & (recs[mine] == own) & (recs["status"] == "matched")
        out |= {str(v) for v in recs.loc[hit.fillna(False), theirs] if not pd.isna(v)}
    return out


def target_present(
    config: IntegrationConfig, scenario: Scenario, samples: Samples, links: pd.DataFrame
) -> bool:
    """True if the probe link is on the target side (``links``: that side's links)."""
    probe, target = scenario.probe, scenario.target
    froms = _counterparts(scenario, samples, probe.from_key, target, None)
    tos = _counterparts(scenario, samples, probe.to_key, target, None)
    text = side_label(config, scenario.pair, probe.label, target)
    return _has_link(links, scenario.pair, froms, tos, text, probe.label is None)


def _findings_about(
    scenario: Scenario, samples: Samples, f: pd.DataFrame, sf: str, st: str
) -> tuple[dict[str, Any] | None, tuple[dict[str, Any], ...]]:
    """The finding for the scenario's probe link (``sf`` → ``st`` on its source side), if
    any, and the other findings between the scenario's own records."""
    probe, src, pair = scenario.probe, scenario.source, scenario.pair
    mine = (
        (f["present_in"] == src)
        & (f["from_object"] == pair[0])
        & (f["to_object"] == pair[1])
        & (f["label"].fillna("") == (probe.label or ""))
        & (f[f"{src}_from_id"] == sf)
        & (f[f"{src}_to_id"] == st)
    ).fillna(False)
    finding = _finding_dict(f.loc[mine].iloc[0]) if mine.any() else None
    related = np.zeros(len(f), dtype=bool)
    for side in _SIDES:
        own = sorted(
            f"{r.obj}{_SEP}{samples.ids[(scenario.id, r.key, side)]}"
            for r in scenario.records
            if (scenario.id, r.key, side) in samples.ids
        )
        ends = [
            f[f"{end}_object"].astype(str) + _SEP + f[f"{side}_{end}_id"].astype(str)
            for end in ("from", "to")
        ]
        hit = (f["present_in"] == side) & ends[0].isin(own) & ends[1].isin(own)
        related |= hit.fillna(False).to_numpy()
    others = tuple(_finding_dict(r) for _, r in f.loc[related & ~mine.to_numpy()].iterrows())
    return finding, others


def evaluate(
    config: IntegrationConfig,
    scenario: Scenario,
    samples: Samples,
    sides: Mapping[Side, SideTables],
    audit: AuditResult,
    failures: Mapping[tuple[str, str, str, str], str] | None = None,
) -> ScenarioResult:
    """Judge one scenario from the scoped tables and their audit.

    ``failures``: writes the sync reported as failed, by (source side, from id,
    to id, label); a failed scenario's explanation quotes its probe's.
    """
    if scenario.id in samples.failed:
        return ScenarioResult(
            scenario, "error", "not set up", f"setup failed: {samples.failed[scenario.id]}"
        )
    probe, src, dst = scenario.probe, scenario.source, scenario.target
    pair = scenario.pair
    sf = samples.ids[(scenario.id, probe.from_key, src)]
    st = samples.ids[(scenario.id, probe.to_key, src)]
    src_text = side_label(config, pair, probe.label, src)
    on_src = _has_link(sides[src].associations, pair, {sf}, {st}, src_text, probe.label is None)
    froms = _counterparts(scenario, samples, probe.from_key, dst, audit)
    tos = _counterparts(scenario, samples, probe.to_key, dst, audit)
    dst_text = side_label(config, pair, probe.label, dst)
    on_dst = _has_link(sides[dst].associations, pair, froms, tos, dst_text, probe.label is None)

    finding, others = _findings_about(scenario, samples, audit.findings, sf, st)
    names = {s: side_name(config, s) for s in _SIDES}
    if on_src and on_dst:
        observed = "in both"
    elif on_src:
        observed = f"only in {names[src]}" + (f": {finding['reason']}" if finding else "")
    elif on_dst:
        observed = f"only in {names[dst]}"
    else:
        observed = "in neither"

    if scenario.expected == "appears":
        if on_src and on_dst and not finding and not others:
            return ScenarioResult(
                scenario, "pass", observed, f"The link reached {names[dst]}; nothing to report."
            )
        also = "; ".join(f"{o['reason']}: {o['detail']}" for o in others[:2])
        if finding:
            why = f"{finding['reason']}: {finding['detail']}" + (f" Also {also}" if also else "")
        elif others:
            why = f"the audit reports {also}"
        elif not on_src:
            why = f"the link is gone from {names[src]}"
        else:
            why = f"the link did not reach {names[dst]} and the audit finds no reason"
        refused = (failures or {}).get((src, sf, st, probe.label or ""))
        if refused:
            why += f" The sync's write to {names[dst]} failed: {refused}"
        return ScenarioResult(scenario, "fail", observed, why, finding, others)

    expected = scenario.reason
    if on_src and not on_dst and finding and finding["reason"] == expected:
        return ScenarioResult(scenario, "pass", observed, str(finding["detail"]), finding, others)
    if on_dst:
        why = f"the link reached {names[dst]}, though {expected} should have stopped it"
    elif not on_src:
        why = f"the link is gone from {names[src]}"
    elif finding:
        why = f"the audit gives {finding['reason']}, not {expected}: {finding['detail']}"
    else:
        why = "the audit reports no finding for the link"
    return ScenarioResult(scenario, "fail", observed, why, finding, others)


def audit_scoped(config: IntegrationConfig, sides: Mapping[Side, SideTables]) -> AuditResult:
    """The audit of the scoped tables."""
    return run_audit(config, hubspot=sides["hubspot"], app=sides["app"])
