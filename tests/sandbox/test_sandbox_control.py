"""The control API (/_sandbox/...) and the `assoc-audit sandbox serve` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
import urllib3
from sandbox_helpers import Raw, contacts_frame

from assoc_audit.cli import main


def test_health_needs_no_token_and_the_rest_does(sb):
    anonymous = Raw(sb.url, token=None)
    status, body = anonymous.json("GET", "/_sandbox/health")
    assert status == 200 and body["status"] == "ok" and body["portals"] == 2
    status, body = anonymous.json("GET", "/_sandbox/limits")
    assert status == 401 and body["category"] == "INVALID_AUTHENTICATION"


def test_limits_and_faults_settings(sb, raw):
    status, limits = raw.json("GET", "/_sandbox/limits")
    assert status == 200 and limits["rate_per_10s"] is None and limits["batch_max"] == 100
    status, limits = raw.json("PUT", "/_sandbox/limits", {"rate_per_10s": 3, "retry_after": True})
    assert status == 200 and limits["rate_per_10s"] == 3 and sb.limits("tok-a").retry_after
    status, body = raw.json("PUT", "/_sandbox/limits", {"bogus": 1})
    assert status == 400 and "unknown limit" in body["message"]
    status, faults = raw.json(
        "PUT", "/_sandbox/faults", {"rate": 0.25, "seed": 9, "weights": {"drop": 1}}
    )
    assert status == 200 and faults["weights"]["drop"] == 1 and faults["weights"]["rate_limit"] == 0
    status, body = raw.json("PUT", "/_sandbox/faults", {"rate": 2})
    assert status == 400
    assert raw.json("GET", "/_sandbox/faults")[1]["rate"] == 0.25


def test_stats_are_per_token_and_control_calls_are_not_counted(sb, raw):
    other = Raw(sb.url, "tok-b")
    for _ in range(3):
        raw("GET", "/crm/v3/objects/contacts")
    raw("POST", "/crm/v4/associations/contacts/companies/batch/read", {"inputs": [{"id": "1"}]})
    other("GET", "/crm/v3/objects/companies/1")
    status, stats = raw.json("GET", "/_sandbox/stats")
    assert status == 200 and stats["requests"] == 4
    assert stats["by_endpoint"] == {"assoc.batch_read": 1, "objects.list_page": 3}
    assert stats["by_status"] == {"200": 3, "207": 1} and stats["faults_injected"] == 0
    assert other.json("GET", "/_sandbox/stats")[1]["by_endpoint"] == {"objects.get": 1}
    assert raw("DELETE", "/_sandbox/stats").status == 204
    assert raw.json("GET", "/_sandbox/stats")[1]["requests"] == 0


def test_reset_seed_and_add_portal(sb, raw):
    sb.backend.load_records("tok-a", "contacts", contacts_frame(4))
    assert raw("POST", "/_sandbox/reset").status == 204
    assert sb.backend.count_records("tok-a", "contacts") == 0
    status, body = raw.json("POST", "/_sandbox/seed", {"contacts": 40, "seed": 2})
    assert status == 200 and body["loaded"]["contacts"] == 40
    status, portal = raw.json("GET", "/_sandbox/portal")
    assert (
        status == 200
        and portal["records"]["contacts"] == 40
        and portal["objectTypes"]["contacts"] == "0-1"
    )
    status, _ = raw.json("POST", "/_sandbox/portals", {"token": "tok-c"})
    assert status == 201
    assert Raw(sb.url, "tok-c")("GET", "/crm/v3/objects/contacts").status == 200
    assert raw.json("POST", "/_sandbox/seed", {"contacts": -1})[0] == 400


def test_cli_refuses_real_looking_tokens_and_bad_combinations(capsys, monkeypatch):
    assert main(["sandbox", "serve", "--token", "pat-na1-0000-1111", "--port", "0"]) == 2
    assert "real HubSpot" in capsys.readouterr().err
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "some-real-oauth-token")
    assert main(["sandbox", "serve", "--token", "some-real-oauth-token", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "HUBSPOT_ACCESS_TOKEN" in err and "some-real-oauth-token" not in err
    assert main(["sandbox", "serve", "--seed", "none", "--scale", "3", "--port", "0"]) == 2
    assert main(["sandbox", "serve", "--rate-limit", "lots", "--port", "0"]) == 2


@pytest.mark.slow
def test_cli_serves_until_interrupted():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assoc_audit",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--scale",
            "30",
            "--token",
            "cli-tok",
            "--rate-limit",
            "off",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "serving" in line:
                break
        url = line.split("serving ", 1)[1].split()[0]
        assert "cli-tok" not in line and "1 given with --token" in line and "rate limit off" in line
        pool = urllib3.PoolManager()
        resp = pool.request(
            "GET",
            url + "/crm/v3/objects/contacts?limit=100",
            headers={"Authorization": "Bearer cli-tok"},
        )
        assert resp.status == 200 and len(json.loads(resp.data)["results"]) == 30
        pool.clear()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "sandbox stopped" in out


@pytest.mark.slow
def test_cli_seed_demo_writes_a_ready_app_side(tmp_path):
    app_dir = tmp_path / "demo"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "assoc_audit",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--seed",
            "demo",
            "--scale",
            "50",
            "--rate-limit",
            "off",
            "--app-dir",
            str(app_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "serving" in line:
                break
        audit = subprocess.run(
            [
                sys.executable,
                "-m",
                "assoc_audit",
                "audit",
                "--config",
                str(app_dir / "demo.yaml"),
                "--out",
                str(tmp_path / "out"),
            ],
            env={**os.environ, "ASSOC_AUDIT_SANDBOX_TOKEN": "sandbox-token"},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert audit.returncode == 1, audit.stderr  # the planted drift exceeds --max-findings 0
    assert "24 findings" in audit.stdout
    assert (app_dir / "acme.db").exists() and (tmp_path / "out" / "summary.json").exists()


def test_a_hidden_control_api_passes_for_a_real_portal(sb, raw):
    from assoc_audit.scenarios.plan import is_sandbox_url

    assert is_sandbox_url(sb.url)
    sb.hide_control()
    status, body = Raw(sb.url, token=None).json("GET", "/_sandbox/health")
    assert status == 404 and body["category"] == "OBJECT_NOT_FOUND"
    assert raw.json("GET", "/_sandbox/limits")[0] == 404
    assert not is_sandbox_url(sb.url)
    assert raw.json("GET", "/crm/v3/objects/contacts")[0] == 200  # the API still answers
    sb.hide_control(False)
    assert is_sandbox_url(sb.url)
