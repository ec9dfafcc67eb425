"""The emulator's own error: :class:`SandboxError`.

The emulator stands alone (it imports nothing from the rest of assoc_audit),
so its error is not an :class:`~assoc_audit.errors.AssocAuditError`; the
toolkit re-exports it (``assoc_audit.SandboxError``) and the CLI treats it
like one (one line, exit code 2). It carries the same optional fields.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SandboxError"]


class SandboxError(Exception):
    """The sandbox emulator could not be started, seeded or driven (bad settings, a port in
    use, data it cannot load). ``status``/``category`` are set for HubSpot-style errors;
    ``file``/``row``/``field`` name where loaded data was bad."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        category: str | None = None,
        field: str | None = None,
        file: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.category = category
        self.field = field
        self.file = file
        self.row = row

    def to_dict(self) -> dict[str, Any]:
        """The error as plain data (for JSON reports)."""
        out: dict[str, Any] = {"error": type(self).__name__, "message": self.message}
        for key in ("status", "category", "field", "file", "row"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def lines(self) -> list[str]:
        """The lines the CLI prints for this error."""
        return [self.message]
