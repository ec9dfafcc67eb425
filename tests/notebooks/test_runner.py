"""``assoc-audit run``: parameters, report folders, failing cells, timeouts, exit codes, secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest
from nb_support import demo_portal, files_containing
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from assoc_audit.errors import NotebookError
from assoc_audit.notebook.history import read_history
from assoc_audit.notebook.runner import coerce_parameters, find_notebook, latest_run, run_notebook

META = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def _notebook(path, *cells, params="x: int = 1  # a number"):
    cell = new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell("# test"), cell, *cells], metadata=META)
    nbformat.write(nb, str(path))
    return path


def _cli(*args, env=None, cwd=None, timeout=300):
    return subprocess.run(
        [sys.executable, "-m", "assoc_audit", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
    )


# -- parameters -------------------------------------------------------------------------------

DECLARED = {
    "n": {"inferred_type_name": "int"},
    "f": {"inferred_type_name": "float"},
    "b": {"inferred_type_name": "bool"},
    "s": {"inferred_type_name": "str"},
    "o": {"inferred_type_name": "Optional[str]"},
    "config_path": {"inferred_type_name": "Optional[str]"},
}


def test_parameters_are_converted_to_their_declared_types():
    got = coerce_parameters(
        DECLARED, {"n": "42", "f": "2.5", "b": "false", "s": "None", "o": "none"}
    )
    assert got == {"n": 42, "f": 2.5, "b": False, "s": "None", "o": None}
    assert coerce_parameters(DECLARED, {"o": "x", "b": "TRUE"}) == {"o": "x", "b": True}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"nope": "1"}, "unknown parameter nope (declared: b, config_path, f, n, o, s)"),
        ({"n": "4.5"}, "parameter n: '4.5' is not a valid int"),
        ({"b": "maybe"}, "parameter b: 'maybe' is not true or false"),
        ({"config_path": "x.yaml"}, "config_path is set by the runner"),
    ],
)
def test_bad_parameters_are_errors(given, message):
    with pytest.raises(NotebookError, match=message.replace("(", r"\(").replace(")", r"\)")):
        coerce_parameters(DECLARED, given)


def test_find_notebook_by_name_or_path(tmp_path):
    assert find_notebook("audit").name == "audit.ipynb"
    with pytest.raises(NotebookError, match="no notebook named 'nope' \\(available: "):
        find_notebook("nope")
    with pytest.raises(NotebookError, match="notebook not found"):
        find_notebook(tmp_path / "missing.ipynb")


def test_latest_run_is_the_newest_earlier_folder_with_a_snapshot(tmp_path):
    for name in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        (tmp_path / name).mkdir()
    (tmp_path / "20260101T000000Z" / "snapshot").mkdir()
    (tmp_path / "20260102T000000Z" / "snapshot").mkdir()
    assert latest_run(tmp_path) == tmp_path / "20260102T000000Z"
    assert latest_run(tmp_path, before="20260102T000000Z") == tmp_path / "20260101T000000Z"
    assert latest_run(tmp_path / "none") is None


# -- failures ---------------------------------------------------------------------------------


def test_a_failing_cell_is_named_and_recorded(tmp_path):
    nb = _notebook(
        tmp_path / "boom.ipynb",
        new_code_cell("y = x + 1"),
        new_code_cell("# explain\nraise ValueError(f'bad value {y}')"),
        new_code_cell("print('never')"),
    )
    with pytest.raises(NotebookError) as err:
        run_notebook(nb, config_path=None, reports_dir=tmp_path / "reports")
    message = str(err.value)
    # cell 4 of the source notebook (markdown, parameters, y = …, raise …)
    assert "boom.ipynb: cell 4 (raise ValueError(f'bad value {y}')) failed" in message
    assert "ValueError: bad value 2" in message
    assert err.value.cell == 4
    history = read_history(tmp_path / "reports" / "boom")
    assert history["failed"].tolist() == [True] and history["exit_code"].tolist() == [2]
    folder = tmp_path / "reports" / "boom" / history["run"].iloc[0]
    assert (folder / "boom.ipynb").exists() and (folder / "boom.html").exists()


def test_a_cell_timeout_is_an_error_naming_the_cell(tmp_path):
    nb = _notebook(tmp_path / "slow.ipynb", new_code_cell("import time\ntime.sleep(30)"))
    with pytest.raises(NotebookError, match=r"slow.ipynb: cell 3 \(import time\) failed"):
        run_notebook(nb, config_path=None, reports_dir=tmp_path / "r", cell_timeout=2)


def test_cli_exit_code_2_names_the_failing_cell(tmp_path):
    nb = _notebook(tmp_path / "fail.ipynb", new_code_cell("1 / 0"))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: failing\napp: {kind: files, path: .}\n"
        "objects: {contacts: {sync: off}}\nassociations: [{from: contacts, to: companies}]\n"
    )
    out = _cli("run", str(nb), "--config", str(cfg), "--reports-dir", str(tmp_path / "r"))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "fail.ipynb: cell 3 (1 / 0) failed: ZeroDivisionError" in lines[0]
    out = _cli("run", str(nb), "--config", str(cfg), "-p", "y", "1")
    assert out.returncode == 2 and "unknown parameter y" in out.stderr
    out = _cli("run", str(nb), "--config", str(cfg), "--fail-on", "nope")
    assert out.returncode == 2 and "--fail-on: unknown reason 'nope'" in out.stderr


# -- the audit notebook through the CLI, with a canary token ---------------------------------------


@pytest.mark.notebooks
@pytest.mark.slow
def test_run_audit_exit_codes_and_no_token_anywhere(tmp_path):
    """The portal's token is a canary: it must not appear in any file, log or output."""
    canary = "sandbox-canary-" + os.urandom(8).hex()
    other = "pat-na1-" + os.urandom(12).hex()  # a real-looking token in HUBSPOT_ACCESS_TOKEN
    reports = tmp_path / "reports"
    with demo_portal(tmp_path / "portal", token=canary) as portal:
        env = {**os.environ, "HUBSPOT_ACCESS_TOKEN": other}
        base = ["run", "audit", "--config", str(portal.config), "--reports-dir", str(reports)]
        first = _cli("--debug", *base, env=env)
        assert first.returncode == 1, first.stderr[-3000:]  # the demo has failing findings
        assert "demo-acme: 24 findings" in first.stdout
        assert "report: " in first.stdout and ".html" in first.stdout
        second = _cli(*base, "--max-findings", "100", env=env)
        assert second.returncode == 0, second.stderr[-3000:]
        third = _cli(*base, "--fail-on", "object_sync_off", "--max-findings", "1", env=env)
        assert third.returncode == 1  # 2 object_sync_off findings > 1
        for out in (first, second, third):
            for secret in (canary, other):
                assert secret not in out.stdout and secret not in out.stderr
    for secret in (canary, other):
        assert files_containing(reports, secret) == []
    runs = read_history(reports / "demo-acme")
    assert runs["exit_code"].tolist() == [1, 0, 1]
    # the second and third runs were given the previous run as baseline
    summaries = [
        json.loads((p / "summary.json").read_text()) for p in sorted(reports.glob("demo-acme/2*"))
    ]
    assert summaries[0]["baseline"] is None and summaries[1]["baseline"] is not None
    # --fail-on reaches the notebook: its summary counts what the CLI counted
    assert summaries[2]["fail_on"] == ["object_sync_off"] and summaries[2]["findings_failing"] == 2


def test_operations_in_the_run_folder_decide_the_exit_code(tmp_path):
    """DESIGN §8: a failed scenario (1) or an apply's own code, through the CLI."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: ops\napp: {kind: files, path: .}\n"
        "objects: {contacts: {sync: off}}\nassociations: [{from: contacts, to: companies}]\n"
    )
    writes = (
        "import json, pathlib\n"
        "out = pathlib.Path(output_dir)\n"
        "if scenarios is not None:\n"
        "    (out / 'scenarios.json').write_text(json.dumps({'passed': scenarios}))\n"
        "if apply_code is not None:\n"
        "    (out / 'apply.json').write_text(json.dumps({'exit_code': apply_code}))\n"
    )
    params = (
        "from typing import Optional\n"
        "output_dir: Optional[str] = None  # run folder\n"
        "scenarios: Optional[bool] = None  # scenarios passed\n"
        "apply_code: Optional[int] = None  # the apply's exit code"
    )
    nb = _notebook(tmp_path / "ops.ipynb", new_code_cell(writes), params=params)
    reports = str(tmp_path / "r")
    cases = [([], 0), (["-p", "scenarios", "true"], 0), (["-p", "scenarios", "false"], 1),
             (["-p", "apply_code", "1"], 1), (["-p", "apply_code", "0"], 0)]
    for extra, expected in cases:
        out = _cli("run", str(nb), "--config", str(cfg), "--reports-dir", reports, *extra)
        assert out.returncode == expected, (extra, out.stdout, out.stderr)
    history = read_history(tmp_path / "r" / "ops")
    assert history["exit_code"].tolist() == [code for _, code in cases]
