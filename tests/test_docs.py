"""Docs that tests keep honest: every CLI command and every reason/action is in the README."""

from __future__ import annotations

import argparse
from pathlib import Path

from assoc_audit.cli import build_parser
from assoc_audit.reasons import ACTIONS, REASONS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")


def _commands(parser: argparse.ArgumentParser, prefix: str = "assoc-audit") -> list[str]:
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                out.append(f"{prefix} {name}")
                out.extend(_commands(sub, f"{prefix} {name}"))
    return out


def test_every_cli_command_is_in_the_readme():
    commands = _commands(build_parser())
    assert "assoc-audit audit" in commands and "assoc-audit sandbox serve" in commands
    missing = [c for c in commands if c not in README]
    assert not missing, f"commands not documented in README.md: {missing}"


def test_every_reason_is_in_the_readme():
    for reason in REASONS:
        assert f"`{reason}`" in README, reason


def test_every_action_family_is_in_the_readme():
    for action in ACTIONS:
        family = action.replace("_app", "_<side>").replace("_hubspot", "_<side>")
        assert f"`{action}`" in README or family in README, action
