"""``assoc-audit plan``/``apply``/``undo`` as a user runs them: output and exit codes."""

from __future__ import annotations

import subprocess
import sys

from scenarios import app_side_world


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assoc_audit", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_plan_apply_undo_exit_codes(tmp_path):
    world, folder = app_side_world(tmp_path, "sqlite")
    config = world.folder / "config.yaml"
    original = world.stored()

    out = cli("plan", "--config", config, "--findings", folder)
    assert out.returncode == 0, out.stderr
    digest = next(x.split()[1] for x in out.stdout.splitlines() if x.startswith("digest: "))
    assert len(digest) == 64 and "14 operations resolving 13 findings" in out.stdout
    plan = folder / "plan.json"
    assert plan.exists() and (folder / "plan.csv").exists()

    dry = cli("apply", "--config", config, "--plan", plan)
    assert dry.returncode == 0 and "dry run" in dry.stdout and world.stored() == original

    wrong = cli("apply", "--config", config, "--plan", plan, "--confirm", "f" * 64)
    assert wrong.returncode == 2 and world.stored() == original
    assert wrong.stderr.count("\n") == 1 and "nothing was written" in wrong.stderr

    done = cli("apply", "--config", config, "--plan", plan, "--confirm", digest)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "apply: 13 written, 1 already in effect, 0 failed" in done.stdout
    journal = next(x.split(": ", 1)[1] for x in done.stdout.splitlines() if x.startswith("journal"))
    applied = world.stored()
    assert applied != original

    again = cli("apply", "--config", config, "--plan", plan, "--confirm", digest)
    assert again.returncode == 0 and "nothing to do" in again.stdout
    assert world.stored() == applied

    undo_dry = cli("undo", "--config", config, "--journal", journal)
    assert undo_dry.returncode == 0 and world.stored() == applied
    undo_digest = undo_dry.stdout.split("(digest ", 1)[1].split(")", 1)[0]
    assert undo_digest != digest
    bad = cli("undo", "--config", config, "--journal", journal, "--confirm", digest)
    assert bad.returncode == 2 and world.stored() == applied
    undone = cli("undo", "--config", config, "--journal", journal, "--confirm", undo_digest)
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert world.stored() == original


def test_apply_conflict_exit_1(tmp_path):
    world, folder = app_side_world(tmp_path, "files")
    config = world.folder / "config.yaml"
    out = cli("plan", "--config", config, "--findings", folder, "--out", tmp_path / "p.json")
    digest = next(x.split()[1] for x in out.stdout.splitlines() if x.startswith("digest: "))
    world.set_app_links([("persons", "p3", "organizations", "o3", "other")])
    before = world.stored()
    res = cli("apply", "--config", config, "--plan", tmp_path / "p.json", "--confirm", digest)
    assert res.returncode == 1
    assert "apply refused" in res.stdout and "p3" in res.stdout
    assert world.stored() == before


def test_missing_plan_is_an_error(tmp_path):
    world, _ = app_side_world(tmp_path, "files")
    res = cli("apply", "--config", world.folder / "config.yaml", "--plan", tmp_path / "nope.json")
    assert res.returncode == 2 and "plan file not found" in res.stderr
    res = cli("undo", "--config", world.folder / "config.yaml", "--journal", tmp_path / "j.jsonl")
    assert res.returncode == 2 and "journal not found" in res.stderr
