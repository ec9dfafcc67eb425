"""``assoc-audit scenarios``: runs at once against the emulator, refuses real portals
without the plan's digest, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import sqlite3

import yaml
from scenario_support import assert_same, demo, files_app, picture

from assoc_audit.cli import main
from assoc_audit.scenarios import plan_scenarios


def test_against_the_emulator_it_runs_and_writes_the_report(tmp_path, monkeypatch, capsys):
    with files_app(tmp_path, monkeypatch) as d:
        before = picture(d)
        code = main(["scenarios", "--config", str(tmp_path / "files.yaml"), "--out",
                     str(tmp_path / "out"), "--kinds", "round_trip,one_way"])  # fmt: skip
        after = picture(d)
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert_same(before, after)
    plan = plan_scenarios(d.config, kinds=["round_trip", "one_way"])
    assert out.startswith("Scenario plan for files-acme: 12 scenarios")
    assert f"digest: {plan.digest}" in out
    assert out.index("S01 round_trip") < out.index("PASS")  # the plan comes first
    assert "12 passed, 0 failed, 0 errors" in out and "nothing left" in out
    assert "syncing: data-sync simulator" in err
    report = json.loads((tmp_path / "out" / "scenarios.json").read_text("utf-8"))
    assert report["passed"] and len(report["results"]) == 12
    assert (
        (tmp_path / "out" / "scenarios.csv")
        .read_text("utf-8")
        .startswith("scenario,kind,direction,expected,observed,verdict,finding\n")
    )


def test_the_default_report_folder_and_a_failing_run(tmp_path, monkeypatch, capsys):
    with files_app(tmp_path, monkeypatch, labels=("Reseller",)) as d:
        monkeypatch.chdir(tmp_path)
        code = main(["scenarios", "--config", str(tmp_path / "files.yaml"), "--only", "S05,S06"])
    out, _ = capsys.readouterr()
    assert code == 1
    assert "0 passed, 1 failed, 1 errors" in out
    folders = list((tmp_path / "reports" / d.config.name / "scenarios").iterdir())
    assert len(folders) == 1 and (folders[0] / "scenarios.json").exists()


def test_a_real_portal_is_not_touched_without_the_digest(tmp_path, monkeypatch, capsys):
    """A config whose HubSpot side is not our emulator: the plan and digest (bound to the
    portal's id, which is read) are printed, nothing is written (exit 1); a wrong digest is an
    error (exit 2); a portal that cannot be identified gives no digest at all (exit 2)."""
    with demo(tmp_path, monkeypatch, scale=50) as d:
        data = yaml.safe_load((d.folder / "demo.yaml").read_text("utf-8"))
        data["objects"]["tickets"]["sync"] = "off"
        url = data["hubspot"]["base_url"]
        d.sb.hide_control()  # the emulator now passes for a real portal
        path = d.folder / "real.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        db = sqlite3.connect(d.folder / "acme.db")
        count = db.execute("SELECT count(*) FROM persons").fetchone()
        plan_only = main(["scenarios", "--config", str(path), "--plan"])
        out, _ = capsys.readouterr()
        refused = main(["scenarios", "--config", str(path)])
        _, err2 = capsys.readouterr()
        wrong = main(["scenarios", "--config", str(path), "--confirm", "f" * 64])
        _, err3 = capsys.readouterr()
        assert db.execute("SELECT count(*) FROM persons").fetchone() == count
        db.close()
        data["hubspot"]["base_url"] = "http://127.0.0.1:9"  # nothing listens there
        (d.folder / "gone.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
        unknown = main(["scenarios", "--config", str(d.folder / "gone.yaml"), "--plan"])
        _, err4 = capsys.readouterr()
    assert plan_only == 0 and "digest: " in out
    digest = out.strip().splitlines()[-1].removeprefix("digest: ")
    assert refused == 1
    assert f"not run: HubSpot side {url} is not the sandbox emulator" in err2
    assert f"--confirm {digest}" in err2
    assert wrong == 2 and "is not this scenario plan's digest" in err3
    assert unknown == 2 and "cannot reach HubSpot at http://127.0.0.1:9" in err4
    assert not (tmp_path / "reports").exists()


def test_unknown_kinds_and_ids_are_errors(tmp_path, monkeypatch, capsys):
    with files_app(tmp_path, monkeypatch):
        config = str(tmp_path / "files.yaml")
        assert main(["scenarios", "--config", config, "--kinds", "nope"]) == 2
        assert main(["scenarios", "--config", config, "--only", "S99"]) == 2
    err = capsys.readouterr().err
    assert "unknown scenario kind 'nope'" in err and "unknown scenario S99" in err


def test_sigterm_becomes_an_interrupt_only_during_the_run():
    import os
    import signal
    import time

    import pytest

    from assoc_audit.cli.scenarios import _terminate_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), _terminate_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this at once
    assert signal.getsignal(signal.SIGTERM) == before
