"""The demo integration audited end to end: emulator → official client → HubSpot connector,
Acme CRM SQLite → SQL connector, engine → exactly the planted ground truth."""

from __future__ import annotations

import pandas as pd
import pytest

from assoc_audit import load_config, run_audit
from assoc_audit.demo.portal import DEMO_TOKEN, DEMO_TOKEN_ENV, prepare_demo, seed_demo_portal
from assoc_audit.sandbox import Sandbox

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


def _canon(df: pd.DataFrame) -> pd.DataFrame:
    out = df[COLUMNS].astype(object).where(df[COLUMNS].notna(), "").astype(str)
    return out.sort_values("finding_id").reset_index(drop=True)


@pytest.mark.parametrize("faults", [None, 0.05], ids=["clean", "5pct-faults"])
def test_demo_through_the_api_finds_the_ground_truth(tmp_path, monkeypatch, faults):
    fault_settings = {"rate": faults, "seed": 7} if faults else None
    with Sandbox(tokens=(DEMO_TOKEN,), rate_limit=0, faults=fault_settings) as sb:
        data = seed_demo_portal(sb.backend, DEMO_TOKEN, scale=400)
        config = load_config(prepare_demo(tmp_path, base_url=sb.url, data=data))
        monkeypatch.setenv(DEMO_TOKEN_ENV, DEMO_TOKEN)
        result = run_audit(config, out=tmp_path / "out")
    pd.testing.assert_frame_equal(_canon(result.findings), _canon(data.ground_truth))
    assert result.findings["detail"].str.len().gt(20).all()
    api = result.summary.to_dict()["api"]["hubspot"]
    assert api["calls"] > 0
    assert (tmp_path / "out" / "findings.csv").exists()
