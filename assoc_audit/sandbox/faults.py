"""Fault injection: 429s, 5xx, slow responses, dropped connections, broken bodies; deterministic.

Whether request number ``seq`` of a portal gets a fault, and which, is a pure
function of (seed, portal, seq): a SHA-256 of the three gives two uniform
numbers, one compared with ``rate`` and one choosing a kind by ``weights``.
Re-running the same client against the same settings therefore sees the same
faults at the same request numbers (with one client thread, in the same
places).

Kinds:

- ``rate_limit`` — a 429 with HubSpot's ten-secondly body (not counted in the window);
- ``server_error`` — a 500, 502, 503 or 504 with an error body, nothing executed;
- ``slow`` — the request runs normally after ``slow_seconds``;
- ``drop`` — the connection is closed without a response, nothing executed;
- ``drop_after`` — the request runs, then the connection is closed without a
  response (the client cannot know it succeeded; weight 0 unless asked for);
- ``bad_body`` — the request runs and its own status is sent with the body
  ``{}``, as from an upstream that lost the body (a 204, which cannot carry a
  body, becomes ``200 {}``; weight 0 unless asked for);
- ``html_body`` — nothing runs; a ``200`` with a ``text/html`` page and no
  HubSpot headers, as from a captive portal or a proxy (weight 0 unless asked for).

The kinds added later (``drop_after``, ``bad_body``, ``html_body``) come last and
weigh 0 by default, so a given (seed, rate) injects the same faults as before.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from assoc_audit.sandbox.errors import SandboxError

__all__ = ["FAULT_KINDS", "Fault", "FaultSettings", "decide"]

FAULT_KINDS = ("rate_limit", "server_error", "slow", "drop", "drop_after", "bad_body", "html_body")
SERVER_ERRORS = (500, 502, 503, 504)


def _default_weights() -> dict[str, float]:
    return {
        "rate_limit": 1.0,
        "server_error": 1.0,
        "slow": 1.0,
        "drop": 1.0,
        "drop_after": 0.0,
        "bad_body": 0.0,
        "html_body": 0.0,
    }


@dataclass(frozen=True)
class FaultSettings:
    """How often to inject which faults (``rate`` 0 = never)."""

    rate: float = 0.0
    seed: int = 0
    weights: Mapping[str, float] = field(default_factory=_default_weights)
    slow_seconds: float = 0.5
    match: str | None = None  # only paths matching this regular expression

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.rate) <= 1.0:
            raise SandboxError(f"fault rate must be between 0 and 1, got {self.rate!r}")
        unknown = sorted(set(self.weights) - set(FAULT_KINDS))
        if unknown:
            raise SandboxError(
                f"unknown fault kind(s) {', '.join(unknown)} (known: {', '.join(FAULT_KINDS)})"
            )
        if any(float(w) < 0 for w in self.weights.values()):
            raise SandboxError("fault weights must be ≥ 0")
        if self.rate and not sum(float(w) for w in self.weights.values()):
            raise SandboxError("fault weights are all 0")
        if self.slow_seconds < 0:
            raise SandboxError("slow_seconds must be ≥ 0")
        if self.match is not None:
            try:
                re.compile(self.match)
            except re.error as exc:
                raise SandboxError(
                    f"fault match {self.match!r} is not a regular expression: {exc}"
                ) from None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "seed": self.seed,
            "weights": dict(self.weights),
            "slow_seconds": self.slow_seconds,
            "match": self.match,
        }

    def updated(self, changes: Mapping[str, Any]) -> FaultSettings:
        known = {"rate", "seed", "weights", "slow_seconds", "match"}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise SandboxError(f"unknown fault setting(s): {', '.join(unknown)}")
        clean = dict(changes)
        if "weights" in clean:
            clean["weights"] = {
                **_default_weights(),
                **{k: 0.0 for k in FAULT_KINDS},
                **clean["weights"],
            }
        return replace(self, **clean)


@dataclass(frozen=True)
class Fault:
    """One injected fault."""

    kind: str
    status: int | None = None  # 429 or a 5xx
    delay: float = 0.0


def _uniform(seed: int, portal_id: int, seq: int) -> tuple[float, float, int]:
    digest = hashlib.sha256(f"{seed}:{portal_id}:{seq}".encode()).digest()
    a = int.from_bytes(digest[:8], "big") / 2**64
    b = int.from_bytes(digest[8:16], "big") / 2**64
    return a, b, digest[16]


def decide(settings: FaultSettings, portal_id: int, seq: int, path: str) -> Fault | None:
    """The fault for request ``seq`` of a portal, or None."""
    if settings.rate <= 0:
        return None
    if settings.match is not None and re.search(settings.match, path) is None:
        return None
    hit, pick, extra = _uniform(settings.seed, portal_id, seq)
    if hit >= settings.rate:
        return None
    total = sum(float(w) for w in settings.weights.values())
    acc = 0.0
    kind = FAULT_KINDS[0]
    for name in FAULT_KINDS:
        weight = float(settings.weights.get(name, 0.0))
        if weight <= 0:
            continue
        kind = name
        acc += weight / total
        if pick < acc:
            break
    if kind == "rate_limit":
        return Fault(kind, 429)
    if kind == "server_error":
        return Fault(kind, SERVER_ERRORS[extra % len(SERVER_ERRORS)])
    if kind == "slow":
        return Fault(kind, None, settings.slow_seconds)
    return Fault(kind)
