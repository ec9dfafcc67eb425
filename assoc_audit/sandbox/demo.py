"""The demo integration: a HubSpot demo portal, the "Acme CRM" app, and planted drift.

The demo is what ``make demo`` audits. It is generated deterministically at any
scale and has three parts:

- **the demo portal** (HubSpot side): contacts, companies, deals and tickets with
  their associations (unlabeled, ``Primary``, ``Billing contact``,
  ``Reseller``, ``Decision maker``), loaded into a sandbox emulator portal;
- **Acme CRM** (app side): a SQLite database with persons (one organization
  each), organizations with websites, deals with participants and one
  organization, and no tickets; an ``associations`` view presents the links in
  the canonical shape, and INSTEAD OF triggers on it let fixes write links back
  as a real app would (person and deal organization columns, participant and
  role tables);
- **planted drift**: a fixed set of small, isolated cases on top of a base that is
  exactly in sync, covering every reason code of DESIGN §6, and the ground truth
  (:func:`ground_truth`) of the findings an audit must report.

``examples/demo.yaml`` is the demo's integration config.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DEMO_CONFIG",
    "DEMO_TOKEN",
    "DEMO_TOKEN_ENV",
    "DemoData",
    "build_demo",
    "ground_truth",
    "prepare_demo",
    "seed_demo_portal",
    "write_app_database",
]

#: Environment variable the demo config reads its (sandbox) token from.
DEMO_TOKEN_ENV = "ASSOC_AUDIT_SANDBOX_TOKEN"
#: The demo portal's sandbox token (not a secret: it only opens the local emulator).
DEMO_TOKEN = "sandbox-demo-portal"
#: The demo's integration config (``examples/demo.yaml`` is the same file, checked by a test).
DEMO_CONFIG = Path(__file__).resolve().with_name("demo.yaml")

# Id ranges: base records are dense from the start of each range; planted cases
# live far above them so no scale makes the two collide.
_HS_BASE = {"contacts": 1_000_001, "companies": 20_000_001, "deals": 30_000_001}
_HS_PLANTED = {
    "contacts": 9_000_000,
    "companies": 29_000_000,
    "deals": 39_000_000,
    "tickets": 49_000_000,
}
_APP_PLANTED = 900_000_000

_FIRST = np.array(
    "Ada Alan Grace Linus Margaret Edsger Barbara Donald Frances Ken Radia Tim Katherine "
    "Dennis Hedy John Sophie Niklaus Shafi Leslie Anita Guido Yukihiro Bjarne Adele".split()
)
_LAST = np.array(
    "Lovelace Turing Hopper Torvalds Hamilton Dijkstra Liskov Knuth Allen Thompson Perlman "
    "Berners-Lee Johnson Ritchie Lamarr McCarthy Wilson Wirth Goldwasser Lamport Borg "
    "Rossum Matsumoto Stroustrup Goldberg".split()
)
_WORDS = np.array(
    "north wind contoso fabrikam globex initech umbrella stark wayne acme hooli vandelay "
    "tyrell cyberdyne soylent wonka oscorp aperture blackmesa gringotts".split()
)
_SUFFIX = np.array(["Ltd", "Inc", "GmbH", "Labs", "Group", "Partners", "Systems"])
_DEAL_WORDS = np.array(["Renewal", "Expansion", "Pilot", "Migration", "Support plan", "Upgrade"])


@dataclass(frozen=True)
class DemoData:
    """Both sides of the demo integration, ready to load."""

    #: HubSpot side: per object, an ``id`` column and one column per property.
    portal_records: dict[str, pd.DataFrame]
    #: HubSpot side links: from_object, from_id, to_object, to_id, label (HubSpot text).
    portal_associations: pd.DataFrame
    #: Acme CRM tables: persons, organizations, deals, deal_participants, person_roles.
    app_tables: dict[str, pd.DataFrame]
    #: The findings the audit of this data must report (see :func:`ground_truth`).
    ground_truth: pd.DataFrame
    scale: int


# ---------------------------------------------------------------------------
# The in-sync base


def _base(scale: int) -> tuple[dict[str, pd.DataFrame], list[pd.DataFrame], dict[str, Any]]:
    n = max(int(scale), 10)
    nc = max(n // 5, 2)
    nd = max(n * 3 // 10, 1)
    i = np.arange(n)
    j = np.arange(nc)
    k = np.arange(nd)

    domains = pd.Series(_WORDS[j % len(_WORDS)]).str.cat(pd.Series(j.astype(str))) + ".example"
    company_names = (
        pd.Series(_WORDS[j % len(_WORDS)]).str.capitalize()
        + " "
        + pd.Series((j // len(_WORDS)).astype(str))
        + " "
        + pd.Series(_SUFFIX[j % len(_SUFFIX)])
    )
    # The app spells websites the way people type them; the domain normaliser must cope.
    variant = j % 4
    websites = domains.copy()
    websites[variant == 1] = "https://www." + domains[variant == 1] + "/"
    websites[variant == 2] = domains[variant == 2].str.upper() + "."
    websites[variant == 3] = "http://" + domains[variant == 3] + ":443/about?ref=crm"

    first = pd.Series(_FIRST[i % len(_FIRST)])
    last = pd.Series(_LAST[(i // len(_FIRST)) % len(_LAST)])
    company_of = i % nc
    emails = (
        first.str.lower()
        + "."
        + last.str.lower().str.replace("-", "")
        + "."
        + pd.Series(i.astype(str))
        + "@"
        + domains.iloc[company_of].reset_index(drop=True)
    )
    app_emails = emails.copy()
    app_emails[i % 7 == 0] = emails[i % 7 == 0].str.title()
    app_emails[i % 11 == 0] = " " + emails[i % 11 == 0] + "\t"

    hs_contact = pd.Series((_HS_BASE["contacts"] + i).astype(str))
    hs_company = pd.Series((_HS_BASE["companies"] + j).astype(str))
    hs_deal = pd.Series((_HS_BASE["deals"] + k).astype(str))
    app_person = i + 1
    app_org = j + 1
    app_deal = k + 1
    acme_id = pd.Series(app_person.astype(str)).where(i % 5 != 0, None)  # 1 in 5 matched by email

    contacts = pd.DataFrame(
        {
            "id": hs_contact,
            "firstname": first,
            "lastname": last,
            "email": emails,
            "acme_id": acme_id,
        }
    )
    companies = pd.DataFrame({"id": hs_company, "name": company_names, "domain": domains})
    deal_names = (
        pd.Series(_WORDS[k % len(_WORDS)]).str.capitalize()
        + " "
        + pd.Series(_DEAL_WORDS[k % 6])
        + " "
        + pd.Series(k.astype(str))
    )
    deals = pd.DataFrame(
        {
            "id": hs_deal,
            "dealname": deal_names,
            "amount": pd.Series(((k % 50) + 1) * 1000).astype(str),
            "acme_id": pd.Series(app_deal.astype(str)),
        }
    )

    billing = i % 10 == 3
    deal_company = k % nc
    # participants: 1 to 3 contacts per deal
    parts = []
    for m in range(3):
        sel = k % 3 >= m
        parts.append(pd.DataFrame({"deal": k[sel], "contact": (k[sel] * 7 + m * 131) % n}))
    participants = pd.concat(parts, ignore_index=True).drop_duplicates()

    hs_links = [
        _links("contacts", hs_contact, "companies", hs_company.iloc[company_of].to_numpy(), None),
        _links(
            "contacts", hs_contact, "companies", hs_company.iloc[company_of].to_numpy(), "Primary"
        ),
        _links(
            "contacts",
            hs_contact[billing],
            "companies",
            hs_company.iloc[company_of[billing]].to_numpy(),
            "Billing contact",
        ),
        _links("deals", hs_deal, "companies", hs_company.iloc[deal_company].to_numpy(), None),
        _links("deals", hs_deal, "companies", hs_company.iloc[deal_company].to_numpy(), "Primary"),
        _links(
            "deals",
            hs_deal.iloc[participants["deal"]].to_numpy(),
            "contacts",
            hs_contact.iloc[participants["contact"]].to_numpy(),
            None,
        ),
    ]
    app = {
        "persons": pd.DataFrame(
            {
                "id": app_person,
                "full_name": first + " " + last,
                "email": app_emails,
                "organization_id": app_org[company_of],
                "org_is_primary": 1,
            }
        ),
        "organizations": pd.DataFrame({"id": app_org, "name": company_names, "website": websites}),
        "deals": pd.DataFrame(
            {
                "id": app_deal,
                "name": deal_names,
                "amount": ((k % 50) + 1) * 1000.0,
                "organization_id": app_org[deal_company],
                "org_is_primary": 1,
            }
        ),
        "deal_participants": pd.DataFrame(
            {
                "deal_id": app_deal[participants["deal"].to_numpy()],
                "person_id": app_person[participants["contact"].to_numpy()],
            }
        ),
        "person_roles": pd.DataFrame(
            {
                "person_id": app_person[billing],
                "organization_id": app_org[company_of[billing]],
                "role": "billing",
            }
        ),
    }
    portal = {"contacts": contacts, "companies": companies, "deals": deals}
    return portal, hs_links, app


def _links(frm: str, from_ids: Any, to: str, to_ids: Any, label: str | None) -> pd.DataFrame:
    from_ids = np.asarray(from_ids, dtype=object)
    return pd.DataFrame(
        {
            "from_object": frm,
            "from_id": from_ids,
            "to_object": to,
            "to_id": np.asarray(to_ids, dtype=object),
            "label": label,
        },
        index=range(len(from_ids)),
    )


# ---------------------------------------------------------------------------
# Planted drift: small isolated cases, each with the findings it must produce


class _Planter:
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
        self._next = {obj: 0 for obj in _HS_PLANTED}
        self._next_app = {"persons": 0, "organizations": 0, "deals": 0}

    def hs(self, obj: str, **props: Any) -> str:
        self._next[obj] += 1
        rid = str(_HS_PLANTED[obj] + self._next[obj])
        self.portal[obj].append({"id": rid, **props})
        return rid

    def app_row(self, table: str, **cols: Any) -> str:
        self._next_app[table] += 1
        rid = _APP_PLANTED + self._next_app[table]
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


def _plant() -> _Planter:
    p = _Planter()

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


# ---------------------------------------------------------------------------
# Putting it together


def _finding_id(row: dict[str, Any]) -> str:
    import hashlib
    import json

    side = row["present_in"]
    ids = (row[f"{side}_from_id"], row[f"{side}_to_id"])
    blob = json.dumps(
        [side, row["from_object"], row["to_object"], row["stored_label"], ids[0], ids[1]],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def ground_truth(planted: _Planter | None = None) -> pd.DataFrame:
    """The findings an audit of the demo must report, with their DESIGN §6 finding ids."""
    rows = (planted or _plant()).truth
    out = pd.DataFrame(rows)
    out.insert(0, "finding_id", [_finding_id(r) for r in rows])
    return out.drop(columns="stored_label")


def build_demo(scale: int = 2000) -> DemoData:
    """The demo integration at ``scale`` base contacts (deterministic)."""
    portal, hs_links, app = _base(scale)
    planted = _plant()
    for obj, rows in planted.portal.items():
        extra = pd.DataFrame(rows)
        portal[obj] = (
            pd.concat([portal.get(obj), extra], ignore_index=True) if obj in portal else extra
        )
    links = pd.concat([*hs_links, pd.DataFrame(planted.links)], ignore_index=True)
    for table, rows in planted.app.items():
        if rows:
            app[table] = pd.concat([app[table], pd.DataFrame(rows)], ignore_index=True)
    for obj, df in portal.items():
        portal[obj] = df.astype(object).where(df.notna(), None)
    return DemoData(portal, links, app, ground_truth(planted), int(scale))


_SCHEMA = """
CREATE TABLE organizations (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, website TEXT);
CREATE TABLE persons (
    id INTEGER PRIMARY KEY, full_name TEXT, email TEXT,
    organization_id INTEGER REFERENCES organizations(id),
    org_is_primary INTEGER NOT NULL DEFAULT 1);
CREATE TABLE deals (
    id INTEGER PRIMARY KEY, name TEXT, amount REAL,
    organization_id INTEGER REFERENCES organizations(id),
    org_is_primary INTEGER NOT NULL DEFAULT 1);
CREATE TABLE deal_participants (
    deal_id INTEGER NOT NULL, person_id INTEGER NOT NULL, PRIMARY KEY (deal_id, person_id));
CREATE TABLE person_roles (
    person_id INTEGER NOT NULL, organization_id INTEGER NOT NULL, role TEXT NOT NULL,
    PRIMARY KEY (person_id, organization_id, role));

-- Every link in the canonical shape, in Acme's own object names and label texts.
CREATE VIEW associations AS
    SELECT 'persons' AS from_object, id AS from_id, 'organizations' AS to_object,
           organization_id AS to_id, NULL AS label
      FROM persons WHERE organization_id IS NOT NULL
    UNION ALL
    SELECT 'persons', id, 'organizations', organization_id, 'primary'
      FROM persons WHERE organization_id IS NOT NULL AND org_is_primary = 1
    UNION ALL
    SELECT 'persons', person_id, 'organizations', organization_id, role FROM person_roles
    UNION ALL
    SELECT 'deals', deal_id, 'persons', person_id, 'participant' FROM deal_participants
    UNION ALL
    SELECT 'deals', id, 'organizations', organization_id, NULL
      FROM deals WHERE organization_id IS NOT NULL
    UNION ALL
    SELECT 'deals', id, 'organizations', organization_id, 'primary'
      FROM deals WHERE organization_id IS NOT NULL AND org_is_primary = 1;

-- Writing links through the view, as Acme's API would: one organization per person and
-- per deal (setting another one replaces it), roles and participants in their tables.
CREATE TRIGGER associations_insert INSTEAD OF INSERT ON associations BEGIN
    UPDATE persons SET organization_id = NEW.to_id,
           org_is_primary = CASE WHEN NEW.label = 'primary' THEN 1
                                 WHEN organization_id IS NOT NULL
                                      AND organization_id = NEW.to_id THEN org_is_primary
                                 ELSE 0 END
     WHERE NEW.from_object = 'persons' AND NEW.to_object = 'organizations'
       AND (NEW.label IS NULL OR NEW.label = 'primary') AND id = NEW.from_id;
    INSERT OR IGNORE INTO person_roles (person_id, organization_id, role)
    SELECT NEW.from_id, NEW.to_id, NEW.label
     WHERE NEW.from_object = 'persons' AND NEW.to_object = 'organizations'
       AND NEW.label IS NOT NULL AND NEW.label <> 'primary';
    INSERT OR IGNORE INTO deal_participants (deal_id, person_id)
    SELECT NEW.from_id, NEW.to_id
     WHERE NEW.from_object = 'deals' AND NEW.to_object = 'persons'
       AND (NEW.label IS NULL OR NEW.label = 'participant');
    UPDATE deals SET organization_id = NEW.to_id,
           org_is_primary = CASE WHEN NEW.label = 'primary' THEN 1
                                 WHEN organization_id IS NOT NULL
                                      AND organization_id = NEW.to_id THEN org_is_primary
                                 ELSE 0 END
     WHERE NEW.from_object = 'deals' AND NEW.to_object = 'organizations'
       AND (NEW.label IS NULL OR NEW.label = 'primary') AND id = NEW.from_id;
    SELECT RAISE(ABORT, 'Acme CRM does not store this kind of link')
     WHERE NOT ((NEW.from_object = 'persons' AND NEW.to_object = 'organizations')
             OR (NEW.from_object = 'deals' AND NEW.to_object = 'persons'
                 AND (NEW.label IS NULL OR NEW.label = 'participant'))
             OR (NEW.from_object = 'deals' AND NEW.to_object = 'organizations'
                 AND (NEW.label IS NULL OR NEW.label = 'primary')));
END;

CREATE TRIGGER associations_delete INSTEAD OF DELETE ON associations BEGIN
    -- removing the unlabeled link removes the whole pair (its labels too)
    UPDATE persons SET organization_id = NULL, org_is_primary = 1
     WHERE OLD.from_object = 'persons' AND OLD.label IS NULL
       AND id = OLD.from_id AND organization_id = OLD.to_id;
    DELETE FROM person_roles
     WHERE OLD.from_object = 'persons' AND OLD.label IS NULL
       AND person_id = OLD.from_id AND organization_id = OLD.to_id;
    UPDATE persons SET org_is_primary = 0
     WHERE OLD.from_object = 'persons' AND OLD.label = 'primary'
       AND id = OLD.from_id AND organization_id = OLD.to_id;
    DELETE FROM person_roles
     WHERE OLD.from_object = 'persons' AND OLD.label IS NOT NULL AND OLD.label <> 'primary'
       AND person_id = OLD.from_id AND organization_id = OLD.to_id AND role = OLD.label;
    DELETE FROM deal_participants
     WHERE OLD.from_object = 'deals' AND OLD.to_object = 'persons'
       AND deal_id = OLD.from_id AND person_id = OLD.to_id;
    UPDATE deals SET organization_id = NULL, org_is_primary = 1
     WHERE OLD.from_object = 'deals' AND OLD.to_object = 'organizations' AND OLD.label IS NULL
       AND id = OLD.from_id AND organization_id = OLD.to_id;
    UPDATE deals SET org_is_primary = 0
     WHERE OLD.from_object = 'deals' AND OLD.to_object = 'organizations'
       AND OLD.label = 'primary' AND id = OLD.from_id AND organization_id = OLD.to_id;
END;
"""

_COLUMNS = {
    "organizations": ("id", "name", "website"),
    "persons": ("id", "full_name", "email", "organization_id", "org_is_primary"),
    "deals": ("id", "name", "amount", "organization_id", "org_is_primary"),
    "deal_participants": ("deal_id", "person_id"),
    "person_roles": ("person_id", "organization_id", "role"),
}


def write_app_database(path: Path | str, data: DemoData) -> Path:
    """Write the Acme CRM SQLite database (replacing any file at ``path``)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    try:
        con.executescript(_SCHEMA)
        for table, cols in _COLUMNS.items():
            df = data.app_tables[table].reindex(columns=list(cols))
            rows = df.astype(object).where(df.notna(), None).itertuples(index=False, name=None)
            marks = ", ".join("?" for _ in cols)
            con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", rows)
        con.commit()
    finally:
        con.close()
    tmp.replace(out)
    return out


def seed_demo_portal(backend: Any, token: str, *, scale: int = 2000) -> DemoData:
    """Load the demo portal's HubSpot side into an emulator portal; returns the demo data."""
    data = build_demo(scale)
    for obj, df in data.portal_records.items():
        backend.load_records(token, obj, df)
    backend.load_associations(token, data.portal_associations)
    return data


def prepare_demo(folder: Path | str, *, base_url: str, data: DemoData) -> Path:
    """Write the demo's app database, ground truth and config into ``folder``.

    Returns the path of the ready config (``demo.yaml`` with ``base_url`` set).
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    write_app_database(out / "acme.db", data)
    data.ground_truth.to_csv(out / "ground_truth.csv", index=False)
    text = DEMO_CONFIG.read_text("utf-8")
    text = text.replace("base_url: http://127.0.0.1:8765", f"base_url: {base_url}", 1)
    config = out / "demo.yaml"
    config.write_text(text, "utf-8")
    return config
