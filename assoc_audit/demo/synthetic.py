"""Deterministic synthetic portals at any scale (numpy, no per-row Python).

:func:`synthesize_portal` builds records for contacts (``email, firstname,
lastname``), companies (``name, domain``), deals (``dealname, amount``) and
tickets (``subject``), and their links in the canonical associations shape
(``from_object, from_id, to_object, to_id, label``):

- contact → company: most contacts have a primary company (``Primary`` plus
  the unlabeled row); some also work with a second company; some links carry
  the user-defined labels ``Billing contact`` or ``Decision maker``;
- deal → contact (one to three contacts per deal, unlabeled);
- deal → company: the first contact's primary company as the deal's primary,
  and a few ``Reseller`` links to another company;
- ticket → contact, and ticket → company (the contact's company as primary).

Company sizes follow a skewed distribution (a few companies have many
contacts). Contact emails use the primary company's domain or a free-mail
domain and are unique (case-insensitively), as HubSpot requires. A few
company domains are written as users do (``www.`` prefix, capitals), to
exercise normalisation. The same ``seed`` and sizes give the same portal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from assoc_audit.errors import SandboxError
from assoc_audit.tables import TEXT

if TYPE_CHECKING:
    from assoc_audit.sandbox.models import SandboxBackend
    from assoc_audit.sandbox.portals import Portal

__all__ = ["LABELS", "SyntheticPortal", "seed_portal", "synthesize_portal"]

#: The user-defined labels a synthetic portal uses: (from, to, label, inverse label).
LABELS: tuple[tuple[str, str, str, str], ...] = (
    ("contacts", "companies", "Billing contact", "Billed company"),
    ("contacts", "companies", "Decision maker", "Decided for"),
    ("deals", "companies", "Reseller", "Resold deal"),
)

_FIRST = (
    "Anna Ben Chloe David Emma Felix Grace Hugo Isla Jack Karin Liam Mia Noah Olivia Paul "
    "Quinn Rosa Sam Tara Umar Vera Will Xena Yusuf Zoe Aaron Bella Carlos Dana Elif Farid "
    "Gina Hana Ivan Jana Kofi Lena Marco Nina Omar Priya Rafael Sara Tomas Uma Victor Wen "
    "Yara Zack Alba Bruno Clara Diego Eva Fatima Georg Helen Ines Jonas Kai Lara Mateo Nora "
    "Oscar Pia Ruth Sofia Theo Ursula Vlad Wanda Yann Amir Bea Cyril Dora Emil Flora Gus "
    "Heidi Igor Jade Kurt"
)
_LAST = (
    "Smith Jones Brown Garcia Miller Davis Wilson Taylor Moore Clark Lewis Walker Hall Young "
    "King Wright Lopez Hill Scott Green Adams Baker Nelson Carter Mitchell Perez Roberts "
    "Turner Phillips Campbell Parker Evans Edwards Collins Stewart Morris Rogers Reed Cook "
    "Morgan Bell Murphy Bailey Rivera Cooper Richardson Cox Howard Ward Torres Peterson Gray "
    "Ramirez James Watson Brooks Kelly Sanders Price Bennett Wood Barnes Ross Henderson "
    "Coleman Jenkins Perry Powell Long Patterson Hughes Flores Washington Butler Simmons "
    "Foster Bryant Alexander Russell Griffin Diaz Hayes Myers Ford Hamilton Graham Sullivan "
    "Wallace Woods Cole West Jordan Owens Schmidt Muller Weber Novak Rossi Ferrari Dubois "
    "Laurent Jensen Hansen Nowak Silva Santos"
)
_ADJ = (
    "Blue Bright Silver Golden Northern Swift Green Clear Bold Prime Urban Summit Quiet Rapid "
    "Solid Open Smart True Red Deep Cedar Iron Maple Coastal Alpine Lunar Solar Vivid Agile "
    "Noble"
)
_NOUN = (
    "Harbor River Peak Forge Bridge Field Stone Pixel Cloud Orbit Vertex Anchor Beacon Canyon "
    "Delta Falcon Grove Horizon Island Lantern Meadow Nexus Ocean Pine Quarry Ridge Signal "
    "Tide Valley Willow"
)
_SUFFIX = (
    "Logistics",
    "Labs",
    "Systems",
    "Partners",
    "Foods",
    "Health",
    "Energy",
    "Media",
    "Analytics",
    "Retail",
    "Capital",
    "Robotics",
    "Studio",
    "Works",
    "Group",
    "Software",
)
_TLD = ("com", "com", "com", "io", "co", "net", "org", "de", "co.uk", "fr")
_FREE = ("gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com")
_PRODUCT = (
    "Annual licence",
    "Pilot",
    "Renewal",
    "Expansion",
    "Onboarding",
    "Support plan",
    "Enterprise upgrade",
    "Starter bundle",
)
_TICKET = (
    "Cannot log in",
    "Invoice question",
    "Data export fails",
    "Feature request",
    "Sync error",
    "Password reset",
    "Billing address change",
    "API limit reached",
)


@dataclass(frozen=True)
class SyntheticPortal:
    """A synthetic portal: records per object and links in the canonical shape."""

    contacts: pd.DataFrame
    companies: pd.DataFrame
    deals: pd.DataFrame
    tickets: pd.DataFrame
    associations: pd.DataFrame
    seed: int = 0

    @property
    def records(self) -> dict[str, pd.DataFrame]:
        return {
            "companies": self.companies,
            "contacts": self.contacts,
            "deals": self.deals,
            "tickets": self.tickets,
        }

    def to_dict(self) -> dict[str, Any]:
        """Sizes (for reports and logs)."""
        return {
            "seed": self.seed,
            **{name: len(df) for name, df in self.records.items()},
            "associations": len(self.associations),
        }


def _text(values: np.ndarray) -> pd.Series:
    return pd.Series(values, dtype=TEXT)


def _pick(rng: np.random.Generator, words: tuple[str, ...] | list[str], n: int) -> pd.Series:
    return _text(np.asarray(words, dtype=object)[rng.integers(0, len(words), n)])


def _unique(base: pd.Series, sep: str) -> pd.Series:
    """Make repeated values (compared without case) unique: a number before ``sep``'s part."""
    counts = base.str.lower().groupby(base.str.lower()).cumcount().to_numpy()
    dup = np.flatnonzero(counts > 0)
    if not len(dup):
        return base
    values = base.to_numpy(dtype=object).copy()
    for pos in dup:  # a small minority of rows
        left, _, right = str(values[pos]).partition(sep)
        values[pos] = f"{left}{counts[pos] + 1}{sep}{right}"
    return _text(values)


def _ids(rng: np.random.Generator, start: int, n: int) -> tuple[np.ndarray, int]:
    ids = start + np.cumsum(rng.integers(1, 40, n, dtype=np.int64))
    return ids, int(ids[-1]) if n else start


def _skewed(rng: np.random.Generator, n_from: int, n_to: int) -> np.ndarray:
    return np.minimum((n_to * rng.random(n_from) ** 2.2).astype(np.int64), n_to - 1)


def _links(
    from_object: str, from_ids: np.ndarray, to_object: str, to_ids: np.ndarray, label: str | None
) -> pd.DataFrame:
    n = len(from_ids)
    return pd.DataFrame(
        {
            "from_object": _text(np.full(n, from_object, dtype=object)),
            "from_id": _text(from_ids.astype(str).astype(object)),
            "to_object": _text(np.full(n, to_object, dtype=object)),
            "to_id": _text(to_ids.astype(str).astype(object)),
            "label": _text(np.full(n, label, dtype=object)),
        }
    )


# long function: a synthetic portal, object by object, in one deterministic pass (one random
# generator, shared sizes)
def synthesize_portal(
    contacts: int = 1000,
    seed: int = 0,
    *,
    companies: int | None = None,
    deals: int | None = None,
    tickets: int | None = None,
    primary_share: float = 0.92,
    second_company_share: float = 0.1,
    label_share: float = 0.08,
) -> SyntheticPortal:
    """A deterministic synthetic portal with ``contacts`` contacts (others scale with it)."""
    if contacts < 0 or (companies is not None and companies < 0):
        raise SandboxError("portal sizes must be ≥ 0")
    n_p = int(contacts)
    n_c = int(companies if companies is not None else max(1, n_p // 8)) if n_p or companies else 0
    n_d = int(deals if deals is not None else n_p // 4)
    n_t = int(tickets if tickets is not None else n_p // 10)
    if n_c == 0 and (n_p or n_d or n_t):
        raise SandboxError("a portal with contacts, deals or tickets needs at least one company")
    rng = np.random.default_rng(seed)

    company_ids, last = _ids(rng, 100, n_c)
    contact_ids, last = _ids(rng, last + 1000, n_p)
    deal_ids, last = _ids(rng, last + 1000, n_d)
    ticket_ids, _ = _ids(rng, last + 1000, n_t)

    # companies
    adj, noun = _pick(rng, _ADJ.split(), n_c), _pick(rng, _NOUN.split(), n_c)
    name = adj + " " + noun + " " + _pick(rng, _SUFFIX, n_c)
    slug = (adj + noun).str.lower()
    domain = _unique(slug + "." + _pick(rng, _TLD, n_c), ".")
    style = rng.random(n_c)
    clean = domain.to_numpy(dtype=object)
    shown: np.ndarray = np.select(
        [style < 0.02, style < 0.04, style >= 0.97],
        [
            np.char.add("www.", clean.astype(str)).astype(object),
            np.char.upper(clean.astype(str)).astype(object),
            np.full(n_c, None, dtype=object),
        ],
        default=clean,
    )
    companies_df = pd.DataFrame(
        {"id": _text(company_ids.astype(str).astype(object)), "name": name, "domain": _text(shown)}
    )

    # contacts and their companies
    first = _pick(rng, _FIRST.split(), n_p)
    last_name = _pick(rng, _LAST.split(), n_p)
    has_primary = rng.random(n_p) < primary_share
    primary_idx = _skewed(rng, n_p, max(n_c, 1))
    work_domain = (
        domain.to_numpy(dtype=object)[primary_idx] if n_c else np.full(n_p, None, dtype=object)
    )
    use_work = has_primary & (rng.random(n_p) < 0.75)
    mail_domain = np.where(
        use_work, work_domain, np.asarray(_FREE, dtype=object)[rng.integers(0, len(_FREE), n_p)]
    )
    local = first.str.lower() + "." + last_name.str.lower()
    email = _unique(local + "@" + _text(mail_domain), "@")
    contacts_df = pd.DataFrame(
        {
            "id": _text(contact_ids.astype(str).astype(object)),
            "email": email,
            "firstname": first,
            "lastname": last_name,
        }
    )

    links: list[pd.DataFrame] = []
    p_from = contact_ids[has_primary]
    p_to = company_ids[primary_idx[has_primary]] if n_c else np.zeros(0, dtype=np.int64)
    links += [
        _links("contacts", p_from, "companies", p_to, None),
        _links("contacts", p_from, "companies", p_to, "Primary"),
    ]
    second = rng.random(n_p) < second_company_share
    s_idx = _skewed(rng, n_p, max(n_c, 1))
    second &= (s_idx != primary_idx) & (n_c > 1)
    links.append(
        _links(
            "contacts",
            contact_ids[second],
            "companies",
            company_ids[s_idx[second]] if n_c else s_idx[second],
            None,
        )
    )
    lab = rng.random(len(p_from))
    for i, (label, share) in enumerate(
        (("Billing contact", label_share), ("Decision maker", label_share / 2))
    ):
        pick = (lab >= i * label_share) & (lab < i * label_share + share)
        links.append(_links("contacts", p_from[pick], "companies", p_to[pick], label))

    # deals
    d_company = (
        company_ids[_skewed(rng, n_d, max(n_c, 1))] if n_c else np.zeros(n_d, dtype=np.int64)
    )
    deal_name = _text(
        np.asarray(companies_df["name"].to_numpy(dtype=object), dtype=object)[
            np.searchsorted(company_ids, d_company)
        ]
        if n_c
        else np.full(n_d, "Deal", dtype=object)
    )
    deals_df = pd.DataFrame(
        {
            "id": _text(deal_ids.astype(str).astype(object)),
            "dealname": deal_name + " – " + _pick(rng, _PRODUCT, n_d),
            "amount": _text((rng.integers(5, 2500, n_d) * 100).astype(str).astype(object)),
        }
    )
    if n_d and n_p:
        count = rng.integers(1, 4, n_d)
        rep = np.repeat(deal_ids, count)
        who = contact_ids[rng.integers(0, n_p, len(rep))]
        pairs = pd.DataFrame({"d": rep, "c": who}).drop_duplicates()
        links.append(
            _links("deals", pairs["d"].to_numpy(), "contacts", pairs["c"].to_numpy(), None)
        )
    has_deal_primary = rng.random(n_d) < 0.9
    links += [
        _links("deals", deal_ids, "companies", d_company, None),
        _links(
            "deals", deal_ids[has_deal_primary], "companies", d_company[has_deal_primary], "Primary"
        ),
    ]
    reseller = (rng.random(n_d) < 0.03) & (n_c > 1)
    r_company = (
        company_ids[rng.integers(0, max(n_c, 1), n_d)] if n_c else np.zeros(n_d, dtype=np.int64)
    )
    reseller &= r_company != d_company
    links += [
        _links("deals", deal_ids[reseller], "companies", r_company[reseller], None),
        _links("deals", deal_ids[reseller], "companies", r_company[reseller], "Reseller"),
    ]

    # tickets
    tickets_df = pd.DataFrame(
        {"id": _text(ticket_ids.astype(str).astype(object)), "subject": _pick(rng, _TICKET, n_t)}
    )
    if n_t and n_p:
        t_contact_idx = rng.integers(0, n_p, n_t)
        links.append(_links("tickets", ticket_ids, "contacts", contact_ids[t_contact_idx], None))
        t_has = has_primary[t_contact_idx]
        t_company = company_ids[primary_idx[t_contact_idx]] if n_c else t_contact_idx
        links += [
            _links("tickets", ticket_ids[t_has], "companies", t_company[t_has], None),
            _links("tickets", ticket_ids[t_has], "companies", t_company[t_has], "Primary"),
        ]
    associations = pd.concat(links, ignore_index=True)
    return SyntheticPortal(contacts_df, companies_df, deals_df, tickets_df, associations, seed)


def seed_portal(
    backend: SandboxBackend, token: str | Portal, portal: SyntheticPortal
) -> dict[str, int]:
    """Load a synthetic portal (records, labels, links) into ``token``'s portal; counts loaded."""
    out: dict[str, int] = {}
    for name, df in portal.records.items():
        out[name] = backend.load_records(token, name, df)
    schema = backend.schema(token)
    for f, t, label, inverse in LABELS:
        fo, to = schema.resolve(f), schema.resolve(t)
        if schema.by_label(fo.code, to.code, label) is None:
            backend.create_label(token, f, t, label, inverse_label=inverse)
    out["associations"] = backend.load_associations(token, portal.associations)
    return out


def control_seeder(
    body: Mapping[str, Any],
) -> Callable[[SandboxBackend, Portal], dict[str, int]]:
    """The emulator's seeder for ``POST /_sandbox/seed`` (:class:`~assoc_audit.sandbox.Sandbox`
    ``seeder=``): ``{"contacts": N, "seed": S, "companies"?, "deals"?, "tickets"?}`` builds a
    synthetic portal (raising ValueError for a bad request); the returned callable loads it."""
    options = {k: int(body[k]) for k in ("companies", "deals", "tickets") if k in body}
    data = synthesize_portal(
        contacts=int(body.get("contacts", 1000)), seed=int(body.get("seed", 0)), **options
    )
    return lambda backend, portal: seed_portal(backend, portal, data)
