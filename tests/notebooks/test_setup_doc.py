"""The integration set-up document (``assoc-audit doc``, ``integration_setup.ipynb``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assoc_audit.cli import main
from assoc_audit.config import load_config
from assoc_audit.errors import SnapshotError
from assoc_audit.notebook.setup_doc import (
    PortalReport,
    build_setup_doc,
    portal_from_folder,
    read_portal,
)

NOW = datetime(2026, 11, 28, 13, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def config(demo_audit):
    return load_config(demo_audit[0].config)


@pytest.fixture(scope="module")
def portal(demo_audit):
    return PortalReport.from_side(demo_audit[1].hubspot)


def test_objects_and_associations_from_config_and_portal(config, portal, demo_audit):
    doc = build_setup_doc(config, portal, now=NOW)
    objects = doc.objects.set_index("HubSpot object")
    assert objects.loc["contacts", "app object"] == "persons"
    assert objects.loc["deals", "sync"] == "HubSpot → Acme CRM only"
    assert objects.loc["tickets", "sync"] == "not synced"
    assert objects.loc["contacts", "match rules"] == (
        "1. HubSpot acme_id = app id; 2. HubSpot email = app email (email)"
    )
    hubspot_records = demo_audit[1].hubspot.records
    contacts = int((hubspot_records["object"] == "contacts").sum())
    assert objects.loc["contacts", "records in HubSpot"] == f"{contacts:,}"
    rows = doc.associations
    reseller = rows.loc[rows["HubSpot label"] == "Reseller"].iloc[0]
    assert (reseller["pair"], reseller["in the app"], reseller["app label"]) == (
        "deals → companies",
        "no",
        "— (no equivalent)",
    )
    primary = rows.loc[
        (rows["pair"] == "contacts → companies") & (rows["HubSpot label"] == "Primary")
    ]
    assert primary["HubSpot max per record"].iloc[0] == "1 (primary)"
    participant = rows.loc[rows["pair"] == "deals → contacts"].iloc[0]
    assert participant["app label"] == "participant"
    assert participant["direction"] == "HubSpot → Acme CRM only"


def test_portal_labels_and_limitations(config, portal):
    doc = build_setup_doc(config, portal, now=NOW)
    labels = doc.portal_labels
    decision = labels.loc[labels["label in the portal"] == "Decision maker"].iloc[0]
    assert decision["mapped by the config"] == "no: links with it are unsupported_in_app"
    billing = labels.loc[labels["label in the portal"] == "Billing contact"].iloc[0]
    assert billing["mapped by the config"] == "yes, as 'billing'"
    text = "\n".join(doc.limitations)
    assert "tickets: sync is off, so links with tickets are reported as object_sync_off." in text
    assert "deals → contacts: links made in Acme CRM are not carried to HubSpot" in text
    assert "Acme CRM keeps at most 1 link per contact; more are reported as limit_exceeded" in text
    assert "Acme CRM has no equivalent for the label 'Reseller'" in text


def test_markdown_and_html(config, portal, tmp_path):
    doc = build_setup_doc(config, portal, now=NOW)
    md = doc.to_markdown()
    assert md.startswith("# Integration set-up: demo-acme\n")
    assert "Generated 2026-11-28T13:05:00Z from the integration config" in md
    assert "| HubSpot object | app object | sync | match rules | records in HubSpot |" in md
    assert "## Known limitations" in md and "\n- HubSpot's Sync Health view" in md
    html = doc.to_html()
    assert html.startswith("<!DOCTYPE html>") and "<h2>Associations and labels</h2>" in html
    md_path, html_path = doc.write(tmp_path / "out")
    assert md_path.read_text("utf-8") == md and html_path.name == "integration-setup.html"
    assert doc.to_dict()["portal"]["labels"]["contacts→companies"]


def test_without_the_portal(config):
    doc = build_setup_doc(config, None, now=NOW)
    assert "the portal was not asked" in doc.to_markdown()
    assert "records in HubSpot" not in doc.objects.columns
    assert "HubSpot max per record" not in doc.associations.columns
    assert doc.portal_labels.empty


def test_portal_from_a_run_folder_and_errors(demo_audit, portal, tmp_path):
    run = demo_audit[2]
    from_run = portal_from_folder(run)
    assert from_run.labels == portal.labels and from_run.limits == portal.limits
    assert from_run.record_counts == portal.record_counts
    assert portal_from_folder(run / "snapshot" / "hubspot").labels == portal.labels
    with pytest.raises(SnapshotError, match="no HubSpot snapshot here"):
        portal_from_folder(tmp_path)


def test_read_portal_live_and_the_doc_command(demo_audit, config, tmp_path, capsys):
    live = read_portal(config)
    assert live.labels["contacts→companies"] and live.record_counts["contacts"] > 0
    assert main(["doc", "--config", str(demo_audit[0].config), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "demo-acme: integration set-up document" in out
    assert (tmp_path / "integration-setup.md").exists()
    run = demo_audit[2]
    assert (
        main(
            [
                "doc",
                "-c",
                str(demo_audit[0].config),
                "--from-run",
                str(run),
                "--out",
                str(tmp_path / "b"),
            ]
        )
        == 0
    )
    assert "Decision maker" in (tmp_path / "b" / "integration-setup.md").read_text("utf-8")
    assert main(["doc", "-c", str(demo_audit[0].config), "--from-run", str(tmp_path / "none")]) == 2


XSS = "<img src=x onerror=alert(1)>"


def test_markdown_escapes_html_in_every_value(tmp_path):
    from assoc_audit.config import parse_config

    config = parse_config(
        {
            "name": "xss",
            "app": {"name": "<b>Acme</b> & co", "kind": "files", "path": "."},
            "objects": {
                "contacts": {
                    "sync": "two_way",
                    "app_object": XSS,
                    "match": [{"hubspot": "email", "app": "<i>mail</i>"}],
                },
                "companies": {"sync": "two_way", "match": [{"hubspot": "domain", "app": "d"}]},
            },
            "associations": [
                {"from": "contacts", "to": "companies", "label": XSS, "app_label": "[x](javascript:y)"},
                {"from": "contacts", "to": "companies", "label": "Other", "app_supported": False},
            ],
        },
        base_dir=tmp_path,
    )
    portal = PortalReport(
        source="HubSpot <script>alert(2)</script>",
        labels={"contacts→companies": (XSS, "<svg onload=alert(3)>")},
    )
    md_path, html_path = build_setup_doc(config, portal, now=NOW).write(tmp_path / "doc")
    md = md_path.read_text("utf-8")
    for raw in ("<img", "<b>", "<i>", "<script", "<svg", " [x](javascript:"):
        assert raw not in md, raw
    assert "&lt;img src=x onerror=alert(1)&gt;" in md
    assert "&lt;b&gt;Acme&lt;/b&gt; &amp; co" in md
    assert "\\[x\\](javascript:y)" in md
    page = html_path.read_text("utf-8")
    for raw in ("<img", "<b>Acme", "<i>", "<script>alert", "<svg"):
        assert raw not in page, raw
