"""Finding reasons, their troubleshooting steps, and actions (DESIGN §6).

Every one-sided link gets exactly one :class:`Reason`: the first, in the
order of this enum, that applies. Each reason has a fixed ``step`` (the seed's
troubleshooting checks: 1 records sync, 2 sync direction, 3 app-level
support, 4 matching criteria; 0 means nothing blocks the link).

Actions are plain text codes: ``none``, ``review``, ``create_in_<side>``,
``remove_from_<side>`` and ``relabel_in_<side>``, where ``<side>`` is
``hubspot`` or ``app``; :data:`ACTIONS` lists them all.

:func:`parse_reasons` turns the CLI's ``--fail-on`` text into reasons and
:data:`DEFAULT_FAIL_ON` is its default (DESIGN §8).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from assoc_audit.errors import AssocAuditError

__all__ = [
    "ACTIONS",
    "DEFAULT_FAIL_ON",
    "REASONS",
    "SIDES",
    "Action",
    "Reason",
    "count_failing",
    "create_action",
    "parse_reasons",
    "relabel_action",
    "remove_action",
]

SIDES: tuple[str, str] = ("hubspot", "app")


class Reason(StrEnum):
    """Why a link is present on one side only, in precedence order."""

    OBJECT_SYNC_OFF = "object_sync_off"
    UNSUPPORTED_IN_APP = "unsupported_in_app"
    AMBIGUOUS_MATCH = "ambiguous_match"
    RECORD_UNMATCHED = "record_unmatched"
    LABEL_MISMATCH = "label_mismatch"
    DIRECTION_BLOCKED = "direction_blocked"
    LIMIT_EXCEEDED = "limit_exceeded"
    SYNC_GAP = "sync_gap"

    @property
    def step(self) -> int:
        """The troubleshooting step of this reason (DESIGN §6)."""
        return _STEPS[self]

    @property
    def rank(self) -> int:
        """1-based precedence: the first reason that applies wins."""
        return tuple(Reason).index(self) + 1


_STEPS: dict[Reason, int] = {
    Reason.OBJECT_SYNC_OFF: 1,
    Reason.UNSUPPORTED_IN_APP: 3,
    Reason.AMBIGUOUS_MATCH: 4,
    Reason.RECORD_UNMATCHED: 1,
    Reason.LABEL_MISMATCH: 3,
    Reason.DIRECTION_BLOCKED: 2,
    Reason.LIMIT_EXCEEDED: 3,
    Reason.SYNC_GAP: 0,
}

#: Every reason code, in precedence order.
REASONS: tuple[str, ...] = tuple(r.value for r in Reason)

#: ``--fail-on`` default: every reason except those that describe the config rather than drift.
DEFAULT_FAIL_ON: tuple[Reason, ...] = tuple(
    r for r in Reason if r not in (Reason.OBJECT_SYNC_OFF, Reason.UNSUPPORTED_IN_APP)
)


class Action(StrEnum):
    """What would resolve a finding (the target side is part of the code)."""

    NONE = "none"
    REVIEW = "review"
    CREATE_IN_HUBSPOT = "create_in_hubspot"
    CREATE_IN_APP = "create_in_app"
    REMOVE_FROM_HUBSPOT = "remove_from_hubspot"
    REMOVE_FROM_APP = "remove_from_app"
    RELABEL_IN_HUBSPOT = "relabel_in_hubspot"
    RELABEL_IN_APP = "relabel_in_app"


#: Every action code.
ACTIONS: tuple[str, ...] = tuple(a.value for a in Action)


def create_action(target: str) -> Action:
    """``create_in_<target>``."""
    return Action(f"create_in_{target}")


def remove_action(side: str) -> Action:
    """``remove_from_<side>``."""
    return Action(f"remove_from_{side}")


def relabel_action(target: str) -> Action:
    """``relabel_in_<target>``."""
    return Action(f"relabel_in_{target}")


def parse_reasons(text: str | Iterable[str] | None) -> tuple[Reason, ...]:
    """Parse ``--fail-on`` (comma-separated reason codes; None = :data:`DEFAULT_FAIL_ON`).

    Blanks around codes are ignored; an unknown or empty code is an error
    (:class:`~assoc_audit.errors.AssocAuditError`, CLI exit code 2).
    """
    if text is None:
        return DEFAULT_FAIL_ON
    parts = [p.strip() for p in (text.split(",") if isinstance(text, str) else text)]
    unknown = [p for p in parts if p not in REASONS]
    if unknown or not parts:
        shown = ", ".join(repr(p) for p in unknown) if unknown else "nothing"
        raise AssocAuditError(
            f"--fail-on: unknown reason {shown} (allowed: {', '.join(REASONS)})",
            field="--fail-on",
        )
    return tuple(dict.fromkeys(Reason(p) for p in parts))


def count_failing(counts: dict[str, int], fail_on: Iterable[Reason | str]) -> int:
    """How many findings have one of the ``fail_on`` reasons, from counts by reason."""
    return sum(int(counts.get(str(r), 0)) for r in dict.fromkeys(fail_on))
