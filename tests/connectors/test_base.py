"""The connector contract's value objects, the dispatch in load_side/connector_for, and
what a rewrite keeps of a user's file."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from appdata import TABLES, write_folder

from assoc_audit.config import load_config
from assoc_audit.connectors import Connector, Edge, connector_for, edge_table, load_side
from assoc_audit.connectors.base import ApiUsage, EndpointUsage, UsageMeter, WriteResult
from assoc_audit.errors import AuthError, DataError
from assoc_audit.snapshot import write_side
from assoc_audit.tables import TEXT

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_edge_table_from_edges_and_frames():
    table = edge_table(
        [Edge("contacts", "1", "companies", "2"), Edge("deals", "3", "contacts", "4", "x")]
    )
    assert table.columns.tolist() == ["from_object", "from_id", "to_object", "to_id", "label"]
    assert all(table[c].dtype == TEXT for c in table.columns)
    assert pd.isna(table["label"].iloc[0]) and table["label"].iloc[1] == "x"
    frame = pd.DataFrame(
        {
            "from_object": ["contacts"],
            "from_id": [7],
            "to_object": ["companies"],
            "to_id": [8.0],
            "label": [""],
            "extra": [1],
        }
    )
    out = edge_table(frame)
    assert out.iloc[0].tolist()[:4] == ["contacts", "7", "companies", "8"]
    assert pd.isna(out["label"].iloc[0]) and "extra" not in out
    with pytest.raises(DataError, match="edges: missing column 'label'"):
        edge_table(frame.drop(columns="label"))
    with pytest.raises(DataError, match=r"row 1, column .to_id.: 8\.5 is not a whole number"):
        edge_table(frame.assign(to_id=[8.5]))


def test_write_result_counts_and_dict():
    outcomes = pd.DataFrame(
        {
            "object": ["contacts"] * 3,
            "record_id": ["1", "2", "3"],
            "status": ["ok", "already", "failed"],
            "message": [None, None, "boom"],
        }
    ).astype(TEXT)
    result = WriteResult("delete_records", outcomes)
    assert (result.ok, result.already, result.failed, result.all_done) == (1, 1, 1, False)
    data = result.to_dict()
    assert data == {
        "operation": "delete_records",
        "rows": 3,
        "ok": 1,
        "already": 1,
        "failed": 1,
        "failures": [
            {"object": "contacts", "record_id": "3", "status": "failed", "message": "boom"}
        ],
    }


def test_api_usage_zero_add_and_meter():
    assert ApiUsage().to_dict() == {"calls": 0, "retries": 0, "seconds": 0.0, "by_endpoint": {}}
    meter = UsageMeter()

    def hammer():
        for _ in range(500):
            meter.record("crm.objects.list", seconds=0.001)

    threads = [threading.Thread(target=hammer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    meter.record("associations.batch.read", retries=2, seconds=0.5)
    usage = meter.usage()
    assert usage.calls == 2001 and usage.retries == 2
    assert usage.by_endpoint["crm.objects.list"].calls == 2000
    total = usage + ApiUsage(1, 0, 1.0, {"crm.objects.list": EndpointUsage(1, 0, 1.0)})
    assert total.calls == 2002 and total.by_endpoint["crm.objects.list"].calls == 2001
    assert list(total.to_dict()["by_endpoint"]) == ["associations.batch.read", "crm.objects.list"]


def test_example_config_reads():
    config = load_config(EXAMPLES / "minimal.yaml")
    side = load_side(config, "app")
    assert set(side.records["object"]) == {"contacts", "companies", "deals"}
    assert len(side.associations) == 5


def test_hubspot_kinds_need_their_token(make_config, tmp_path, monkeypatch):
    """Both HubSpot kinds dispatch to the HubSpot connector, which needs its token variable."""
    write_folder(tmp_path / "app", TABLES)
    config = make_config({"kind": "files", "path": "app"})
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    with pytest.raises(AuthError, match=r"^\$HUBSPOT_ACCESS_TOKEN is not set"):
        load_side(config, "hubspot")
    hub = make_config({"kind": "hubspot", "token_env": "OTHER_TOKEN"})
    monkeypatch.delenv("OTHER_TOKEN", raising=False)
    with pytest.raises(AuthError, match=r"^\$OTHER_TOKEN is not set: .*app\.token_env names it"):
        connector_for(hub, "app")


def test_snapshot_wins_over_the_connector(make_config, tmp_path):
    write_folder(tmp_path / "app", TABLES)
    config = make_config({"kind": "files", "path": "app"})
    side = load_side(config, "app")
    write_side(tmp_path / "snap" / "app", side)
    (tmp_path / "app" / "persons.csv").unlink()  # the live source is broken now
    snap = make_config({"kind": "files", "path": "app", "snapshot": "snap/app"})
    again = load_side(snap, "app")
    assert again.records["record_id"].tolist() == side.records["record_id"].tolist()
    with pytest.raises(DataError, match="no file for app object 'persons'"):
        load_side(config, "app")


def test_connectors_satisfy_the_protocol(make_config, tmp_path):
    write_folder(tmp_path / "app", TABLES)
    connector = connector_for(make_config({"kind": "files", "path": "app"}), "app")
    assert isinstance(connector, Connector)
    assert connector.side == "app" and connector.kind == "files"


def test_csv_rewrite_keeps_bom_line_endings_columns_and_cells(make_config, tmp_path):
    write_folder(tmp_path / "app", TABLES)
    path = tmp_path / "app" / "associations.csv"
    original = (
        "\ufefffrom_object,from_id,to_object,to_id,label,note\r\n"
        'persons,007,organizations,o1,,"keep, me"\r\n'
        "persons, 8 ,organizations,o2,NA,\r\n"
        'persons,9,organizations,o2,"two\r\nlines",x\r\n'
    )
    path.write_bytes(original.encode("utf-8"))
    config = make_config({"kind": "files", "path": "app"})
    connector = connector_for(config, "app")
    result = connector.create_edges(
        edge_table([Edge("contacts", "9", "companies", "o1", "primary")])
    )
    assert result.ok == 1
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig") == original[1:] + "persons,9,organizations,o1,primary,\r\n"
    removed = connector.remove_edges(
        edge_table([Edge("contacts", "9", "companies", "o1", "primary")])
    )
    assert removed.ok == 1 and path.read_bytes().decode("utf-8-sig") == original[1:]
    assert not list(path.parent.glob(".*.tmp"))


def test_parquet_rewrite_keeps_schema(make_config, tmp_path):
    write_folder(tmp_path / "app", TABLES, "parquet")
    path = tmp_path / "app" / "deals.parquet"
    schema = pq.read_schema(path)
    connector = connector_for(make_config({"kind": "files", "path": "app"}), "app")
    connector.create_records("deals", pd.DataFrame({"display_name": ["New"]}))
    assert pq.read_schema(path).equals(schema)
    assert pq.read_table(path)["id"].to_pylist() == [1001, 1002, 1003]
    with pytest.raises(DataError, match="cannot store \\['x1'\\] in column 'id' of type int64"):
        connector.create_records("deals", pd.DataFrame({"id": ["x1"]}))
    assert pq.read_table(path).num_rows == 3


def test_read_side_by_parts_matches_read_side(make_config, tmp_path):
    from assoc_audit.connectors.base import read_side_by_parts

    write_folder(tmp_path / "app", TABLES)
    config = make_config({"kind": "files", "path": "app", "display_name": {"persons": "full_name"}})
    connector = connector_for(config, "app")
    whole = connector.read_side()
    parts = read_side_by_parts(connector, config, meta={"read_at": "now"})
    assert parts.side == "app" and parts.meta["kind"] == "files" and parts.meta["read_at"] == "now"
    key = ["object", "record_id"]
    pd.testing.assert_frame_equal(
        parts.records.sort_values(key, ignore_index=True),
        whole.records.sort_values(key, ignore_index=True),
    )
    cols = list(whole.associations.columns)
    pd.testing.assert_frame_equal(
        parts.associations.sort_values(cols, ignore_index=True),
        whole.associations.sort_values(cols, ignore_index=True),
    )
    assert parts.association_stats.rows_kept == len(whole.associations)
