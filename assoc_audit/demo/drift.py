"""The demo's planted drift: small isolated cases, each with the findings it must produce.

The demo's base data is exactly in sync; every case here adds a few records and
links on one or both sides so that the audit must report specific findings,
covering every reason code of DESIGN §6 (and both sides, primaries, limits,
labels and precedence conflicts). :class:`Planter` collects the records, links
and expected findings; :func:`plant` lists the cases.
"""

from __future__ import annotations

from typing import Any

__all__ = ["APP_PLANTED", "HS_PLANTED", "Planter", "plant"]

# Planted ids live far above the base ranges so no scale makes the two collide.
HS_PLANTED = {
    "contacts": 9_000_000,
    "companies": 29_000_000,
    "deals": 39_000_000,
    "tickets": 49_000_000,
}
APP_PLANTED = 900_000_000


class Planter:
    """Collects planted records and links on both sides and the findings they imply."""

    def __init__(self) -> None:
        self.portal: dict[str, list[dict[str, Any]]] = {
            "contacts": [],
            "companies": [],
            "deals": [],
            "tickets": [],
        }
        self.links: list[dict[str, Any]] = []
        self.app: dict[str, list[dict[str, Any]]] = {
            "persons": [],
            "organizations": [],
            "deals": [],
            "deal_participants": [],
            "person_roles": [],
        }
        self.truth: list[dict[str, Any]] = []
        self._next = {obj: 0 for obj in HS_PLANTED}
        self._next_app = {"persons": 0, "organizations": 0, "deals": 0}

    def hs(self, obj: str, **props: Any) -> str:
        self._next[obj] += 1
        rid = str(HS_PLANTED[obj] + self._next[obj])
        self.portal[obj].append({"id": rid, **props})
        return rid

    def app_row(self, table: str, **cols: Any) -> str:
        self._next_app[table] += 1
        rid = APP_PLANTED + self._next_app[table]
        self.app[table].append({"id": rid, **cols})
        return str(rid)

    def link(self, frm: str, fid: str, to: str, tid: str, *labels: str | None) -> None:
        for label in labels:
            self.links.append(
                {"from_object": frm, "from_id": fid, "to_object": to, "to_id": tid, "label": label}
            )

    def expect(
        self,
        present_in: str,
        pair: tuple[str, str],
        label: str | None,
        hubspot: tuple[str | None, str | None],
        app: tuple[str | None, str | None],
        reason: str,
        step: int,
        action: str,
        stored_label: str | None = None,
    ) -> None:
        self.truth.append(
            {
                "present_in": present_in,
                "from_object": pair[0],
                "to_object": pair[1],
                "label": label or "",
                "hubspot_from_id": hubspot[0] or "",
                "hubspot_to_id": hubspot[1] or "",
                "app_from_id": app[0] or "",
                "app_to_id": app[1] or "",
                "reason": reason,
                "step": step,
                "action": action,
                "stored_label": stored_label if stored_label is not None else label,
            }
        )


CC = ("contacts", "companies")
DC = ("deals", "companies")
DP = ("deals", "contacts")
TC = ("tickets", "companies")


# long function: the planted cases, one after the other, a few lines each: a table of demo data
# more than logic
def plant() -> Planter:
    p = Planter()

    # Six companies present on both sides, matched by domain.
    companies = []
    for n in range(1, 7):
        domain = f"planted{n}.example"
        hs = p.hs("companies", name=f"Planted {n} Corp", domain=domain)
        app = p.app_row("organizations", name=f"Planted {n} Corp", website=f"https://www.{domain}/")
        companies.append((hs, app))
    (c1, o1), (c2, o2), (c3, o3), (c4, o4), (c5, o5), (c6, o6) = companies

    def person(
        first: str,
        last: str,
        *,
        email: str,
        org: str | None,
        acme: bool = True,
        hs: bool = True,
        app: bool = True,
        hs_email: str | None = None,
    ) -> tuple[str, str]:
        aid = (
            p.app_row(
                "persons",
                full_name=f"{first} {last}",
                email=email,
                organization_id=int(org) if org else None,
                org_is_primary=1,
            )
            if app
            else ""
        )
        hid = (
            p.hs(
                "contacts",
                firstname=first,
                lastname=last,
                email=hs_email or email.lower(),
                acme_id=aid if acme and aid else None,
            )
            if hs
            else ""
        )
        return hid, aid

    def deal(name: str, *, org: str | None = None) -> tuple[str, str]:
        aid = p.app_row(
            "deals",
            name=name,
            amount=5000.0,
            organization_id=int(org) if org else None,
            org_is_primary=1,
        )
        hid = p.hs("deals", dealname=name, amount="5000", acme_id=aid)
        return hid, aid

    # 1 object_sync_off: tickets are off; their links to companies are reported, action none.
    for subject in ("Printer on fire", "Invoice question"):
        t = p.hs("tickets", subject=subject)
        p.link("tickets", t, "companies", c1, None)
        p.expect("hubspot", TC, None, (t, c1), (None, o1), "object_sync_off", 1, "none")

    # 2 unsupported_in_app: a HubSpot-only label (Reseller), a HubSpot label with no entry,
    #   and an app label with no entry.
    d, ad = deal("Reseller bundle", org=o2)
    p.link("deals", d, "companies", c2, None, "Primary", "Reseller")
    p.expect("hubspot", DC, "Reseller", (d, c2), (ad, o2), "unsupported_in_app", 3, "none")
    h, a = person("Dana", "Decider", email="dana@planted2.example", org=o2)
    p.link("contacts", h, "companies", c2, None, "Primary", "Decision maker")
    p.expect("hubspot", CC, "Decision maker", (h, c2), (a, o2), "unsupported_in_app", 3, "none")
    h, a = person("Ian", "Influencer", email="ian@planted2.example", org=o2)
    p.link("contacts", h, "companies", c2, None, "Primary")
    p.app["person_roles"].append(
        {"person_id": int(a), "organization_id": int(o2), "role": "influencer"}
    )
    p.expect("app", CC, "influencer", (h, c2), (a, o2), "unsupported_in_app", 3, "none")

    # 3 ambiguous_match: two HubSpot contacts share an email; the app has one such person.
    aid = p.app_row(
        "persons",
        full_name="Duplicate Dupont",
        email="Dup@planted3.example",
        organization_id=int(o3),
        org_is_primary=1,
    )
    h1 = p.hs("contacts", firstname="Duplicate", lastname="Dupont", email="dup@planted3.example")
    p.hs("contacts", firstname="Duplicate", lastname="Dupont (2)", email="dup@planted3.example")
    p.link("contacts", h1, "companies", c3, None, "Primary")
    for label, stored in ((None, None), ("Primary", "primary")):
        p.expect(
            "app",
            CC,
            label,
            (None, c3),
            (aid, o3),
            "ambiguous_match",
            4,
            "review",
            stored_label=stored,
        )
        p.expect("hubspot", CC, label, (h1, c3), (None, o3), "ambiguous_match", 4, "review")

    # 4 record_unmatched: a contact only in HubSpot, a person only in the app, and an app
    #   participant row pointing at a person the app's persons table does not have (this app
    #   link is also direction-blocked: record_unmatched wins by precedence).
    h, _ = person("Holly", "Hubspot-Only", email="holly@planted4.example", org=None, app=False)
    p.link("contacts", h, "companies", c4, None, "Primary")
    _, a = person("Arthur", "App-Only", email="arthur@planted4.example", org=o4, hs=False)
    for label, stored in ((None, None), ("Primary", "primary")):
        p.expect("hubspot", CC, label, (h, c4), (None, o4), "record_unmatched", 1, "none")
        p.expect(
            "app",
            CC,
            label,
            (None, c4),
            (a, o4),
            "record_unmatched",
            1,
            "none",
            stored_label=stored,
        )
    d, ad = deal("Ghost participant")
    p.app["deal_participants"].append({"deal_id": int(ad), "person_id": 999_999_999})
    p.expect(
        "app",
        DP,
        None,
        (d, None),
        (ad, "999999999"),
        "record_unmatched",
        1,
        "none",
        stored_label="participant",
    )

    # 5 label_mismatch: HubSpot says "Billing contact", the app says "primary".
    h, a = person("Lena", "Labelle", email="lena@planted5.example", org=o5)
    p.link("contacts", h, "companies", c5, None, "Billing contact")
    p.expect(
        "hubspot", CC, "Billing contact", (h, c5), (a, o5), "label_mismatch", 3, "relabel_in_app"
    )
    p.expect(
        "app",
        CC,
        "Primary",
        (h, c5),
        (a, o5),
        "label_mismatch",
        3,
        "relabel_in_app",
        stored_label="primary",
    )

    # 6 direction_blocked: deals sync HubSpot → app only; a participant added in the app.
    d, ad = deal("One-way street")
    h, a = person("Dirk", "Direction", email="dirk@planted6.example", org=None)
    p.app["deal_participants"].append({"deal_id": int(ad), "person_id": int(a)})
    p.expect(
        "app", DP, None, (d, h), (ad, a), "direction_blocked", 2, "none", stored_label="participant"
    )

    # 7 limit_exceeded: a second company for a contact; the app holds one organization each.
    h, a = person("Lou", "Limit", email="lou@planted6.example", org=o6)
    p.link("contacts", h, "companies", c6, None, "Primary")
    p.link("contacts", h, "companies", c1, None)
    p.expect("hubspot", CC, None, (h, c1), (a, o1), "limit_exceeded", 3, "none")

    # 8 primary conflict (two-way, HubSpot wins): HubSpot's primary is c1, the app's is o6.
    h, a = person("Priya", "Primary", email="priya@planted6.example", org=o6)
    p.link("contacts", h, "companies", c1, None, "Primary")
    p.link("contacts", h, "companies", c6, None)
    p.expect("hubspot", CC, "Primary", (h, c1), (a, o1), "sync_gap", 0, "create_in_app")
    p.expect("hubspot", CC, None, (h, c1), (a, o1), "limit_exceeded", 3, "none")
    p.expect(
        "app", CC, "Primary", (h, c6), (a, o6), "limit_exceeded", 3, "none", stored_label="primary"
    )

    # 9 sync_gap create_in_app: a participant added in HubSpot that never reached the app.
    d, ad = deal("Gap to app")
    h, a = person("Gus", "Gap", email="gus@planted1.example", org=None)
    p.link("deals", d, "contacts", h, None)
    p.expect("hubspot", DP, None, (d, h), (ad, a), "sync_gap", 0, "create_in_app")

    # 10 sync_gap create_in_hubspot: an organization set in the app, missing in HubSpot.
    h, a = person("Hana", "Hub-Gap", email="hana@planted4.example", org=o4)
    for label, stored in ((None, None), ("Primary", "primary")):
        p.expect(
            "app",
            CC,
            label,
            (h, c4),
            (a, o4),
            "sync_gap",
            0,
            "create_in_hubspot",
            stored_label=stored,
        )
    return p
