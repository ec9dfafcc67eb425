"""The interactive mismatch explorer (ipywidgets) of ``mismatches.ipynb``.

Filters (reason, object pair, side) narrow the findings table; a record picker
lists the from-records of the filtered findings (most findings first) and
shows the picked record's links on both sides, side by side, with why each
one-sided link differs. The logic lives in :mod:`assoc_audit.notebook.explore`; this
module only wires controls to it. Headless runs show static tables instead
(``interactive=False`` in the notebook).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assoc_audit.notebook.explore import (
    RecordRef,
    filter_findings,
    finding_records,
    pair_names,
    record_links,
)
from assoc_audit.reasons import REASONS

if TYPE_CHECKING:
    from assoc_audit.audit import AuditResult

__all__ = ["MismatchExplorer", "mismatch_explorer"]

_ALL = "all"


@dataclass
class MismatchExplorer:
    """The explorer's controls and outputs (kept for tests and for re-use in cells)."""

    result: AuditResult
    reason: Any
    pair: Any
    side: Any
    record: Any
    findings_out: Any
    record_out: Any
    box: Any
    max_rows: int = 100

    def filtered(self) -> Any:
        return filter_findings(
            self.result.findings,
            reason=self.reason.value,
            pair=self.pair.value,
            side=self.side.value,
        )

    def refresh(self, *_: Any) -> None:
        """Re-filter the findings and refill the record picker."""
        from assoc_audit.notebook.session import show_findings

        frame = self.filtered()
        self.findings_out.clear_output(wait=True)
        with self.findings_out:
            show_findings(frame, max_rows=self.max_rows)
        records = finding_records(frame)
        options = [("—", "")]
        for obj, hubspot_id, app_id, n, reasons in records.itertuples(index=False):
            ids = str(hubspot_id) or f"app {app_id}"
            options.append(
                (
                    f"{obj} {ids} · {n} finding(s): {reasons}",
                    RecordRef(str(obj), str(hubspot_id), str(app_id)).key,
                )
            )
        self.record.options = options
        self.record.value = options[1][1] if len(options) > 1 else ""

    def show_record(self, *_: Any) -> None:
        from assoc_audit.notebook.session import show_record

        self.record_out.clear_output(wait=True)
        if not self.record.value:
            return
        with self.record_out:
            show_record(record_links(self.result, RecordRef.parse(self.record.value)))


def mismatch_explorer(result: AuditResult, *, max_rows: int = 100) -> MismatchExplorer:
    """Build the explorer for an audit result; display ``explorer.box``."""
    import ipywidgets as w

    findings = result.findings
    present = set(findings["reason"].astype(str))
    reasons = [_ALL, *[r for r in REASONS if r in present]]
    pairs = [_ALL, *sorted(set(pair_names(findings)))]
    layout = w.Layout(width="auto")
    reason = w.Dropdown(options=reasons, value=_ALL, description="reason", layout=layout)
    pair = w.Dropdown(options=pairs, value=_ALL, description="pair", layout=layout)
    side = w.ToggleButtons(
        options=[
            ("both", _ALL),
            ("only in HubSpot", "hubspot"),
            (f"only in {result.config.app.name}", "app"),
        ],
        value=_ALL,
        description="side",
    )
    record = w.Dropdown(
        options=[("—", "")], value="", description="record", layout=w.Layout(width="90%")
    )
    findings_out = w.Output()
    record_out = w.Output()
    box = w.VBox(
        [
            w.HBox([reason, pair]),
            side,
            findings_out,
            w.HTML("<b>Pick a record to see its links on both sides</b>"),
            record,
            record_out,
        ]
    )
    explorer = MismatchExplorer(
        result, reason, pair, side, record, findings_out, record_out, box, max_rows
    )
    for control in (reason, pair, side):
        control.observe(explorer.refresh, names="value")
    record.observe(explorer.show_record, names="value")
    explorer.refresh()
    explorer.show_record()
    return explorer
