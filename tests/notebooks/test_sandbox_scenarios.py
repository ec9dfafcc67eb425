"""``notebooks/sandbox_scenarios.ipynb`` executed headlessly with papermill, then nbval.

Against the demo portal (as ``assoc-audit run sandbox_scenarios --config …`` runs it) the whole
library passes and both sides are left as they were; with no parameters it tests its own
sandbox; a target that is not the emulator is never written without the plan's digest.
"""

from __future__ import annotations

import json
import re

import nbformat
import pandas as pd
import pytest
import yaml
from nb_support import SCALE, demo_portal, run_nbval

from assoc_audit.config import load_config
from assoc_audit.connectors import load_side
from assoc_audit.errors import NotebookError
from assoc_audit.notebook.runner import run_notebook

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    with demo_portal(tmp_path_factory.mktemp("portal"), token="sandbox-scenario-tests") as p:
        yield p


def _outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            parts.append(str(data.get("text/html", "")) + str(data.get("text/plain", "")))
            parts.append(str(output.get("text", "")))
    return "\n".join(parts)


def _tables(config_path):
    config = load_config(config_path)
    out = {}
    for side in ("hubspot", "app"):
        tables = load_side(config, side, progress=False)
        for name in ("records", "associations"):
            frame = getattr(tables, name).drop(columns="updated_at", errors="ignore")
            out[f"{side} {name}"] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def test_the_library_passes_on_the_demo_portal_and_leaves_it_as_it_was(portal, tmp_path):
    before = _tables(portal.config)
    run = run_notebook("sandbox_scenarios", config_path=portal.config, reports_dir=tmp_path)
    portal.sandbox.hide_control(False)
    after = _tables(portal.config)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], obj=name)
    report = json.loads((run.folder / "scenarios.json").read_text("utf-8"))
    assert report["passed"] and report["emulator"] and len(report["results"]) == 23
    assert report["cleanup"]["ok"]
    table = pd.read_csv(run.folder / "scenarios.csv")
    assert list(table.columns[:6]) == ["scenario", "kind", "direction", "expected", "observed",
                                       "verdict"]  # fmt: skip
    nb = nbformat.read(str(run.executed), as_version=4)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    text = _outputs_text(nb)
    assert "Target: the sandbox emulator" in text
    assert text.index("absent: direction_blocked") < text.index("23 passed, 0 failed, 0 errors")
    assert "95 sample records deleted, nothing left" in text
    html = run.html.read_text("utf-8")
    assert "sn.show_plan" not in html and "Pre-rollout scenarios" in html
    assert len(re.findall(r"<td[^>]*>pass</td>", html)) == 23
    out = run_nbval(run.executed)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_with_no_parameters_it_tests_its_own_sandbox(tmp_path):
    run = run_notebook(
        "sandbox_scenarios",
        config_path=None,
        reports_dir=tmp_path,
        integration="demo-acme",
        parameters={"scale": str(SCALE), "kinds": "round_trip,limit"},
    )
    report = json.loads((run.folder / "scenarios.json").read_text("utf-8"))
    assert report["passed"] and {r["scenario"]["kind"] for r in report["results"]} == {
        "round_trip",
        "limit",
    }
    out = run_nbval(run.executed)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_a_real_target_is_not_written_without_the_plans_digest(portal, tmp_path):
    data = yaml.safe_load(portal.config.read_text("utf-8"))
    data["objects"]["tickets"]["sync"] = "off"
    real = portal.config.with_name("real.yaml")
    real.write_text(yaml.safe_dump(data), encoding="utf-8")
    before = _tables(portal.config)
    portal.sandbox.hide_control()  # the emulator now passes for a real portal
    run = run_notebook("sandbox_scenarios", config_path=real, reports_dir=tmp_path)
    text = _outputs_text(nbformat.read(str(run.executed), as_version=4))
    assert "Target: a real portal or app" in text and "Not run: review the plan" in text
    assert not (run.folder / "scenarios.json").exists()
    with pytest.raises(NotebookError, match="cell"):
        run_notebook(
            "sandbox_scenarios",
            config_path=real,
            reports_dir=tmp_path,
            parameters={"confirm_digest": "0" * 64},
        )
    portal.sandbox.hide_control(False)
    after = _tables(portal.config)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], obj=name)
