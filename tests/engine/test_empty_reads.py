"""A side that reads no records of an object its baseline had more than 1,000 of: the audit
refuses (exit 2) unless --allow-empty, and plan refuses an audit let through that way."""

from __future__ import annotations

import json

import pytest
from engine_support import make_config, make_side

from assoc_audit.audit import run_audit
from assoc_audit.cli import main
from assoc_audit.emptyread import EMPTY_READ_THRESHOLD
from assoc_audit.errors import EmptyReadError
from assoc_audit.fixes import make_plan
from assoc_audit.snapshot import write_side

N = EMPTY_READ_THRESHOLD + 1


def _world(n_contacts: int):
    config = make_config()
    contacts = [("contacts", f"c{i}", {"email": f"p{i}@x.io"}) for i in range(n_contacts)]
    companies = [("companies", "k1", {"domain": "x.io"})]
    links = [("contacts", f"c{i}", "companies", "k1", None) for i in range(n_contacts)]
    hub = make_side(config, "hubspot", contacts + companies, links)
    app_contacts = [("contacts", f"a{i}", {"email": f"p{i}@x.io"}) for i in range(N)]
    app_links = [("contacts", f"a{i}", "companies", "b1", None) for i in range(N)]
    app = make_side(
        config, "app", [*app_contacts, ("companies", "b1", {"domain": "x.io"})], app_links
    )
    return config, hub, app


@pytest.fixture
def baseline(tmp_path):
    config, hub, app = _world(N)
    return run_audit(config, hubspot=hub, app=app, out=tmp_path / "base")


def test_an_empty_read_against_a_big_baseline_is_refused(tmp_path, baseline):
    config, hub, app = _world(0)
    with pytest.raises(EmptyReadError, match=r"hubspot read 0 contacts records, the baseline "
                       r"had 1,001.*--allow-empty") as caught:  # fmt: skip
        run_audit(config, hubspot=hub, app=app, baseline=tmp_path / "base", out=tmp_path / "now")
    assert caught.value.reads == (("hubspot", "contacts", N),)
    assert not (tmp_path / "now").exists()  # nothing written: it cannot become a baseline
    # allowed through: recorded in summary.json, and plan refuses it unless allowed again
    result = run_audit(config, hubspot=hub, app=app, baseline=tmp_path / "base",
                       out=tmp_path / "now", allow_empty=True)  # fmt: skip
    assert result.summary.empty_reads == (
        {"side": "hubspot", "object": "contacts", "baseline_records": N},
    )
    summary = json.loads((tmp_path / "now" / "summary.json").read_text("utf-8"))
    assert summary["empty_reads"] == [
        {"side": "hubspot", "object": "contacts", "baseline_records": N}
    ]
    assert result.summary.by_reason["record_unmatched"] == N  # every app link looks one-sided
    with pytest.raises(EmptyReadError, match="refusing to plan fixes from this audit"):
        make_plan(config, tmp_path / "now")
    assert make_plan(config, tmp_path / "now", allow_empty=True).kind == "apply"


def test_small_baselines_and_non_empty_reads_pass(tmp_path):
    config, hub, app = _world(EMPTY_READ_THRESHOLD)  # exactly 1,000: not "more than"
    run_audit(config, hubspot=hub, app=app, out=tmp_path / "base")
    empty = _world(0)[1]
    assert not run_audit(
        config, hubspot=empty, app=app, baseline=tmp_path / "base"
    ).summary.empty_reads
    config, hub, app = _world(N)
    run_audit(config, hubspot=hub, app=app, out=tmp_path / "big")
    one = _world(1)[1]  # one record read is not an empty read
    assert not run_audit(
        config, hubspot=one, app=app, baseline=tmp_path / "big"
    ).summary.empty_reads
    assert not run_audit(config, hubspot=empty, app=app).summary.empty_reads  # no baseline


def test_the_app_side_is_guarded_too(tmp_path, baseline):
    config, hub, _ = _world(N)
    app = make_side(config, "app", [("companies", "b1", {"domain": "x.io"})], [])
    with pytest.raises(EmptyReadError, match="app read 0 contacts records"):
        run_audit(config, hubspot=hub, app=app, baseline=tmp_path / "base")


def test_cli_exit_codes(tmp_path, baseline, write_config, capsys):
    config, hub, app = _world(0)
    write_side(tmp_path / "snap" / "hubspot", hub)
    write_side(tmp_path / "snap" / "app", app)
    data = config.model_dump(mode="json", by_alias=True, exclude={"base_dir"})
    data["hubspot"]["snapshot"] = str(tmp_path / "snap" / "hubspot")
    data["app"]["snapshot"] = str(tmp_path / "snap" / "app")
    path = write_config(data)
    args = ["audit", "--config", str(path), "--baseline", str(tmp_path / "base")]
    assert main([*args, "--out", str(tmp_path / "now")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refusing to audit: hubspot read 0 contacts" in err
    assert not (tmp_path / "now").exists()
    assert main([*args, "--out", str(tmp_path / "now"), "--allow-empty"]) == 1  # findings
    capsys.readouterr()
    plan = ["plan", "--config", str(path), "--findings", str(tmp_path / "now")]
    assert main(plan) == 2
    assert "refusing to plan fixes from this audit" in capsys.readouterr().err
    assert main([*plan, "--allow-empty"]) == 0
