"""Small argparse helpers shared by the sub-command modules."""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["add_config_argument"]


def add_config_argument(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "--config",
        "-c",
        type=Path,
        required=required,
        metavar="FILE",
        help="the integration config (YAML, DESIGN §5)",
    )
