"""Sending a plan's operations through the connectors, chunk by chunk, journaling each outcome.

:class:`Run` is one apply session's writing part (see :mod:`.apply` for the
whole apply): removals before creations per side, chunks of one object pair
(and, for removals, one kind of label) with at most ``chunk_size`` record
pairs, a ``write`` record before each connector call and the outcomes right
after it, failed rows retried, implied operations sharing their cause's
outcome, a relabel's two parts combined into one outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from assoc_audit.errors import AssocAuditError
from assoc_audit.fixes.journal import Journal, op_record
from assoc_audit.fixes.model import SIDES, Operation
from assoc_audit.fixes.plan import FixPlan

if TYPE_CHECKING:
    from assoc_audit.connectors.base import Connector

__all__ = ["Progress", "Run"]

Progress = Callable[[str, int, int], None]


def _chunks(ops: Sequence[Operation], size: int, phase: str) -> Iterator[list[Operation]]:
    """Consecutive chunks of one object pair (and, for removes, one kind of label)
    with at most ``size`` distinct record pairs each."""
    groups: dict[tuple[str, ...], list[Operation]] = {}
    for op in ops:
        kind = "unlabeled" if phase == "remove" and op.removes() == (None,) else "label"
        groups.setdefault((op.side, op.from_object, op.to_object, kind), []).append(op)
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2], k[3] != "label")):
        chunk: list[Operation] = []
        seen: set[tuple[str, str]] = set()
        for op in groups[key]:
            rec = (op.from_id, op.to_id)
            if rec not in seen and len(seen) >= size:
                yield chunk
                chunk, seen = [], set()
            seen.add(rec)
            chunk.append(op)
        if chunk:
            yield chunk


def _edges(ops: Sequence[Operation], phase: str) -> pd.DataFrame:
    rows = [
        {
            "from_object": op.from_object,
            "from_id": op.from_id,
            "to_object": op.to_object,
            "to_id": op.to_id,
            "label": (op.removes() if phase == "remove" else op.creates())[0],
        }
        for op in ops
    ]
    return pd.DataFrame(rows, columns=["from_object", "from_id", "to_object", "to_id", "label"])


class Run:
    """One apply session's state (connectors, journal, outcomes)."""

    def __init__(
        self,
        plan: FixPlan,
        connectors: Mapping[str, Connector],
        journal: Journal,
        *,
        chunk_size: int,
        retries: int,
        progress: Progress | None,
    ) -> None:
        self.plan = plan
        self.ops = plan.by_id
        self.connectors = connectors
        self.journal = journal
        self.chunk_size = max(1, chunk_size)
        self.retries = max(0, retries)
        self.progress = progress
        self.session = 0
        self.status: dict[int, str] = {}
        self.messages: dict[int, str | None] = {}
        self.remove_part: dict[int, tuple[str, str | None]] = {}
        self.implied_by: dict[int, list[Operation]] = {}
        self.done = 0

    def ensure_session(self) -> None:
        if not self.session:
            self.session = self.journal.start_session()

    def record(self, ops: Sequence[Operation]) -> None:
        self.ensure_session()
        self.journal.append(
            op_record(op, self.status[op.op_id], self.messages.get(op.op_id), self.session)
            for op in ops
        )

    def _send(self, side: str, phase: str, ops: Sequence[Operation]) -> list[tuple[str, Any]]:
        connector = self.connectors[side]
        write = connector.remove_edges if phase == "remove" else connector.create_edges
        outcome: list[tuple[str, Any]] = [("failed", "not sent")] * len(ops)
        pending = list(range(len(ops)))
        for attempt in range(self.retries + 1):
            # the touched pairs were just read: API connectors need not read them again
            result = write(_edges([ops[i] for i in pending], phase), check=False)
            rows = result.outcomes
            again = []
            for pos, status, message in zip(pending, rows["status"], rows["message"], strict=True):
                text = None if message is None or pd.isna(message) else str(message)
                outcome[pos] = (str(status), text)
                if status == "failed":
                    again.append(pos)
            pending = again
            if not pending or attempt == self.retries:
                break
        return outcome

    def write_chunk(self, side: str, phase: str, chunk: list[Operation]) -> None:
        implied = [x for op in chunk for x in self.implied_by.get(op.op_id, [])]
        ids = [op.op_id for op in chunk] + [x.op_id for x in implied]
        self.ensure_session()
        self.journal.append([{"t": "write", "session": self.session, "side": side,
                              "phase": phase, "ops": ids}])  # fmt: skip
        try:
            outcome = self._send(side, phase, chunk)
        except AssocAuditError as exc:
            for op in [*chunk, *implied]:
                self.status[op.op_id], self.messages[op.op_id] = "failed", exc.message
            self.record([*chunk, *implied])
            raise
        finished = []
        for op, (status, message) in zip(chunk, outcome, strict=True):
            if op.action == "relabel" and phase == "remove":
                self.remove_part[op.op_id] = (status, message)
                continue
            if op.action == "relabel":
                first, _ = self.remove_part.get(op.op_id, ("already", None))
                if status != "failed":
                    status = "ok" if "ok" in (first, status) else "already"
            self.status[op.op_id], self.messages[op.op_id] = status, message
            finished.append(op)
        for x in implied:
            cause = self.status.get(x.cause or 0)
            if cause is None:
                continue
            self.status[x.op_id] = cause
            self.messages[x.op_id] = None if cause != "failed" else f"#{x.cause} failed"
            finished.append(x)
        self.record(finished)
        self.done += len(finished)
        if self.progress is not None:
            self.progress(f"{side} {phase}", self.done, len(self.plan))

    def run(self, todo: Sequence[Operation]) -> None:
        sent = [op for op in todo if not op.implied]
        todo_ids = {op.op_id for op in todo}
        for op in todo:
            if op.implied and op.cause is not None:
                if op.cause in todo_ids:
                    self.implied_by.setdefault(op.cause, []).append(op)
                else:
                    self.status[op.op_id] = "failed"
                    self.messages[op.op_id] = (
                        f"not in effect although #{op.cause} is: the side did not do it"
                    )
                    self.record([op])
        for side in SIDES:
            removes = [op for op in sent if op.side == side and op.action != "create"]
            for chunk in _chunks(removes, self.chunk_size, "remove"):
                self.write_chunk(side, "remove", chunk)
            creates = []
            for op in sent:
                if op.side != side or op.action == "remove":
                    continue
                if op.action == "relabel" and self.remove_part.get(op.op_id, ("",))[0] == "failed":
                    skipped = [op, *self.implied_by.get(op.op_id, [])]
                    for x in skipped:
                        self.status[x.op_id] = "failed"
                        self.messages[x.op_id] = self.remove_part[op.op_id][1]
                    self.record(skipped)
                    continue
                creates.append(op)
            for chunk in _chunks(creates, self.chunk_size, "create"):
                self.write_chunk(side, "create", chunk)
