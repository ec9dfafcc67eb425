"""``assoc-audit audit``: outputs, summary lines and the exit-code contract (DESIGN §8)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest
import yaml
from engine_support import world, world_config

from assoc_audit.cli import main
from assoc_audit.outputs import default_report_folder
from assoc_audit.snapshot import write_side


@pytest.fixture
def config_file(tmp_path):
    """A config auditing two snapshot folders: 1 sync_gap and 1 unsupported_in_app."""
    config = world_config(
        [
            {"from": "contacts", "to": "companies"},
            {"from": "contacts", "to": "companies", "label": "Reseller", "app_supported": False},
        ]
    )
    h, a = world(config, [("c1", "k1"), ("c2", "k2", "Reseller")], [("p1", "o1"), ("p2", "o2")])
    write_side(tmp_path / "snap" / "hubspot", h)
    write_side(tmp_path / "snap" / "app", a)
    raw = {
        "name": "cli-test",
        "hubspot": {"snapshot": "snap/hubspot"},
        "app": {"name": "Acme CRM", "kind": "files", "snapshot": "snap/app"},
        "objects": config.model_dump(by_alias=True, exclude={"base_dir"})["objects"],
        "associations": [
            e.model_dump(by_alias=True, exclude_none=True) for e in config.associations
        ],
    }
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ([], 0),  # unsupported_in_app does not count by default; nothing else differs
        (["--fail-on", "unsupported_in_app"], 1),
        (["--fail-on", "unsupported_in_app", "--max-findings", "1"], 0),
        (["--fail-on", "sync_gap, unsupported_in_app", "--max-findings", "0"], 1),
        (["--fail-on", "object_sync_off"], 0),
    ],
)
def test_exit_codes(config_file, tmp_path, capsys, extra, code):
    out = tmp_path / "out"
    assert main(["audit", "--config", str(config_file), "--out", str(out), *extra]) == code
    printed = capsys.readouterr().out
    assert "cli-test: 1 finding," in printed
    assert "unsupported_in_app" in printed
    assert f"report: {out}" in printed
    assert (out / "findings.csv").exists()
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert (summary["findings_failing"] > max_n(extra)) == bool(code)


def max_n(extra: list[str]) -> int:
    return int(extra[extra.index("--max-findings") + 1]) if "--max-findings" in extra else 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--fail-on", "sync_gap,bogus"], "--fail-on: unknown reason 'bogus'"),
        (["--fail-on", ""], "--fail-on: unknown reason ''"),
        (["--max-findings", "-1"], "--max-findings: '-1' is not a whole number >= 0"),
        (["--max-findings", "many"], "--max-findings: 'many'"),
    ],
)
def test_bad_thresholds_are_errors_before_anything_runs(tmp_path, capsys, extra, message):
    missing = tmp_path / "missing.yaml"  # an error in the options wins; the config is not read
    assert main(["audit", "--config", str(missing), "--out", str(tmp_path / "o"), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(message)
    assert not (tmp_path / "o").exists()


def test_config_error_is_exit_2(tmp_path, capsys):
    assert main(["audit", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_default_out_folder(config_file, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "assoc_audit", "audit", "--config", str(config_file)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (folder,) = (tmp_path / "reports" / "cli-test").iterdir()
    assert re.fullmatch(r"\d{8}T\d{6}Z", folder.name)
    assert (folder / "summary.json").exists()
    assert f"report: reports/cli-test/{folder.name}" in proc.stdout


def test_default_report_folder_is_unique(tmp_path):
    now = datetime(2026, 11, 28, 13, 5, 0, tzinfo=UTC)
    first = default_report_folder("x", now=now, root=tmp_path)
    assert first == tmp_path / "x" / "20261128T130500Z"
    first.mkdir(parents=True)
    assert default_report_folder("x", now=now, root=tmp_path).name == "20261128T130500Z-2"


def test_help_lists_audit():
    proc = subprocess.run(
        [sys.executable, "-m", "assoc_audit", "--help"], capture_output=True, text=True, timeout=120
    )
    assert "audit" in proc.stdout
