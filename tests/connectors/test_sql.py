"""SQL specifics: URLs, missing tables and columns, column types, views, batches."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest
import sqlalchemy as sa
from appdata import TABLES, expected_links, rows, tables, write_sql

from assoc_audit.connectors import Edge, connector_for, edge_table, load_side
from assoc_audit.connectors.sql import SqlConnector
from assoc_audit.connectors.sqlurl import database_url
from assoc_audit.errors import ConnectorError, DataError

LINK_COLUMNS = TABLES["associations"][0]


@pytest.fixture
def sqlite_config(tmp_path, make_config):
    """SQLite database from a list of SQL statements (or the standard data set)."""

    def build(script: str | None = None, data: dict | None = None, **app):
        db = tmp_path / "app.db"
        db.unlink(missing_ok=True)
        if script is not None:
            with sqlite3.connect(db) as conn:
                conn.executescript(script)
        else:
            engine = sa.create_engine(f"sqlite:///{db}")
            write_sql(engine, TABLES if data is None else data)
            engine.dispose()
        return make_config({"kind": "sql", "url": "sqlite:///app.db", **app})

    return build


def test_relative_sqlite_path_and_missing_file(sqlite_config, tmp_path):
    config = sqlite_config()
    connector = connector_for(config, "app")
    assert connector.describe() == f"sql sqlite:///{tmp_path / 'app.db'}"
    connector.close()
    (tmp_path / "app.db").unlink()
    with pytest.raises(ConnectorError, match="SQLite database file not found"):
        connector_for(config, "app")
    assert not (tmp_path / "app.db").exists()  # never created by the connector


def test_postgres_urls_use_psycopg(make_config, tmp_path):
    config = make_config({"kind": "sql", "url": "postgres://u:pw@db.example/x"})
    assert database_url(config).drivername == "postgresql+psycopg"
    config = make_config({"kind": "sql", "url": "postgresql://u@h/x"})
    assert database_url(config).drivername == "postgresql+psycopg"


def test_missing_table_names_url_and_table(sqlite_config, tmp_path):
    config = sqlite_config(data=tables(deals=None))
    with pytest.raises(
        DataError, match=r"sqlite:///.*app\.db: no table or view 'deals' for app object 'deals'"
    ) as info:
        load_side(config, "app")
    assert info.value.field == "deals"


def test_missing_column_names_table_and_column(sqlite_config):
    data = tables(organizations=({"id": "text", "name": "text"}, [("o1", "x")]))
    with pytest.raises(
        DataError,
        match=r"table 'organizations': missing column 'website' \(columns present: id, name\)",
    ):
        load_side(sqlite_config(data=data), "app")
    links = tables(associations=({"from_object": "text", "from_id": "text"}, []))
    with pytest.raises(
        DataError, match=r"table 'associations': missing columns 'to_object', 'to_id', 'label'"
    ):
        load_side(sqlite_config(data=links), "app")


def test_off_object_table_optional(sqlite_config):
    side = load_side(sqlite_config(), "app")
    assert "tickets" not in set(side.records["object"])


def test_numeric_and_mixed_ids(sqlite_config):
    big = 2**62 + 1
    script = f"""
    CREATE TABLE persons (id, email TEXT);
    INSERT INTO persons VALUES ('007', 'a'), (42, 'b'), ({big}, 'c');
    CREATE TABLE organizations (id INTEGER, website TEXT);
    INSERT INTO organizations VALUES (1, 'x.io'), ({big}, NULL);
    CREATE TABLE deals (id REAL);
    INSERT INTO deals VALUES (1001.0);
    CREATE TABLE associations (from_object, from_id, to_object, to_id, label);
    INSERT INTO associations VALUES ('persons', 42, 'organizations', {big}, NULL);
    """
    side = load_side(sqlite_config(script), "app")
    people = side.records[side.records["object"] == "contacts"]
    assert people["record_id"].tolist() == ["007", "42", str(big)]
    orgs = side.records[side.records["object"] == "companies"]
    assert orgs["record_id"].tolist() == ["1", str(big)]
    assert side.records.loc[side.records["object"] == "deals", "record_id"].tolist() == ["1001"]
    assert rows(side.associations) == [
        {
            "from_object": "contacts",
            "from_id": "42",
            "to_object": "companies",
            "to_id": str(big),
            "label": None,
        }
    ]


def test_non_whole_id_names_row_and_id(sqlite_config):
    script = """
    CREATE TABLE persons (id TEXT, email TEXT);
    CREATE TABLE organizations (id TEXT, website TEXT);
    CREATE TABLE deals (id REAL);
    INSERT INTO deals VALUES (1001), (1002.5);
    CREATE TABLE associations (from_object, from_id, to_object, to_id, label);
    """
    with pytest.raises(
        DataError, match=r"table 'deals': row 2, column 'id': 1002\.5 is not a whole number"
    ):
        load_side(sqlite_config(script), "app")


def test_bad_identifier_row_names_the_id(sqlite_config):
    script = """
    CREATE TABLE persons (id TEXT, email BLOB);
    INSERT INTO persons VALUES ('p1', 'a@x'), ('p2', X'FFFE');
    CREATE TABLE organizations (id TEXT, website TEXT);
    CREATE TABLE deals (id TEXT);
    CREATE TABLE associations (from_object, from_id, to_object, to_id, label);
    """
    with pytest.raises(
        DataError, match=r"table 'persons': row 2 \(id 'p2'\), column 'email': bytes"
    ):
        load_side(sqlite_config(script), "app")


def test_malformed_object_name_in_table(sqlite_config):
    script = """
    CREATE TABLE persons (id TEXT, email TEXT);
    CREATE TABLE organizations (id TEXT, website TEXT);
    CREATE TABLE deals (id TEXT);
    CREATE TABLE associations (from_object, from_id, to_object, to_id, label);
    INSERT INTO associations VALUES ('persons', 'p1', 'organizations ', 'o1', NULL);
    """
    with pytest.raises(
        DataError, match=r"row 1, column 'to_object': malformed object name 'organizations '"
    ):
        load_side(sqlite_config(script), "app")


BASE = """
CREATE TABLE persons (id TEXT, email TEXT);
INSERT INTO persons VALUES ('p1', 'a@x');
CREATE TABLE organizations (id TEXT, website TEXT);
CREATE TABLE deals (id INTEGER PRIMARY KEY);
INSERT INTO deals VALUES (1);
"""


def test_view_without_triggers_fails_clearly(sqlite_config):
    config = sqlite_config(
        BASE
        + """
        CREATE TABLE l (a, b, c, d, e);
        CREATE VIEW links_v AS SELECT a AS from_object, b AS from_id, c AS to_object,
            d AS to_id, e AS label FROM l;
        """,
        tables={"associations": "links_v"},
    )
    connector = connector_for(config, "app")
    result = connector.create_edges(
        edge_table([Edge("deals", "1", "contacts", "p1", "participant")])
    )
    assert result.outcomes["status"].tolist() == ["failed"]
    assert "cannot modify links_v because it is a view" in result.outcomes["message"].iloc[0]


def test_trigger_that_does_nothing_is_a_failure(sqlite_config):
    config = sqlite_config(
        BASE
        + """
        CREATE TABLE l (a, b, c, d, e);
        CREATE VIEW links_v AS SELECT a AS from_object, b AS from_id, c AS to_object,
            d AS to_id, e AS label FROM l;
        CREATE TRIGGER noop INSTEAD OF INSERT ON links_v BEGIN SELECT 1; END;
        """,
        tables={"associations": "links_v"},
    )
    result = connector_for(config, "app").create_edges(
        edge_table([Edge("deals", "1", "contacts", "p1")])
    )
    assert result.outcomes["status"].tolist() == ["failed"]
    assert "did not apply the change" in result.outcomes["message"].iloc[0]


def test_typed_link_columns_and_not_null_label(sqlite_config, tmp_path):
    config = sqlite_config(
        BASE
        + """
        CREATE TABLE associations (from_object TEXT NOT NULL, from_id INTEGER NOT NULL,
            to_object TEXT NOT NULL, to_id TEXT NOT NULL, label TEXT NOT NULL DEFAULT '');
        INSERT INTO associations VALUES ('deals', 1, 'persons', 'p1', '');
        """
    )
    connector = SqlConnector(config, batch_size=1)
    result = connector.create_edges(
        edge_table(
            [
                Edge("deals", "1", "contacts", "p1"),  # stored with label ''
                Edge("deals", "abc", "contacts", "p1"),  # cannot be an integer
                Edge("deals", "2", "contacts", "p1", "participant"),
                Edge("deals", "3", "contacts", "p1"),
            ]
        )
    )
    assert result.outcomes["status"].tolist() == ["already", "failed", "ok", "ok"]
    assert "'abc' is not a whole number for column 'from_id'" in result.outcomes["message"].iloc[1]
    with sqlite3.connect(tmp_path / "app.db") as conn:
        stored = conn.execute(
            "SELECT from_id, typeof(from_id), label FROM associations ORDER BY 1"
        ).fetchall()
    assert stored == [(1, "integer", ""), (2, "integer", "participant"), (3, "integer", "")]
    removed = connector.remove_edges(
        edge_table([Edge("deals", "1", "contacts", "p1"), Edge("deals", "x", "contacts", "p1")])
    )
    assert removed.outcomes["status"].tolist() == ["ok", "already"]
    assert len(connector.read_associations(("deals", "contacts"))) == 2
    connector.close()


def test_many_batches(sqlite_config):
    config = sqlite_config()
    connector = SqlConnector(config, batch_size=3)
    edges = pd.DataFrame(
        {
            "from_object": "contacts",
            "from_id": [str(i) for i in range(20)],
            "to_object": "companies",
            "to_id": "o1",
            "label": None,
        }
    )
    assert connector.create_edges(edges).ok == 20
    assert connector.create_edges(edges).already == 20
    assert (
        len(connector.read_associations(("contacts", "companies")))
        == len(expected_links()) - 1 + 20
    )
    assert connector.remove_edges(edges).ok == 20
    connector.close()


@pytest.mark.postgres
def test_postgres_password_never_shown(postgres_url, make_config):
    url = postgres_url.replace("assoc@", "assoc:s3cret-pw@")
    config = make_config({"kind": "sql", "url": url})
    with pytest.raises(DataError) as info:
        load_side(config, "app")
    text = str(info.value)
    assert "no table or view 'persons'" in text or "no table or view 'organizations'" in text
    assert "s3cret-pw" not in text and "***" in text


@pytest.mark.postgres
def test_postgres_cannot_connect(make_config):
    config = make_config({"kind": "sql", "url": "postgresql://nobody:pw9876@127.0.0.1:1/none"})
    with pytest.raises(ConnectorError, match="cannot connect") as info:
        load_side(config, "app")
    assert "pw9876" not in str(info.value)


@pytest.mark.postgres
def test_postgres_schema_types_and_bool_ids(postgres_url, make_config):
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        for stmt in [
            "CREATE SCHEMA crm",
            "CREATE TABLE crm.persons (id bigint PRIMARY KEY, email text)",
            f"INSERT INTO crm.persons VALUES ({2**62 + 1}, 'a@x'), (7, NULL)",
            "CREATE TABLE organizations (id numeric, website text)",
            "INSERT INTO organizations VALUES (5.0, 'x.io')",
            "CREATE TABLE deals (id boolean)",
            "INSERT INTO deals VALUES (true)",
            "CREATE TABLE crm.links (from_object text, from_id bigint, to_object text, to_id numeric, label text)",
            "INSERT INTO crm.links VALUES ('persons', 7, 'organizations', 5, 'primary')",
        ]:
            conn.execute(sa.text(stmt))
    engine.dispose()
    config = make_config(
        {
            "kind": "sql",
            "url": postgres_url,
            "tables": {"persons": "crm.persons", "associations": "crm.links"},
        }
    )
    with pytest.raises(
        DataError, match=r"table 'deals': row 1, column 'id': True is a boolean, not an id"
    ):
        load_side(config, "app")
    connector = SqlConnector(config)
    people = connector.read_records("contacts")
    assert people["record_id"].tolist() == [str(2**62 + 1), "7"]
    assert connector.read_records("companies")["record_id"].tolist() == ["5"]
    assert rows(connector.read_associations(("contacts", "companies"))) == [
        {
            "from_object": "contacts",
            "from_id": "7",
            "to_object": "companies",
            "to_id": "5",
            "label": "primary",
        }
    ]
    result = connector.create_edges(
        edge_table(
            [Edge("contacts", "7", "companies", "5"), Edge("contacts", "x", "companies", "5")]
        )
    )
    assert result.outcomes["status"].tolist() == ["ok", "failed"]
    assert len(connector.read_associations(("contacts", "companies"), from_ids=["7"])) == 2
    connector.close()
