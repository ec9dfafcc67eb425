"""``assoc-audit demo``: seeds the sandbox, runs the audit notebook, prints the report; the
report renders in headless Chromium with the summary first and readable charts."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from nb_support import files_containing, image, non_white_rows, screenshot

from assoc_audit.demo.portal import DEMO_TOKEN

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One ``assoc-audit demo`` run in a fresh folder, with real-looking tokens in the shell."""
    work = tmp_path_factory.mktemp("demo")
    canary = "pat-na1-" + os.urandom(12).hex()
    env = {**os.environ, "HUBSPOT_ACCESS_TOKEN": canary, "ASSOC_AUDIT_SANDBOX_TOKEN": "stale"}
    out = subprocess.run(
        [sys.executable, "-m", "assoc_audit", "demo", "--scale", "200"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=work,
        env=env,
    )
    return work, out, canary


def test_demo_exits_0_and_prints_the_report_and_summary(demo):
    work, out, _ = demo
    assert out.returncode == 0, out.stderr[-3000:]
    lines = out.stdout.splitlines()
    report = next(line for line in lines if line.startswith("report: "))
    html = work / report.removeprefix("report: ")
    assert html.exists() and html.name == "audit.html"
    assert html.parent.parent == work / "reports" / "demo-acme"
    assert any(line.startswith("demo-acme: 24 findings,") for line in lines)
    assert any(re.match(r"\s+\* sync_gap\s+4$", line) for line in lines)
    assert (work / "reports" / "demo-acme" / "demo-input" / "acme.db").exists()
    assert (work / "reports" / "demo-acme" / "history.parquet").exists()


def test_demo_uses_the_sandbox_token_only(demo):
    work, out, canary = demo
    assert canary not in out.stdout + out.stderr
    assert files_containing(work, canary) == []
    # the sandbox token is no secret, but it is not written into reports either
    assert files_containing(work / "reports", DEMO_TOKEN) == []


@pytest.mark.chromium
def test_demo_report_renders_summary_first_and_readable_charts(demo, tmp_path):
    work, out, _ = demo
    html = work / next(
        line for line in out.stdout.splitlines() if line.startswith("report: ")
    ).removeprefix("report: ")
    text = html.read_text("utf-8")
    assert text.index('class="aa-summary"') < text.index('src="data:image/png;base64')
    # the charts are PNGs of a readable size (10 in wide at 100 dpi: ~1000 px)
    sizes = [
        _png_size(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    ]
    assert len(sizes) == 3 and all(w >= 800 and h >= 90 for w, h in sizes)

    top = image(screenshot(html, tmp_path / "top.png", height=1200))
    assert top.shape[0] == 1200 and top.shape[1] == 1280
    assert float(top[..., :3].std()) > 0.05  # not blank
    rows = non_white_rows(top)
    assert rows.size > 300 and rows.min() < 200  # content starts at the top
    # the summary cards (light-blue/red/teal backgrounds) are in the first screen
    rgb = top[..., :3]
    teal = (np.abs(rgb - np.array([0xE5, 0xF8, 0xF6]) / 255).max(axis=2) < 0.02).sum()
    assert teal > 2000
    full = image(screenshot(html, tmp_path / "full.png", height=4200))
    colored = (full[..., :3].max(axis=2) - full[..., :3].min(axis=2)) > 0.25
    assert colored.sum() > 20_000  # coloured chart bars below the summary


def _png_size(b64: str) -> tuple[int, int]:
    import base64
    import struct

    raw = base64.b64decode(b64[:64] + "=" * (-len(b64[:64]) % 4))
    width, height = struct.unpack(">II", raw[16:24])
    return width, height


def test_make_demo_target_runs_the_demo():
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text("utf-8")
    target = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "assoc-audit demo" in target
