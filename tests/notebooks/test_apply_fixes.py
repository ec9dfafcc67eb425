"""``notebooks/apply_fixes.ipynb`` run headlessly (papermill, ``assoc-audit run``) against the
demo portal on the emulator: a dry run (reproduced by nbval), a wrong digest, the confirmed
apply, and the default offline run."""

from __future__ import annotations

import json
import sqlite3

import nbformat
import pandas as pd
import pytest
from nb_support import SCALE, demo_portal, files_containing, run_nbval

from assoc_audit import load_config, run_audit
from assoc_audit.errors import NotebookError
from assoc_audit.fixes import read_journal, read_plan
from assoc_audit.notebook.runner import run_notebook

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

TOKEN = "sandbox-nb-fixes"


def outputs(path) -> str:
    nb = nbformat.read(str(path), as_version=4)
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            parts += [str(data.get("text/html", "")), str(data.get("text/plain", ""))]
            parts.append(str(out.get("text", "")))
    return "\n".join(parts)


def tables(portal) -> tuple[list, list]:
    """Both sides' association tables as stored (HubSpot: every audited pair)."""
    config = load_config(portal.config)
    frames = [
        portal.sandbox.backend.associations_frame(portal.token, f, t) for f, t in config.pairs
    ]
    hub = pd.concat(frames).astype(object)
    rows = sorted((tuple(r) for r in hub.where(hub.notna(), None).itertuples(index=False)), key=str)
    con = sqlite3.connect(portal.config.parent / "acme.db")
    try:
        app = sorted(con.execute("SELECT * FROM associations").fetchall(), key=str)
    finally:
        con.close()
    return rows, app


def test_dry_run_then_confirmed_apply(tmp_path):
    with demo_portal(tmp_path / "portal", token=TOKEN) as portal:
        findings = tmp_path / "audit"
        run_audit(portal.config, out=findings, connector_options={"progress": False})
        original = tables(portal)
        reports = tmp_path / "reports"

        def run(**params):
            return run_notebook(
                "apply_fixes",
                config_path=portal.config,
                reports_dir=reports,
                parameters={"findings_dir": str(findings), **params},
            )

        dry = run()
        text = outputs(dry.executed)
        plan = read_plan(findings / "plan.json")
        assert "Dry run only: nothing was written" in text and plan.digest in text
        assert "6 operations resolving 6 findings" in text
        assert tables(portal) == original
        assert "application/vnd.jupyter.widget-view+json" not in dry.executed.read_text("utf-8")
        check = run_nbval(dry.executed)
        assert check.returncode == 0, check.stdout[-4000:] + check.stderr[-2000:]
        assert tables(portal) == original

        with pytest.raises(NotebookError):
            run(confirm_digest="0" * 64)
        assert tables(portal) == original

        done = run(confirm_digest=plan.digest)
        text = outputs(done.executed)
        assert "apply: 6 written" in text and "6 of 6 findings resolved" in text
        report = json.loads((done.folder / "apply.json").read_text("utf-8"))
        assert (report["exit_code"], report["written"]) == (0, 6)
        assert tables(portal) != original
        assert read_journal(findings / f"plan.{plan.digest[:12]}.journal.jsonl").ended
        assert "assoc-audit undo --config" in text
        assert files_containing(reports, TOKEN) == []


def test_default_run_is_an_offline_dry_run(tmp_path):
    run = run_notebook(
        "apply_fixes",
        config_path=None,
        reports_dir=tmp_path,
        integration="demo-acme",
        parameters={"scale": str(SCALE)},
    )
    text = outputs(run.executed)
    assert "Dry run only: nothing was written" in text
    assert "6 operations resolving 6 findings" in text
    assert "Nothing was applied from this plan yet" in text
    assert (run.folder / "audit" / "plan.json").exists()
