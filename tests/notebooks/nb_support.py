"""Helpers for the notebook, report and demo tests: a seeded demo portal, nbval, Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assoc_audit.notebook.demorun import patched_environ
from assoc_audit.sandbox import Sandbox
from assoc_audit.demo.portal import DEMO_TOKEN_ENV, DemoData, prepare_demo, seed_demo_portal

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = Path(__file__).with_name("nbval_sanitize.cfg")
#: Small demo portals keep the notebook tests quick; the planted findings do not depend on it.
SCALE = 60


@dataclass(frozen=True)
class DemoPortal:
    """A running sandbox seeded with the demo portal, and the demo's config pointing at it."""

    sandbox: Sandbox
    token: str
    config: Path
    data: DemoData


@contextmanager
def demo_portal(folder: Path, *, token: str, scale: int = SCALE) -> Iterator[DemoPortal]:
    """Serve the demo portal with ``token``; the demo config's token variable holds it."""
    with Sandbox(tokens=(token,)) as sb:
        data = seed_demo_portal(sb.backend, token, scale=scale)
        config = prepare_demo(folder, base_url=sb.url, data=data)
        with patched_environ({DEMO_TOKEN_ENV: token}):
            yield DemoPortal(sb, token, config, data)


def run_nbval(notebook: Path, *, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Re-run an executed notebook under nbval, comparing outputs after sanitising."""
    with tempfile.TemporaryDirectory() as tmp:
        ini = Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\n", "utf-8")
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-c",
                str(ini),
                "--rootdir",
                tmp,
                "-p",
                "no:cacheprovider",
                "--nbval",
                "--nbval-current-env",
                "--nbval-sanitize-with",
                str(SANITIZE),
                "-q",
                str(notebook),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=tmp,
            env=os.environ.copy(),
        )


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot(html: Path, png: Path, *, width: int = 1280, height: int = 2400) -> Path:
    """Render an HTML file in headless Chromium to a PNG of the given window size."""
    binary = chromium()
    assert binary, "Chromium is missing: scripts/ensure-chromium.sh installs it"
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                f"--window-size={width},{height}",
                html.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert png.exists(), out.stderr[-2000:]
    return png


def image(png: Path) -> np.ndarray:
    """The PNG as an (h, w, channels) float array in 0..1."""
    import matplotlib.image as mpimg

    return np.asarray(mpimg.imread(str(png)), dtype=float)


def non_white_rows(pixels: np.ndarray) -> np.ndarray:
    """Row indexes that hold anything but (near) white."""
    rgb = pixels[..., :3]
    return np.nonzero((rgb < 0.95).any(axis=2).any(axis=1))[0]


def files_containing(folder: Path, needle: str) -> list[Path]:
    """Every file under ``folder`` whose bytes contain ``needle``."""
    raw = needle.encode("utf-8")
    return [p for p in folder.rglob("*") if p.is_file() and raw in p.read_bytes()]
