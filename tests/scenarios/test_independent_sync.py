"""The data-sync simulator matches records on its own (assoc_audit.scenarios.simmatch), so a
matching bug in the auditor cannot hide behind a simulator that shares it: the scenario fails."""

from __future__ import annotations

import dataclasses

import numpy as np
from scenario_support import files_app

import assoc_audit.audit
from assoc_audit.matching import Matches, MatchStatus, SideMatch, match_records
from assoc_audit.scenarios import run_scenarios
from assoc_audit.scenarios.simmatch import SimStatus, sim_key, sim_match
from assoc_audit.tables import SideTables


def _pairs_duplicates(*args, **kwargs) -> Matches:
    """The auditor's matching with a classic bug: an ambiguous record is paired with the
    first of its duplicates instead of being left ambiguous."""
    matches = match_records(*args, **kwargs)
    amb = matches.ambiguity
    sides = {}
    for side, own, other in (
        ("hubspot", "hubspot_row", "app_row"),
        ("app", "app_row", "hubspot_row"),
    ):
        m = matches.side(side)
        status, partner = m.status.copy(), m.partner.copy()
        first = amb.drop_duplicates(own)
        rows = first[own].to_numpy(dtype=np.int64)
        loose = status[rows] == MatchStatus.AMBIGUOUS
        status[rows[loose]] = MatchStatus.MATCHED
        partner[rows[loose]] = first[other].to_numpy(dtype=np.int64)[loose]
        sides[side] = SideMatch(status, partner, m.rule)
    return dataclasses.replace(matches, hubspot=sides["hubspot"], app=sides["app"])


def test_a_matching_bug_in_the_auditor_fails_a_scenario(tmp_path, monkeypatch):
    with files_app(tmp_path, monkeypatch) as d:
        clean = run_scenarios(d.config, kinds=["duplicates", "round_trip"])
        monkeypatch.setattr(assoc_audit.audit, "match_records", _pairs_duplicates)
        buggy = run_scenarios(d.config, kinds=["duplicates", "round_trip"])
    assert clean.passed, clean.render()
    failed = [r for r in buggy.results if r.verdict != "pass"]
    assert failed and {r.scenario.kind for r in failed} == {"duplicates"}, buggy.render()
    for r in failed:
        # the simulator, matching on its own, refused to sync the duplicate's link (it is
        # still on one side only); the buggy audit no longer calls it ambiguous
        assert r.observed.startswith("only in ") and "ambiguous_match" not in r.observed


def _side(side: str, rows: list[tuple[str, str, str | None]]) -> SideTables:
    import pandas as pd

    records = pd.DataFrame(rows, columns=["object", "record_id", "email"]).astype("string[pyarrow]")
    return SideTables(side, records, pd.DataFrame())  # type: ignore[arg-type]


def test_the_simulators_own_matcher_follows_the_design_rules():
    from assoc_audit.config import parse_config

    config = parse_config(
        {
            "name": "sim",
            "app": {"kind": "files", "path": "."},
            "objects": {
                "contacts": {
                    "sync": "two_way",
                    "match": [{"hubspot": "email", "app": "email", "normalize": "email"}],
                }
            },
            "associations": [{"from": "contacts", "to": "contacts"}],
        }
    )
    hub = _side("hubspot", [("contacts", "c1", " a@x.io"), ("contacts", "c2", "DUP@x.io"),
                            ("contacts", "c3", "dup@x.io"), ("contacts", "c4", None)])  # fmt: skip
    app = _side("app", [("contacts", "p1", "A@X.IO"), ("contacts", "p2", "dup@x.io"),
                        ("contacts", "p3", "")])  # fmt: skip
    got = sim_match(config, hub, app)
    assert got.hubspot.status.tolist() == [SimStatus.MATCHED, SimStatus.AMBIGUOUS,
                                           SimStatus.AMBIGUOUS, SimStatus.UNMATCHED]  # fmt: skip
    assert got.app.status.tolist() == [SimStatus.MATCHED, SimStatus.AMBIGUOUS, SimStatus.UNMATCHED]
    assert got.hubspot.partner[0] == 0 and got.app.partner[0] == 0
    assert sorted(zip(got.ambiguity["hubspot_row"], got.ambiguity["app_row"], strict=True)) == [
        (1, 1),
        (2, 1),
    ]
    assert sim_key("https://www.Example.COM:443/a?b#c", "domain") == "example.com"
    assert sim_key("  ", "email") is None and sim_key("X", "none") == "X"
