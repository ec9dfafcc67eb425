"""Public names loaded on first use (PEP 562), so importing a package stays light.

``assoc-audit --help`` and ``check`` must start without pandas, DuckDB or
matplotlib; a package ``__init__`` therefore names where each public name
lives and imports it only when asked::

    __getattr__, __dir__ = lazy.exports(__name__, {"run_audit": "assoc_audit.audit"}, __all__)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["exports"]


def exports(
    package: str, where: Mapping[str, str], public: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``where`` maps a name to the module
    that defines it (absolute, or relative to ``package`` when it starts with a dot)."""

    def getattr_(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        target = package + module if module.startswith(".") else module
        value = getattr(importlib.import_module(target), name)
        setattr(importlib.import_module(package), name, value)  # later lookups are plain
        return value

    def dir_() -> list[str]:
        return sorted(set(public) | set(where))

    return getattr_, dir_
