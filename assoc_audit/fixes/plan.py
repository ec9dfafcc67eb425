"""Fix plans: the operations, their targets and digest; JSON and CSV files; a summary.

A plan file (``plan.json``) holds::

    {"format": "assoc-audit fix plan", "version": 2, "kind": "apply" | "undo",
     "digest": "<64 hex>", "targets": {"hubspot": {...}, "app": {...}},
     "integration": "<config name>", "created_at": "<UTC ISO-8601>",
     "source": {"findings": "<folder>"} | {"journal": "<file>", "plan_digest": "…"},
     "summary": {...}, "operations": [{...}, ...]}

and a CSV copy of the operations beside it (``plan.csv``: one row per
operation, ``finding_ids`` joined by ``;``, ``labels_before`` as JSON text).
Reading a plan recomputes its digest: a file edited after planning is refused.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from assoc_audit.atomicfile import atomic_write_text
from assoc_audit.errors import PlanError
from assoc_audit.fixes.digest import plan_digest
from assoc_audit.fixes.model import Operation, format_labels
from assoc_audit.outputs import write_csv

__all__ = ["PLAN_FORMAT", "PLAN_VERSION", "FixPlan", "PlanSummary", "csv_path", "read_plan"]

PLAN_FORMAT = "assoc-audit fix plan"
#: Version 2: targets carry the portal id of a written HubSpot side and the app's routes.
PLAN_VERSION = 2
PlanKind = Literal["apply", "undo"]
_FIRST_ROWS = 10


@dataclass(frozen=True)
class PlanSummary:
    """Counts of a plan for people: by action and side, by object pair, the first rows."""

    kind: str
    operations: int
    by_action: Mapping[str, int]
    by_pair: Mapping[str, int]
    side_effects: int
    implied: int
    findings: int
    first: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "operations": self.operations,
            "by_action": dict(self.by_action),
            "by_pair": dict(self.by_pair),
            "side_effects": self.side_effects,
            "implied": self.implied,
            "findings": self.findings,
            "first": list(self.first),
        }

    def lines(self) -> list[str]:
        """The summary as printed by ``assoc-audit plan``."""
        if not self.operations:
            return ["0 operations: nothing to " + ("undo" if self.kind == "undo" else "repair")]
        n = f"{self.operations} operation{'s' if self.operations != 1 else ''}"
        what = (
            "undoing an apply"
            if self.kind == "undo"
            else f"resolving {self.findings} finding{'s' if self.findings != 1 else ''}"
        )
        out = [
            f"{n} {what} ({self.side_effects} side effect{'s' if self.side_effects != 1 else ''}"
            f", {self.implied} done by HubSpot itself)"
        ]
        out.append("by action and side:")
        out += [f"  {k:<22} {v}" for k, v in self.by_action.items()]
        out.append("by side and object pair:")
        out += [f"  {k:<40} {v}" for k, v in self.by_pair.items()]
        out.append(f"first {len(self.first)} operations:")
        out += [f"  {line}" for line in self.first]
        return out


@dataclass(frozen=True)
class FixPlan:
    """A fix plan (DESIGN §7). Build one with :func:`~.planning.make_plan` or
    :func:`~.undo.make_undo_plan`; :meth:`write` saves it, :func:`read_plan` loads it."""

    kind: PlanKind
    operations: tuple[Operation, ...]
    targets: Mapping[str, Any]
    integration: str
    created_at: str
    source: Mapping[str, Any] = field(default_factory=dict)
    digest: str = ""

    def __post_init__(self) -> None:
        if not self.digest:
            object.__setattr__(self, "digest", plan_digest(self.operations, self.targets))

    def __len__(self) -> int:
        return len(self.operations)

    @property
    def by_id(self) -> dict[int, Operation]:
        return {op.op_id: op for op in self.operations}

    def summary(self) -> PlanSummary:
        ops = self.operations
        by_action = Counter(f"{op.action} in {op.side}" for op in ops)
        by_pair = Counter(f"{op.side} {op.from_object}→{op.to_object}" for op in ops)
        findings = {f for op in ops for f in op.finding_ids}
        return PlanSummary(
            kind=self.kind,
            operations=len(ops),
            by_action=dict(sorted(by_action.items())),
            by_pair=dict(sorted(by_pair.items())),
            side_effects=sum(1 for op in ops if op.cause is not None),
            implied=sum(1 for op in ops if op.implied),
            findings=len(findings),
            first=tuple(_describe(op) for op in ops[:_FIRST_ROWS]),
        )

    def frame(self) -> pd.DataFrame:
        """The operations as a table (the CSV's columns)."""
        rows = []
        for op in self.operations:
            d = op.to_dict()
            d["finding_ids"] = ";".join(op.finding_ids) or None
            d["labels_before"] = json.dumps(d["labels_before"], ensure_ascii=False)
            rows.append(d)
        columns = list(Operation.__dataclass_fields__)
        frame = pd.DataFrame(rows, columns=columns)
        text = [c for c in columns if c not in ("op_id", "cause", "implied")]
        frame[text] = frame[text].astype("string[pyarrow]")
        frame["op_id"] = frame["op_id"].astype("int64")
        frame["cause"] = frame["cause"].astype("Int64")
        frame["implied"] = frame["implied"].astype(bool)
        return frame

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "version": PLAN_VERSION,
            "kind": self.kind,
            "digest": self.digest,
            "targets": dict(self.targets),
            "integration": self.integration,
            "created_at": self.created_at,
            "source": dict(self.source),
            "summary": self.summary().to_dict(),
            "operations": [op.to_dict() for op in self.operations],
        }

    def write(self, path: Path | str) -> Path:
        """Write the plan JSON to ``path`` and its CSV beside it (``.csv``); atomically."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out, json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n")
        write_csv(self.frame(), csv_path(out))
        return out


def _describe(op: Operation) -> str:
    line = op.describe()
    if op.implied:
        line += f" (done by HubSpot with #{op.cause})"
    elif op.cause is not None:
        line += f" (side effect of #{op.cause})"
    return f"{line}; labels now: {format_labels(op.labels_before)}"


def csv_path(path: Path) -> Path:
    """The CSV copy of a plan file: ``plan.json`` → ``plan.csv``."""
    return (
        path.with_suffix(".csv") if path.suffix == ".json" else path.with_name(path.name + ".csv")
    )


def read_plan(path: Path | str) -> FixPlan:
    """Load a plan file; refuses a file that is malformed or edited after planning."""
    file = Path(path)
    try:
        data = json.loads(file.read_text("utf-8"))
    except FileNotFoundError:
        raise PlanError(f"{file}: plan file not found", file=str(file)) from None
    except (OSError, ValueError) as exc:
        raise PlanError(f"{file}: not a readable plan file: {exc}", file=str(file)) from None
    if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
        raise PlanError(f"{file}: not an assoc-audit fix plan", file=str(file))
    if data.get("version") != PLAN_VERSION:
        raise PlanError(
            f"{file}: plan format {data.get('version')!r} was written by another version of "
            f"assoc-audit (this one reads format {PLAN_VERSION}); make a new plan",
            file=str(file),
        )
    kind = data.get("kind")
    if kind not in ("apply", "undo"):
        raise PlanError(f"{file}: unknown plan kind {kind!r}", file=str(file))
    raw_ops = data.get("operations")
    targets = data.get("targets")
    if not isinstance(raw_ops, list) or not isinstance(targets, dict):
        raise PlanError(f"{file}: operations or targets missing", file=str(file))
    ops: list[Operation] = []
    for n, raw in enumerate(raw_ops, start=1):
        try:
            if not isinstance(raw, dict):
                raise ValueError("not a mapping")
            ops.append(Operation.from_dict(raw))
        except ValueError as exc:
            raise PlanError(
                f"{file}: operation {n}: {exc}", file=str(file), row=n, field="operations"
            ) from None
    _check_ids(ops, file)
    digest = str(data.get("digest", ""))
    plan = FixPlan(
        kind=kind,
        operations=tuple(ops),
        targets=targets,
        integration=str(data.get("integration", "")),
        created_at=str(data.get("created_at", "")),
        source=dict(data["source"]) if isinstance(data.get("source"), dict) else {},
    )
    if plan.digest != digest:
        raise PlanError(
            f"{file}: the plan was changed after it was made (its digest no longer matches "
            "its operations); make a new plan",
            file=str(file),
        )
    return plan


def _check_ids(ops: Sequence[Operation], file: Path) -> None:
    ids = [op.op_id for op in ops]
    if ids != list(range(1, len(ops) + 1)):
        raise PlanError(f"{file}: operation ids must be 1, 2, 3, … in order", file=str(file))
    for op in ops:
        if op.cause is not None and not 1 <= op.cause <= len(ops):
            raise PlanError(
                f"{file}: operation {op.op_id}: cause {op.cause} is not an operation",
                file=str(file),
            )
