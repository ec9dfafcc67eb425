"""Modules that moved in 0.2 (the package's new rooms), importable by their old names until
the next release, with a :class:`DeprecationWarning` naming the new place.

``import assoc_audit.report`` gives :mod:`assoc_audit.notebook.report`, and so
on for every entry of :data:`MOVED`. A meta path finder installed by
``import assoc_audit`` does it; nothing is imported until an old name is used.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from types import ModuleType

__all__ = ["MOVED", "install"]

#: old module name -> new module name
MOVED: dict[str, str] = {
    "assoc_audit.audit_cli": "assoc_audit.cli.audit",
    "assoc_audit.cli_util": "assoc_audit.cli.common",
    "assoc_audit.commands": "assoc_audit.cli.check",
    "assoc_audit.notebook_cli": "assoc_audit.cli.notebooks",
    "assoc_audit.fixes.cli": "assoc_audit.cli.fixes",
    "assoc_audit.scenarios.cli": "assoc_audit.cli.scenarios",
    "assoc_audit.sandbox.cli": "assoc_audit.cli.sandbox",
    "assoc_audit.demo_run": "assoc_audit.notebook.demorun",
    "assoc_audit.explore": "assoc_audit.notebook.explore",
    "assoc_audit.widgets": "assoc_audit.notebook.widgets",
    "assoc_audit.report": "assoc_audit.notebook.report",
    "assoc_audit.setup_doc": "assoc_audit.notebook.setup_doc",
    "assoc_audit.runner": "assoc_audit.notebook.runner",
    "assoc_audit.history": "assoc_audit.notebook.history",
    "assoc_audit.fixes.notebook": "assoc_audit.notebook.fixes",
    "assoc_audit.scenarios.notebook": "assoc_audit.notebook.scenarios",
    "assoc_audit.sandbox.datasync": "assoc_audit.scenarios.datasync",
    "assoc_audit.sandbox.datasync_links": "assoc_audit.scenarios.datasync_links",
    "assoc_audit.sandbox.datasync_records": "assoc_audit.scenarios.datasync_records",
    "assoc_audit.sandbox.portal_side": "assoc_audit.scenarios.portal_side",
    "assoc_audit.sandbox.demo": "assoc_audit.demo.portal",
    "assoc_audit.sandbox.demo_app": "assoc_audit.demo.app",
    "assoc_audit.sandbox.demo_drift": "assoc_audit.demo.drift",
    "assoc_audit.sandbox.seed": "assoc_audit.demo.synthetic",
    "assoc_audit.sandbox.fixseed": "assoc_audit.demo.fixseed",
    "assoc_audit.links": "assoc_audit.linkmap",
    "assoc_audit.connectors.hubspot_api": "assoc_audit.connectors.hubspot.api",
    "assoc_audit.connectors.hubspot_fetch": "assoc_audit.connectors.hubspot.fetch",
    "assoc_audit.connectors.hubspot_schema": "assoc_audit.connectors.hubspot.schema",
    "assoc_audit.connectors.hubspot_shapes": "assoc_audit.connectors.hubspot.shapes",
    "assoc_audit.connectors.hubspot_write": "assoc_audit.connectors.hubspot.write",
    "assoc_audit.connectors.ratelimit": "assoc_audit.connectors.hubspot.ratelimit",
}


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module name and loads the module at its new place."""

    def find_spec(
        self, fullname: str, path: object = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        new = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} moved to {new}; the old name works until the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(new)

    def exec_module(self, module: ModuleType) -> None:
        """The module at the new place is already executed."""


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once; after the regular finders)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
