"""Progress bars for long reads: ``tqdm.auto`` (a widget in notebooks, text on a terminal).

``enabled=None`` shows bars when someone can see them: in a Jupyter kernel or
when standard error is a terminal; scheduled jobs and tests stay quiet. Bars
are created and updated from one thread (the read's coordinator).
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["Bar", "Progress"]


def _interactive() -> bool:
    if "ipykernel" in sys.modules:
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


class Bar:
    """One bar (or nothing, when progress is off)."""

    def __init__(self, bar: Any | None) -> None:
        self._bar = bar
        self.count = 0

    def update(self, n: int = 1) -> None:
        self.count += n
        if self._bar is not None and n:
            self._bar.update(n)

    def grow(self, total: int) -> None:
        """Raise the expected total (work discovered along the way)."""
        if self._bar is not None and total > (self._bar.total or 0):
            self._bar.total = total
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class Progress:
    """Makes bars when enabled (``None``: only when interactive)."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = _interactive() if enabled is None else enabled

    def bar(self, desc: str, unit: str, total: int | None = None) -> Bar:
        if not self.enabled:
            return Bar(None)
        from tqdm.auto import tqdm

        return Bar(tqdm(desc=desc, unit=unit, total=total, unit_scale=True, dynamic_ncols=True))
