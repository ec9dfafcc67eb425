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

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assoc_audit.demo import app as demo_app
from assoc_audit.demo.drift import Planter, plant

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


# long function: the demo's base data, object by object, in one deterministic pass (one random
# generator)
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


def ground_truth(planted: Planter | None = None) -> pd.DataFrame:
    """The findings an audit of the demo must report, with their DESIGN §6 finding ids."""
    rows = (planted or plant()).truth
    out = pd.DataFrame(rows)
    out.insert(0, "finding_id", [_finding_id(r) for r in rows])
    return out.drop(columns="stored_label")


def build_demo(scale: int = 2000) -> DemoData:
    """The demo integration at ``scale`` base contacts (deterministic)."""
    portal, hs_links, app = _base(scale)
    planted = plant()
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


def seed_demo_portal(backend: Any, token: str, *, scale: int = 2000) -> DemoData:
    """Load the demo portal's HubSpot side into an emulator portal; returns the demo data."""
    data = build_demo(scale)
    for obj, df in data.portal_records.items():
        backend.load_records(token, obj, df)
    backend.load_associations(token, data.portal_associations)
    return data


def write_app_database(path: Path | str, data: DemoData) -> Path:
    """Write the demo's Acme CRM SQLite database (replacing any file at ``path``)."""
    return demo_app.write_app_database(path, data.app_tables)


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
