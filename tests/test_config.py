from __future__ import annotations

import copy
from pathlib import Path

import pytest

from assoc_audit.config import derive_direction, load_config, parse_config
from assoc_audit.errors import ConfigError


def _set(data: dict, path: str, value) -> None:
    """Set a dotted path (``a.b[2].c``) in a nested mapping; value DELETE removes the key."""
    parts: list = []
    for chunk in path.split("."):
        if "[" in chunk:
            key, rest = chunk.split("[", 1)
            parts.append(key)
            parts.extend(int(i) for i in rest.rstrip("]").split("]["))
        else:
            parts.append(chunk)
    cur = data
    for part in parts[:-1]:
        cur = cur[part]
    if value is DELETE:
        del cur[parts[-1]]
    else:
        cur[parts[-1]] = value


DELETE = object()


def test_valid_example_loads(base_config, write_config):
    config = load_config(write_config(base_config))
    assert config.name == "demo-acme"
    assert config.pairs == (
        ("contacts", "companies"),
        ("deals", "contacts"),
        ("deals", "companies"),
        ("tickets", "companies"),
    )
    assert config.direction(("deals", "contacts")) == "hubspot_to_app"
    assert config.direction(("tickets", "companies")) == "off"
    assert config.sync_of("tickets") == "off"
    assert config.sync_of("line_items") == "off"
    assert config.app_object_of("contacts") == "persons"
    assert config.identifier_columns("app", "contacts") == ("email",)
    assert config.identifier_columns("hubspot", "contacts") == ("acme_id", "email")
    with pytest.raises(Exception):
        config.name = "other"  # frozen


def test_design_example_file_loads():
    root = Path(__file__).resolve().parent.parent
    config = load_config(root / "examples" / "minimal.yaml")
    assert config.app.kind == "files"


# (yaml path, bad value, text expected in the problem line, allowed values shown)
BAD_VALUES = [
    ("name", "has space", "name: 'has space' is not valid", "used in paths"),
    ("name", DELETE, "name: required but missing", None),
    ("name", 5, "name: 5 must be text", None),
    ("hubspot.token_env", "1BAD", "hubspot.token_env: '1BAD' is not valid", "environment"),
    ("hubspot.base_url", "ftp://x", "hubspot.base_url: 'ftp://x' is not valid", "http"),
    ("hubspot.snapshot", "missing_folder", "hubspot.snapshot: snapshot folder not found", None),
    ("hubspot.token", "pat-na1-aaaa-bbbb", "hubspot.token: unknown key", "token_env"),
    ("app", DELETE, "app: required but missing", None),
    ("app.kind", "excel", "app.kind: 'excel' is not an allowed value", "files, sql, hubspot"),
    ("app.path", DELETE, "app.path: required when kind is files", None),
    ("app.path", "no_such_dir", "app.path: folder not found", None),
    ("app.url", "sqlite:///x.db", "app.url: not used when kind is files", None),
    ("app.tables", {"nobody": "t"}, "app.tables.nobody: is not an app object", "persons"),
    ("app.display_name", {"ghosts": "n"}, "app.display_name.ghosts: is not an app object", None),
    ("app.display_name", ["x"], "app.display_name: a list must be a mapping", None),
    ("objects", [], "objects: a list must be a mapping", None),
    (
        "objects.contacts.sync",
        "twoway",
        "objects.contacts.sync: 'twoway' is not an allowed",
        "two_way, hubspot_to_app, app_to_hubspot, off",
    ),
    ("objects.contacts.sync", DELETE, "objects.contacts.sync: required but missing", None),
    (
        "objects.contacts.app_object",
        "organizations",
        "objects.companies.app_object: 'organizations' is already the app object of contacts",
        None,
    ),
    ("objects.contacts.app_object", "", "objects.contacts.app_object: '' must not be empty", None),
    (
        "objects.contacts.match",
        [],
        "objects.contacts.match: at least one match rule is needed",
        None,
    ),
    (
        "objects.contacts.match[0].normalize",
        "lower",
        "objects.contacts.match[0].normalize: 'lower' is not an allowed value",
        "email, domain, none",
    ),
    (
        "objects.contacts.match[0].hubspot",
        DELETE,
        "objects.contacts.match[0].hubspot: required but missing",
        None,
    ),
    (
        "objects.contacts.match[0].app",
        "",
        "objects.contacts.match[0].app: '' must not be empty",
        None,
    ),
    (
        "objects.contacts.match[0].weight",
        2,
        "objects.contacts.match[0].weight: unknown key",
        "hubspot, app, normalize",
    ),
    (
        "objects.tickets.match",
        [{"hubspot": "a", "app": "b"}],
        "objects.tickets.match: match rules are not allowed when sync is off",
        None,
    ),
    (
        "objects.Contacts",
        {"sync": "off"},
        "objects.Contacts: name 'Contacts' is not valid",
        "HubSpot object name",
    ),
    ("associations", [], "at least one association entry is needed", None),
    ("associations[0].from", "Contacts!", "associations[0].from: 'Contacts!' is not valid", None),
    ("associations[0].to", DELETE, "associations[0].to: required but missing", None),
    (
        "associations[0].app_max_per_record",
        0,
        "associations[0].app_max_per_record: 0 is too small",
        ">= 1",
    ),
    (
        "associations[0].app_max_per_record",
        "many",
        "associations[0].app_max_per_record: 'many' must be a whole number",
        None,
    ),
    (
        "associations[0].app_max_per_record",
        True,
        "associations[0].app_max_per_record: True must be a whole number",
        None,
    ),
    ("associations[1].label", "", "associations[1].label: '' must not be empty", None),
    (
        "associations[2].label",
        "Primary",
        "associations[2].label: label 'Primary' of contacts→companies is already mapped",
        None,
    ),
    (
        "associations[2].app_label",
        "primary",
        "associations[2].app_label: app label 'primary'",
        None,
    ),
    (
        "associations[3].label",
        "Primary",
        "'Primary' is not a HubSpot association type on deals→contacts",
        "contacts→companies",
    ),
    (
        "associations[4]",
        {"from": "companies", "to": "deals"},
        "associations[5]: lists deals→companies, but associations[4] lists this pair as "
        "companies→deals",
        None,
    ),
    (
        "associations[5].app_supported",
        "no",
        "associations[5].app_supported: 'no' must be true or false",
        None,
    ),
    (
        "associations[5].app_label",
        "resell",
        "associations[5].app_label: has no meaning when app_supported is false",
        None,
    ),
    (
        "associations[6].app_max_per_record",
        3,
        "associations[6].app_max_per_record: has no meaning when app_supported is false",
        None,
    ),
    ("associations[6].app_supported", True, None, None),  # still valid: a supported pair
    ("conflict_winner", "both", "conflict_winner: 'both' is not an allowed value", "hubspot, app"),
    ("mirror_deletions", "yes", "mirror_deletions: 'yes' must be true or false", None),
    ("mirror_deletions", 1, "mirror_deletions: 1 must be true or false", None),
    ("surprise", 1, "surprise: unknown key", "name, hubspot, app, objects, associations"),
    # app object and table names are names, never paths (every app kind)
    *(
        (
            path,
            value if path.endswith("app_object") else {"persons": value},
            f"{where}: {value!r} {why}",
            "a plain file, table or object name without /, \\, NUL, a leading ~",
        )
        for path, where in (
            ("objects.contacts.app_object", "objects.contacts.app_object"),
            ("app.tables", "app.tables.persons"),
        )
        for value, why in (
            ("../../x", "contains a path separator"),
            ("sub\\x", "contains a path separator"),
            ("/etc/passwd", "is an absolute path"),
            ("~root", "starts with ~ (a home folder)"),
            ("C:\\data\\x", "starts with a Windows drive"),
            ("c:x", "starts with a Windows drive"),
            ("\\\\server\\share", "is an absolute path"),
            ("..", "is a folder reference"),
            (".", "is a folder reference"),
            ("a\x00b", "contains a NUL character"),
        )
    ),
    ("app.tables", {"associations": "../links.csv"}, "app.tables.associations: '../links", None),
    ("app.tables", {"persons": "people.v2.csv"}, None, None),  # dots inside a name are fine
    ("objects.contacts.app_object", "..persons", None, None),
    # base_url: https, or http to this machine only; no userinfo, query or fragment
    (
        "hubspot.base_url",
        "http://api.example.com",
        "hubspot.base_url: 'http://api.example.com' uses http:// for a host that is not",
        "http://127.0.0.1:PORT",
    ),
    ("hubspot.base_url", "http://10.0.0.1:8765", "uses http:// for a host", None),
    ("hubspot.base_url", "http://localhost.example.com", "uses http:// for a host", None),
    (
        "hubspot.base_url",
        "https://pat-na1-aaaa:hunter2@api.example.com",
        "hubspot.base_url: 'https://<redacted>@api.example.com' must not contain a user name",
        None,
    ),
    ("hubspot.base_url", "https://someone@api.example.com", "'https://<redacted>@api", None),
    (
        "hubspot.base_url",
        "https://api.example.com/?hapikey=abc123",
        "hubspot.base_url: 'https://api.example.com/?<redacted>' must not have a query string",
        None,
    ),
    (
        "hubspot.base_url",
        "https://api.example.com/x#top",
        "hubspot.base_url: 'https://api.example.com/x#<redacted>' must not have a fragment",
        None,
    ),
    ("hubspot.base_url", "https://api.example.com/base", None, None),
    ("hubspot.base_url", "http://127.0.0.1:8765", None, None),
    ("hubspot.base_url", "http://127.9.9.9:8765/x", None, None),
    ("hubspot.base_url", "http://[::1]:8765", None, None),
    ("hubspot.base_url", "http://LocalHost:8765", None, None),
    # SQL secrets from the environment: keys of kind sql only
    ("app.url_env", "APP_DB_URL", "app.url_env: not used when kind is files", None),
    ("app.password_env", "APP_DB_PASSWORD", "app.password_env: not used when kind is files", None),
]


@pytest.mark.parametrize(
    ("path", "value", "expected", "allowed"),
    BAD_VALUES,
    ids=[f"{p}={v!r}"[:60] for p, v, *_ in BAD_VALUES],
)
def test_each_bad_value_is_reported(base_config, write_config, path, value, expected, allowed):
    data = copy.deepcopy(base_config)
    _set(data, path, value)
    file = write_config(data)
    if expected is None:
        load_config(file)
        return
    with pytest.raises(ConfigError) as info:
        load_config(file)
    lines = info.value.lines()
    assert len(lines) == 1, lines  # one problem → exactly one line
    assert expected in lines[0], lines[0]
    assert lines[0].startswith(f"{file}: ")
    if allowed:
        assert "allowed:" in lines[0] and allowed in lines[0], lines[0]


def test_all_problems_reported_together(base_config, write_config):
    data = copy.deepcopy(base_config)
    expected = []
    for path, value, text, _ in BAD_VALUES:
        # pick problems that do not overlap each other
        if (
            path
            in (
                "name",
                "app.kind",
                "objects.contacts.sync",
                "associations[0].app_max_per_record",
                "conflict_winner",
                "mirror_deletions",
                "surprise",
                "objects.tickets.match",
                "associations[3].label",
            )
            and text
            and value not in (DELETE, 5, "many", True, 1)
        ):
            _set(data, path, value)
            expected.append(text)
    expected = list(dict.fromkeys(expected))
    file = write_config(data)
    with pytest.raises(ConfigError) as info:
        load_config(file)
    lines = info.value.lines()
    assert lines[0] == f"{file}: {len(lines) - 1} problems"
    body = "\n".join(lines[1:])
    for text in expected:
        assert text in body, text
    assert len(info.value.problems) == len(lines) - 1 >= len(expected)


def test_yaml_off_is_text_not_boolean(base_config, write_config):
    text = (
        "name: x\napp: {kind: files, path: .}\nobjects:\n  tickets: {sync: off}\n"
        "associations:\n  - {from: tickets, to: companies, app_supported: false}\n"
    )
    config = load_config(write_config(text))
    assert config.objects["tickets"].sync == "off"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: [1,\n", "malformed YAML: line 2"),
        ("- just\n- a list\n", "expected a mapping of settings, got a list"),
        ("", "expected a mapping of settings, got an empty file"),
    ],
)
def test_unreadable_configs(write_config, text, expected):
    file = write_config(text)
    with pytest.raises(ConfigError) as info:
        load_config(file)
    assert info.value.lines() == [f"{file}: {info.value.problems[0].render()}"]
    assert expected in info.value.lines()[0]


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert info.value.lines() == [f"{tmp_path / 'nope.yaml'}: file not found"]


def test_secrets_never_echoed(base_config, write_config):
    data = copy.deepcopy(base_config)
    data["hubspot"]["access_token"] = "pat-na1-11111111-2222-3333"
    data["app"] = {"kind": "sql", "url": "postgresql://user:hunter2@db/x", "path": "x"}
    data["app"]["password"] = "hunter2"
    with pytest.raises(ConfigError) as info:
        load_config(write_config(data))
    text = "\n".join(info.value.lines())
    assert "pat-na1" not in text and "hunter2" not in text
    assert "<redacted>" in text


def test_relative_paths_resolve_against_config_folder(base_config, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "acme.db").write_bytes(b"")
    data = copy.deepcopy(base_config)
    data["app"] = {"kind": "sql", "url": "sqlite:///acme.db"}
    config = parse_config(data, base_dir=tmp_path / "sub")
    assert config.resolve("acme.db") == (tmp_path / "sub" / "acme.db").resolve()
    with pytest.raises(ConfigError, match="SQLite database file not found"):
        parse_config(data, base_dir=tmp_path)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("two_way", "two_way", "two_way"),
        ("two_way", "hubspot_to_app", "hubspot_to_app"),
        ("app_to_hubspot", "two_way", "app_to_hubspot"),
        ("hubspot_to_app", "hubspot_to_app", "hubspot_to_app"),
        ("app_to_hubspot", "app_to_hubspot", "app_to_hubspot"),
        ("hubspot_to_app", "app_to_hubspot", "blocked"),
        ("app_to_hubspot", "hubspot_to_app", "blocked"),
        ("off", "two_way", "off"),
        ("two_way", "off", "off"),
    ],
)
def test_direction_table(a, b, expected):
    assert derive_direction(a, b) == expected


def test_digest_is_stable_and_sensitive(base_config):
    a = parse_config(base_config)
    b = parse_config(copy.deepcopy(base_config))
    assert a.digest() == b.digest()
    changed = copy.deepcopy(base_config)
    changed["conflict_winner"] = "app"
    assert parse_config(changed).digest() != a.digest()


# ---------------------------------------------------------------------------
# Duplicate keys: YAML keeps the last one silently; the config refuses them


DUPLICATES = """\
name: dup
app: {kind: files, path: .}
objects:
  contacts:
    sync: two_way
    match: [{hubspot: email, app: email}]
  companies: {sync: off}
  contacts:
    sync: off
associations:
  - {from: contacts, to: companies, label: A, label: B}
  - from: contacts
    to: companies
    to: deals
name: again
"""


def test_duplicate_keys_name_both_lines_and_the_yaml_path(write_config):
    file = write_config(DUPLICATES)
    with pytest.raises(ConfigError) as info:
        load_config(file)
    lines = info.value.lines()
    assert lines[0] == f"{file}: 4 problems"
    assert lines[1:] == [
        "  name: duplicate key on lines 1 and 15 (YAML would keep only the last)",
        "  objects.contacts: duplicate key on lines 4 and 8 (YAML would keep only the last)",
        "  associations[0].label: duplicate key on lines 11 and 11 (YAML would keep only the last)",
        "  associations[1].to: duplicate key on lines 13 and 14 (YAML would keep only the last)",
    ]


def test_duplicate_keys_come_with_the_other_problems(write_config):
    text = "name: x\nname: y\napp: {kind: excel}\nassociations: []\nsurprise: 1\nsurprise: 2\n"
    file = write_config(text)
    with pytest.raises(ConfigError) as info:
        load_config(file)
    body = "\n".join(info.value.lines())
    assert "name: duplicate key on lines 1 and 2" in body
    assert "surprise: duplicate key on lines 5 and 6" in body
    assert "app.kind: 'excel' is not an allowed value" in body
    assert "surprise: unknown key" in body


def test_duplicate_key_three_times_and_aliases(write_config):
    text = (
        "name: a\nname: b\nname: c\n"
        "app: &app {kind: files, path: .}\n"
        "x-copy: *app\n"
        "associations: [{from: contacts, to: companies}]\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(write_config(text))
    problems = [p.render() for p in info.value.problems]
    assert problems[0] == "name: duplicate key on lines 1, 2 and 3 (YAML would keep only the last)"
    assert not any("app." in p and "duplicate" in p for p in problems)


# ---------------------------------------------------------------------------
# Names that are paths, unsafe base URLs, SQL secrets: with every other problem


def test_path_names_come_with_every_other_problem(base_config, write_config):
    data = copy.deepcopy(base_config)
    data["objects"]["contacts"]["app_object"] = "../../etc"
    data["objects"]["companies"]["app_object"] = "/abs"
    data["app"]["tables"] = {"deals": "..\\x", "associations": "~/links"}
    data["hubspot"]["base_url"] = "http://api.example.com"
    data["conflict_winner"] = "both"
    file = write_config(data)
    with pytest.raises(ConfigError) as info:
        load_config(file)
    lines = info.value.lines()
    assert lines[0] == f"{file}: 6 problems"
    body = "\n".join(lines)
    for text in (
        "objects.contacts.app_object: '../../etc' contains a path separator",
        "objects.companies.app_object: '/abs' is an absolute path",
        "app.tables.deals: '..\\\\x' contains a path separator",
        "app.tables.associations: '~/links' starts with ~",
        "hubspot.base_url: 'http://api.example.com' uses http://",
        "conflict_winner: 'both' is not an allowed value",
    ):
        assert text in body, text


def test_check_command_shows_path_problems(base_config, write_config, capsys):
    from assoc_audit.cli import main

    data = copy.deepcopy(base_config)
    data["app"]["tables"] = {"associations": "../../outside.csv"}
    file = write_config(data)
    assert main(["check", "--config", str(file)]) == 2
    err = capsys.readouterr().err
    assert "app.tables.associations: '../../outside.csv' contains a path separator" in err


@pytest.mark.parametrize("kind", ["sql", "hubspot"])
def test_names_are_checked_for_every_app_kind(base_config, write_config, tmp_path, kind):
    (tmp_path / "acme.db").write_bytes(b"")
    data = copy.deepcopy(base_config)
    data["app"] = (
        {"kind": "sql", "url": "sqlite:///acme.db", "tables": {"persons": "../x"}}
        if kind == "sql"
        else {"kind": "hubspot", "token_env": "APP_TOKEN"}
    )
    data["objects"]["companies"]["app_object"] = "a/b"
    with pytest.raises(ConfigError) as info:
        load_config(write_config(data))
    body = "\n".join(info.value.lines())
    assert "objects.companies.app_object: 'a/b' contains a path separator" in body
    if kind == "sql":
        assert "app.tables.persons: '../x' contains a path separator" in body
    data["objects"]["companies"]["app_object"] = "crm.organizations"  # schema.table
    data["app"].pop("tables", None)
    load_config(write_config(data))


def test_app_base_url_of_a_hubspot_app(base_config, write_config):
    data = copy.deepcopy(base_config)
    data["app"] = {"kind": "hubspot", "token_env": "APP_TOKEN", "base_url": "http://crm.example"}
    with pytest.raises(ConfigError) as info:
        load_config(write_config(data))
    (line,) = info.value.lines()
    assert "app.base_url: 'http://crm.example' uses http:// for a host that is not" in line
    data["app"]["base_url"] = "http://127.0.0.1:9"
    assert load_config(write_config(data)).app.base_url == "http://127.0.0.1:9"


SQL_CASES = [
    ({"url_env": "APP_DB_URL"}, None),
    ({"url": "postgresql://app@db/crm", "password_env": "APP_DB_PASSWORD"}, None),
    ({}, "app.url: required when kind is sql (or app.url_env"),
    (
        {"url": "postgresql://app@db/crm", "url_env": "APP_DB_URL"},
        "app.url_env: give either app.url or app.url_env, not both",
    ),
    (
        {"url_env": "APP_DB_URL", "password_env": "APP_DB_PASSWORD"},
        "app.password_env: not used with app.url_env",
    ),
    (
        {"url": "postgresql://app:hunter2@db/crm", "password_env": "APP_DB_PASSWORD"},
        "app.password_env: app.url 'postgresql://app:<redacted>@db/crm' has a password already",
    ),
    ({"url_env": "1BAD"}, "app.url_env: '1BAD' is not valid"),
    ({"url_env": "APP_DB_URL", "path": "x"}, "app.path: not used when kind is sql"),
]


@pytest.mark.parametrize(("app", "expected"), SQL_CASES)
def test_sql_url_from_the_environment(base_config, write_config, app, expected):
    data = copy.deepcopy(base_config)
    data["app"] = {"name": "Acme CRM", "kind": "sql", **app}
    file = write_config(data)
    if expected is None:
        config = load_config(file)
        assert (config.app.url_env, config.app.password_env) == (
            app.get("url_env"),
            app.get("password_env"),
        )
        return
    with pytest.raises(ConfigError) as info:
        load_config(file)
    (line,) = info.value.lines()
    assert expected in line and "hunter2" not in line
