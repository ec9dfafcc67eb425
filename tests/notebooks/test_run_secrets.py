"""``assoc-audit run`` keeps secrets out of the run folder in every form they take in files, and
also when the run is interrupted (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from assoc_audit.notebook.runner import run_notebook
from assoc_audit.secrets import REDACTED, redact_text, register_secret, secret_forms

META = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
TOKEN_ENV = "RUN_SECRETS_TOKEN"


def _token() -> str:
    # an OAuth-style token (no pat- prefix) with characters that JSON, URLs and HTML escape
    return 'oauth"CJ/' + os.urandom(6).hex() + "+é&<tok>"


def _forms(token: str) -> set[str]:
    escaped = json.dumps(token)[1:-1]
    return {
        token,
        escaped,
        json.dumps(token, ensure_ascii=False)[1:-1],
        json.dumps(escaped)[1:-1],
        quote(token, safe=""),
        quote_plus(token, safe=""),
    }


def _files_with_any(folder: Path, forms: set[str]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            found += [f"{path.name}: {form!r}" for form in forms if form in text]
    return found


def _setup(tmp_path: Path, *, then_wait: bool = False) -> tuple[Path, Path]:
    config = tmp_path / "c.yaml"
    config.write_text(
        f"name: secrets\nhubspot: {{token_env: {TOKEN_ENV}}}\napp: {{kind: files, path: .}}\n"
        "objects: {contacts: {sync: off}}\nassociations: [{from: contacts, to: companies}]\n",
        "utf-8",
    )
    leak = (
        "import json, os, urllib.parse\n"
        f"t = os.environ['{TOKEN_ENV}']\n"
        "print(t)\n"
        "print(json.dumps({'token': t}))\n"
        "print(urllib.parse.quote(t, safe=''), urllib.parse.quote_plus(t, safe=''))\n"
        "open(os.path.join(output_dir, 'leak.json'), 'w').write(json.dumps({'t': t}))\n"
    )
    cells = [new_code_cell(leak)]
    if then_wait:
        cells.append(new_code_cell("import time\ntime.sleep(120)"))
    params = new_code_cell(
        "from typing import Optional\n"
        "config_path: Optional[str] = None  # config\n"
        "output_dir: Optional[str] = None  # run folder"
    )
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell("# leak"), params, *cells], metadata=META)
    path = tmp_path / "leak.ipynb"
    nbformat.write(nb, str(path))
    return config, path


def test_every_form_of_a_registered_secret_is_redacted():
    token = _token()
    register_secret(token)
    assert _forms(token) <= secret_forms(token)
    for form in _forms(token):
        assert redact_text(f"x {form} y") == f"x {REDACTED} y"


@pytest.mark.notebooks
def test_run_scrubs_json_escaped_and_url_encoded_tokens(tmp_path, monkeypatch):
    token = _token()
    monkeypatch.setenv(TOKEN_ENV, token)
    config, notebook = _setup(tmp_path)
    result = run_notebook(notebook, config_path=config, reports_dir=tmp_path / "reports")
    assert (result.folder / "leak.json").exists() and result.executed.exists()
    assert _files_with_any(tmp_path / "reports", _forms(token)) == []
    assert REDACTED in result.executed.read_text("utf-8")


@pytest.mark.notebooks
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_run_still_scrubs_its_folder(tmp_path, sig):
    token = _token()
    config, notebook = _setup(tmp_path, then_wait=True)
    reports = tmp_path / "reports"
    env = {**os.environ, TOKEN_ENV: token}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assoc_audit", "run", str(notebook), "--config", str(config),
         "--reports-dir", str(reports)],  # fmt: skip
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # wait until the first cell's outputs (the token, in the clear) reached the run folder
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if list(reports.rglob("leak.json")) and _files_with_any(reports, {json.dumps(token)[1:-1]}):
            break
        time.sleep(0.1)
    assert proc.poll() is None, proc.communicate()
    time.sleep(0.5)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, (out, err)
    assert "interrupted" in err
    assert _files_with_any(reports, _forms(token)) == []
    assert token not in out + err
