import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="module")
def demo_audit(tmp_path_factory):
    """The demo portal on a sandbox, audited through the HubSpot and SQL connectors."""
    from nb_support import demo_portal

    from assoc_audit.audit import run_audit

    folder = tmp_path_factory.mktemp("demo-audit")
    with demo_portal(folder / "portal", token="sandbox-unit-tests") as portal:
        result = run_audit(portal.config, out=folder / "run", connector_options={"progress": False})
        yield portal, result, folder / "run"
