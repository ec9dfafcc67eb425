"""Kill the apply process (SIGKILL) at 20 random points of a 5,000-operation plan, resume each
time: the end state is always the plan's target and the journal settles every operation once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import bulk
import numpy as np
import pytest
from emu_support import actual, target

from assoc_audit.fixes import read_journal
from assoc_audit.fixes.apply import default_journal
from assoc_audit.sandbox import Sandbox

DRIVER = Path(__file__).with_name("apply_driver.py")
KILLS = 20


def op_lines(journal: Path) -> int:
    try:
        return journal.read_bytes().count(b'"t":"op"')
    except FileNotFoundError:
        return 0


@pytest.mark.slow
def test_sigkill_at_20_random_points_then_resume(tmp_path, monkeypatch):
    monkeypatch.setenv(bulk.TOKEN_ENV, bulk.TOKEN)
    rng = np.random.default_rng(20261128)
    with Sandbox(tokens=(bulk.TOKEN,), rate_limit=100_000) as sb:
        b = bulk.build(tmp_path, sb)
        db = tmp_path / "app.db"
        expected = target(b.plan, b.config, bulk.hubspot_table(sb), bulk.app_table(db))
        journal = default_journal(b.plan_path, b.plan.digest)
        args = [sys.executable, str(DRIVER), str(b.config_path), str(b.plan_path),
                b.plan.digest, "50"]  # fmt: skip
        env = {**os.environ, bulk.TOKEN_ENV: bulk.TOKEN}
        progress: list[int] = []
        # kill points: 20 random positions in the plan (outcomes journaled) plus a random
        # delay of up to a few chunks; a quarter of the kills instead at a random moment of
        # the start-up or the re-read of the touched pairs (before the run's first outcome)
        positions = np.sort(rng.integers(0, 4700, KILLS))
        log_file = tmp_path / "apply.log"
        with open(log_file, "ab") as log:
            for i in range(KILLS):
                start = op_lines(journal)
                proc = subprocess.Popen(args, env=env, stdout=log, stderr=log)
                early = rng.random() < 0.25
                goal = start + 1 if early else max(int(positions[i]), start + 1)
                stop_at = time.monotonic() + (rng.uniform(0.05, 2.0) if early else 60)
                while op_lines(journal) < goal and proc.poll() is None:
                    if time.monotonic() > stop_at:
                        break
                    time.sleep(0.002)
                if not early:
                    time.sleep(rng.uniform(0, 0.03))
                assert proc.poll() is None, f"the apply finished early (kills at {progress})"
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                assert proc.returncode == -signal.SIGKILL
                progress.append(op_lines(journal))
            assert len(progress) == KILLS and progress[-1] < 5000, progress
            final = subprocess.run(args, env=env, stdout=log, stderr=log, timeout=300)
        assert final.returncode == 0, log_file.read_text()
        assert actual(sb, db) == expected
        rows = bulk.app_table(db)
        assert len(rows) == len(set(rows))
    records = [json.loads(x) for x in journal.read_text("utf-8").splitlines()]
    outcomes = [r for r in records if r["t"] == "op"]
    assert sorted(r["op"] for r in outcomes) == list(range(1, 5001))  # every op exactly once
    assert {r["status"] for r in outcomes} <= {"ok"}  # all written by this apply
    state = read_journal(journal)
    assert state.ended and len(state.settled) == 5000
    assert sum(1 for r in records if r["t"] == "session") >= 2
