"""Every notebook, executed headlessly with papermill against the emulator, then checked by nbval.

One demo portal is served for the module; the audit notebook runs twice (the
second run gets the first as its baseline and draws a two-run trend), the
other notebooks once. nbval then re-executes each executed notebook and
compares its outputs, after sanitising timestamps, timings, ports, paths and
digests (``nbval_sanitize.cfg``).
"""

from __future__ import annotations

import json
import re

import nbformat
import pandas as pd
import pytest
from nb_support import NOTEBOOKS, SCALE, demo_portal, run_nbval

from assoc_audit.notebook.history import read_history
from assoc_audit.notebook.runner import notebook_parameters, run_notebook

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NAMES = ("audit", "mismatches", "integration_setup")


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    with demo_portal(tmp_path_factory.mktemp("portal"), token="sandbox-nb-tests") as p:
        yield p


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    return tmp_path_factory.mktemp("reports")


@pytest.fixture(scope="module")
def runs(portal, reports):
    """name → RunResult; ``audit`` ran twice, ``audit_first`` is the first run."""
    out = {}
    out["audit_first"] = run_notebook("audit", config_path=portal.config, reports_dir=reports)
    for name in NAMES:
        out[name] = run_notebook(name, config_path=portal.config, reports_dir=reports)
    return out


def _outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            parts.append(str(data.get("text/html", "")) + str(data.get("text/plain", "")))
            parts.append(str(output.get("text", "")))
    return "\n".join(parts)


def test_every_notebook_is_executed_into_its_report_folder(runs, reports):
    for name in NAMES:
        run = runs[name]
        assert run.folder.parent == reports / "demo-acme"
        assert run.executed == run.folder / f"{name}.ipynb" and run.executed.exists()
        assert run.html.exists() and run.html.stat().st_size > 10_000
        nb = nbformat.read(str(run.executed), as_version=4)
        errors = [o for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert errors == []
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1
        assert "interactive = False" in injected[0].source
        assert f"output_dir = {str(run.folder.resolve())!r}" in injected[0].source.replace('"', "'")


def test_audit_run_writes_outputs_and_finds_the_ground_truth(runs, portal):
    run = runs["audit"]
    for name in ("findings.csv", "findings.parquet", "records.csv", "summary.json"):
        assert (run.folder / name).exists(), name
    assert (run.folder / "snapshot" / "hubspot" / "records.parquet").exists()
    findings = pd.read_csv(run.folder / "findings.csv", dtype=str, keep_default_na=False)
    truth = portal.data.ground_truth
    assert sorted(findings["finding_id"]) == sorted(truth["finding_id"])
    summary = json.loads((run.folder / "summary.json").read_text())
    assert run.summary == summary
    assert summary["findings_total"] == len(truth)
    assert summary["api_calls"] > 0  # the HubSpot side was read through the API


def test_second_run_gets_the_first_as_baseline_and_a_trend(runs, reports):
    first, second = runs["audit_first"], runs["audit"]
    nb = nbformat.read(str(second.executed), as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert str(first.folder.resolve()) in injected.source
    assert second.summary["baseline"] == str(first.folder.resolve())
    history = read_history(reports / "demo-acme")
    assert list(history["run"])[:2] == [first.folder.name, second.folder.name]
    assert list(history["notebook"]) == ["audit", "audit", "mismatches", "integration_setup"]
    assert not history["failed"].any()
    assert history.loc[0, "findings"] == first.summary["findings_total"]
    assert history.loc[0, "exit_code"] == 1  # the demo has failing findings
    assert pd.isna(history.loc[3, "findings"])  # the set-up document writes no summary
    # the trend of the first run has nothing earlier; the second plots both runs
    first_nb = nbformat.read(str(first.executed), as_version=4)
    assert "No earlier runs of this integration" in _outputs_text(first_nb)
    assert "This run and 1 earlier run " in _outputs_text(nb)


def test_report_html_hides_code_and_shows_summary_first(runs):
    html = runs["audit"].html.read_text("utf-8")
    assert "open_integration" not in html and "nb.show_summary" not in html
    summary_at = html.index('class="aa-summary"')
    first_image = html.index('src="data:image/png;base64')
    assert summary_at < first_image
    assert html.index("Findings by reason and object pair") < html.index("only in HubSpot")
    for reason in ("sync_gap", "label_mismatch", "ambiguous_match", "direction_blocked"):
        assert reason in html
    images = re.findall(r'src="data:image/png;base64', html)
    assert len(images) == 3  # reason × pair, steps, trend


def test_mismatches_static_view_shows_records_side_by_side(runs, portal):
    nb = nbformat.read(str(runs["mismatches"].executed), as_version=4)
    text = _outputs_text(nb)
    assert "Static view" in text
    assert "Lena Labelle" in text and "label_mismatch" in text
    assert "only in Acme CRM" in text and "in sync" in text
    assert "application/vnd.jupyter.widget-view+json" not in json.dumps(nb)


def test_integration_setup_document_is_written(runs):
    run = runs["integration_setup"]
    md = (run.folder / "integration-setup.md").read_text("utf-8")
    assert "# Integration set-up: demo-acme" in md
    assert "| contacts → companies | both ways | Billing contact | billing | yes |" in md
    assert "Decision maker | no: links with it are unsupported_in_app" in md
    html = run.html.read_text("utf-8")
    assert "Known limitations" in html


@pytest.mark.parametrize("name", NAMES)
def test_nbval_reproduces_the_executed_notebook(runs, name):
    out = run_nbval(runs[name].executed)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert re.search(r"\d+ passed", out.stdout)


def test_audit_with_no_parameters_audits_its_own_sandbox(tmp_path):
    """The defaults are offline: no config, the notebook starts the demo sandbox itself."""
    run = run_notebook(
        "audit",
        config_path=None,
        reports_dir=tmp_path,
        integration="demo-acme",
        parameters={"scale": str(SCALE)},
    )
    summary = json.loads((run.folder / "summary.json").read_text())
    assert summary["name"] == "demo-acme" and summary["findings_total"] == 24
    assert summary["api_calls"] > 0


def test_parameters_cells_are_typed_commented_and_offline():
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        params = notebook_parameters(path)
        assert params, path
        for name, spec in params.items():
            assert spec["inferred_type_name"] not in ("None", ""), (path.name, name)
            assert spec["help"], (path.name, name)
        assert params["config_path"]["default"] == "None"  # the sandbox, never a real portal
        nb = nbformat.read(str(path), as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "token" not in code.lower()


def test_mismatches_with_filters_and_a_record(portal, runs, tmp_path):
    """-p style text parameters: a reason filter, one record, and a previous run to explore."""
    truth = portal.data.ground_truth
    lena = truth.loc[truth["reason"] == "label_mismatch"].iloc[0]
    run = run_notebook(
        "mismatches",
        config_path=portal.config,
        reports_dir=tmp_path,
        parameters={
            "reason": "label_mismatch",
            "record": f"contacts:hubspot:{lena['hubspot_from_id']}",
            "run_dir": str(runs["audit"].folder),
        },
    )
    nb = nbformat.read(str(run.executed), as_version=4)
    text = _outputs_text(nb)
    assert "All 2 findings" in text and "Contact &#39;Lena Labelle&#39;" in text
    assert "Contact &#39;Priya Primary&#39;" not in text  # only the record asked for
    assert not (run.folder / "findings.csv").exists()  # a previous run is explored, not redone
