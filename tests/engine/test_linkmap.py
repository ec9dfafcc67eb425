"""The link-mapping stage against a plain-Python reference; the packed-key fallback.

``build_links`` looks ids up with one join and does the rest on integers: missing
ids numbered in (object, id) order, merged spellings and implied unlabeled links
as set operations on one packed key per (pair, from, to), or on the three columns
when that key would not fit in ``KEY_BITS`` bits. Both ways must give the same
links, and the same audit.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from engine_support import demo_hubspot_side, make_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assoc_audit import duck, linkmap
from assoc_audit.audit import run_audit
from assoc_audit.config import load_config
from assoc_audit.connectors import load_side
from assoc_audit.demo.portal import build_demo, prepare_demo
from assoc_audit.tables import (
    SideTables,
    empty_records,
)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CONFIG = make_config(
    objects={
        "contacts": {"sync": "two_way", "match": [{"hubspot": "email", "app": "email"}]},
        "companies": {"sync": "two_way", "match": [{"hubspot": "domain", "app": "domain"}]},
        "deals": {"sync": "hubspot_to_app", "match": [{"hubspot": "acme_id", "app": "id"}]},
    },
    associations=[
        {"from": "contacts", "to": "companies"},
        {"from": "contacts", "to": "companies", "label": "Primary", "app_label": "primary"},
        {"from": "contacts", "to": "companies", "label": "Billing", "app_label": "billing"},
        {"from": "contacts", "to": "companies", "label": "Reseller", "app_supported": False},
        {"from": "deals", "to": "contacts", "app_label": "participant"},
        {"from": "deals", "to": "companies"},
    ],
)
OBJECTS = list(CONFIG.audited_objects)
LABELS = {
    0: [None, "Primary", "Billing", "Reseller", "Other", "primary"],
    1: [None, "primary", "billing", "participant", "Other", "Primary"],
}
ID = st.text(st.sampled_from("ab1é😀"), min_size=0, max_size=3)


@st.composite
def side_world(draw):
    """Records (object, id, match) and links, some to ids the records lack, some of pairs
    that are not audited (companies→contacts), no exact duplicates."""
    side = draw(st.sampled_from([0, 1]))
    records = []
    for obj in OBJECTS:
        for rid in draw(st.lists(ID, max_size=4, unique=True)):
            records.append((obj, rid, draw(st.none() | st.integers(0, 30))))
    pairs = [*CONFIG.pairs, ("companies", "contacts")]
    links = draw(
        st.lists(
            st.tuples(st.sampled_from(pairs), ID, ID, st.sampled_from(LABELS[side])),
            max_size=25,
        )
    )
    rows = list(dict.fromkeys((a, f, b, t, lab) for (a, b), f, t, lab in links))
    return side, records, rows


def _register(con, records: list[tuple]) -> None:
    table = pa.table(
        {
            "row": pa.array(range(len(records)), pa.int64()),
            "obj": pa.array([OBJECTS.index(r[0]) for r in records], pa.int32()),
            "record_id": pa.array([r[1] for r in records], pa.string()),
            "m": pa.array([r[2] for r in records], pa.int64()),
        }
    )
    duck.register(con, "recs", table)


def _tables(side: int, rows: list[tuple], text=None) -> SideTables:
    """Associations as canonical text, or every column as ``text`` (e.g. dictionary-encoded)."""
    cols = ["from_object", "from_id", "to_object", "to_id", "label"]
    df = pd.DataFrame(rows, columns=cols, dtype=object).astype(text or "string[pyarrow]")
    return SideTables("hubspot" if side == 0 else "app", empty_records(), df)


def _reference(side: int, records: list[tuple], rows: list[tuple]):
    """Links as (p, from, to, fm, tm, lab, label text): endpoints ("row", r) or ("missing", obj, id)."""
    pairs = {pair: q for q, pair in enumerate(CONFIG.pairs)}
    at = {(r[0], r[1]): (i, r[2]) for i, r in enumerate(records)}
    kept = [r for r in rows if (r[0], r[2]) in pairs]
    missing = sorted(
        {
            (OBJECTS.index(o), i)
            for r in kept
            for o, i in ((r[0], r[1]), (r[2], r[3]))
            if (o, i) not in at
        },
        key=lambda x: (x[0], x[1].encode()),
    )
    # label codes as build_links numbers them: over every row read (left-out ones included)
    labels = pa.chunked_array([pa.array([r[4] for r in rows], pa.string())])
    every = np.array([pairs.get((r[0], r[2]), -1) for r in rows], dtype=np.int64)
    _, codes, _ = linkmap._label_codes(CONFIG, side, every, labels)
    p, lab = every[every >= 0], codes[every >= 0]

    def end(obj, rid):
        if (obj, rid) in at:
            row, m = at[(obj, rid)]
            return ("row", row), m
        return ("missing", OBJECTS.index(obj), rid), None

    links = []
    for r, q, code in zip(kept, p.tolist(), lab.tolist(), strict=True):
        (f, fm), (t, tm) = end(r[0], r[1]), end(r[2], r[3])
        links.append((q, f, t, fm, tm, code, r[4]))
    plain = {(q, f, t) for q, f, t, _, _, code, text in links if code == 0 and text is None}
    merged = [x for x in links if x[5] == 0 and x[6] is not None and x[:3] in plain]
    links = [x for x in links if x not in merged]
    unlabeled = {x[:3] for x in links if x[5] == 0}
    implied = {x[:5] for x in links if x[5] != 0 and x[:3] not in unlabeled}
    links += [(*x, 0, None) for x in implied]
    counts = {
        "stored": len(kept),
        "implied": len(implied),
        "merged": len(merged),
        "missing": len(missing),
        "rows_left_out": len(rows) - len(kept),
    }
    return sorted(links, key=repr), missing, counts


def _built(side: int, records: list[tuple], tables: SideTables):
    con = duck.connect(1)
    try:
        _register(con, records)
        got = linkmap.build_links(con, CONFIG, tables, side=side, records="recs", out="out")
        table = duck.arrow(con, "SELECT * FROM out")
        linkmap.drop_links(con, "out")
    finally:
        con.close()
    missing = list(zip(got.missing["obj"].to_pylist(), got.missing["id"].to_pylist(), strict=True))
    assert got.missing["code"].to_pylist() == [-(i + 1) for i in range(len(missing))]
    texts = got.labels.to_pylist()

    def end(x):
        return ("row", x) if x >= 0 else ("missing", *missing[-x - 1])

    links = [
        (
            r["p"],
            end(r["f"]),
            end(r["t"]),
            r["fm"],
            r["tm"],
            r["lab"],
            None if r["rc"] < 0 else texts[r["rc"]],
        )
        for r in table.to_pylist()
    ]
    return sorted(links, key=repr), missing, got.counts


@pytest.mark.parametrize("bits", [linkmap.KEY_BITS, 1], ids=["packed", "columns"])
@given(world=side_world())
@SETTINGS
def test_build_links_matches_the_reference(bits, world):
    side, records, rows = world
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(linkmap, "KEY_BITS", bits)
        assert _built(side, records, _tables(side, rows)) == _reference(side, records, rows)


@given(world=side_world())
@SETTINGS
def test_dictionary_encoded_columns_give_the_same_links(world):
    side, records, rows = world
    dictionary = pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string()))
    assert _built(side, records, _tables(side, rows, dictionary)) == _reference(side, records, rows)


def _fingerprint(result) -> str:
    summary = result.summary.to_dict()
    summary.pop("timings")
    summary.pop("started_at", None)
    return json.dumps(
        [
            result.findings.astype(object).where(result.findings.notna(), None).values.tolist(),
            result.records.astype(object).where(result.records.notna(), None).values.tolist(),
            summary,
        ],
        default=str,
    )


def test_packed_key_fallback_gives_an_identical_audit(tmp_path, monkeypatch):
    """The demo (missing ids, implied links, labels, limits; with a baseline) audited with keys
    that fit and with ``KEY_BITS`` too small for any key: the same findings, records, summary."""
    data = build_demo(300)
    config = load_config(prepare_demo(tmp_path, base_url="http://127.0.0.1:9", data=data))
    hubspot, app = demo_hubspot_side(config, data), load_side(config, "app")
    run_audit(config, hubspot=hubspot, app=app, out=tmp_path / "first")
    packed = run_audit(config, hubspot=hubspot, app=app, baseline=tmp_path / "first")
    seen: list[bool] = []
    real = linkmap._PairKeys.__init__

    def spy(self, *args):
        real(self, *args)
        seen.append(self.packed)

    monkeypatch.setattr(linkmap._PairKeys, "__init__", spy)
    monkeypatch.setattr(linkmap, "KEY_BITS", 1)
    columns = run_audit(config, hubspot=hubspot, app=app, baseline=tmp_path / "first")
    assert len(seen) == 4 and not any(seen)  # both sides, today and the baseline
    assert len(packed.findings) > 10
    assert packed.summary.links["hubspot_missing"] + packed.summary.links["app_missing"] > 0
    assert _fingerprint(columns) == _fingerprint(packed)
