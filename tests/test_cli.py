from __future__ import annotations

import subprocess
import sys

import pytest

from assoc_audit import __version__
from assoc_audit.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assoc_audit", *args], capture_output=True, text=True, timeout=120
    )


def test_help_and_version():
    out = run_cli("--help")
    assert out.returncode == 0 and "Exit codes" in out.stdout
    out = run_cli("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"assoc-audit {__version__}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: [1,\n", "malformed YAML"),
        (
            "name: x\napp: {kind: files, path: .}\nassociations: [{from: a, to: b}]\nbogus: 1\n",
            "bogus: unknown key",
        ),
    ],
)
def test_config_errors_are_one_line_exit_2(tmp_path, text, expected):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    out = run_cli("check", "--config", str(cfg))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0] and "Traceback" not in out.stderr


def test_missing_file_one_line(tmp_path):
    out = run_cli("check", "--config", str(tmp_path / "none.yaml"))
    assert out.returncode == 2
    assert out.stderr.strip() == f"{tmp_path / 'none.yaml'}: file not found"


def test_several_problems_summary_then_lines(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("name: 'a b'\napp: {kind: nope}\nassociations: [{from: a, to: b}]\n")
    out = run_cli("check", "--config", str(cfg))
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2
    assert lines[0] == f"{cfg}: {len(lines) - 1} problems" and len(lines) >= 3


def test_debug_shows_traceback(tmp_path):
    out = run_cli("--debug", "check", "--config", str(tmp_path / "none.yaml"))
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_no_command_is_usage_error(capsys):
    assert main([]) == 2


def test_unknown_argument_exits_2():
    out = run_cli("check", "--nope")
    assert out.returncode == 2


def test_check_ok(capsys):
    from pathlib import Path

    cfg = Path(__file__).resolve().parent.parent / "examples" / "minimal.yaml"
    assert main(["check", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "pair deals→contacts: direction hubspot_to_app" in out
