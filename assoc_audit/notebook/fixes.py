"""Helpers that keep ``notebooks/apply_fixes.ipynb`` thin: plan, preview, confirm, apply, undo.

::

    session = fx.open_session(config_path, findings_dir=findings_dir, output_dir=output_dir)
    fx.show_plan(session)                       # summary and the first operations
    fx.show_dry_run(session)                    # what would change now (re-reads the pairs)
    fx.apply_or_offer(session, confirm_digest)  # applies only with the plan's digest
    fx.show_undo(session)                       # how to undo what was applied

With no config, :func:`assoc_audit.notebook.session.open_integration` starts the
bundled sandbox emulator in this process with the demo portal (and the demo
app in a temporary folder), which is audited and planned, so the notebook runs
offline with its defaults; nothing real is ever written. With
``confirm_digest`` None nothing is written: in JupyterLab a Confirm button
bound to the digest of the plan shown applies it when a person clicks it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from assoc_audit.atomicfile import atomic_write_text
from assoc_audit.fixes.apply import apply_plan, default_journal
from assoc_audit.fixes.journal import read_journal
from assoc_audit.fixes.plan import FixPlan
from assoc_audit.fixes.planning import make_plan
from assoc_audit.fixes.result import ApplyResult
from assoc_audit.fixes.undo import make_undo_plan, undo_files
from assoc_audit.notebook.session import _display, _html
from assoc_audit.notebook.templating import macro

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.notebook.session import Integration

__all__ = [
    "FixSession",
    "apply_or_offer",
    "open_session",
    "show_dry_run",
    "show_plan",
    "show_undo",
]


@dataclass
class FixSession:
    """The plan a notebook works on, where its files go, and the integration it opened."""

    integration: Integration
    findings_dir: Path
    output_dir: Path
    plan: FixPlan
    plan_file: Path
    progress: bool = False
    results: list[ApplyResult] = field(default_factory=list)

    @property
    def config(self) -> IntegrationConfig:
        return self.integration.config

    @property
    def config_path(self) -> Path:
        return self.integration.config_path

    @property
    def journal(self) -> Path:
        return default_journal(self.plan_file, self.plan.digest)

    def close(self) -> None:
        """Stop the sandbox the session started (demo), remove its temporary folder."""
        self.integration.close()


_PREVIEW_COLUMNS = (
    "op_id",
    "side",
    "action",
    "from_object",
    "from_id",
    "to_object",
    "to_id",
    "old_label",
    "label",
    "labels_before",
    "cause",
    "implied",
    "finding_ids",
)


def open_session(
    config_path: str | Path | None,
    *,
    findings_dir: str | Path | None = None,
    output_dir: str | Path | None = None,
    baseline_dir: str | Path | None = None,
    scale: int = 300,
    progress: bool = False,
    allow_empty: bool = False,
) -> FixSession:
    """Open the integration (None: the demo on a sandbox started here), audit it when no
    findings folder is given (into ``output_dir/audit``, with ``baseline_dir`` for
    deletion detection), and make the plan. ``allow_empty`` lets an audit whose side
    read no records of an object its baseline had many of through (audit and plan).

    The plan is written to ``<findings>/plan.json`` (and ``.csv``), so the journal
    sits beside it and a later run with the same findings folder resumes or
    recognises the same plan (same digest).
    """
    from assoc_audit.notebook import session as nb
    from assoc_audit.outputs import default_report_folder

    integration = nb.open_integration(config_path, scale=scale)
    try:
        out = (
            Path(output_dir)
            if output_dir is not None
            else default_report_folder(integration.name, root=nb.default_reports_dir())
        )
        out.mkdir(parents=True, exist_ok=True)
        if findings_dir is None:
            done = nb.audit(
                integration,
                output_dir=out / "audit",
                baseline_dir=baseline_dir,
                progress=progress,
                allow_empty=allow_empty,
            )
            findings = done.folder
        else:
            findings = Path(findings_dir)
        plan = make_plan(integration.config, findings, allow_empty=allow_empty)
        plan_file = plan.write(findings / "plan.json")
    except BaseException:
        integration.close()
        raise
    return FixSession(integration, findings, out, plan, plan_file, progress)


def show_plan(session: FixSession, *, max_rows: int = 50) -> None:
    """The plan's digest, counts by action/side and object pair, and its first operations."""
    plan = session.plan
    summary = plan.summary()
    _display(_html(_fixes("plan_head")(session.plan_file, plan.digest, summary.lines()[0])))
    if not len(plan):
        return
    counts = pd.DataFrame(
        [(k, v) for k, v in summary.by_action.items()], columns=["action and side", "operations"]
    )
    pairs = pd.DataFrame(
        [(k, v) for k, v in summary.by_pair.items()], columns=["side and pair", "operations"]
    )
    _display(counts)
    _display(pairs)
    frame = plan.frame().head(max_rows)
    _display(frame[list(_PREVIEW_COLUMNS)])
    if len(plan) > max_rows:
        _display(_html(_fixes("more_operations")(len(plan) - max_rows)))


def _fixes(name: str) -> Any:
    """A macro of ``templates/fixes.html.j2``."""
    return macro("fixes.html.j2", name)


def _show_result(result: ApplyResult) -> None:
    _display(_html(_fixes("result")(result.lines())))


def show_dry_run(session: FixSession) -> ApplyResult:
    """Re-read the touched pairs and show what applying would change (writes nothing)."""
    result = apply_plan(session.plan, session.config, plan_file=session.plan_file)
    _show_result(result)
    return result


def _save(session: FixSession, result: ApplyResult, name: str) -> None:
    session.results.append(result)
    path = session.output_dir / name
    atomic_write_text(path, json.dumps(result.to_dict(), indent=2, default=str) + "\n")


def apply_or_offer(
    session: FixSession, confirm_digest: str | None, *, interactive: bool = False
) -> ApplyResult | None:
    """Apply the plan when ``confirm_digest`` is its digest; else offer a Confirm button.

    A digest that is not the plan's raises :class:`~assoc_audit.errors.DigestMismatch`
    (the notebook fails; ``assoc-audit run`` exits 2). Without a digest nothing
    is written; in JupyterLab (``interactive``) a button bound to the digest of
    the plan shown above applies it when clicked.
    """
    plan = session.plan
    if confirm_digest is not None:
        result = apply_plan(
            plan,
            session.config,
            confirm=confirm_digest,
            plan_file=session.plan_file,
            progress=session.progress,
        )
        _save(session, result, "apply.json")
        _show_result(result)
        return result
    button = interactive and len(plan) > 0
    _display(_html(_fixes("dry_run")(plan.digest, session.config_path, session.plan_file, button)))
    if interactive and len(plan):
        _offer_button(session, plan.digest)
    return None


def _offer_button(session: FixSession, digest: str) -> None:
    import ipywidgets as widgets

    button = widgets.Button(
        description=f"Confirm and apply {digest[:12]}…",
        button_style="danger",
        tooltip=f"apply the plan with digest {digest}",
        layout=widgets.Layout(width="auto"),
    )
    out = widgets.Output()

    def click(_: Any) -> None:
        button.disabled = True
        with out:
            result = apply_plan(
                session.plan,
                session.config,
                confirm=digest,  # bound when the button was made: the plan shown above
                plan_file=session.plan_file,
                progress=session.progress,
            )
            _save(session, result, "apply.json")
            _show_result(result)

    button.on_click(click)
    _display(widgets.VBox([button, out]))


def show_undo(session: FixSession) -> None:
    """How to undo what the journal records (and the undo plan's digest when it can)."""
    journal = session.journal
    if not journal.exists():
        _display(_html(_fixes("nothing_to_undo")()))
        return
    state = read_journal(journal)
    if not state.ended:
        _display(_html(_fixes("unfinished")(journal)))
        return
    undo = make_undo_plan(session.config, journal)
    undo_file, _ = undo_files(journal)
    undo.write(undo_file)
    _display(_html(_fixes("undo_ready")(journal, len(undo), undo.digest, session.config_path)))
