"""A connector wrapper that crashes the apply at a chosen write call (before or after the
write reaches the side), the way a killed process would stop."""

from __future__ import annotations

from typing import Any


class Crash(BaseException):
    """Stands for the process dying: not an error the apply could catch and journal."""


class CrashingConnector:
    """Delegates to a real connector; write call number ``at`` (1-based) crashes."""

    def __init__(self, inner: Any, at: int, *, after_write: bool) -> None:
        self.inner = inner
        self.at = at
        self.after_write = after_write
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _write(self, name: str, edges: Any, check: bool) -> Any:
        self.calls += 1
        if self.calls == self.at and not self.after_write:
            raise Crash(f"crash before write call {self.calls}")
        result = getattr(self.inner, name)(edges, check=check)
        if self.calls == self.at:
            raise Crash(f"crash after write call {self.calls}")
        return result

    def create_edges(self, edges: Any, *, check: bool = True) -> Any:
        return self._write("create_edges", edges, check)

    def remove_edges(self, edges: Any, *, check: bool = True) -> Any:
        return self._write("remove_edges", edges, check)
