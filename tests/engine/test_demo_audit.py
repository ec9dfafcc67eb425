"""The audit of the demo integration finds exactly the planted ground truth.

The HubSpot side is built the way the HubSpot connector reads the demo portal
(records with their identifier properties and display names, links with
HubSpot label texts); the app side is read through the SQL connector from the
demo's Acme CRM database.
"""

from __future__ import annotations

import pandas as pd
import pytest
from engine_support import demo_hubspot_side

from assoc_audit.audit import run_audit
from assoc_audit.config import load_config
from assoc_audit.connectors import load_side
from assoc_audit.demo.portal import build_demo, prepare_demo

COLUMNS = [
    "finding_id",
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


def _rows(df: pd.DataFrame) -> set[tuple]:
    out = df[COLUMNS].astype(object).where(df[COLUMNS].notna(), "")
    return {tuple(str(v) for v in row) for row in out.itertuples(index=False)}


@pytest.mark.parametrize("scale", [50, 2000])
def test_demo_audit_finds_exactly_the_ground_truth(tmp_path, scale):
    data = build_demo(scale)
    config = load_config(prepare_demo(tmp_path, base_url="http://127.0.0.1:9", data=data))
    app = load_side(config, "app")
    result = run_audit(config, hubspot=demo_hubspot_side(config, data), app=app)
    assert _rows(result.findings) == _rows(data.ground_truth)
    assert len(result.findings) == len(data.ground_truth)
    assert result.findings["detail"].str.len().min() > 20
