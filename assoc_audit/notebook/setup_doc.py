"""The integration set-up document: what syncs, in which direction, what is unsupported.

Built from the config (objects, sync directions, match rules, association
entries) and from what the HubSpot portal reports (the association labels it
defines per pair, its configured association limits, record counts), for the
team's records. ``assoc-audit doc`` and ``notebooks/integration_setup.ipynb``
both use :func:`build_setup_doc`; :func:`read_portal` gets the portal's side
from a live read (the HubSpot connector) or from a snapshot's ``meta.json``.

::

    doc = build_setup_doc(config, read_portal(config))
    doc.write("reports/demo-acme")     # integration-setup.md and .html
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from assoc_audit.atomicfile import atomic_write_text
from assoc_audit.errors import SnapshotError
from assoc_audit.findings import noun
from assoc_audit.notebook.templating import render
from assoc_audit.secrets import redact_text, redact_url

if TYPE_CHECKING:
    from assoc_audit.config import IntegrationConfig
    from assoc_audit.tables import SideTables

__all__ = [
    "DOC_BASENAME",
    "PortalReport",
    "SetupDoc",
    "build_setup_doc",
    "portal_from_folder",
    "read_portal",
]

DOC_BASENAME = "integration-setup"

_DIRECTION_TEXT = {
    "two_way": "both ways",
    "hubspot_to_app": "HubSpot → {app} only",
    "app_to_hubspot": "{app} → HubSpot only",
    "blocked": "blocked (opposite one-way objects)",
    "off": "not synced",
}

#: Limitations that hold for every integration (DESIGN §1, §5; the API reference's open points).
GENERAL_LIMITATIONS: tuple[str, ...] = (
    "Only the association pairs listed in the config are audited; links of other pairs are "
    "skipped (and counted in each run's summary.json).",
    "HubSpot does not document how data sync carries association labels and primary flags; the "
    "label mapping above is this integration's own statement of what the app stores.",
    "HubSpot's Sync Health view lists records, never links, and has no public API: a link that "
    "fails to sync shows up here only as a one-sided link.",
    "Records are paired by the config's match rules, which should mirror the data sync's own "
    "matching settings; duplicates on either side make a record ambiguous instead of guessed.",
    "A labelled link implies the unlabeled link of the same pair on both sides (HubSpot always "
    "keeps it; many apps do not store it).",
)


@dataclass(frozen=True)
class PortalReport:
    """What the HubSpot portal reports about itself (all optional)."""

    source: str
    read_at: str | None = None
    #: ``from→to`` → the label texts the portal defines on that pair, in its direction.
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: configured association limits: from_object, to_object, label, max_per_record.
    limits: tuple[dict[str, Any], ...] | None = None
    #: object → records read.
    record_counts: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @classmethod
    def from_meta(
        cls, meta: Mapping[str, Any], *, counts: Mapping[str, int] | None = None
    ) -> PortalReport:
        labels = {
            str(k): tuple(str(x) for x in v)
            for k, v in dict(meta.get("labels") or {}).items()
            if isinstance(v, list | tuple)
        }
        raw_limits = meta.get("limits")
        limits = (
            tuple(dict(x) for x in raw_limits if isinstance(x, Mapping))
            if isinstance(raw_limits, list)
            else None
        )
        notes = []
        if meta.get("limits_error"):
            notes.append(
                f"The portal's association limits could not be read: {meta['limits_error']}"
            )
        return cls(
            source=redact_url(redact_text(str(meta.get("source") or "unknown"))),
            read_at=str(meta["read_at"]) if meta.get("read_at") else None,
            labels=labels,
            limits=limits,
            record_counts={str(k): int(v) for k, v in dict(counts or {}).items()},
            notes=tuple(notes),
        )

    @classmethod
    def from_side(cls, tables: SideTables) -> PortalReport:
        """From the HubSpot side an audit read (its ``meta`` and records)."""
        counts = tables.records["object"].astype(str).value_counts()
        return cls.from_meta(tables.meta, counts={str(k): int(v) for k, v in counts.items()})

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "read_at": self.read_at,
            "labels": {k: list(v) for k, v in self.labels.items()},
            "limits": list(self.limits) if self.limits is not None else None,
            "record_counts": dict(self.record_counts),
            "notes": list(self.notes),
        }


def portal_from_folder(folder: Path | str) -> PortalReport:
    """From a snapshot side folder, a snapshot folder, or a run folder (``snapshot/hubspot``)."""
    root = Path(folder)
    for candidate in (root, root / "hubspot", root / "snapshot" / "hubspot"):
        if (candidate / "records.parquet").exists():
            side = candidate
            break
    else:
        raise SnapshotError(
            f"{root}: no HubSpot snapshot here (expected records.parquet in it, in hubspot/ or "
            "in snapshot/hubspot/)",
            file=str(root),
        )
    from assoc_audit.snapshot import read_meta

    meta = read_meta(side)
    import pyarrow.parquet as pq

    objects = pq.read_table(side / "records.parquet", columns=["object"]).column("object")
    counts = pd.Series(objects.to_pylist()).value_counts()
    meta.setdefault("source", f"snapshot {side}")
    return PortalReport.from_meta(meta, counts={str(k): int(v) for k, v in counts.items()})


def read_portal(config: IntegrationConfig, *, progress: bool = False) -> PortalReport:
    """Ask the portal (or read the config's HubSpot snapshot) what it reports.

    A live read goes through the HubSpot connector (the same read an audit
    makes of the HubSpot side: records, links, labels, limits); ``progress``
    shows its progress bars.
    """
    if config.hubspot.snapshot is not None:
        return portal_from_folder(config.resolve(config.hubspot.snapshot))
    from contextlib import closing

    from assoc_audit.connectors import connector_for

    with closing(connector_for(config, "hubspot", progress=progress)) as connector:
        tables = connector.read_side()
    return PortalReport.from_side(tables)


@dataclass(frozen=True)
class SetupDoc:
    """The set-up document as tables and sentences (:meth:`to_markdown`, :meth:`to_html`)."""

    name: str
    app_name: str
    generated_at: str
    config_digest: str
    objects: pd.DataFrame
    associations: pd.DataFrame
    portal_labels: pd.DataFrame
    limitations: tuple[str, ...]
    portal: PortalReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "app_name": self.app_name,
            "generated_at": self.generated_at,
            "config_digest": self.config_digest,
            "objects": self.objects.to_dict(orient="records"),
            "associations": self.associations.to_dict(orient="records"),
            "portal_labels": self.portal_labels.to_dict(orient="records"),
            "limitations": list(self.limitations),
            "portal": self.portal.to_dict() if self.portal else None,
        }

    def _intro(self) -> list[str]:
        lines = [
            f"Integration **{self.name}**: HubSpot ↔ **{self.app_name}**.",
            f"Generated {self.generated_at} from the integration config "
            f"(digest `{self.config_digest[:12]}`)"
            + (
                f" and what the portal reports ({self.portal.source}"
                + (f", read {self.portal.read_at}" if self.portal.read_at else "")
                + ")."
                if self.portal
                else "; the portal was not asked."
            ),
        ]
        return lines

    def sections(self) -> list[tuple[str, str, pd.DataFrame | Sequence[str]]]:
        """(title, lead sentence, table or bullet list) in document order."""
        return [
            (
                "Objects",
                "Which HubSpot objects sync with which app objects, in which direction, and how "
                "records are paired (rules run in order).",
                self.objects,
            ),
            (
                "Associations and labels",
                "Every audited association pair and label, its direction, the app's equivalent "
                "and the limits on each side.",
                self.associations,
            ),
            (
                "Labels the portal defines",
                "Each label the portal has on an audited pair, and whether the config maps it; "
                "links with unmapped labels are reported as unsupported_in_app.",
                self.portal_labels,
            ),
            ("Known limitations", "", list(self.limitations)),
        ]

    def to_markdown(self) -> str:
        """The document as Markdown; every value is escaped (no HTML or links get through)."""
        out = [f"# Integration set-up: {_md_text(self.name)}", ""]
        out += [_md_text(line) for line in self._intro()] + [""]
        for title, lead, body in self.sections():
            out += [f"## {title}", ""]
            if lead:
                out += [lead, ""]
            if isinstance(body, pd.DataFrame):
                out += [_markdown_table(body), ""]
            else:
                out += [f"- {_md_text(item)}" for item in body] + [""]
        return "\n".join(out).rstrip() + "\n"

    def to_html(self, *, standalone: bool = True, table_class: str = "aa-doc") -> str:
        """The document as HTML (``templates/setup_doc.html.j2``): a page, or its body."""
        sections = []
        for title, lead, body in self.sections():
            section: dict[str, Any] = {"title": title, "lead": lead, "columns": None, "entries": []}
            if isinstance(body, pd.DataFrame):
                values = body.astype(object).where(body.notna(), "")
                section["columns"] = [(str(c), "") for c in body.columns]
                section["rows"] = [[str(v) for v in row] for row in values.itertuples(index=False)]
            else:
                section["entries"] = list(body)
            sections.append(section)
        return render(
            "setup_doc.html.j2",
            standalone=standalone,
            name=self.name,
            intro=[_spans(line) for line in self._intro()],
            sections=sections,
            table_class=table_class,
        )

    def write(self, folder: Path | str) -> tuple[Path, Path]:
        """Write ``integration-setup.md`` and ``integration-setup.html`` into ``folder``."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for suffix, text in ((".md", self.to_markdown()), (".html", self.to_html())):
            paths.append(atomic_write_text(out / f"{DOC_BASENAME}{suffix}", redact_text(text)))
        return paths[0], paths[1]


_MD_ESCAPES = str.maketrans(
    {"\\": "\\\\", "&": "&amp;", "<": "&lt;", ">": "&gt;", "[": "\\[", "]": "\\]"}
)


def _md_text(value: Any) -> str:
    """A value (a label, a name, an object from the portal or the config) as Markdown text.

    HTML is escaped (``<img …>`` shows as text; Markdown renderers pass raw HTML
    through), and so are backslashes and the brackets of link and image
    syntax. Our own ``**bold**`` and `` `code` `` spans are left alone.
    """
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return text.translate(_MD_ESCAPES)


def _md_cell(value: Any) -> str:
    return _md_text(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _markdown_table(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "_(none)_"
    head = "| " + " | ".join(_md_cell(c) for c in frame.columns) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = [
        "| " + " | ".join(_md_cell(v) for v in row) + " |"
        for row in frame.itertuples(index=False, name=None)
    ]
    return "\n".join([head, rule, *rows])


def _spans(line: str) -> list[tuple[str, str]]:
    """An intro line's Markdown ``**bold**`` and ``code`` spans as (text, tag) pairs for the
    HTML template (tag "" for plain text); the template escapes every text."""
    import re

    out: list[tuple[str, str]] = []
    for part in re.split(r"(\*\*.+?\*\*|`.+?`)", line):
        if part.startswith("**") and part.endswith("**") and len(part) > 4:
            out.append((part[2:-2], "strong"))
        elif part.startswith("`") and part.endswith("`") and len(part) > 2:
            out.append((part[1:-1], "code"))
        elif part:
            out.append((part, ""))
    return out


def _direction(config: IntegrationConfig, value: str) -> str:
    return _DIRECTION_TEXT.get(value, value).format(app=config.app.name)


def _rules_text(config: IntegrationConfig, obj: str) -> str:
    parts = []
    for i, rule in enumerate(config.match_rules(obj), start=1):
        how = f" ({rule.normalize})" if rule.normalize != "none" else ""
        parts.append(f"{i}. HubSpot {rule.hubspot} = app {rule.app}{how}")
    return "; ".join(parts) or "—"


def _objects(config: IntegrationConfig, portal: PortalReport | None) -> pd.DataFrame:
    rows = []
    for obj in config.audited_objects:
        row: dict[str, Any] = {
            "HubSpot object": obj,
            "app object": config.app_object_of(obj),
            "sync": _direction(config, config.sync_of(obj)),
            "match rules": _rules_text(config, obj) if config.sync_of(obj) != "off" else "—",
        }
        if portal is not None and portal.record_counts:
            count = portal.record_counts.get(obj)
            row["records in HubSpot"] = f"{count:,}" if count is not None else "not read"
        rows.append(row)
    return pd.DataFrame(rows)


def _portal_limit(portal: PortalReport | None, pair: tuple[str, str], label: str | None) -> str:
    if portal is None or portal.limits is None:
        return "unknown" if portal is not None else ""
    for item in portal.limits:
        if (item.get("from_object"), item.get("to_object")) == pair and item.get("label") == label:
            return str(item.get("max_per_record", ""))
    return "1 (primary)" if label == "Primary" else "no limit configured"


def _associations(config: IntegrationConfig, portal: PortalReport | None) -> pd.DataFrame:
    rows = []
    for pair in config.pairs:
        direction = _direction(config, config.direction(pair))
        for entry in config.entries_for(pair):
            if entry.whole_pair_unsupported:
                hubspot_label = "every label"
                app_label = "— (no equivalent: the whole pair)"
            else:
                hubspot_label = entry.label or "(unlabeled)"
                app_label = (
                    (entry.effective_app_label or "(unlabeled)")
                    if entry.app_supported
                    else "— (no equivalent)"
                )
            row: dict[str, Any] = {
                "pair": f"{pair[0]} → {pair[1]}",
                "direction": direction,
                "HubSpot label": hubspot_label,
                "app label": app_label,
                "in the app": "yes" if entry.app_supported else "no",
                "app max per record": entry.app_max_per_record or "",
            }
            if portal is not None:
                row["HubSpot max per record"] = (
                    _portal_limit(portal, pair, entry.label)
                    if not entry.whole_pair_unsupported
                    else ""
                )
            rows.append(row)
    return pd.DataFrame(rows)


def _portal_labels(config: IntegrationConfig, portal: PortalReport | None) -> pd.DataFrame:
    columns = ["pair", "label in the portal", "mapped by the config"]
    if portal is None or not portal.labels:
        return pd.DataFrame(columns=columns)
    rows = []
    for pair in config.pairs:
        defined = portal.labels.get(f"{pair[0]}→{pair[1]}", ())
        entries = {e.label: e for e in config.entries_for(pair)}
        whole = any(e.whole_pair_unsupported for e in config.entries_for(pair))
        for label in defined:
            entry = entries.get(label)
            if whole:
                mapped = "no: the whole pair is unsupported in the app"
            elif entry is None:
                mapped = "no: links with it are unsupported_in_app"
            elif not entry.app_supported:
                mapped = "no: marked app_supported: false"
            else:
                mapped = f"yes, as '{entry.effective_app_label}'"
            rows.append(
                {
                    "pair": f"{pair[0]} → {pair[1]}",
                    "label in the portal": label,
                    "mapped by the config": mapped,
                }
            )
    return pd.DataFrame(rows, columns=columns)


def _limitations(config: IntegrationConfig, portal: PortalReport | None) -> tuple[str, ...]:
    app = config.app.name
    out: list[str] = []
    for obj in config.audited_objects:
        if config.sync_of(obj) == "off":
            why = "sync is off" if obj in config.objects else "it is not in the config's objects"
            out.append(f"{obj}: {why}, so links with {obj} are reported as object_sync_off.")
    for pair in config.pairs:
        direction = config.direction(pair)
        name = f"{pair[0]} → {pair[1]}"
        if direction == "hubspot_to_app":
            out.append(
                f"{name}: links made in {app} are not carried to HubSpot (direction_blocked)."
            )
        elif direction == "app_to_hubspot":
            out.append(
                f"{name}: links made in HubSpot are not carried to {app} (direction_blocked)."
            )
        elif direction == "blocked":
            out.append(f"{name}: the objects sync in opposite directions; no link is carried.")
        for entry in config.entries_for(pair):
            if entry.whole_pair_unsupported:
                out.append(f"{name}: {app} has no equivalent for this pair (unsupported_in_app).")
            elif not entry.app_supported:
                out.append(
                    f"{name}: {app} has no equivalent for the label '{entry.label}' "
                    "(unsupported_in_app)."
                )
            if entry.app_max_per_record:
                n = entry.app_max_per_record
                what = f"'{entry.label}' link" if entry.label else "link"
                out.append(
                    f"{name}: {app} keeps at most {n} {what}{'s' if n != 1 else ''} per "
                    f"{noun(pair[0])}; more are reported as limit_exceeded."
                )
    if config.mirror_deletions:
        out.append(
            "mirror_deletions is on: one-way links the source side lacks are proposed for removal."
        )
    if portal is not None:
        out += list(portal.notes)
    return tuple(out) + GENERAL_LIMITATIONS


def build_setup_doc(
    config: IntegrationConfig,
    portal: PortalReport | None = None,
    *,
    now: datetime | None = None,
) -> SetupDoc:
    """The set-up document of ``config`` (and, when given, what the portal reports)."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return SetupDoc(
        name=config.name,
        app_name=config.app.name,
        generated_at=moment.isoformat(timespec="seconds").replace("+00:00", "Z"),
        config_digest=config.digest(),
        objects=_objects(config, portal),
        associations=_associations(config, portal),
        portal_labels=_portal_labels(config, portal),
        limitations=_limitations(config, portal),
        portal=portal,
    )
