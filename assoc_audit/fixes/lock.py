"""One apply at a time per target: an exclusive lock keyed by where the writes land.

The journal's own lock only stops two processes appending to the *same*
journal; two applies of one plan with different ``--journal`` files would
both write (and a files app's read-modify-write would lose one writer's
changes). So every confirmed apply and undo holds, for its whole run, an
exclusive ``flock`` on one lock file per target it writes: the HubSpot portal
(base URL and portal id) or the app location (folder, database URL, second
portal). The lock file's name is the SHA-256 of the target's canonical JSON,
in :func:`lock_dir`; it holds the holder's journal, plan, process id and start
time, so a second apply exits at once (exit 2) naming them. A crashed holder
releases its lock with its process; the file stays and is reused.

The lock folder is ``$ASSOC_AUDIT_LOCK_DIR`` when set, else
``$XDG_STATE_HOME/assoc-audit/locks`` (default ``~/.local/state/…``): it guards
applies run by one user on one machine. Applies from other machines or users
are not seen; a team sharing a target should run applies from one place.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from assoc_audit.errors import PlanError, TargetLocked
from assoc_audit.fixes.digest import canonical_json

__all__ = ["LOCK_DIR_ENV", "lock_dir", "lock_key", "target_locks"]

LOCK_DIR_ENV = "ASSOC_AUDIT_LOCK_DIR"
_LOCATION_KEYS = ("kind", "url", "path", "portal_id")


def lock_dir() -> Path:
    """Where the target locks live (see the module docstring)."""
    given = os.environ.get(LOCK_DIR_ENV)
    if given:
        return Path(given).expanduser()
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "assoc-audit" / "locks"


def lock_key(target: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a side's target that names the place written (not its routes)."""
    return {k: target[k] for k in _LOCATION_KEYS if k in target}


def _describe(key: Mapping[str, Any]) -> str:
    where = key.get("path") or key.get("url") or "?"
    portal = f" portal {key['portal_id']}" if key.get("portal_id") is not None else ""
    return f"{key.get('kind', '?')} {where}{portal}"


def _holder_text(holder: Mapping[str, Any]) -> str:
    parts = []
    if holder.get("journal"):
        parts.append(f"journal {holder['journal']}")
    if holder.get("pid"):
        parts.append(f"pid {holder['pid']}")
    if holder.get("started_at"):
        parts.append(f"since {holder['started_at']}")
    return ", ".join(parts) or "holder unknown"


def _acquire(path: Path, key: Mapping[str, Any], info: Mapping[str, Any]) -> IO[str]:
    fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - closed by the caller
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            try:
                holder = json.loads(fh.read() or "{}")
            except ValueError:
                holder = {}
            holder = holder if isinstance(holder, dict) else {}
            raise TargetLocked(
                f"another apply is writing to {_describe(key)} right now "
                f"({_holder_text(holder)}); nothing was written — wait for it to finish, "
                "then run this one again",
                holder=holder,
                file=str(path),
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(json.dumps({**info, "target": dict(key)}, ensure_ascii=False) + "\n")
        fh.flush()
        return fh
    except BaseException:
        fh.close()
        raise


@contextlib.contextmanager
def target_locks(
    targets: Mapping[str, Mapping[str, Any]],
    sides: tuple[str, ...],
    *,
    journal: Path | None,
    plan_file: Path | str | None,
) -> Iterator[None]:
    """Hold the lock of every written side's target (sorted, all or none) while inside."""
    folder = lock_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PlanError(
            f"{folder}: cannot create the apply lock folder ({exc.strerror or exc}); set "
            f"{LOCK_DIR_ENV} to a writable folder",
            file=str(folder),
        ) from None
    info = {
        "journal": str(journal.resolve()) if journal is not None else None,
        "plan": str(plan_file) if plan_file is not None else None,
        "pid": os.getpid(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
    keys = {canonical_json(lock_key(targets[s])): lock_key(targets[s]) for s in sides}
    held: list[IO[str]] = []
    try:
        for text in sorted(keys):
            name = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32] + ".lock"
            held.append(_acquire(folder / name, keys[text], info))
        yield
    finally:
        for fh in reversed(held):
            with contextlib.suppress(OSError):
                fh.seek(0)
                fh.truncate()
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()
