"""Matching's groups (hashed keys, verified) against a plain-Python reading of DESIGN §5,
with real hashes and with hashes forced to collide (the exact fallback)."""

from __future__ import annotations

import numpy as np
import pytest
from engine_support import make_config, make_side
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assoc_audit import matching
from assoc_audit.matching import MatchStatus, match_records
from assoc_audit.normalize import normalize_value

RULES = [
    {"hubspot": "acme_id", "app": "id"},
    {"hubspot": "email", "app": "email", "normalize": "email"},
    {"hubspot": "domain", "app": "website", "normalize": "domain"},
]
KEYS = st.none() | st.sampled_from(["a", "A", "b", " b", "c@x.io", "C@X.IO", "www.d.io", "d.io/"])


def _config():
    return make_config(
        objects={"contacts": {"sync": "two_way", "match": RULES}},
        associations=[{"from": "contacts", "to": "contacts"}],
    )


@st.composite
def sides(draw):
    n_h = draw(st.integers(0, 7))
    n_a = draw(st.integers(0, 7))
    hub = [
        ("contacts", f"h{i}", {"acme_id": draw(KEYS), "email": draw(KEYS), "domain": draw(KEYS)})
        for i in range(n_h)
    ]
    ids = draw(
        st.lists(
            st.sampled_from(["a", "A", "b", "x", "y", "z", "w"]),
            min_size=n_a,
            max_size=n_a,
            unique=True,
        )
    )
    app = [("contacts", i, {"email": draw(KEYS), "website": draw(KEYS)}) for i in ids]
    return hub, app


def _reference(hub, app):
    """DESIGN §5 literally: per rule, equal non-null keys over the pool form groups."""
    columns = [
        ("acme_id", "id", "none"),
        ("email", "email", "email"),
        ("domain", "website", "domain"),
    ]
    status_h, status_a = ["unmatched"] * len(hub), ["unmatched"] * len(app)
    partner_h, rule_h, rule_a = [-1] * len(hub), [0] * len(hub), [0] * len(app)
    grouped_h, grouped_a, keyed_h, keyed_a = (
        [0] * len(hub),
        [0] * len(app),
        [0] * len(hub),
        [0] * len(app),
    )
    ambiguity = {}
    for number, (hc, ac, how) in enumerate(columns, start=1):
        groups: dict[str, tuple[list[int], list[int]]] = {}
        for i, rec in enumerate(hub):
            key = normalize_value(rec[2].get(hc), how)
            if status_h[i] != "matched" and key is not None:
                groups.setdefault(key, ([], []))[0].append(i)
                keyed_h[i] = keyed_h[i] or number
        for j, rec in enumerate(app):
            key = normalize_value(rec[1] if ac == "id" else rec[2].get(ac), how)
            if status_a[j] != "matched" and key is not None:
                groups.setdefault(key, ([], []))[1].append(j)
                keyed_a[j] = keyed_a[j] or number
        for hs, as_ in groups.values():
            if len(hs) == 1 and len(as_) == 1:
                status_h[hs[0]], status_a[as_[0]] = "matched", "matched"
                partner_h[hs[0]], rule_h[hs[0]], rule_a[as_[0]] = as_[0], number, number
            elif hs and as_:
                for i in hs:
                    grouped_h[i] = grouped_h[i] or number
                    for j in as_:
                        grouped_a[j] = grouped_a[j] or number
                        ambiguity.setdefault((i, j), number)
    for i in range(len(hub)):
        if status_h[i] != "matched":
            status_h[i] = "ambiguous" if grouped_h[i] else "unmatched"
            rule_h[i] = grouped_h[i] or keyed_h[i]
    for j in range(len(app)):
        if status_a[j] != "matched":
            status_a[j] = "ambiguous" if grouped_a[j] else "unmatched"
            rule_a[j] = grouped_a[j] or keyed_a[j]
    kept = {
        k: v
        for k, v in ambiguity.items()
        if status_h[k[0]] == "ambiguous" or status_a[k[1]] == "ambiguous"
    }
    return status_h, status_a, partner_h, rule_h, rule_a, kept


def _got(config, hub, app):
    h = make_side(config, "hubspot", hub)
    a = make_side(config, "app", app)
    m = match_records(config, h, a)
    names = {int(s): s.name.lower() for s in MatchStatus}
    amb = m.ambiguity
    return (
        [names[int(x)] for x in m.hubspot.status],
        [names[int(x)] for x in m.app.status],
        [int(x) for x in m.hubspot.partner],
        [int(x) for x in m.hubspot.rule],
        [int(x) for x in m.app.rule],
        {
            (int(i), int(j)): int(r)
            for i, j, r in zip(amb["hubspot_row"], amb["app_row"], amb["rule"], strict=True)
        },
    )


@pytest.mark.parametrize("hashes", ["real", "colliding"])
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(world=sides())
def test_groups_follow_design(world, hashes, monkeypatch):
    if hashes == "colliding":  # every key hashes alike: the exact fallback must take over
        monkeypatch.setattr(
            matching, "_hashes", lambda con, keys: np.zeros(len(keys), dtype=np.uint64)
        )
    hub, app = world
    assert _got(_config(), hub, app) == _reference(hub, app)
