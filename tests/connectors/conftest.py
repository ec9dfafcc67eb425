"""Fixtures for connector tests: an app config builder and a throwaway PostgreSQL server.

The PostgreSQL server is real: ``initdb`` into a fresh temporary folder, ``pg_ctl
start`` on a free loopback port with trust authentication, stopped and deleted
at the end of the session. PostgreSQL refuses to run as root, so under root
the server runs as the ``postgres`` system user (or a ``pgtest`` user created
for the purpose). ``scripts/ensure-postgres.sh`` (run by ``make test``)
installs the binaries when they are missing.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from assoc_audit.config import IntegrationConfig, load_config


def config_data(folder: Path, app: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The connector tests' integration config (app object names differ from HubSpot's)."""
    data: dict[str, Any] = {
        "name": "conn-test",
        "app": {"name": "Test CRM", **app},
        "objects": {
            "contacts": {
                "sync": "two_way",
                "app_object": "persons",
                "match": [
                    {"hubspot": "email", "app": "email", "normalize": "email"},
                    {"hubspot": "acme_id", "app": "id"},
                ],
            },
            "companies": {
                "sync": "two_way",
                "app_object": "organizations",
                "match": [{"hubspot": "domain", "app": "website", "normalize": "domain"}],
            },
            "deals": {"sync": "hubspot_to_app", "match": [{"hubspot": "acme_id", "app": "id"}]},
            "tickets": {"sync": "off", "app_object": "cases"},
        },
        "associations": [
            {"from": "contacts", "to": "companies"},
            {"from": "contacts", "to": "companies", "label": "Primary", "app_label": "primary"},
            {"from": "deals", "to": "contacts", "app_label": "participant"},
            {"from": "tickets", "to": "companies", "app_supported": False},
        ],
    }
    data.update(extra)
    return data


@pytest.fixture
def make_config(tmp_path: Path):
    """Write a config for ``app`` settings into ``tmp_path`` and load it."""

    def make(app: dict[str, Any], **extra: Any) -> IntegrationConfig:
        path = tmp_path / "config.yaml"
        path.write_text(
            yaml.safe_dump(config_data(tmp_path, app, **extra), sort_keys=False), encoding="utf-8"
        )
        return load_config(path)

    return make


# ---------------------------------------------------------------------------
# PostgreSQL


def _bindir() -> Path | None:
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if found:
        best = max(found, key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
        return Path(best).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _server_user() -> pwd.struct_passwd | None:
    """The user to run postgres as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "pgtest"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "pgtest"],
        check=True,
    )
    return pwd.getpwnam("pgtest")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A running throwaway PostgreSQL server; yields its admin SQLAlchemy URL."""
    bindir = _bindir()
    if bindir is None:
        pytest.fail(
            "PostgreSQL server binaries (initdb) not found: run scripts/ensure-postgres.sh "
            "(make test does), or deselect these tests with -m 'not postgres'"
        )
    user = _server_user()
    base = Path(tempfile.mkdtemp(prefix="assoc-audit-pg-"))
    run_as: dict[str, Any] = {}
    if user is not None:
        os.chown(base, user.pw_uid, user.pw_gid)
        run_as = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    env = {**os.environ, "LC_ALL": "C", "HOME": str(base)}
    data = base / "data"
    port = _free_port()

    def pg(*args: str) -> None:
        subprocess.run(
            [str(bindir / args[0]), *args[1:]],
            check=True,
            capture_output=True,
            cwd=base,
            env=env,
            timeout=120,
            **run_as,
        )

    try:
        pg("initdb", "-D", str(data), "-U", "assoc", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        pg("pg_ctl", "-D", str(data), "-l", str(base / "server.log"), "-o", options, "-w", "start")
    except subprocess.CalledProcessError as exc:
        log = base / "server.log"
        detail = log.read_text() if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.stderr!r} {detail}")
    try:
        yield f"postgresql+psycopg://assoc@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            cwd=base,
            env=env,
            timeout=120,
            **run_as,
        )
        shutil.rmtree(base, ignore_errors=True)


_counter = itertools.count()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the throwaway server; yields its URL."""
    name = f"t{os.getpid()}_{next(_counter)}"
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = postgres_server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------------------
# Backends: the same app data in every layout a connector reads

SQLITE_VIEWS = """
CREATE TABLE crm_links (src_type TEXT, src_id TEXT, dst_type TEXT, dst_id TEXT, kind TEXT);
INSERT INTO crm_links SELECT from_object, from_id, to_object, to_id, label FROM associations;
DROP TABLE associations;
CREATE VIEW links_v AS SELECT src_type AS from_object, src_id AS from_id, dst_type AS to_object,
    dst_id AS to_id, kind AS label FROM crm_links;
CREATE TRIGGER links_v_insert INSTEAD OF INSERT ON links_v BEGIN
    INSERT INTO crm_links VALUES (NEW.from_object, NEW.from_id, NEW.to_object, NEW.to_id, NEW.label);
END;
CREATE TRIGGER links_v_delete INSTEAD OF DELETE ON links_v BEGIN
    DELETE FROM crm_links WHERE src_type = OLD.from_object AND src_id = OLD.from_id
        AND dst_type = OLD.to_object AND dst_id = OLD.to_id AND kind IS OLD.label;
END;
CREATE VIEW people_v AS SELECT id, email, full_name, updated_at, notes FROM persons;
CREATE TRIGGER people_v_insert INSTEAD OF INSERT ON people_v BEGIN
    INSERT INTO persons (id, email, full_name, updated_at, notes)
    VALUES (NEW.id, NEW.email, NEW.full_name, NEW.updated_at, NEW.notes);
END;
CREATE TRIGGER people_v_delete INSTEAD OF DELETE ON people_v BEGIN
    DELETE FROM persons WHERE id = OLD.id;
END;
"""

POSTGRES_VIEWS = [
    "ALTER TABLE associations RENAME TO crm_links",
    "CREATE VIEW links_v AS SELECT * FROM crm_links",  # a simple view: updatable as it is
    "CREATE VIEW people_v AS SELECT id, email, full_name, updated_at, notes FROM persons",
]

BACKENDS = [
    "csv",
    "parquet",
    "sqlite",
    "sqlite_view",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("postgres_view", marks=pytest.mark.postgres),
]


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path: Path, make_config):
    """Build the app data set in one layout; returns ``build(data=None) -> config``."""
    import appdata

    kind = request.param

    def build(data: dict | None = None, **app: Any) -> IntegrationConfig:
        data = appdata.TABLES if data is None else data
        settings: dict[str, Any] = {"display_name": {"persons": "full_name"}}
        if kind in ("csv", "parquet"):
            appdata.write_folder(tmp_path / "app", data, kind)
            settings.update(kind="files", path="app")
        else:
            if kind.startswith("sqlite"):
                url = f"sqlite:///{tmp_path / 'app.db'}"
            else:
                url = request.getfixturevalue("postgres_url")
            engine = sa.create_engine(url)
            appdata.write_sql(engine, data)
            if kind == "sqlite_view":
                raw = engine.raw_connection()
                raw.driver_connection.executescript(SQLITE_VIEWS)
                raw.close()
            elif kind == "postgres_view":
                with engine.begin() as conn:
                    for stmt in POSTGRES_VIEWS:
                        conn.execute(sa.text(stmt))
            engine.dispose()
            settings.update(
                kind="sql", url="sqlite:///app.db" if kind.startswith("sqlite") else url
            )
            if kind.endswith("_view"):
                settings["tables"] = {"persons": "people_v", "associations": "links_v"}
        settings.update(app)
        return make_config(settings)

    build.kind = kind  # type: ignore[attr-defined]
    return build
