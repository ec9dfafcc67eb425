"""``assoc-audit demo``: the whole product in one command, offline.

Starts the sandbox emulator in this process (a background thread on
loopback), seeds the demo portal, writes the demo app (Acme CRM, SQLite) and
its config into ``reports/demo-acme/demo-input/``, runs ``notebooks/audit.ipynb``
headlessly through :func:`assoc_audit.notebook.runner.run_notebook` (the notebook's
kernel is another process: it reaches the emulator over loopback) and returns
the run. The emulator stops when the run ends.

The demo always uses the sandbox token (DESIGN §10): the demo config reads
``ASSOC_AUDIT_SANDBOX_TOKEN``, which is set to the sandbox token for the run,
and ``HUBSPOT_ACCESS_TOKEN`` is removed from the environment the kernel
inherits, so a real token set in the shell never reaches the notebook.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from assoc_audit.notebook.runner import RunResult, run_notebook
from assoc_audit.secrets import read_token

__all__ = ["DEMO_INPUT", "patched_environ", "run_demo"]

#: Sub-folder of ``reports/<demo name>/`` holding the demo's generated inputs.
DEMO_INPUT = "demo-input"
#: Variables the demo keeps away from the notebook's kernel.
_REAL_TOKEN_VARIABLES = ("HUBSPOT_ACCESS_TOKEN",)


@contextmanager
def patched_environ(set_vars: Mapping[str, str], unset: Sequence[str] = ()) -> Iterator[None]:
    """Set and remove environment variables for the block, then restore them."""
    names = [*set_vars, *unset]
    saved = {name: os.environ.get(name) for name in names}
    try:
        for name in unset:
            os.environ.pop(name, None)
        os.environ.update(set_vars)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_demo(
    *,
    scale: int = 2000,
    reports_dir: Path | str = Path("reports"),
    cell_timeout: float | None = 600,
    kernel_timeout: float = 120,
    echo: Callable[[str], None] = print,
) -> RunResult:
    """Seed the demo, audit it with the audit notebook, return the run (see module docstring)."""
    from assoc_audit.demo.portal import DEMO_TOKEN, DEMO_TOKEN_ENV, prepare_demo, seed_demo_portal
    from assoc_audit.sandbox.server import Sandbox

    for name in _REAL_TOKEN_VARIABLES:
        read_token(name)  # registered for redaction, should anything ever echo it
    with Sandbox(tokens=(DEMO_TOKEN,)) as sandbox:
        data = seed_demo_portal(sandbox.backend, DEMO_TOKEN, scale=scale)
        name = _demo_name()
        inputs = Path(reports_dir) / name / DEMO_INPUT
        config = prepare_demo(inputs, base_url=sandbox.url, data=data)
        echo(
            f"demo: sandbox emulator on {sandbox.url} (demo portal, scale {scale}); "
            f"app database {inputs / 'acme.db'}"
        )
        echo("demo: running notebooks/audit.ipynb headlessly …")
        with patched_environ({DEMO_TOKEN_ENV: DEMO_TOKEN}, unset=_REAL_TOKEN_VARIABLES):
            return run_notebook(
                "audit",
                config_path=config,
                reports_dir=reports_dir,
                cell_timeout=cell_timeout,
                kernel_timeout=kernel_timeout,
            )


def _demo_name() -> str:
    """The demo integration's name, from the packaged demo config."""
    import yaml

    from assoc_audit.demo.portal import DEMO_CONFIG

    return str(yaml.safe_load(DEMO_CONFIG.read_text("utf-8"))["name"])
