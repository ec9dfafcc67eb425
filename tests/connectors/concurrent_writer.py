"""A writer process for the files connector's locking test.

``python concurrent_writer.py CONFIG BARRIER NAME N``: loads the config, says it
is ready (``BARRIER/NAME.ready``), waits for ``BARRIER/go`` and then adds N
links, one call each: contacts NAME-1 … NAME-N → companies o1.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from assoc_audit.config import load_config
from assoc_audit.connectors import Edge, connector_for, edge_table


def main(config_path: str, barrier: str, name: str, count: str) -> int:
    connector = connector_for(load_config(config_path), "app")
    folder = Path(barrier)
    (folder / f"{name}.ready").touch()
    deadline = time.monotonic() + 60
    while not (folder / "go").exists():
        if time.monotonic() > deadline:
            return 3
        time.sleep(0.001)
    for i in range(1, int(count) + 1):
        result = connector.create_edges(
            edge_table([Edge("contacts", f"{name}-{i}", "companies", "o1")])
        )
        if result.ok != 1:
            print(result.outcomes.to_dict("records"), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
