"""Two small integrations whose audits yield every kind of plan operation."""

from __future__ import annotations

from pathlib import Path

from fixes_support import World, app, hub, make_world

#: The environment variable holding the hub-side world's emulator token.
PORTAL_TOKEN_ENV = "FIXTEST_TOKEN"

# HubSpot wins (app-side operations only): creates, a primary move, a relabel, a participant, removals (with a baseline).
APP_SIDE_HUB = [
    hub(1, 1),
    hub(1, 1, "Primary"),
    hub(1, 1, "Billing contact"),
    hub(2, 2),
    hub(2, 3),
    hub(2, 3, "Primary"),
    hub(3, 3),
    hub(3, 3, "Billing contact"),
    ("deals", "g1", "contacts", "c4", None),
]
APP_SIDE_APP = [app(2, 2), app(2, 2, "primary"), app(3, 3), app(3, 3, "primary")]
APP_SIDE_DELETED_HUB = [
    hub(5, 5),
    hub(5, 5, "Billing contact"),
    hub(6, 6),
    hub(6, 6, "Billing contact"),
    hub(7, 1, "Billing contact"),
]
APP_SIDE_KEPT_HUB = [hub(7, 1)]
APP_SIDE_BASE_APP = [app(5, 5), app(5, 5, "billing"), app(6, 6, "billing"), app(7, 1, "billing")]

#: (side, action, from_id, to_id, label, old_label, cause, implied, findings)
APP_SIDE_OPS = [
    ("app", "create", "p1", "o1", None, None, None, False, 1),
    ("app", "create", "p1", "o1", "billing", None, None, False, 1),
    ("app", "create", "p1", "o1", "primary", None, None, False, 1),
    ("app", "remove", "p2", "o2", "primary", None, 6, False, 0),
    ("app", "create", "p2", "o3", None, None, None, False, 1),
    ("app", "create", "p2", "o3", "primary", None, None, False, 1),
    ("app", "relabel", "p3", "o3", "billing", "primary", None, False, 2),
    ("app", "remove", "p5", "o5", None, None, None, False, 1),
    ("app", "remove", "p5", "o5", "billing", None, None, False, 1),
    ("app", "remove", "p6", "o6", None, None, None, False, 1),
    ("app", "remove", "p6", "o6", "billing", None, None, False, 1),
    ("app", "create", "p7", "o1", None, None, 13, False, 0),
    ("app", "remove", "p7", "o1", "billing", None, None, False, 1),
    ("app", "create", "D1", "p4", "participant", None, None, False, 1),
]


def app_side_world(folder: Path, kind: str) -> tuple[World, Path]:
    """A world (HubSpot wins) and the audit folder (with a baseline) to plan from."""
    world = make_world(
        folder,
        kind,
        APP_SIDE_HUB + APP_SIDE_DELETED_HUB + APP_SIDE_KEPT_HUB,
        APP_SIDE_APP + APP_SIDE_BASE_APP,
    )
    base = world.audit("base")
    world.hub_links = APP_SIDE_HUB + APP_SIDE_KEPT_HUB
    return world, world.audit("now", baseline=base)


# The app wins: HubSpot creates, primary moves, a relabel to Primary, removals.
HUB_SIDE_HUB = [hub(3, 4), hub(3, 4, "Primary"), hub(4, 4), hub(4, 4, "Billing contact"),
                hub(4, 5), hub(4, 5, "Primary"), hub(6, 6), hub(6, 6, "Billing contact"),
                hub(7, 2), hub(7, 2, "Billing contact")]  # fmt: skip
HUB_SIDE_APP = [app(1, 1), app(1, 1, "billing"), app(2, 2, "billing"), app(3, 3),
                app(3, 3, "primary"), app(4, 4), app(4, 4, "primary"), app(4, 5)]  # fmt: skip
HUB_SIDE_BASE_APP = [app(6, 6), app(6, 6, "billing"), app(7, 2)]

HUB_SIDE_OPS = [
    ("hubspot", "create", "c1", "k1", None, None, None, False, 1),
    ("hubspot", "create", "c1", "k1", "Billing contact", None, None, False, 1),
    ("hubspot", "create", "c2", "k2", None, None, None, False, 1),
    ("hubspot", "create", "c2", "k2", "Billing contact", None, None, False, 1),
    ("hubspot", "create", "c3", "k3", None, None, None, False, 1),
    ("hubspot", "create", "c3", "k3", "Primary", None, None, False, 1),
    ("hubspot", "remove", "c3", "k4", "Primary", None, 6, True, 0),
    ("hubspot", "relabel", "c4", "k4", "Primary", "Billing contact", None, False, 2),
    ("hubspot", "remove", "c4", "k5", "Primary", None, 8, True, 0),
    ("hubspot", "remove", "c6", "k6", None, None, None, False, 1),
    ("hubspot", "remove", "c6", "k6", "Billing contact", None, 10, True, 1),
    ("hubspot", "remove", "c7", "k2", None, None, None, False, 1),
    ("hubspot", "remove", "c7", "k2", "Billing contact", None, 12, True, 0),
    ("app", "create", "p3", "o4", None, None, None, False, 1),
    ("app", "create", "p7", "o2", "billing", None, None, False, 1),
]


def hub_side_world(folder: Path, kind: str, portal: str) -> tuple[World, Path]:
    """A world (the app wins: HubSpot-side operations) whose HubSpot side is the emulator
    portal at ``portal`` (a plan writing HubSpot records that portal's id)."""
    world = make_world(
        folder,
        kind,
        HUB_SIDE_HUB,
        HUB_SIDE_APP + HUB_SIDE_BASE_APP,
        conflict_winner="app",
        hubspot={"token_env": PORTAL_TOKEN_ENV, "base_url": portal},
    )
    base = world.audit("base")
    world.set_app_links(HUB_SIDE_APP)
    return world, world.audit("now", baseline=base)


def op_rows(plan) -> list[tuple]:
    return [
        (op.side, op.action, op.from_id, op.to_id, op.label, op.old_label, op.cause, op.implied,
         len(op.finding_ids))
        for op in plan.operations
    ]  # fmt: skip
