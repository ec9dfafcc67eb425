"""``notebooks/apply_fixes.ipynb`` executed headlessly with papermill: the default dry run on
the bundled demo, then against an emulator portal: dry run, confirmed apply, wrong digest."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest

from assoc_audit import load_config, run_audit
from assoc_audit.errors import NotebookError
from assoc_audit.fixes import read_journal, read_plan
from assoc_audit.runner import notebook_parameters, run_notebook
from assoc_audit.sandbox import Sandbox
from assoc_audit.sandbox.demo import DEMO_TOKEN_ENV, prepare_demo, seed_demo_portal

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "apply_fixes.ipynb"
TOKEN = "sandbox-nb-fixes"


def text_of(path: Path) -> str:
    nb = nbformat.read(str(path), as_version=4)
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            parts += [str(data.get("text/html", "")), str(data.get("text/plain", ""))]
            parts.append(str(out.get("text", "")))
    return "\n".join(parts)


def tables(sb: Sandbox, config, db: Path) -> tuple[list, list]:
    frames = [sb.backend.associations_frame(TOKEN, f, t) for f, t in config.pairs]
    hub = pd.concat(frames).astype(object)
    rows = sorted((tuple(r) for r in hub.where(hub.notna(), None).itertuples(index=False)), key=str)
    con = sqlite3.connect(db)
    try:
        app = sorted(con.execute("SELECT * FROM associations").fetchall(), key=str)
    finally:
        con.close()
    return rows, app


def test_parameters_are_safe_defaults():
    params = notebook_parameters(NOTEBOOK)
    assert list(params) == ["config_path", "findings_dir", "output_dir", "confirm_digest",
                            "scale", "max_rows", "interactive"]  # fmt: skip
    assert params["confirm_digest"]["default"] == "None"
    assert params["config_path"]["default"] == "None"


def test_default_run_is_an_offline_dry_run(tmp_path):
    out = tmp_path / "default.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"scale": 60, "interactive": False},
        kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
    )  # fmt: skip
    text = text_of(out)
    assert "Dry run only: nothing was written" in text
    assert "6 operations resolving 6 findings" in text
    assert "Nothing was applied from this plan yet" in text


def test_confirm_digest_applies_only_the_reviewed_plan(tmp_path, monkeypatch):
    monkeypatch.setenv(DEMO_TOKEN_ENV, TOKEN)
    with Sandbox(tokens=(TOKEN,), rate_limit=100_000) as sb:
        data = seed_demo_portal(sb.backend, TOKEN, scale=60)
        config_path = prepare_demo(tmp_path / "demo", base_url=sb.url, data=data)
        config = load_config(config_path)
        db = tmp_path / "demo" / "acme.db"
        findings = tmp_path / "audit"
        run_audit(config, out=findings)
        original = tables(sb, config, db)
        reports = tmp_path / "reports"

        def run(**params):
            return run_notebook(
                "apply_fixes",
                config_path=config_path,
                integration=config.name,
                parameters={"findings_dir": str(findings), "interactive": False, **params},
                reports_dir=reports,
            )

        dry = run()
        assert "Dry run only: nothing was written" in text_of(dry.executed)
        assert tables(sb, config, db) == original
        plan = read_plan(findings / "plan.json")
        assert plan.digest in text_of(dry.executed)

        with pytest.raises(NotebookError, match="DigestMismatch"):
            run(confirm_digest="0" * 64)
        assert tables(sb, config, db) == original

        done = run(confirm_digest=plan.digest)
        text = text_of(done.executed)
        assert "apply: 6 written" in text and "6 of 6 findings resolved" in text
        report = json.loads((done.folder / "apply.json").read_text("utf-8"))
        assert report["exit_code"] == 0 and report["written"] == 6
        assert tables(sb, config, db) != original
        journal = findings / f"plan.{plan.digest[:12]}.journal.jsonl"
        assert read_journal(journal).ended
        assert "assoc-audit undo --config" in text and "--confirm" in text
        assert TOKEN not in done.executed.read_text("utf-8")
