"""The files connector on real CSV and Parquet files."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from appdata import (
    TABLES,
    expected_links,
    expected_records,
    rows,
    tables,
    write_csv,
    write_folder,
    write_parquet,
)

from assoc_audit.connectors import Connector, Edge, connector_for, edge_table, load_side
from assoc_audit.connectors.files import FilesConnector
from assoc_audit.errors import ConnectorError, DataError
from assoc_audit.tables import TEXT


@pytest.fixture(params=["csv", "parquet"])
def fmt(request) -> str:
    return request.param


@pytest.fixture
def files_config(tmp_path, make_config):
    def build(data=None, fmt="csv", **app):
        write_folder(tmp_path / "app", TABLES if data is None else data, fmt)
        settings = {"kind": "files", "path": "app", "display_name": {"persons": "full_name"}}
        settings.update(app)
        return make_config(settings)

    return build


def test_round_trip(files_config, fmt):
    config = files_config(fmt=fmt)
    side = load_side(config, "app")
    assert list(side.records.columns) == [
        "object",
        "record_id",
        "email",
        "website",
        "display_name",
        "updated_at",
    ]
    assert rows(side.records) == expected_records()
    assert rows(side.associations) == expected_links()
    assert all(side.associations[c].dtype == TEXT for c in side.associations.columns)
    stats = side.association_stats
    assert stats.flipped == 1 and stats.merged == 1
    assert stats.skipped == {"widgets→persons": 1, "deals→companies": 1}
    assert stats.rows_read == 7 and stats.rows_kept == 4
    assert side.record_stats.rows_read == 7
    assert side.meta["kind"] == "files"
    assert side.meta["files"]["contacts"] == f"persons.{fmt}"
    assert side.meta["identifier_columns"]["contacts"] == ["email"]


def test_connector_is_a_connector(files_config):
    connector = connector_for(files_config(), "app")
    assert isinstance(connector, Connector) and isinstance(connector, FilesConnector)
    assert connector.usage().calls == 0 and connector.usage().to_dict()["by_endpoint"] == {}
    assert connector.describe().startswith("files ")


def test_read_records_and_associations_for_one_object(files_config):
    connector = connector_for(files_config(), "app")
    people = connector.read_records("contacts")
    assert people["record_id"].tolist() == ["007", "8", "9"]
    only_id = connector.read_records("contacts", columns=["id"])
    assert list(only_id.columns) == ["object", "record_id", "display_name", "updated_at"]
    links = connector.read_associations(("contacts", "companies"), from_ids=["8"])
    assert rows(links) == [expected_links()[2]]
    with pytest.raises(DataError, match="not audited"):
        connector.read_associations(("companies", "deals"))


def test_off_object_read_when_present(files_config, tmp_path):
    config = files_config()
    write_csv(tmp_path / "app" / "cases.csv", {"id": "text", "subject": "text"}, [("c1", "Help")])
    side = load_side(config, "app")
    assert side.records.loc[side.records["object"] == "tickets", "record_id"].tolist() == ["c1"]


def test_tables_rename_files(files_config, tmp_path):
    config = files_config(tables={"persons": "people_export", "associations": "links.csv"})
    (tmp_path / "app" / "persons.csv").rename(tmp_path / "app" / "people_export.csv")
    (tmp_path / "app" / "associations.csv").rename(tmp_path / "app" / "links.csv")
    side = load_side(config, "app")
    assert rows(side.associations) == expected_links()
    assert side.meta["files"]["associations"] == "links.csv"


def test_csv_keeps_text_verbatim_and_tolerates_bom(files_config, tmp_path):
    config = files_config()
    path = tmp_path / "app" / "persons.csv"
    path.write_bytes(b'\xef\xbb\xbfid,email,full_name\r\n007,NA,"a,""b"""\r\n0x1, null ,\r\n')
    people = connector_for(config, "app").read_records("contacts")
    assert people["record_id"].tolist() == ["007", "0x1"]
    assert people["email"].tolist() == ["NA", " null "]
    assert people["display_name"].iloc[0] == 'a,"b"'
    assert pd.isna(people["display_name"].iloc[1])


def test_literal_quote_in_an_unquoted_cell_is_text(files_config, tmp_path):
    config = files_config()
    (tmp_path / "app" / "persons.csv").write_bytes(b"id,email,full_name\n1,a,5'11\"\n2,b,y\n")
    people = connector_for(config, "app").read_records("contacts")
    assert people["display_name"].tolist() == ["5'11\"", "y"]


def test_parquet_numeric_ids_become_whole_text(files_config, tmp_path):
    config = files_config(fmt="parquet")
    big = 2**62 + 1
    table = pa.table(
        {
            "id": pa.array([big, 7], pa.uint64()),
            "display_name": ["x", "y"],
        }
    )
    pq.write_table(table, tmp_path / "app" / "deals.parquet")
    floats = pa.table({"id": pa.array([3.0, 4.0]), "display_name": ["a", "b"]})
    side = load_side(config, "app")
    assert side.records.loc[side.records["object"] == "deals", "record_id"].tolist() == [
        str(big),
        "7",
    ]
    pq.write_table(floats, tmp_path / "app" / "deals.parquet")
    deals = connector_for(config, "app").read_records("deals")
    assert deals["record_id"].tolist() == ["3", "4"]


def test_dictionary_encoded_parquet(files_config, tmp_path):
    config = files_config(fmt="parquet")
    frame = pd.DataFrame({"id": pd.Categorical(["o1", "o2"]), "website": ["a.io", "b.io"]})
    frame.to_parquet(tmp_path / "app" / "organizations.parquet")
    orgs = connector_for(config, "app").read_records("companies")
    assert orgs["record_id"].tolist() == ["o1", "o2"]


# ---------------------------------------------------------------------------
# Bad data: every message names the file, row (and CSV line) and column


def bad(config, match):
    with pytest.raises(DataError, match=match) as info:
        load_side(config, "app")
    return info.value


def test_missing_identifier_column(files_config, fmt):
    data = tables(organizations=({"id": "text", "name": "text"}, [("o1", "x")]))
    err = bad(files_config(data, fmt), rf"organizations\.{fmt}: missing column 'website'")
    assert err.field == "website" and err.file.endswith(f"organizations.{fmt}")
    assert "columns present: id, name" in str(err)


def test_missing_display_column(files_config):
    err = bad(files_config(display_name={"persons": "nickname"}), "missing column 'nickname'")
    assert err.field == "nickname"


def test_duplicate_id_names_rows_lines_and_column(files_config):
    data = tables(
        persons=(
            {"id": "text", "email": "text", "full_name": "text"},
            [("1", "a", "multi\nline"), ("2", "b", ""), ("1", "c", "")],
        )
    )
    err = bad(
        files_config(data),
        r"persons\.csv: rows 1, 3 \(lines 2, 5\), column 'id': duplicate id '1'",
    )
    assert err.row == 3 and err.field == "id"


def test_duplicate_id_parquet(files_config):
    data = tables(deals=({"id": "int", "display_name": "text"}, [(5, "a"), (5, "b")]))
    bad(files_config(data, "parquet"), r"deals\.parquet: rows 1, 2, column 'id': duplicate id '5'")


def test_non_whole_numeric_id(files_config, tmp_path):
    config = files_config(fmt="parquet")
    pq.write_table(
        pa.table({"id": [1.0, 2.5], "display_name": ["a", "b"]}), tmp_path / "app" / "deals.parquet"
    )
    err = bad(config, r"deals\.parquet: row 2, column 'id': 2\.5 is not a whole number")
    assert err.row == 2


def test_bool_id(files_config, tmp_path):
    config = files_config(fmt="parquet")
    pq.write_table(
        pa.table({"id": [True, False], "display_name": ["a", "b"]}),
        tmp_path / "app" / "deals.parquet",
    )
    bad(config, r"deals\.parquet: row 1, column 'id': True is a boolean, not an id")


def test_non_whole_link_id(files_config, tmp_path):
    config = files_config(fmt="parquet")
    links = pa.table(
        {
            "from_object": ["deals", "deals"],
            "from_id": [1001.0, 1001.5],
            "to_object": ["persons", "persons"],
            "to_id": ["007", "8"],
            "label": [None, None],
        }
    )
    pq.write_table(links, tmp_path / "app" / "associations.parquet")
    bad(config, r"associations\.parquet: row 2, column 'from_id': 1001\.5 is not a whole number")


def test_empty_id_in_csv(files_config):
    data = tables(organizations=({"id": "text", "website": "text"}, [("o1", "a"), ("", "b")]))
    bad(files_config(data), r"organizations\.csv: row 2 \(line 3\), column 'id': empty id")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", r"row 2 \(line 3\), column 'from_object': empty object name"),
        (" persons", r"row 2 \(line 3\), column 'from_object': malformed object name ' persons'"),
        ("per\tsons", r"malformed object name 'per\\tsons'"),
    ],
)
def test_malformed_object_names(files_config, name, message):
    data = tables(
        associations=(
            TABLES["associations"][0],
            [("persons", "007", "organizations", "o1", ""), (name, "8", "organizations", "o2", "")],
        )
    )
    err = bad(files_config(data), message)
    assert err.field == "from_object" and err.row == 2


def test_unaudited_objects_skipped_and_counted(files_config):
    data = tables(
        associations=(
            TABLES["associations"][0],
            [
                ("persons", "007", "organizations", "o1", ""),
                ("Line Items", "1", "persons", "007", ""),
                ("Line Items", "2", "persons", "007", ""),
                ("cases", "c1", "persons", "8", ""),
            ],
        )
    )
    side = load_side(files_config(data), "app")
    assert len(side.associations) == 1
    assert side.association_stats.skipped == {"Line Items→persons": 2, "tickets→contacts": 1}
    assert side.association_stats.rows_skipped == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"id,email,full_name\n1,a,x\n2,\xff\xfe,y\n",
            r"persons\.csv: line 3, unreadable CSV file: not UTF-8 text",
        ),
        (
            b"id,email,full_name\n1,a,x\n2\n3,c,z\n",
            r"persons\.csv: line 3, unreadable CSV file: expected 3 fields, got 1",
        ),
        (
            b'id,email,full_name\n1,"a\nb",x\n2,b,c,d\n',
            r"persons\.csv: line 4, unreadable CSV file: expected 3 fields, got 4",
        ),
        (
            b'id,email,full_name\n1,a,x\n2,"b,y\n3,c,z\n',
            r"persons\.csv: unreadable CSV file: unterminated quoted field starting on line 3$",
        ),
        (
            b'id,email,full_name\r\n1,a,x\r\n2,b,"y\r\n3,c,z\r\n',
            r"persons\.csv: unreadable CSV file: unterminated quoted field starting on line 3$",
        ),
        (
            b'id,email,full_name\n1,"a\nb","x\n2,b,z\n',
            r"persons\.csv: unreadable CSV file: unterminated quoted field starting on line 3$",
        ),
        (
            b'id,"email,full_name\n1,a,x\n',
            r"persons\.csv: unreadable CSV file: unterminated quoted field starting on line 1$",
        ),
        (b"", r"persons\.csv: unreadable CSV file: empty file"),
        (b"\xff\xfeid\n", r"persons\.csv: line 1, unreadable CSV file: not UTF-8 text"),
        (b"id,id\n1,2\n", r"persons\.csv: duplicate column 'id'"),
    ],
)
def test_unreadable_csv(files_config, tmp_path, content, message):
    config = files_config()
    (tmp_path / "app" / "persons.csv").write_bytes(content)
    bad(config, message)


def test_unreadable_parquet(files_config, tmp_path):
    config = files_config(fmt="parquet")
    (tmp_path / "app" / "persons.parquet").write_bytes(b"not parquet at all")
    err = bad(config, r"persons\.parquet: unreadable Parquet file")
    assert err.file.endswith("persons.parquet")


def test_missing_and_ambiguous_files(files_config, tmp_path):
    config = files_config()
    (tmp_path / "app" / "deals.csv").unlink()
    bad(
        config,
        r"no file for app object 'deals' \(deals\) \(expected deals\.csv or deals\.parquet\)",
    )
    write_parquet(tmp_path / "app" / "deals.parquet", *TABLES["deals"])
    load_side(config, "app")
    write_csv(tmp_path / "app" / "deals.csv", *TABLES["deals"])
    bad(config, r"both deals\.csv and deals\.parquet exist")
    (tmp_path / "app" / "associations.csv").unlink()
    with pytest.raises(DataError, match="no file for associations"):
        connector_for(config, "app").read_associations(("contacts", "companies"))


def test_reserved_identifier_column(tmp_path, make_config):
    write_folder(tmp_path / "app", TABLES)
    config = make_config(
        {"kind": "files", "path": "app"},
        objects={
            "contacts": {
                "sync": "two_way",
                "app_object": "persons",
                "match": [{"hubspot": "x", "app": "updated_at"}],
            }
        },
        associations=[{"from": "contacts", "to": "companies"}],
    )
    bad(config, "identifier column 'updated_at' clashes")


def test_missing_folder(tmp_path, files_config):
    config = files_config()
    (tmp_path / "app" / "persons.csv").unlink()
    for f in (tmp_path / "app").iterdir():
        f.unlink()
    (tmp_path / "app").rmdir()
    with pytest.raises(ConnectorError, match="folder not found"):
        connector_for(config, "app")


# ---------------------------------------------------------------------------
# The connector never leaves the app folder, even for a config built past validation


def _outside(tmp_path, name, columns, data):
    path = tmp_path / name
    write_csv(path, columns, data)
    return path, path.read_bytes(), path.stat().st_mtime_ns


def _unchanged(path, content, mtime):
    return path.read_bytes() == content and path.stat().st_mtime_ns == mtime


def _with_tables(config, tables_):
    return config.model_copy(update={"app": config.app.model_copy(update={"tables": tables_})})


def test_tables_pointing_outside_are_refused(files_config, tmp_path):
    config = files_config()
    links, content, mtime = _outside(tmp_path, "outside.csv", *TABLES["associations"])
    for name in ("../outside", "../outside.csv", str(tmp_path / "outside.csv")):
        bad_config = _with_tables(config, {"associations": name})
        with pytest.raises(DataError, match="is outside the app folder") as info:
            load_side(bad_config, "app")
        assert info.value.file.endswith("outside.csv")
        connector = connector_for(bad_config, "app")
        edges = edge_table([Edge("contacts", "9", "companies", "o2")])
        with pytest.raises(DataError, match="outside the app folder"):
            connector.create_edges(edges)
        with pytest.raises(DataError, match="outside the app folder"):
            connector.remove_edges(edge_table([Edge("contacts", "007", "companies", "o1")]))
        assert _unchanged(links, content, mtime)


def test_app_object_pointing_outside_is_refused(files_config, tmp_path):
    config = files_config()
    people, content, mtime = _outside(tmp_path, "people.csv", *TABLES["persons"])
    contacts = config.objects["contacts"].model_copy(update={"app_object": "../people"})
    bad_config = config.model_copy(update={"objects": {**config.objects, "contacts": contacts}})
    with pytest.raises(DataError, match=r"people\.csv: the file for app object '\.\./people'"):
        load_side(bad_config, "app")
    connector = connector_for(bad_config, "app")
    with pytest.raises(DataError, match="outside the app folder"):
        connector.read_records("contacts")
    with pytest.raises(DataError, match="outside the app folder"):
        connector.create_records("contacts", pd.DataFrame({"email": ["new@x.io"]}))
    with pytest.raises(DataError, match="outside the app folder"):
        connector.delete_records("contacts", ["007"])
    assert _unchanged(people, content, mtime)


def test_a_symlink_leading_out_is_refused(files_config, tmp_path):
    config = files_config()
    links, content, mtime = _outside(tmp_path, "outside.csv", *TABLES["associations"])
    inside = tmp_path / "app" / "associations.csv"
    inside.unlink()
    inside.symlink_to(links)
    with pytest.raises(DataError, match="outside the app folder"):
        load_side(config, "app")
    with pytest.raises(DataError, match="outside the app folder"):
        connector_for(config, "app").create_edges(
            edge_table([Edge("contacts", "9", "companies", "o2")])
        )
    assert _unchanged(links, content, mtime) and inside.is_symlink()


def test_a_symlink_within_the_folder_is_fine(files_config, tmp_path):
    config = files_config()
    real = tmp_path / "app" / "data" / "links.csv"
    real.parent.mkdir()
    (tmp_path / "app" / "associations.csv").rename(real)
    (tmp_path / "app" / "associations.csv").symlink_to(real)
    assert rows(load_side(config, "app").associations) == expected_links()


# ---------------------------------------------------------------------------
# Two writers at once: each read-modify-write holds the table's lock


def test_two_processes_writing_at_once_lose_nothing(files_config, tmp_path):
    config = files_config()
    links = tmp_path / "app" / "associations.csv"
    filler = [("persons", f"f{i}", "organizations", "o2", "") for i in range(20000)]
    write_csv(links, TABLES["associations"][0], TABLES["associations"][1] + filler)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    script = Path(__file__).parent / "concurrent_writer.py"
    count = 15
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(tmp_path / "config.yaml"),
                str(barrier),
                name,
                str(count),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    try:
        deadline = time.monotonic() + 120
        while not all((barrier / f"{n}.ready").exists() for n in ("a", "b")):
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
            time.sleep(0.01)
        (barrier / "go").touch()
        errors = [p.communicate(timeout=300)[1] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.communicate()
    assert [p.returncode for p in procs] == [0, 0], errors
    stored = connector_for(config, "app").read_associations(("contacts", "companies"))
    ids = set(stored["from_id"])
    lost = [f"{n}-{i}" for n in ("a", "b") for i in range(1, count + 1) if f"{n}-{i}" not in ids]
    assert not lost
    assert (tmp_path / "app" / ".associations.csv.lock").exists()
