"""The one error tree of assoc_audit.

Every error the toolkit raises on purpose subclasses :class:`AssocAuditError`
and carries fields, not only text, so callers (the CLI, notebooks, fix runs)
can react to them without parsing messages::

    AssocAuditError                      any expected failure; CLI exit code 2
    ├── ConfigError                      the integration config is invalid (.problems)
    ├── DataError                        a table, file or row is malformed (file, row, field)
    │   ├── SnapshotError                a snapshot folder is missing or incomplete
    │   └── EmptyReadError               a side read no records where its baseline had many
    ├── ConnectorError                   a source could not be read or written (source)
    │   └── HubSpotAPIError              HubSpot answered with an error (status, category,
    │       │                            correlation_id)
    │       ├── AuthError                401/403: wrong token or missing scopes (token_env, scopes)
    │       └── RateLimited              429 after every retry (policy, retry_after)
    ├── PlanError                        a fix plan cannot be used
    │   ├── DigestMismatch               --confirm is not the plan's digest, or the
    │   │                                config now resolves other targets
    │   ├── PlanConflict                 pairs changed since planning (.pairs)
    │   └── TargetLocked                 another apply is writing the same target (.holder)
    └── NotebookError                    a notebook cell failed under papermill (cell)

    SandboxError                         the emulator's own error (assoc_audit.sandbox.errors):
                                         the emulator stands alone, so it is not an
                                         AssocAuditError; the CLI treats it like one (exit 2)

Messages never contain access tokens: tokens are read from environment
variables by name and only the *name* of the variable ever appears in text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from assoc_audit.sandbox.errors import SandboxError

__all__ = [
    "AssocAuditError",
    "AuthError",
    "ConfigError",
    "ConfigProblem",
    "ConnectorError",
    "DataError",
    "DigestMismatch",
    "EmptyReadError",
    "HubSpotAPIError",
    "NotebookError",
    "PlanConflict",
    "PlanError",
    "RateLimited",
    "SandboxError",
    "SnapshotError",
    "TargetLocked",
]


class AssocAuditError(Exception):
    """Base of every expected assoc_audit error.

    The keyword fields are optional context that the message may also mention:
    ``file`` (a path or source name), ``row`` (1-based data row), ``field``
    (a column, YAML path or property), ``status`` (HTTP status), ``category``
    (HubSpot error category) and ``correlation_id`` (HubSpot's request id).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        status: int | None = None,
        category: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.row = row
        self.field = field
        self.status = status
        self.category = category
        self.correlation_id = correlation_id

    def to_dict(self) -> dict[str, Any]:
        """The error as plain data (for JSON reports and journals)."""
        out: dict[str, Any] = {"error": type(self).__name__, "message": self.message}
        for key in ("file", "row", "field", "status", "category", "correlation_id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def lines(self) -> list[str]:
        """The lines the CLI prints for this error (one, unless overridden)."""
        return [self.message]


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a config file: where, what was there, what is allowed."""

    path: str
    message: str
    value: Any = None
    allowed: tuple[str, ...] = ()

    def render(self) -> str:
        text = f"{self.path}: {self.message}" if self.path else self.message
        if self.allowed:
            text += f" (allowed: {', '.join(self.allowed)})"
        return text


class ConfigError(AssocAuditError):
    """An invalid integration config; ``problems`` lists every problem found."""

    def __init__(self, file: str, problems: Sequence[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        lines = self._render(file, self.problems)
        first = self.problems[0] if self.problems else None
        super().__init__("\n".join(lines), file=file, field=first.path if first else None)
        self._lines = lines

    @staticmethod
    def _render(file: str, problems: Sequence[ConfigProblem]) -> list[str]:
        if len(problems) == 1:
            return [f"{file}: {problems[0].render()}"]
        head = f"{file}: {len(problems)} problems"
        return [head, *(f"  {p.render()}" for p in problems)]

    def lines(self) -> list[str]:
        return list(self._lines)


class DataError(AssocAuditError):
    """Malformed input data: names the file (or source/table), row and column."""


class SnapshotError(DataError):
    """A snapshot folder is missing, incomplete or unreadable."""


class EmptyReadError(DataError):
    """A side read no records of an object whose baseline had many: a read that may have
    silently failed. ``reads`` lists ``(side, object, baseline_records)``."""

    def __init__(self, message: str, *, reads: Sequence[tuple[str, str, int]] = ()) -> None:
        super().__init__(message)
        self.reads = tuple(reads)


class ConnectorError(AssocAuditError):
    """A source (HubSpot, files, SQL) could not be read or written."""


class HubSpotAPIError(ConnectorError):
    """HubSpot (or the sandbox emulator) answered with an error."""


class AuthError(HubSpotAPIError):
    """The token was refused (401) or lacks scopes (403)."""

    def __init__(
        self,
        message: str,
        *,
        token_env: str | None = None,
        scopes: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.token_env = token_env
        self.scopes = tuple(scopes)


class RateLimited(HubSpotAPIError):
    """HubSpot kept answering 429 after every retry."""

    def __init__(
        self,
        message: str,
        *,
        policy: str | None = None,
        retry_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.policy = policy
        self.retry_after = retry_after


class PlanError(AssocAuditError):
    """A fix plan or journal cannot be used as asked."""


class DigestMismatch(PlanError):
    """The digest given to confirm a plan is not that plan's digest."""


class PlanConflict(PlanError):
    """Touched pairs changed since planning in a way the plan does not lead to."""

    def __init__(self, message: str, *, pairs: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.pairs = tuple(pairs)


class TargetLocked(PlanError):
    """Another apply or undo holds the target's lock; ``holder`` is what it recorded
    (its journal, process id, start time)."""

    def __init__(self, message: str, *, holder: dict[str, Any] | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.holder = dict(holder or {})


class NotebookError(AssocAuditError):
    """A notebook failed while executing; ``cell`` is the failing cell's index."""

    def __init__(self, message: str, *, cell: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.cell = cell
