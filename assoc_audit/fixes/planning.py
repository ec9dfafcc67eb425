"""Making a fix plan from an audit's output folder (DESIGN §7, ``assoc-audit plan``).

Actionable findings (``create_in_<side>``, ``remove_from_<side>``,
``relabel_in_<side>``; ``review`` and ``none`` are left to people) become
operations on the side the action names, in that side's ids and label text:

- ``create_in_T``: the link of a finding present on the other side, with T's
  counterpart ids and the label mapped to T's text (app: ``app_label``);
- ``remove_from_T``: the finding's own link (app: the label mapped back to
  the app's text; the unlabeled link is whichever unlabeled spelling the app
  stores on the pair);
- ``relabel_in_T``: the two rows of a ``label_mismatch`` become one operation
  that replaces T's label with the other side's.

Side effects are added by :func:`~.effects.expand`. The label sets "as seen at
planning" come from the folder's ``snapshot/`` (what the audit read), or, for
a side without one there, from the live side through its connector. The
plan's targets (:mod:`.targets`) are resolved from the config and, for a
written HubSpot side, the live portal's id.

An audit that was let through a suspect empty read (``empty_reads`` in its
``summary.json``, see :mod:`assoc_audit.emptyread`) is refused unless
``allow_empty``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from assoc_audit.emptyread import empty_reads_of, refuse_empty_reads
from assoc_audit.errors import DataError
from assoc_audit.findings import FINDING_COLUMNS
from assoc_audit.fixes.effects import Draft, expand, finalise
from assoc_audit.fixes.model import SIDES, Operation, PairKey, SideModel
from assoc_audit.fixes.plan import FixPlan
from assoc_audit.fixes.states import States, filter_links, read_links
from assoc_audit.fixes.targets import hubspot_sides, portal_ids_of, resolve_targets, written_sides
from assoc_audit.tables import TEXT

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.connectors.base import Connector

__all__ = ["ACTIONABLE", "make_plan", "plan_targets", "read_findings"]

#: Finding actions a plan turns into operations.
ACTIONABLE: tuple[str, ...] = tuple(
    f"{verb}_{side}"
    for verb in ("create_in", "remove_from", "relabel_in")
    for side in ("hubspot", "app")
)

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


def read_findings(folder: Path | str) -> pd.DataFrame:
    """An audit's findings (``findings.parquet``, else ``findings.csv``) as text columns."""
    root = Path(folder)
    parquet, csv = root / "findings.parquet", root / "findings.csv"
    try:
        if parquet.exists():
            frame = pd.read_parquet(parquet)
            source = parquet
        elif csv.exists():
            frame = pd.read_csv(csv, dtype=str, keep_default_na=False, na_values=[""])
            source = csv
        else:
            raise DataError(
                f"{root}: no findings.parquet or findings.csv (is it an audit's output folder?)",
                file=str(root),
            )
    except (OSError, ValueError) as exc:
        raise DataError(f"{root}: cannot read the findings: {exc}", file=str(root)) from None
    missing = [c for c in FINDING_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(
            f"{source}: missing column {missing[0]!r} (not a findings table)",
            file=str(source),
            field=missing[0],
        )
    text = [c for c in FINDING_COLUMNS if c != "step"]
    out = frame[text].astype(TEXT)
    if source == csv:
        _refuse_neutralised(out, csv)
    out = out.mask(out == "")
    out.attrs["source"] = str(source)
    return out


def _refuse_neutralised(frame: pd.DataFrame, source: Path) -> None:
    """A findings.csv cell the writer neutralised (a ``'`` before ``=``, ``+``, …) no longer
    holds the raw id or label: planning from it could write the wrong link."""
    from assoc_audit.outputs import FORMULA_PREFIXES

    marks = tuple("'" + c for c in FORMULA_PREFIXES)
    for column in ("hubspot_from_id", "hubspot_to_id", "app_from_id", "app_to_id", "label"):
        values = frame[column].fillna("")
        hit = values.str.startswith(marks).to_numpy(dtype=bool)
        if hit.any():
            row = int(hit.argmax()) + 1
            raise DataError(
                f"{source}: row {row}, column {column}: the CSV holds a spreadsheet-neutralised "
                f"value ({values.iloc[row - 1][:20]!r}…); plan from findings.parquet, which keeps "
                "raw values",
                file=str(source),
                row=row,
                field=column,
            )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of text or None."""
    columns = {c: frame[c].astype(object).tolist() for c in frame.columns}
    return [
        {c: (None if pd.isna(v) else str(v)) for c, v in zip(columns, values, strict=True)}
        for values in zip(*columns.values(), strict=True)
    ]


def _ids(row: Mapping[str, Any], side: str, source: str) -> tuple[str, str]:
    fid, tid = row[f"{side}_from_id"], row[f"{side}_to_id"]
    if not fid or not tid:
        raise DataError(
            f"{source}: finding {row['finding_id']} ({row['action']}) has no {side} ids",
            file=source,
            field=f"{side}_from_id",
        )
    return str(fid), str(tid)


def _text(model: SideModel, pair: tuple[str, str], label: str | None, row: Any, src: str) -> Any:
    try:
        return model.text_of(pair, label)
    except KeyError:
        raise DataError(
            f"{src}: finding {row['finding_id']}: label {label!r} of {pair[0]}→{pair[1]} has no "
            f"{model.side} equivalent in this config",
            file=src,
            field="label",
        ) from None


def _wanted(rows: pd.DataFrame) -> dict[str, set[tuple[str, str, str]]]:
    """The from-records (side, from_object, to_object, from_id) each side's actions touch."""
    wanted: dict[str, set[tuple[str, str, str]]] = {s: set() for s in SIDES}
    for row in _records(rows):
        side = str(row["action"]).rsplit("_", 1)[-1]
        fid = row[f"{side}_from_id"]
        if fid:
            wanted[side].add((str(row["from_object"]), str(row["to_object"]), fid))
    return wanted


def _planning_states(
    config: IntegrationConfig,
    folder: Path,
    wanted: dict[str, set[tuple[str, str, str]]],
    connectors: Mapping[str, Connector] | None,
) -> States:
    from assoc_audit.connectors import connector_for
    from assoc_audit.snapshot import read_side

    models: dict[str, SideModel] = {s: SideModel.of(config, s) for s in SIDES}
    states = States(models)
    with ExitStack() as stack:
        for side in SIDES:
            if not wanted[side]:
                continue
            snap = folder / "snapshot" / side
            if (snap / "associations.parquet").exists():
                tables = read_side(snap, side=side, config=config)
                states.add_links(side, filter_links(tables.associations, wanted[side]))
                continue
            connector = (connectors or {}).get(side)
            if connector is None:
                connector = stack.enter_context(closing(connector_for(config, side)))
            read_links(states, side, connector, wanted[side])
    return states


def plan_targets(
    config: IntegrationConfig,
    operations: Sequence[Operation],
    connectors: Mapping[str, Connector] | None = None,
) -> dict[str, dict[str, Any]]:
    """The targets of ``operations`` (:func:`~.targets.resolve_targets`), with the portal id
    of each written HubSpot side read through its connector (opened here when not given)."""
    from assoc_audit.connectors import connector_for

    sides = [s for s in written_sides(operations) if s in hubspot_sides(config)]
    with ExitStack() as stack:
        conns: dict[str, Connector] = dict(connectors or {})
        for side in sides:
            if side not in conns:
                conns[side] = stack.enter_context(
                    closing(connector_for(config, side, progress=False))
                )
        ids = portal_ids_of(config, sides, conns)
    return resolve_targets(config, operations, ids)


def _check_empty_reads(folder: Path, allow_empty: bool) -> None:
    path = folder / "summary.json"
    try:
        summary = json.loads(path.read_text("utf-8")) if path.exists() else {}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable audit summary: {exc}", file=str(path)) from None
    reads = empty_reads_of(summary if isinstance(summary, dict) else {})
    if reads and not allow_empty:
        raise refuse_empty_reads(reads, what="plan fixes from this audit")


def make_plan(
    config: IntegrationConfig,
    findings: Path | str,
    *,
    connectors: Mapping[str, Connector] | None = None,
    clock: Clock = _now,
    allow_empty: bool = False,
) -> FixPlan:
    """The fix plan for an audit output folder's actionable findings (module docstring)."""
    folder = Path(findings)
    table = read_findings(folder)
    _check_empty_reads(folder, allow_empty)
    source = str(table.attrs.get("source", folder))
    unknown = set(table["action"].dropna()) - {"none", "review", *ACTIONABLE}
    if unknown:
        raise DataError(
            f"{source}: unknown action {sorted(unknown)[0]!r}", file=source, field="action"
        )
    rows = table.loc[table["action"].isin(ACTIONABLE)].reset_index(drop=True)
    states = _planning_states(config, folder, _wanted(rows), connectors)
    models = states.models
    drafts: list[Draft] = []
    relabels: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in _records(rows):
        verb, target = str(row["action"]).rsplit("_", 1)
        pair = (str(row["from_object"]), str(row["to_object"]))
        model = models[target]
        fid, tid = _ids(row, target, source)
        label = row["label"]
        if verb == "relabel_in":
            relabels.setdefault((target, *pair, fid, tid), []).append(row)
            continue
        if verb == "create_in":
            text = _text(model, pair, label, row, source)
            drafts.append(Draft(target, "create", pair[0], fid, pair[1], tid, text))
        else:
            key: PairKey = (target, pair[0], fid, pair[1], tid)
            if label is None:
                stored = [x for x in model.unlabeled[pair] if x in states.labels(key)]
                text = (
                    sorted(stored, key=lambda x: (x is not None, x or ""))[0]
                    if stored
                    else model.unlabeled_text.get(pair)
                )
            else:
                text = _text(model, pair, label, row, source)
            drafts.append(Draft(target, "remove", pair[0], fid, pair[1], tid, text))
        drafts[-1].findings.add(str(row["finding_id"]))
    for (target, fo, to, fid, tid), group in relabels.items():
        own = [r for r in group if r["present_in"] == target]
        other = [r for r in group if r["present_in"] != target]
        if len(own) != 1 or len(other) != 1:
            first = group[0]["finding_id"]
            raise DataError(
                f"{source}: finding {first} (relabel_in_{target}) needs exactly one "
                "label_mismatch row on each side for its pair",
                file=source,
                field="action",
            )
        model = models[target]
        old = _text(model, (fo, to), own[0]["label"], own[0], source)
        new = _text(model, (fo, to), other[0]["label"], other[0], source)
        draft = Draft(target, "relabel", fo, fid, to, tid, new, old)
        draft.findings |= {str(own[0]["finding_id"]), str(other[0]["finding_id"])}
        drafts.append(draft)
    operations = finalise(expand(drafts, states), states)
    return FixPlan(
        kind="apply",
        operations=operations,
        targets=plan_targets(config, operations, connectors),
        integration=config.name,
        created_at=clock().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        source={"findings": str(folder.resolve())},
    )
