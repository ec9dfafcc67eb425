"""The audit summary (``summary.json``): typed, frozen, with ``to_dict()``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from assoc_audit.reasons import ACTIONS, DEFAULT_FAIL_ON, REASONS, SIDES, Reason, count_failing

__all__ = ["AuditSummary", "PairSummary"]


@dataclass(frozen=True)
class PairSummary:
    """One audited pair: its direction, links per side, links in sync, findings."""

    from_object: str
    to_object: str
    direction: str
    hubspot_links: int
    app_links: int
    in_sync: int
    #: present_in -> reason -> count (every reason listed, zeros included)
    findings: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "from_object": self.from_object,
            "to_object": self.to_object,
            "direction": self.direction,
            "hubspot_links": self.hubspot_links,
            "app_links": self.app_links,
            "in_sync": self.in_sync,
            "findings": {side: dict(counts) for side, counts in self.findings.items()},
        }


@dataclass(frozen=True)
class AuditSummary:
    """What an audit found and did, for people, dashboards and exit codes.

    Links count the unlabeled link of every linked pair once (stored or
    implied) plus one per label; ``links.implied_*`` say how many unlabeled
    links were implied by a label. ``rows`` holds each side's validation counts
    (rows read, kept, skipped per object or pair, flipped, merged).
    """

    name: str
    app_name: str
    started_at: str
    config_digest: str
    findings: int
    by_reason: dict[str, int]
    by_action: dict[str, int]
    by_side: dict[str, int]
    pairs: tuple[PairSummary, ...]
    links: dict[str, int]
    matching: dict[str, dict[str, int]]
    rows: dict[str, dict[str, Any]]
    timings: dict[str, float]
    api: dict[str, dict[str, Any]]
    baseline: str | None = None
    baseline_links: dict[str, int] = field(default_factory=dict)
    #: The reasons that count against ``--max-findings`` for this run.
    fail_on: tuple[str, ...] = tuple(r.value for r in DEFAULT_FAIL_ON)
    #: Suspect empty reads let through with ``allow_empty`` (see :mod:`assoc_audit.emptyread`).
    empty_reads: tuple[dict[str, Any], ...] = ()
    #: How each side's ``snapshot/`` was stored when the outputs were written
    #: (``"hard-linked from <folder>"``, ``"copied from <folder>"`` or ``"written"``).
    snapshot: dict[str, str] = field(default_factory=dict)

    @property
    def in_sync(self) -> int:
        return int(self.links.get("in_sync", 0))

    @property
    def links_checked(self) -> int:
        """Distinct links compared: those in sync plus the one-sided ones."""
        return self.in_sync + self.findings

    @property
    def api_calls(self) -> int:
        """API calls made by both sides' connectors (0 for snapshots, files and SQL)."""
        return sum(int(usage.get("calls", 0) or 0) for usage in self.api.values())

    def failing(self, fail_on: Iterable[Reason | str] = DEFAULT_FAIL_ON) -> int:
        """How many findings have one of the ``fail_on`` reasons."""
        return count_failing(self.by_reason, fail_on)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "app_name": self.app_name,
            "started_at": self.started_at,
            "config_digest": self.config_digest,
            "findings": self.findings,
            "findings_total": self.findings,
            "findings_failing": self.failing(self.fail_on),
            "fail_on": list(self.fail_on),
            "links_checked": self.links_checked,
            "links_in_sync": self.in_sync,
            "by_reason": dict(self.by_reason),
            "by_action": dict(self.by_action),
            "by_side": dict(self.by_side),
            "pairs": [p.to_dict() for p in self.pairs],
            "links": dict(self.links),
            "matching": {k: dict(v) for k, v in self.matching.items()},
            "rows": self.rows,
            "timings": dict(self.timings),
            "api": {k: dict(v) for k, v in self.api.items()},
            "api_calls": self.api_calls,
            "baseline": self.baseline,
            "baseline_links": dict(self.baseline_links),
            "empty_reads": [dict(r) for r in self.empty_reads],
            "snapshot": dict(self.snapshot),
        }


def zero_counts(keys: Iterable[str]) -> dict[str, int]:
    return dict.fromkeys(keys, 0)


def reason_counts() -> dict[str, int]:
    return zero_counts(REASONS)


def action_counts() -> dict[str, int]:
    return zero_counts(ACTIONS)


def side_counts() -> dict[str, int]:
    return zero_counts(SIDES)
