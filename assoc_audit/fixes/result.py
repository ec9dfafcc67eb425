"""What an apply (or undo) run did: :class:`ApplyResult`, its conflicts and verification."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assoc_audit.fixes.model import LabelSet, PairKey, format_labels, labels_to_json, pair_text

__all__ = ["ApplyResult", "PairConflict", "Verification"]

_SHOWN = 20


@dataclass(frozen=True)
class PairConflict:
    """A touched pair whose labels changed since planning in a way the plan does not lead to."""

    pair: PairKey
    planned: LabelSet
    now: LabelSet
    target: LabelSet

    def line(self) -> str:
        return (
            f"{pair_text(self.pair)}: labels at planning {format_labels(self.planned)}; "
            f"now {format_labels(self.now)}; the plan leads to {format_labels(self.target)}"
        )

    def to_dict(self) -> dict[str, Any]:
        side, fo, fid, to, tid = self.pair
        return {
            "side": side,
            "from_object": fo,
            "from_id": fid,
            "to_object": to,
            "to_id": tid,
            "labels_at_planning": labels_to_json(self.planned),
            "labels_now": labels_to_json(self.now),
            "labels_planned": labels_to_json(self.target),
        }


@dataclass(frozen=True)
class Verification:
    """The read after an apply: which settled operations are in effect, what is in sync."""

    operations_in_effect: int
    operations_expected: int
    missing: tuple[int, ...]
    missing_earlier: tuple[int, ...]
    findings_resolved: int
    findings_total: int
    pairs_checked: int
    pairs_as_planned: int
    pairs_other: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "operations_in_effect": self.operations_in_effect,
            "operations_expected": self.operations_expected,
            "missing": list(self.missing),
            "missing_earlier": list(self.missing_earlier),
            "findings_resolved": self.findings_resolved,
            "findings_total": self.findings_total,
            "pairs_checked": self.pairs_checked,
            "pairs_as_planned": self.pairs_as_planned,
            "pairs_other": list(self.pairs_other),
        }

    def lines(self) -> list[str]:
        out = [
            f"verification: {self.operations_in_effect} of {self.operations_expected} done "
            f"operations are in effect; {self.findings_resolved} of {self.findings_total} "
            f"findings resolved; {self.pairs_as_planned} of {self.pairs_checked} touched pairs "
            "hold exactly the planned labels"
        ]
        if self.missing:
            shown = ", ".join(f"#{n}" for n in self.missing[:_SHOWN])
            out.append(f"  not in effect after this run: {shown}")
        if self.missing_earlier:
            shown = ", ".join(f"#{n}" for n in self.missing_earlier[:_SHOWN])
            out.append(
                f"  done by an earlier run but no longer in effect: {shown} (changed since; "
                "a plan is single-use: audit again and make a new plan)"
            )
        for line in self.pairs_other[:5]:
            out.append(f"  changed beyond the plan (the side's own rules): {line}")
        return out


@dataclass(frozen=True)
class ApplyResult:
    """The outcome of ``apply``/``undo``: counts, conflicts, failures, verification."""

    kind: str
    dry_run: bool
    digest: str
    journal: Path | None
    operations: int
    written: int = 0
    already: int = 0
    to_write: int = 0
    settled_before: int = 0
    failed: tuple[tuple[int, str], ...] = ()
    conflicts: tuple[PairConflict, ...] = ()
    verification: Verification | None = None
    api: Mapping[str, Any] = field(default_factory=dict)
    preview: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """0 clean or dry run, 1 conflicts, failures or missing effects (DESIGN §8)."""
        if self.dry_run:
            return 0
        if self.conflicts or self.failed:
            return 1
        if self.verification is not None and not self.verification.ok:
            return 1
        return 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "digest": self.digest,
            "journal": str(self.journal) if self.journal else None,
            "operations": self.operations,
            "written": self.written,
            "already": self.already,
            "to_write": self.to_write,
            "settled_before": self.settled_before,
            "failed": [{"op": n, "message": m} for n, m in self.failed],
            "conflicts": [c.to_dict() for c in self.conflicts],
            "verification": self.verification.to_dict() if self.verification else None,
            "api": dict(self.api),
            "exit_code": self.exit_code,
        }

    def lines(self) -> list[str]:
        """What the CLI prints."""
        what = "undo" if self.kind == "undo" else "apply"
        if self.conflicts:
            n = len(self.conflicts)
            pairs = (
                f"{n} touched pair{'s' if n != 1 else ''} changed since planning in a way "
                "the plan does not lead to"
            )
            head = (
                f"dry run ({what}): it would be refused: {pairs}; nothing was written:"
                if self.dry_run
                else f"{what} refused: {pairs}; nothing was written:"
            )
            out = [head]
            out += [f"  {c.line()}" for c in self.conflicts[:_SHOWN]]
            if n > _SHOWN:
                out.append(f"  … and {n - _SHOWN} more")
            out.append("audit again and make a new plan")
            return out
        if self.dry_run:
            out = [
                f"dry run ({what}): {self.to_write} of {self.operations} operations would be "
                f"written, {self.already} already in effect"
                + (f", {self.settled_before} done by an earlier run" if self.settled_before else "")
                + "; nothing was written"
            ]
            out += [f"  {line}" for line in self.preview]
            out.append(f"to {what} it, confirm with: --confirm {self.digest}")
            return out
        out = []
        if self.written == 0 and self.already == 0 and not self.failed:
            out.append(
                f"nothing to do: all {self.operations} operations were settled by an earlier run"
            )
        else:
            out.append(
                f"{what}: {self.written} written, {self.already} already in effect, "
                f"{len(self.failed)} failed"
                + (f", {self.settled_before} done by an earlier run" if self.settled_before else "")
            )
        for n, message in self.failed[:_SHOWN]:
            out.append(f"  failed #{n}: {message}")
        if self.verification is not None:
            out += self.verification.lines()
        calls = ", ".join(f"{k} {v.get('calls', 0)}" for k, v in self.api.items())
        if calls:
            out.append(f"API calls: {calls}")
        if self.journal is not None:
            out.append(f"journal: {self.journal}")
        return out
