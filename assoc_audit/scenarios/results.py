"""Scenario results: per scenario a verdict with what was observed, and the run's report.

A :class:`ScenarioReport` renders as a table (text, a DataFrame, CSV) and as
JSON, with the columns ``scenario``, ``kind``, ``direction``, ``expected``,
``observed``, ``verdict`` and ``finding`` (the audit's explanation of the
probe link: reason and detail sentence, or why the scenario failed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from assoc_audit.atomicfile import atomic_write_text
from assoc_audit.outputs import write_csv
from assoc_audit.scenarios.model import Scenario

__all__ = ["TABLE_COLUMNS", "CleanupResult", "ScenarioReport", "ScenarioResult", "Verdict"]

Verdict = Literal["pass", "fail", "error"]
#: Columns of the results table, in order.
TABLE_COLUMNS: tuple[str, ...] = (
    "scenario",
    "kind",
    "direction",
    "expected",
    "observed",
    "verdict",
    "finding",
)


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario's outcome.

    ``observed`` is a short phrase (``in both``, ``only in HubSpot:
    direction_blocked``); ``finding`` the audit's finding for the probe link
    (``finding_id``, ``reason``, ``action``, ``detail``) when there is one;
    ``explanation`` one sentence saying why it passed or failed.
    """

    scenario: Scenario
    verdict: Verdict
    observed: str
    explanation: str
    finding: dict[str, Any] | None = None
    other_findings: tuple[dict[str, Any], ...] = ()

    def direction(self, app_name: str) -> str:
        names = {"hubspot": "HubSpot", "app": app_name}
        return f"{names[self.scenario.source]} → {names[self.scenario.target]}"

    @property
    def expected(self) -> str:
        s = self.scenario
        return "appears" if s.expected == "appears" else f"absent: {s.reason}"

    def row(self, app_name: str) -> dict[str, Any]:
        return {
            "scenario": self.scenario.id,
            "kind": self.scenario.kind,
            "direction": self.direction(app_name),
            "expected": self.expected,
            "observed": self.observed,
            "verdict": self.verdict,
            "finding": self.explanation,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.to_dict(),
            "verdict": self.verdict,
            "observed": self.observed,
            "explanation": self.explanation,
            "finding": self.finding,
            "other_findings": list(self.other_findings),
        }


@dataclass(frozen=True)
class CleanupResult:
    """What the clean-up deleted and what (if anything) is left, per side and object."""

    deleted: dict[str, dict[str, int]] = field(default_factory=dict)
    leftovers: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    errors: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors and not any(
            ids for side in self.leftovers.values() for ids in side.values()
        )

    def summary(self) -> str:
        total = sum(n for side in self.deleted.values() for n in side.values())
        if self.ok:
            return f"clean-up: {total} sample records deleted, nothing left"
        left = sum(len(ids) for side in self.leftovers.values() for ids in side.values())
        text = f"clean-up INCOMPLETE: {total} records deleted, {left} left"
        for side, objects in self.leftovers.items():
            for obj, ids in objects.items():
                if ids:
                    text += f"; {side} {obj}: {', '.join(ids[:10])}"
        for err in self.errors:
            text += f"; {err}"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "deleted": self.deleted,
            "leftovers": self.leftovers,
            "errors": list(self.errors),
        }


@dataclass(frozen=True)
class ScenarioReport:
    """A scenario run: results, where it ran, the sync it used and the clean-up."""

    name: str
    app_name: str
    digest: str
    target: dict[str, str]
    emulator: bool
    tag: str
    started_at: str
    seconds: float
    results: tuple[ScenarioResult, ...]
    sync: dict[str, Any]
    cleanup: CleanupResult

    @property
    def passed(self) -> bool:
        """True if every scenario passed and the clean-up left nothing."""
        return all(r.verdict == "pass" for r in self.results) and self.cleanup.ok

    def counts(self) -> dict[str, int]:
        out = {"pass": 0, "fail": 0, "error": 0}
        for r in self.results:
            out[r.verdict] += 1
        return out

    def to_frame(self) -> pd.DataFrame:
        """The results table (:data:`TABLE_COLUMNS`)."""
        rows = [r.row(self.app_name) for r in self.results]
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))

    def summary(self) -> str:
        c = self.counts()
        where = "the sandbox emulator" if self.emulator else self.target["hubspot"]
        return (
            f"{self.name}: {len(self.results)} scenarios against {where} — {c['pass']} passed, "
            f"{c['fail']} failed, {c['error']} errors ({self.seconds:.1f} s, tag {self.tag})"
        )

    def render(self, *, width: int = 60) -> str:
        """The results as a text table, the summary and the clean-up line."""
        frame = self.to_frame()
        frame["finding"] = frame["finding"].map(
            lambda t: t if len(t) <= width else t[: width - 1] + "…"
        )
        frame["verdict"] = frame["verdict"].str.upper()
        table = frame.to_string(index=False, justify="left")
        return "\n".join([table, self.summary(), self.cleanup.summary()])

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "digest": self.digest,
            "target": self.target,
            "emulator": self.emulator,
            "tag": self.tag,
            "started_at": self.started_at,
            "seconds": round(self.seconds, 3),
            "passed": self.passed,
            "counts": self.counts(),
            "results": [r.to_dict() for r in self.results],
            "sync": self.sync,
            "cleanup": self.cleanup.to_dict(),
        }

    def write(self, folder: Path | str) -> Path:
        """Write ``scenarios.json`` and ``scenarios.csv`` (the table) to ``folder``.

        Both atomically and fsynced; the CSV like the audit's (``outputs.write_csv``:
        RFC 4180, spreadsheet formulas neutralised).
        """
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str)
        atomic_write_text(out / "scenarios.json", text + "\n")
        write_csv(self.to_frame().astype("string"), out / "scenarios.csv")
        return out
