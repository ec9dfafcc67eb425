"""The apply journal: append-only JSON lines, flushed and fsynced before the apply moves on.

Records (one JSON object per line, key ``t`` says which):

``journal``  first line: ``format``, the plan's ``digest``, ``kind``, ``targets``,
             ``operations`` (count), ``plan`` (its file, if any), ``created_at``
``session``  an apply run starts writing: ``n``, ``at``, ``pid``
``before``   the touched pairs' label sets read before the first write (``states``)
``write``    about to send operations ``ops`` (``side``, ``phase``): an operation
             found in effect after a crash counts as written by this apply
``op``       an operation's outcome: ``op``, ``status`` (``ok`` written,
             ``already`` in effect without a write, ``failed`` + ``message``)
             and the operation's side, action, link and labels
``end``      a run finished: ``counts``, the verification, the touched pairs'
             label sets read afterwards (``after``)

Every batch of records is written with one ``write`` then ``flush`` and
``os.fsync``. A crash can only tear the last line; reading ignores a torn last
line and the next run cuts it off before appending. An operation is *settled*
once a line gives it ``ok`` or ``already``; every operation is settled at most
once. One process at a time may append (an exclusive ``flock``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from assoc_audit.atomicfile import fsync_dir
from assoc_audit.errors import PlanError
from assoc_audit.fixes.model import Operation

__all__ = ["JOURNAL_FORMAT", "Journal", "JournalState", "read_journal"]

JOURNAL_FORMAT = "assoc-audit journal"
SETTLED = ("ok", "already")


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _line(record: Mapping[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def op_record(op: Operation, status: str, message: str | None, session: int) -> dict[str, Any]:
    """The ``op`` line for an operation's outcome."""
    return {
        "t": "op",
        "op": op.op_id,
        "status": status,
        "message": message,
        "session": session,
        "at": now_text(),
        "side": op.side,
        "action": op.action,
        "from_object": op.from_object,
        "from_id": op.from_id,
        "to_object": op.to_object,
        "to_id": op.to_id,
        "label": op.label,
        "old_label": op.old_label,
    }


@dataclass
class JournalState:
    """What a journal records so far."""

    path: Path
    header: dict[str, Any] | None = None
    sessions: int = 0
    status: dict[int, str] = field(default_factory=dict)
    messages: dict[int, str | None] = field(default_factory=dict)
    settled: dict[int, str] = field(default_factory=dict)
    attempted: set[int] = field(default_factory=set)
    ops: dict[int, dict[str, Any]] = field(default_factory=dict)
    before: dict[str, Any] | None = None
    end: dict[str, Any] | None = None
    ended: bool = False
    lines: int = 0

    @property
    def digest(self) -> str | None:
        return None if self.header is None else str(self.header.get("digest"))

    @property
    def kind(self) -> str | None:
        return None if self.header is None else str(self.header.get("kind"))

    def add(self, record: Mapping[str, Any], where: str) -> None:
        kind = record.get("t")
        if self.header is None and kind != "journal":
            raise ValueError("the first line is not a journal header")
        if kind == "journal":
            if self.header is not None:
                raise ValueError("a second journal header")
            if record.get("format") != JOURNAL_FORMAT:
                raise ValueError("not an assoc-audit journal")
            self.header = dict(record)
        elif kind == "session":
            self.sessions = max(self.sessions, int(record.get("n", 0)))
            self.ended = False
        elif kind == "before":
            if self.before is None:
                self.before = dict(record.get("states") or {})
        elif kind == "write":
            self.attempted.update(int(x) for x in record.get("ops", []))
        elif kind == "op":
            op, status = int(record["op"]), str(record["status"])
            if status not in (*SETTLED, "failed"):
                raise ValueError(f"unknown status {status!r}")
            if op in self.settled and status in SETTLED:
                raise ValueError(f"operation {op} is settled twice")
            self.status[op] = status
            self.messages[op] = record.get("message")
            self.ops[op] = dict(record)
            if status in SETTLED:
                self.settled[op] = status
            self.ended = False
        elif kind == "end":
            self.end = dict(record)
            self.ended = True
        else:
            raise ValueError(f"unknown record type {kind!r} ({where})")

    def count(self, status: str) -> int:
        return sum(1 for s in self.status.values() if s == status)


def _parse(path: Path, data: bytes) -> JournalState:
    state = JournalState(path)
    lines = data.split(b"\n")
    complete = lines[:-1]  # after the last newline: a torn line (or nothing)
    for n, raw in enumerate(complete, start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            state.add(record, f"line {n}")
        except (ValueError, KeyError, TypeError) as exc:
            raise PlanError(
                f"{path}: line {n} is not a valid journal record ({exc})", file=str(path), row=n
            ) from None
        state.lines = n
    return state


def read_journal(path: Path | str) -> JournalState:
    """Read a journal (a torn last line is ignored)."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise PlanError(f"{file}: journal not found", file=str(file)) from None
    except OSError as exc:
        raise PlanError(f"{file}: cannot read the journal: {exc}", file=str(file)) from None
    return _parse(file, data)


class Journal:
    """An open journal for one plan: locked, torn tail cut, ready to append."""

    def __init__(
        self,
        path: Path,
        fh: IO[bytes],
        state: JournalState,
        header: dict[str, Any] | None = None,
        created: bool = False,
    ) -> None:
        self.path = path
        self._fh = fh
        self.state = state
        self._header = header  # written with the first append (a refused run leaves no file)
        self._created = created

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        digest: str,
        kind: str,
        targets: Mapping[str, Any],
        operations: int,
        plan_file: str | None = None,
    ) -> Journal:
        """Open (or create) the journal of the plan with ``digest``.

        Raises :class:`~assoc_audit.errors.PlanError` when the file belongs to
        another plan or another process is appending to it.
        """
        file = Path(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        created = not file.exists()
        fh = open(file, "a+b")  # noqa: SIM115 - closed by close()
        try:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PlanError(
                    f"{file}: another apply is writing this journal right now", file=str(file)
                ) from None
            fh.seek(0)
            data = fh.read()
            cut = data.rfind(b"\n") + 1
            if cut != len(data):  # a torn last line from a crash: never acknowledged
                fh.truncate(cut)
                os.fsync(fh.fileno())
                data = data[:cut]
            state = _parse(file, data)
            header = None
            if state.header is None:
                header = {
                    "t": "journal",
                    "format": JOURNAL_FORMAT,
                    "digest": digest,
                    "kind": kind,
                    "targets": dict(targets),
                    "operations": operations,
                    "plan": plan_file,
                    "created_at": now_text(),
                }
            elif state.digest != digest:
                raise PlanError(
                    f"{file}: this journal belongs to another plan (digest "
                    f"{str(state.digest)[:12]}…); use another --journal file",
                    file=str(file),
                )
            return cls(file, fh, state, header, created or not data)
        except BaseException:
            fh.close()
            raise

    def append(self, records: Iterable[Mapping[str, Any]]) -> None:
        """Append records durably (one write, flush, fsync) and update :attr:`state`."""
        batch = list(records)
        if not batch:
            return
        if self._header is not None:
            batch.insert(0, self._header)
            self._header = None
        self._fh.seek(0, os.SEEK_END)
        self._fh.write(b"".join(_line(r) for r in batch))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        for record in batch:
            self.state.add(record, "appended")
        if self._created:
            fsync_dir(self.path.parent)
            self._created = False

    def start_session(self) -> int:
        n = self.state.sessions + 1
        self.append([{"t": "session", "n": n, "at": now_text(), "pid": os.getpid()}])
        return n

    def close(self) -> None:
        """Release the lock; a journal that never got a record is removed."""
        if self._header is not None and self._created:
            with contextlib.suppress(OSError):
                if os.fstat(self._fh.fileno()).st_size == 0:
                    self.path.unlink()
        with contextlib.suppress(OSError):
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
        self._fh.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
