import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


import pytest


@pytest.fixture
def portal(monkeypatch):
    """An emulator portal (its base URL) whose token is in $FIXTEST_TOKEN."""
    from assoc_audit.sandbox import Sandbox

    monkeypatch.setenv("FIXTEST_TOKEN", "fixtest-token")
    with Sandbox(tokens=("fixtest-token",), rate_limit="off") as sb:
        yield sb.url
