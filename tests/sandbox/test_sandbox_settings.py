"""Limits, rate parsing, fault settings and search operators (small, direct checks)."""

from __future__ import annotations

import pandas as pd
import pytest
from hubspot.crm.contacts import PublicObjectSearchRequest

from assoc_audit.errors import SandboxError
from assoc_audit.sandbox import FaultSettings, Limits
from assoc_audit.sandbox.faults import decide
from assoc_audit.sandbox.limits import parse_rate


@pytest.mark.parametrize(
    ("text", "expected"),
    [("190/10s", 190), ("25", 25), (7, 7), ("off", None), ("0", None), (0, None), (None, None)],
)
def test_parse_rate(text, expected):
    assert parse_rate(text) == expected


def test_limits_validation():
    assert Limits(rate_per_10s=0).rate_per_10s is None  # 0 switches a rate limit off
    assert Limits().updated({"batch_max": 10}).batch_max == 10
    with pytest.raises(SandboxError, match="unknown limit"):
        Limits().updated({"nope": 1})
    with pytest.raises(SandboxError, match="batch_max"):
        Limits(batch_max=0)
    with pytest.raises(SandboxError, match="list_over_max"):
        Limits(list_over_max="maybe")  # type: ignore[arg-type]


def test_fault_settings_validation_and_determinism():
    with pytest.raises(SandboxError):
        FaultSettings(rate=1.5)
    with pytest.raises(SandboxError, match="unknown fault kind"):
        FaultSettings(rate=0.1, weights={"meteor": 1})
    with pytest.raises(SandboxError, match="all 0"):
        FaultSettings(rate=0.1, weights={"drop": 0})
    settings = FaultSettings(rate=0.3, seed=5)
    first = [decide(settings, 1, n, "/x") for n in range(400)]
    assert first == [decide(settings, 1, n, "/x") for n in range(400)]
    hits = [f for f in first if f is not None]
    assert 80 < len(hits) < 160  # about 30 %
    assert {f.kind for f in hits} == {"rate_limit", "server_error", "slow", "drop"}
    assert first != [decide(settings, 2, n, "/x") for n in range(400)]  # per portal
    assert decide(FaultSettings(), 1, 0, "/x") is None


def test_search_operators(sb, api):
    sb.backend.load_records(
        "tok-a",
        "contacts",
        pd.DataFrame(
            {
                "id": ["1", "2", "3", "4"],
                "email": ["ann@acme.com", "bob@acme.com", "cy@other.org", None],
                "firstname": ["Ann", "Bob", "Cy", "Dee"],
                "createdate": [
                    "2024-01-01T00:00:00Z",
                    "2024-02-01T00:00:00Z",
                    "2024-03-01T00:00:00Z",
                    "2024-04-01T00:00:00Z",
                ],
            }
        ),
    )

    def ids(*filters: dict) -> list[str]:
        page = api.crm.contacts.search_api.do_search(
            PublicObjectSearchRequest(filter_groups=[{"filters": list(filters)}], limit=10)
        )
        return [r.id for r in page.results]

    assert ids({"propertyName": "firstname", "operator": "NEQ", "value": "ann"}) == ["2", "3", "4"]
    assert ids({"propertyName": "firstname", "operator": "NOT_IN", "values": ["ann", "bob"]}) == [
        "3",
        "4",
    ]
    assert ids({"propertyName": "email", "operator": "NOT_HAS_PROPERTY"}) == ["4"]
    assert ids({"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@acme.com"}) == [
        "1",
        "2",
    ]
    assert ids(
        {"propertyName": "email", "operator": "NOT_CONTAINS_TOKEN", "value": "*@acme.com"}
    ) == ["3", "4"]
    assert ids(
        {
            "propertyName": "createdate",
            "operator": "BETWEEN",
            "value": "2024-01-15T00:00:00Z",
            "highValue": "1709251200000",
        }
    ) == ["2", "3"]
    assert ids(
        {"propertyName": "createdate", "operator": "LT", "value": "2024-02-01T00:00:00.000Z"}
    ) == ["1"]
    assert ids(
        {"propertyName": "firstname", "operator": "GTE", "value": "b"},
        {"propertyName": "email", "operator": "HAS_PROPERTY"},
    ) == ["2", "3"]
