"""SQL secrets from the environment: ``app.url_env`` and ``app.password_env``."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from appdata import TABLES, expected_links, rows, write_sql

from assoc_audit.connectors import connector_for, load_side
from assoc_audit.connectors.sqlurl import database_url
from assoc_audit.errors import ConnectorError
from assoc_audit.secrets import redact_text


@pytest.fixture
def sqlite_db(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    write_sql(engine, TABLES)
    engine.dispose()
    return tmp_path / "app.db"


def test_url_env_is_read_when_connecting(sqlite_db, make_config, monkeypatch, tmp_path):
    monkeypatch.delenv("APP_DB_URL", raising=False)
    config = make_config({"kind": "sql", "url_env": "APP_DB_URL"})  # not read at load
    monkeypatch.setenv("APP_DB_URL", "sqlite:///app.db")  # relative: the config's folder
    assert str(database_url(config)) == f"sqlite:///{sqlite_db}"
    side = load_side(config, "app")
    assert rows(side.associations) == expected_links()
    assert side.meta["source"] == f"sql sqlite:///{sqlite_db}"


@pytest.mark.parametrize("value", [None, ""])
def test_unset_or_empty_variable_is_named(make_config, monkeypatch, value):
    config = make_config({"kind": "sql", "url_env": "APP_DB_URL"})
    if value is None:
        monkeypatch.delenv("APP_DB_URL", raising=False)
    else:
        monkeypatch.setenv("APP_DB_URL", value)
    with pytest.raises(ConnectorError) as info:
        connector_for(config, "app")
    assert str(info.value).startswith("$APP_DB_URL is not set: put the app database's")
    assert "app.url_env names it" in str(info.value)


def test_a_variable_that_is_not_a_url_is_named_not_shown(make_config, monkeypatch):
    config = make_config({"kind": "sql", "url_env": "APP_DB_URL"})
    monkeypatch.setenv("APP_DB_URL", "hunter2-not-a-url")
    with pytest.raises(ConnectorError) as info:
        database_url(config)
    assert str(info.value) == "app.url_env: $APP_DB_URL does not hold a database URL"


def test_url_env_password_is_registered_and_hidden(make_config, monkeypatch):
    config = make_config({"kind": "sql", "url_env": "APP_DB_URL"})
    monkeypatch.setenv(
        "APP_DB_URL", "postgresql://app:p%40ss-w0rd-1@db.example/crm?sslpassword=k3y-99"
    )
    url = database_url(config)
    assert url.password == "p@ss-w0rd-1" and url.drivername == "postgresql+psycopg"
    shown = url.render_as_string(hide_password=True)
    assert shown.startswith("postgresql+psycopg://app:***@db.example/crm")
    for secret in ("p@ss-w0rd-1", "p%40ss-w0rd-1", "k3y-99"):
        assert redact_text(f"oops {secret}") == "oops <redacted>", secret


def test_password_env_completes_the_url(make_config, monkeypatch):
    config = make_config(
        {"kind": "sql", "url": "postgresql://app@db.example/crm", "password_env": "APP_DB_PW"}
    )
    monkeypatch.delenv("APP_DB_PW", raising=False)
    with pytest.raises(ConnectorError) as info:
        database_url(config)
    assert str(info.value).startswith("$APP_DB_PW is not set: put the app database's password")
    monkeypatch.setenv("APP_DB_PW", "s3cret-from-env")
    url = database_url(config)
    assert url.password == "s3cret-from-env" and url.username == "app"
    assert "s3cret-from-env" not in url.render_as_string(hide_password=True)
    assert redact_text("s3cret-from-env") == "<redacted>"


def test_password_twice_built_past_validation(make_config, monkeypatch):
    config = make_config({"kind": "sql", "url": "postgresql://app@db.example/crm"})
    app = config.app.model_copy(
        update={"url": "postgresql://app:inline-pw@db.example/crm", "password_env": "APP_DB_PW"}
    )
    monkeypatch.setenv("APP_DB_PW", "other-pw-123")
    with pytest.raises(ConnectorError, match=r"app\.url has a password already") as info:
        database_url(config.model_copy(update={"app": app}))
    assert "inline-pw" not in str(info.value) and "other-pw-123" not in str(info.value)


@pytest.mark.postgres
def test_postgres_through_url_env_and_password_env(postgres_url, make_config, monkeypatch):
    engine = sa.create_engine(postgres_url)
    write_sql(engine, TABLES)
    engine.dispose()
    monkeypatch.setenv("APP_DB_URL", postgres_url.replace("assoc@", "assoc:env-pw-4242@"))
    side = load_side(make_config({"kind": "sql", "url_env": "APP_DB_URL"}), "app")
    assert rows(side.associations) == expected_links()
    assert "env-pw-4242" not in side.meta["source"] and "***" in side.meta["source"]
    monkeypatch.setenv("APP_DB_PW", "env-pw-5151")
    config = make_config({"kind": "sql", "url": postgres_url, "password_env": "APP_DB_PW"})
    side = load_side(config, "app")
    assert rows(side.associations) == expected_links()
    assert "env-pw-5151" not in side.meta["source"]
