"""Demo and seed data: the demo integration, synthetic portals, the fix scenario.

Nothing here is part of an audit; it fills the sandbox emulator (and the demo
app) so that ``make demo``, the notebooks' offline defaults, the benchmarks
and the tests have realistic data:

- :mod:`.portal`: the demo integration (:func:`seed_demo_portal`,
  :func:`prepare_demo`): a demo portal and the "Acme CRM" SQLite app
  (:mod:`.app`) with drift planted for every reason (:mod:`.drift`) and its
  ground truth; ``demo.yaml`` is its config;
- :mod:`.synthetic`: deterministic synthetic portals at any scale
  (:func:`~.synthetic.synthesize_portal`), also the emulator's seeder for
  ``POST /_sandbox/seed`` (:func:`~.synthetic.control_seeder`);
- :mod:`.fixseed`: the fix scenario of about 5,000 operations (tests, benchmarks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from assoc_audit import lazy

if TYPE_CHECKING:
    from assoc_audit.demo.portal import (
        DEMO_CONFIG,
        DEMO_TOKEN,
        DEMO_TOKEN_ENV,
        DemoData,
        build_demo,
        ground_truth,
        prepare_demo,
        seed_demo_portal,
        write_app_database,
    )

__all__ = [
    "DEMO_CONFIG",
    "DEMO_TOKEN",
    "DEMO_TOKEN_ENV",
    "DemoData",
    "build_demo",
    "ground_truth",
    "prepare_demo",
    "seed_demo_portal",
    "write_app_database",
]

__getattr__, __dir__ = lazy.exports(__name__, dict.fromkeys(__all__, ".portal"), __all__)
