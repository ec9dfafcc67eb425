"""The scenario plan (what a run will create, where) and its digest; emulator detection.

A run against anything but the sandbox emulator writes sample records to a
real portal or app, so (DESIGN §8, §10) the runner first shows the
:class:`ScenarioPlan` and its **digest**, and writes only when given that exact
digest. The digest is SHA-256 over the canonical JSON of the scenarios (their
kinds, pairs, labels, directions, expectations, sample records and links) and
both targets (the HubSpot base URL, where the app is, and — for a real target —
the portal id behind each HubSpot side, :func:`scenario_portals`), so it is the
same for the same config and targets, and a digest reviewed for one portal
cannot run against another, even behind the same base URL. The run's tag is
not part of it (it is new for every run).

:func:`local_target` decides whether a confirmation is needed: the HubSpot side
(and an app portal) must be served by *our* emulator on a loopback address (its
``/_sandbox/health`` endpoint answers), and the app must be a local files
folder or SQLite database (or an emulator portal).
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import pandas as pd

from assoc_audit.config import is_loopback, sqlite_path
from assoc_audit.errors import ConnectorError
from assoc_audit.scenarios.library import Scenario, build_library, side_name
from assoc_audit.secrets import redact_url

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.connectors.base import Connector

Side = Literal["hubspot", "app"]

__all__ = [
    "HUBSPOT_API",
    "ScenarioPlan",
    "Target",
    "is_sandbox_url",
    "local_target",
    "plan_scenarios",
    "scenario_portals",
]

#: The real HubSpot API (``hubspot.base_url: null``).
HUBSPOT_API = "https://api.hubapi.com"
Opener = Callable[..., Any]


def _direct(url: str, *, timeout: float) -> Any:
    """Open ``url`` without any proxy (a loopback address must be reached directly)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return opener.open(url, timeout=timeout)


@dataclass(frozen=True)
class Target:
    """Where a run writes: the HubSpot base URL and the app (kind and location, no secrets),
    and for a real target the portal id behind each HubSpot side (``portals``)."""

    hubspot: str
    app: str
    portals: tuple[tuple[str, int], ...] = ()

    @classmethod
    def of(cls, config: IntegrationConfig, portals: Mapping[str, int] | None = None) -> Target:
        app = config.app
        if app.kind == "sql":
            from assoc_audit.connectors.sqlurl import database_url

            try:
                url = database_url(config).render_as_string(hide_password=True)
            except ConnectorError:  # no URL: the connector says so when it is opened
                url = app.url or ""
            where = redact_url(sqlite_path(url, config.base_dir))
        elif app.kind == "files":
            where = str(config.resolve(app.path)) if app.path is not None else ""
        else:
            where = app.base_url or HUBSPOT_API
        return cls(
            hubspot=config.hubspot.base_url or HUBSPOT_API,
            app=f"{app.kind} {where}",
            portals=tuple(sorted((portals or {}).items())),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"hubspot": self.hubspot, "app": self.app}
        if self.portals:
            out["portals"] = dict(self.portals)
        return out


@dataclass(frozen=True)
class ScenarioPlan:
    """The scenarios of a run and where they write, with the digest that confirms them."""

    name: str
    app_name: str
    scenarios: tuple[Scenario, ...]
    target: Target

    def _canonical(self) -> dict[str, Any]:
        return {
            "scenarios": [s.to_dict() for s in self.scenarios],
            "target": self.target.to_dict(),
        }

    @property
    def digest(self) -> str:
        """SHA-256 (hex) of the plan's canonical JSON."""
        blob = json.dumps(
            self._canonical(), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def records_needed(self) -> dict[str, int]:
        """How many sample records the plan creates, per side."""
        out = {"hubspot": 0, "app": 0}
        for s in self.scenarios:
            for r in s.records:
                for side in r.sides:
                    out[side] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "digest": self.digest,
            "records": self.records_needed(),
            **self._canonical(),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per scenario: id, kind, direction, expected, expectation."""
        names = {"hubspot": "HubSpot", "app": self.app_name}
        rows = [
            {
                "scenario": s.id,
                "kind": s.kind,
                "direction": f"{names[s.source]} → {names[s.target]}",
                "expected": "appears" if s.expected == "appears" else f"absent: {s.reason}",
                "expectation": s.expectation,
            }
            for s in self.scenarios
        ]
        return pd.DataFrame(
            rows, columns=["scenario", "kind", "direction", "expected", "expectation"]
        )

    def render(self) -> str:
        """The plan as text: one line per scenario with its expectation, then the digest."""
        counts = self.records_needed()
        lines = [
            f"Scenario plan for {self.name}: {len(self.scenarios)} scenarios, "
            f"{counts['hubspot']} sample records in HubSpot ({self.target.hubspot}) and "
            f"{counts['app']} in {self.app_name} ({self.target.app}), all deleted afterwards.",
        ]
        for s in self.scenarios:
            lines.append(f"  {s.id} {s.kind:<15} {s.expectation}")
        lines.append(f"digest: {self.digest}")
        return "\n".join(lines)


def scenario_portals(
    config: IntegrationConfig, connectors: Mapping[str, Connector] | None = None
) -> dict[str, int]:
    """The portal ids behind the HubSpot sides of ``config`` (read through ``connectors``,
    or through connectors opened here): a real target's plan binds them."""
    from assoc_audit.connectors import connector_for, portal_ids

    sides: tuple[Side, ...] = ("hubspot", "app") if config.app.kind == "hubspot" else ("hubspot",)
    with ExitStack() as stack:
        conns: dict[str, Connector] = {}
        for side in sides:
            given = (connectors or {}).get(side)
            conns[side] = (
                given
                if given is not None
                else stack.enter_context(closing(connector_for(config, side, progress=False)))
            )
        return portal_ids(conns)


def plan_scenarios(
    config: IntegrationConfig,
    *,
    kinds: Sequence[str] | None = None,
    only: Sequence[str] | None = None,
    portals: Mapping[str, int] | None = None,
) -> ScenarioPlan:
    """The plan of a run: the config's library (optionally some kinds or scenario ids);
    ``portals`` (a real target's :func:`scenario_portals`) go into its digest."""
    scenarios = build_library(config, kinds=tuple(kinds) if kinds is not None else None)
    if only is not None:
        wanted = {s.upper() for s in only}
        known = {s.id for s in build_library(config)}
        unknown = sorted(wanted - known)
        if unknown:
            from assoc_audit.errors import AssocAuditError

            raise AssocAuditError(
                f"unknown scenario {', '.join(unknown)} (this config has "
                f"{', '.join(sorted(known)) or 'none'})",
                field="only",
            )
        scenarios = tuple(s for s in scenarios if s.id in wanted)
    if not scenarios:
        from assoc_audit.errors import AssocAuditError

        raise AssocAuditError("no scenario is left after the kinds and ids asked for", field="only")
    return ScenarioPlan(
        config.name, side_name(config, "app"), scenarios, Target.of(config, portals)
    )


# ---------------------------------------------------------------------------
# Is the target our emulator?


def is_sandbox_url(url: str | None, *, timeout: float = 2.0, opener: Opener = _direct) -> bool:
    """True if ``url`` is on a loopback address and our emulator's health endpoint answers."""
    host = urlsplit(url).hostname if url else None
    if not url or not host or not is_loopback(host):
        return False
    try:
        with opener(f"{url.rstrip('/')}/_sandbox/health", timeout=timeout) as reply:
            body = json.loads(reply.read().decode("utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(body, dict) and body.get("status") == "ok" and "portals" in body


def local_target(config: IntegrationConfig, *, opener: Opener = _direct) -> str | None:
    """None if the run needs no confirmation (emulator and a local app), else why it does."""
    if not is_sandbox_url(config.hubspot.base_url, opener=opener):
        where = config.hubspot.base_url or HUBSPOT_API
        return f"HubSpot side {where} is not the sandbox emulator"
    app = config.app
    if app.kind == "hubspot" and not is_sandbox_url(app.base_url, opener=opener):
        return f"app portal {app.base_url or HUBSPOT_API} is not the sandbox emulator"
    if app.kind == "sql" and not (app.url or "").startswith("sqlite"):
        return f"app database {redact_url(app.url or '')} is not a local SQLite file"
    return None
