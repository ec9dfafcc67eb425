"""The fix scenario of :mod:`assoc_audit.demo.fixseed` on a running emulator, audited
twice (with a baseline) and planned: about 5,000 operations of every kind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assoc_audit.audit import run_audit
from assoc_audit.config import IntegrationConfig, load_config
from assoc_audit.demo.fixseed import FixScenario, hubspot_links, seed_fix_scenario
from assoc_audit.fixes import FixPlan, make_plan

TOKEN = "sandbox-fix-bulk"
TOKEN_ENV = "ASSOC_AUDIT_FIX_TOKEN"


@dataclass
class Bulk:
    folder: Path
    config: IntegrationConfig
    config_path: Path
    scenario: FixScenario
    plan: FixPlan
    plan_path: Path


def build(folder: Path, sandbox: Any, *, scale: float = 1.0) -> Bulk:
    """Seed, audit (baseline), delete the app's G2 links, audit again, plan.

    The caller sets ``TOKEN_ENV`` to ``TOKEN`` in the environment.
    """
    scenario = seed_fix_scenario(
        sandbox.backend, TOKEN, folder, base_url=sandbox.url, token_env=TOKEN_ENV, scale=scale
    )
    config = load_config(scenario.config_path)
    run_audit(config, out=folder / "base")
    scenario.delete_app_links()
    findings = folder / "audit"
    run_audit(config, out=findings, baseline=folder / "base")
    plan = make_plan(config, findings)
    return Bulk(
        folder, config, scenario.config_path, scenario, plan, plan.write(findings / "plan.json")
    )


def hubspot_table(sandbox: Any) -> list[tuple]:
    return hubspot_links(sandbox.backend, TOKEN)


def app_table(db: Path) -> list[tuple]:
    import sqlite3

    con = sqlite3.connect(db)
    try:
        rows = con.execute("SELECT * FROM associations").fetchall()
    finally:
        con.close()
    return sorted(rows, key=lambda r: tuple("" if v is None else str(v) for v in r))
