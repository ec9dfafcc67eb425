"""Property tests (hypothesis): identity, side symmetry, planted differences, odd text."""

from __future__ import annotations

import csv
from collections import Counter

import pandas as pd
from engine_support import brief, make_config, make_side
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assoc_audit.audit import run_audit
from assoc_audit.findings import finding_id
from assoc_audit.outputs import write_csv
from assoc_audit.tables import SideTables

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ODD = st.sampled_from(
    ['a,"b"', "x" * 3000, "ünï😀", " spaced ", "line\nbreak", "tab\there", "\\", "'", "0", "007"]
)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=12) | ODD
LABELS = ["Primary", "Billing", "Owner"]


def _config(winner: str = "hubspot"):
    return make_config(
        objects={
            "contacts": {"sync": "two_way", "match": [{"hubspot": "email", "app": "email"}]},
            "companies": {"sync": "two_way", "match": [{"hubspot": "domain", "app": "domain"}]},
        },
        associations=[
            {"from": "contacts", "to": "companies"},
            *({"from": "contacts", "to": "companies", "label": x} for x in LABELS),
            {"from": "contacts", "to": "companies", "label": "Reseller", "app_supported": False},
        ],
        conflict_winner=winner,
    )


@st.composite
def base_world(draw):
    """Records (ids, keys) and links with at most one Primary per contact."""
    contacts = draw(st.lists(TEXT, min_size=1, max_size=5, unique=True))
    companies = draw(st.lists(TEXT, min_size=1, max_size=5, unique=True))
    emails = draw(st.lists(TEXT, min_size=len(contacts), max_size=len(contacts), unique=True))
    domains = draw(st.lists(TEXT, min_size=len(companies), max_size=len(companies), unique=True))
    records = [
        ("contacts", c, {"email": e}, f"C {c}") for c, e in zip(contacts, emails, strict=True)
    ]
    records += [("companies", k, {"domain": d}) for k, d in zip(companies, domains, strict=True)]
    links = []
    pairs = draw(st.sets(st.tuples(st.sampled_from(contacts), st.sampled_from(companies))))
    has_primary: set[str] = set()
    for c, k in sorted(pairs):
        links.append(("contacts", c, "companies", k, None))
        for label in draw(st.sets(st.sampled_from(LABELS))):
            if label == "Primary":
                if c in has_primary:
                    continue
                has_primary.add(c)
            links.append(("contacts", c, "companies", k, label))
    return records, links


@SETTINGS
@given(base_world())
def test_identical_sides_give_no_findings(world):
    records, links = world
    config = _config()
    h = make_side(config, "hubspot", records, links)
    a = make_side(config, "app", records, links)
    result = run_audit(config, hubspot=h, app=a)
    assert result.findings.empty
    assert result.summary.in_sync == result.summary.links["hubspot"] == result.summary.links["app"]
    assert set(result.records["status"]) <= {"matched"}
    assert sorted(result.records["hubspot_id"]) == sorted(r[1] for r in records)


@st.composite
def two_sides(draw):
    """Independent sides over a shared key pool (matches, duplicates, strays, missing ids)."""
    keys = draw(st.lists(TEXT, min_size=1, max_size=5, unique=True))
    labels = [None, *LABELS, "Reseller", "Foo"]

    def side(prefix: str):
        n_c = draw(st.integers(1, 5))
        n_k = draw(st.integers(1, 4))
        contacts = [f"{prefix}c{i}" + draw(TEXT) for i in range(n_c)]
        companies = [f"{prefix}k{i}" + draw(TEXT) for i in range(n_k)]
        records = [("contacts", c, {"email": draw(st.sampled_from(keys))}) for c in contacts]
        records += [("companies", k, {"domain": draw(st.sampled_from(keys))}) for k in companies]
        links = draw(
            st.lists(
                st.tuples(
                    st.sampled_from([*contacts, f"{prefix}ghost"]),
                    st.sampled_from(companies),
                    st.sampled_from(labels),
                ),
                max_size=12,
            )
        )
        return records, [("contacts", c, "companies", k, lab) for c, k, lab in links]

    return side("h"), side("a")


_SWAP_ACTION = {
    "create_in_app": "create_in_hubspot",
    "create_in_hubspot": "create_in_app",
    "remove_from_app": "remove_from_hubspot",
    "remove_from_hubspot": "remove_from_app",
    "relabel_in_app": "relabel_in_hubspot",
    "relabel_in_hubspot": "relabel_in_app",
}


def _swapped(row: tuple) -> tuple:
    present, fo, to, label, hf, ht, af, at, reason, step, action = row
    other = "app" if present == "hubspot" else "hubspot"
    return (other, fo, to, label, af, at, hf, ht, reason, step, _SWAP_ACTION.get(action, action))


def _rows(result) -> Counter:
    cols = [
        "present_in",
        "from_object",
        "to_object",
        "label",
        "hubspot_from_id",
        "hubspot_to_id",
        "app_from_id",
        "app_to_id",
        "reason",
        "step",
        "action",
    ]
    df = result.findings[cols].astype(object).where(result.findings[cols].notna(), None)
    return Counter(tuple(r) for r in df.itertuples(index=False))


@SETTINGS
@given(two_sides(), st.sampled_from(["hubspot", "app"]))
def test_swapping_sides_swaps_present_in_ids_and_targets(sides, winner):
    (h_records, h_links), (a_records, a_links) = sides
    config = _config(winner)
    swapped_config = _config("app" if winner == "hubspot" else "hubspot")
    h = make_side(config, "hubspot", h_records, h_links)
    a = make_side(config, "app", a_records, a_links)
    first = run_audit(config, hubspot=h, app=a)
    second = run_audit(
        swapped_config,
        hubspot=SideTables("hubspot", a.records, a.associations),
        app=SideTables("app", h.records, h.associations),
    )
    assert Counter(_swapped(r) for r in _rows(first).elements()) == _rows(second)
    swapped_records = first.records.rename(columns={"hubspot_id": "app_id", "app_id": "hubspot_id"})
    assert _record_rows(swapped_records) == _record_rows(second.records)


def _record_rows(df: pd.DataFrame) -> list[tuple]:
    cols = ["object", "hubspot_id", "app_id", "rule", "status"]
    return sorted(
        tuple("" if v is pd.NA else str(v) for v in r) for r in df[cols].itertuples(index=False)
    )


@st.composite
def planted(draw):
    """A base world, an identical copy with planted differences, and the expected findings."""
    records, links = draw(base_world())
    contacts = [r[1] for r in records if r[0] == "contacts"]
    companies = [r[1] for r in records if r[0] == "companies"]
    linked = sorted({(link[1], link[3]) for link in links})
    labels_of = {p: [link[4] for link in links if (link[1], link[3]) == p] for p in linked}
    unlinked = [(c, k) for c in contacts for k in companies if (c, k) not in labels_of]
    h_links, a_links = list(links), list(links)
    h_records, a_records = list(records), list(records)
    expected: list[tuple] = []
    used: set[tuple[str, str]] = set()

    def pick(pool):
        pool = [p for p in pool if p not in used]
        if not pool:
            return None
        p = draw(st.sampled_from(pool))
        used.add(p)
        return p

    kinds = draw(
        st.lists(
            st.sampled_from(["drop", "add", "relabel", "foo", "orphan", "missing"]), max_size=6
        )
    )
    for kind in kinds:
        if kind == "drop" and (p := pick(linked)):
            a_links = [x for x in a_links if (x[1], x[3]) != p]
            for label in labels_of[p]:
                expected.append(("hubspot", p[0], p[1], label, "sync_gap", "create_in_app"))
        elif kind == "add" and (p := pick(unlinked)):
            extra = draw(st.sampled_from([None, "Billing", "Owner"]))
            a_links.append(("contacts", p[0], "companies", p[1], extra))
            expected.append(("app", p[0], p[1], None, "sync_gap", "create_in_hubspot"))
            if extra:
                expected.append(("app", p[0], p[1], extra, "sync_gap", "create_in_hubspot"))
        elif kind == "relabel":
            single = [q for q in linked if sorted(labels_of[q], key=str) == [None, "Billing"]]
            if p := pick(single):
                a_links = [x for x in a_links if not ((x[1], x[3]) == p and x[4] == "Billing")]
                a_links.append(("contacts", p[0], "companies", p[1], "Owner"))
                expected.append(
                    ("hubspot", p[0], p[1], "Billing", "label_mismatch", "relabel_in_app")
                )
                expected.append(("app", p[0], p[1], "Owner", "label_mismatch", "relabel_in_app"))
        elif kind == "foo" and (p := pick(linked)):
            a_links.append(("contacts", p[0], "companies", p[1], "Foo"))
            expected.append(("app", p[0], p[1], "Foo", "unsupported_in_app", "none"))
        elif kind == "orphan":
            new_id = "orphan-" + draw(TEXT)
            if new_id not in contacts and ("orphan", new_id) not in used:
                used.add(("orphan", new_id))
                k = draw(st.sampled_from(companies))
                a_records.append(("contacts", new_id, {"email": "\x00never " + new_id}))
                a_links.append(("contacts", new_id, "companies", k, None))
                expected.append(("app", new_id, k, None, "record_unmatched", "none"))
        elif kind == "missing":
            c = draw(st.sampled_from(contacts))
            ghost = "ghost-" + draw(TEXT)
            if ghost not in companies and (c, ghost) not in used:
                used.add((c, ghost))
                h_links.append(("contacts", c, "companies", ghost, None))
                expected.append(("hubspot", c, ghost, None, "record_unmatched", "none"))
    return (h_records, h_links), (a_records, a_links), expected


@SETTINGS
@given(planted())
def test_planted_differences_are_found_with_their_reasons(world):
    (h_records, h_links), (a_records, a_links), expected = world
    config = _config()
    h = make_side(config, "hubspot", h_records, h_links)
    a = make_side(config, "app", a_records, a_links)
    result = run_audit(config, hubspot=h, app=a)
    assert Counter(brief(result)) == Counter(expected)


@SETTINGS
@given(two_sides())
def test_odd_text_survives_ids_finding_ids_and_csv(tmp_path_factory, sides):
    (h_records, h_links), (a_records, a_links) = sides
    config = _config()
    h = make_side(config, "hubspot", h_records, h_links)
    a = make_side(config, "app", a_records, a_links)
    result = run_audit(config, hubspot=h, app=a)
    stored = {
        "hubspot": {(x[1], x[3], x[4]) for x in h_links},
        "app": {(x[1], x[3], x[4]) for x in a_links},
    }
    for row in result.findings.itertuples(index=False):
        own = row.present_in
        frm, to = getattr(row, f"{own}_from_id"), getattr(row, f"{own}_to_id")
        label = None if row.label is pd.NA else row.label
        assert (frm, to, label) in stored[own] or (
            label is None and any((s[0], s[1]) == (frm, to) for s in stored[own])
        )
        raw = label if (frm, to, label) in stored[own] else None
        assert row.finding_id == finding_id(own, row.from_object, row.to_object, raw, frm, to)
    folder = tmp_path_factory.mktemp("csv")
    write_csv(result.findings, folder / "f.csv")
    with (folder / "f.csv").open(newline="", encoding="utf-8") as fh:
        parsed = list(csv.reader(fh))
    expected = [
        ["" if v is pd.NA else str(v) for v in r] for r in result.findings.itertuples(index=False)
    ]
    assert parsed[1:] == expected
