"""Run one apply in its own process (for the SIGKILL test): CONFIG PLAN DIGEST CHUNK."""

from __future__ import annotations

import sys

from assoc_audit.config import load_config
from assoc_audit.fixes import apply_plan, read_plan


def main(argv: list[str]) -> int:
    config, plan_file, digest, chunk = argv
    plan = read_plan(plan_file)
    result = apply_plan(
        plan, load_config(config), confirm=digest, plan_file=plan_file, chunk_size=int(chunk)
    )
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
