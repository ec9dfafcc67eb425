"""Foundation sub-commands: ``check`` (validate a config and show what it audits)."""

from __future__ import annotations

import argparse
from typing import Any

from assoc_audit.cli.common import add_config_argument

__all__ = ["register"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "check",
        parents=[common],
        help="validate a config and show the audited pairs and their directions",
        description="Validate an integration config. Prints every problem at once (exit 2), "
        "or the audited association pairs with their sync directions (exit 0).",
    )
    add_config_argument(p)
    p.set_defaults(handler=_check)


def _check(args: argparse.Namespace) -> int:
    from assoc_audit.config import load_config

    config = load_config(args.config)
    print(f"{args.config}: ok — {config.name} ({config.app.name}, kind {config.app.kind})")
    for obj in config.audited_objects:
        rules = config.match_rules(obj)
        how = ", ".join(
            f"{r.hubspot}={r.app}" + (f" [{r.normalize}]" if r.normalize != "none" else "")
            for r in rules
        )
        print(
            f"  object {obj:<12} sync {config.sync_of(obj):<15} app {config.app_object_of(obj)}"
            + (f"  match {how}" if how else "")
        )
    for pair in config.pairs:
        labels = []
        for entry in config.entries_for(pair):
            text = entry.label or "(unlabeled)"
            if entry.whole_pair_unsupported:
                text = "(whole pair)"
            if not entry.app_supported:
                text += " unsupported in app"
            elif entry.effective_app_label != entry.label:
                text += f" = app {entry.effective_app_label!r}"
            if entry.app_max_per_record:
                text += f" max {entry.app_max_per_record}/record"
            labels.append(text)
        print(
            f"  pair {pair[0]}→{pair[1]}: direction {config.direction(pair)}; " + "; ".join(labels)
        )
    return 0
