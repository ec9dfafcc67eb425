"""Errors in HubSpot's own vocabulary, raised by the emulator's backend.

:class:`ApiError` is what every backend method raises when HubSpot would answer
with an error: it carries the HTTP status, HubSpot's ``category`` (and
optional ``subCategory``, ``context``), and turns into HubSpot's error body on
the wire (:meth:`ApiError.body`). It subclasses
:class:`~assoc_audit.sandbox.errors.SandboxError`, so in-process callers (seeding,
notebooks) can catch it like any other emulator error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from assoc_audit.sandbox.errors import SandboxError

__all__ = ["ApiError", "BatchItemError", "conflict", "not_found", "validation"]


class ApiError(SandboxError):
    """An error HubSpot would answer with (status, category, message, context)."""

    def __init__(
        self,
        status: int,
        category: str,
        message: str,
        *,
        sub_category: str | None = None,
        context: Mapping[str, Sequence[str]] | None = None,
        errors: Sequence[Mapping[str, Any]] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, status=status, category=category)
        self.sub_category = sub_category
        self.context = {k: list(v) for k, v in (context or {}).items()}
        self.errors = [dict(e) for e in errors]
        self.extra = dict(extra or {})

    def body(self, correlation_id: str) -> dict[str, Any]:
        """HubSpot's error body for this error."""
        out: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": correlation_id,
            "category": self.category,
        }
        if self.sub_category:
            out["subCategory"] = self.sub_category
        if self.context:
            out["context"] = self.context
        if self.errors:
            out["errors"] = self.errors
        out.update(self.extra)
        return out

    def item(self) -> BatchItemError:
        """This error as one entry of a 207 multi-status ``errors`` list."""
        return BatchItemError(
            category=self.category or "VALIDATION_ERROR",
            message=self.message,
            context=self.context,
            sub_category=self.sub_category,
        )


class BatchItemError:
    """One entry of a batch response's ``errors`` (HubSpot's ``StandardError``)."""

    __slots__ = ("category", "context", "message", "sub_category")

    def __init__(
        self,
        *,
        category: str,
        message: str,
        context: Mapping[str, Sequence[str]] | None = None,
        sub_category: str | None = None,
    ) -> None:
        self.category = category
        self.message = message
        self.context = {k: list(v) for k, v in (context or {}).items()}
        self.sub_category = sub_category

    def error(self) -> ApiError:
        """This input's failure as the error of a single-record call."""
        status = {"OBJECT_NOT_FOUND": 404, "CONFLICT": 409}.get(self.category, 400)
        return ApiError(
            status,
            self.category,
            self.message,
            sub_category=self.sub_category,
            context=self.context,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": "error",
            "category": self.category,
            "message": self.message,
            "context": self.context,
            "errors": [],
            "links": {},
        }
        if self.sub_category:
            out["subCategory"] = self.sub_category
        return out


def validation(message: str, **kwargs: Any) -> ApiError:
    """400 VALIDATION_ERROR."""
    return ApiError(400, "VALIDATION_ERROR", message, **kwargs)


def not_found(message: str = "resource not found", **kwargs: Any) -> ApiError:
    """404 OBJECT_NOT_FOUND."""
    return ApiError(404, "OBJECT_NOT_FOUND", message, **kwargs)


def conflict(message: str, **kwargs: Any) -> ApiError:
    """409 CONFLICT."""
    return ApiError(409, "CONFLICT", message, **kwargs)
