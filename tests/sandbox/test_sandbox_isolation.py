"""The control API acts on the caller's own portal only; portal registration is guarded."""

from __future__ import annotations

import json

import pytest
from sandbox_helpers import Raw

from assoc_audit.cli import main
from assoc_audit.errors import SandboxError
from assoc_audit.sandbox import Sandbox

REFUSED = ["pat-na1-0000-1111", "PAT-eu1-abcdef-99", "", "   "]


@pytest.fixture
def other(sb) -> Raw:
    return Raw(sb.url, "tok-b")


def test_a_token_cannot_change_another_portals_faults(sb, raw, other):
    status, faults = raw.json(
        "PUT", "/_sandbox/faults", {"rate": 1, "weights": {"server_error": 1}}
    )
    assert status == 200 and faults["rate"] == 1
    assert raw("GET", "/crm/v3/objects/contacts").status >= 500  # the caller's portal
    assert other("GET", "/crm/v3/objects/contacts").status == 200  # not the other one
    assert other.json("GET", "/_sandbox/faults")[1]["rate"] == 0
    assert sb.faults("tok-b").rate == 0 and sb.faults("tok-a").rate == 1
    assert sb.stats("tok-b")["faults_injected"] == 0


def test_a_token_cannot_change_another_portals_limits(sb, raw, other):
    status, limits = raw.json("PUT", "/_sandbox/limits", {"rate_per_10s": 1, "batch_max": 2})
    assert status == 200 and limits["rate_per_10s"] == 1
    assert raw("GET", "/crm/v3/objects/contacts").status == 200
    assert raw("GET", "/crm/v3/objects/contacts").status == 429
    for _ in range(3):
        assert other("GET", "/crm/v3/objects/contacts").status == 200
    three = {"inputs": [{"properties": {"email": f"p{i}@x.io"}} for i in range(3)]}
    assert other("POST", "/crm/v3/objects/contacts/batch/create", three).status == 201
    status, theirs = other.json("GET", "/_sandbox/limits")
    assert status == 200 and theirs["rate_per_10s"] is None and theirs["batch_max"] == 100


def test_a_token_cannot_read_another_portals_id(sb, raw):
    theirs = sb.backend.portal("tok-b")
    status, body = raw.json("POST", "/_sandbox/portals", {"token": "tok-b"})
    assert status == 409 and body["category"] == "CONFLICT"
    assert body["message"] == "a portal for this token already exists"
    assert raw.json("POST", "/_sandbox/portals", {"token": "tok-a"})[0] == 409  # its own too
    # no control answer of tok-a names tok-b's portal
    answers = [
        raw("GET", "/_sandbox/health"),
        raw("GET", "/_sandbox/portal"),
        raw("GET", "/_sandbox/limits"),
        raw("PUT", "/_sandbox/limits", {"batch_max": 50}),
        raw("GET", "/_sandbox/faults"),
        raw("PUT", "/_sandbox/faults", {"seed": 3}),
        raw("GET", "/_sandbox/stats"),
        raw("POST", "/_sandbox/seed", {"contacts": 5}),
        raw("POST", "/_sandbox/object-types", {"name": "cars", "properties": ["vin"]}),
        raw("POST", "/_sandbox/portals", {"token": "tok-b"}),
        raw("POST", "/_sandbox/portals", {"token": "tok-new"}),
        raw("GET", "/account-info/v3/details"),
    ]
    for resp in answers:
        text = resp.data.decode()
        for value in (theirs.hub_id, f"p{theirs.hub_id}_"):
            assert str(value) not in text, (resp.status, text)
    new = json.loads(answers[-2].data)
    assert answers[-2].status == 201 and new["portalId"] == sb.backend.portal("tok-new").hub_id


@pytest.mark.parametrize("token", REFUSED)
def test_a_refused_token_cannot_be_registered(sb, raw, token):
    status, body = raw.json("POST", "/_sandbox/portals", {"token": token})
    assert status == 400 and body["category"] == "VALIDATION_ERROR" and body["status"] == "error"
    assert body["correlationId"]
    if token.strip():
        assert token not in json.dumps(body) and "real HubSpot token" in body["message"]
        assert Raw(sb.url, token)("GET", "/crm/v3/objects/contacts").status == 401
    assert len(sb.backend.registry.all()) == 2


def test_the_real_token_variable_is_refused_by_the_cli_and_the_control_api(
    sb, raw, monkeypatch, capsys
):
    real = "some-real-oauth-token-value"
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", real)
    status, body = raw.json("POST", "/_sandbox/portals", {"token": real})
    assert status == 400 and real not in json.dumps(body)
    assert "HUBSPOT_ACCESS_TOKEN" in body["message"]
    assert main(["sandbox", "serve", "--token", real, "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "HUBSPOT_ACCESS_TOKEN" in err and real not in err
    # the CLI and the control API give the same reason (one rule)
    assert body["message"].split(" ", 1)[1] in err
    with pytest.raises(SandboxError, match="looks like a real HubSpot token"):
        sb.add_portal(real)
    with pytest.raises(SandboxError, match="looks like a real HubSpot token"):
        Sandbox(tokens=(real,))


@pytest.mark.parametrize("token", REFUSED[:2])
def test_the_cli_refuses_what_the_control_api_refuses(token, capsys):
    assert main(["sandbox", "serve", "--token", token, "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "real HubSpot token" in err and token not in err


def test_python_settings_change_every_portal_unless_given_a_token(sb, raw, other):
    sb.set_faults(rate=1.0, weights={"server_error": 1})
    assert raw("GET", "/crm/v3/objects/contacts").status >= 500
    assert other("GET", "/crm/v3/objects/contacts").status >= 500
    sb.set_faults(token="tok-b", rate=0)
    assert raw("GET", "/crm/v3/objects/contacts").status >= 500
    assert other("GET", "/crm/v3/objects/contacts").status == 200
    sb.set_faults(rate=0)  # all portals again, tok-b's own setting included
    sb.set_faults(token="tok-a", seed=4)
    assert raw("GET", "/crm/v3/objects/contacts").status == 200
    assert sb.faults("tok-a").seed == 4 and sb.faults("tok-b").seed == 0
    sb.set_limits(token="tok-a", batch_max=7)
    sb.set_limits(list_page_max=20)
    assert (sb.limits("tok-a").batch_max, sb.limits("tok-a").list_page_max) == (7, 20)
    assert (sb.limits("tok-b").batch_max, sb.limits("tok-b").list_page_max) == (100, 20)
    sb.add_portal("tok-c")  # a new portal starts from the defaults
    assert sb.limits("tok-c").list_page_max == 20 and sb.limits("tok-c").batch_max == 100


def test_start_up_settings_are_every_portals_defaults():
    with Sandbox(tokens=("tok-x", "tok-y"), rate_limit=4, faults={"seed": 9}) as box:
        x, y = Raw(box.url, "tok-x"), Raw(box.url, "tok-y")
        assert x.json("GET", "/_sandbox/limits")[1]["rate_per_10s"] == 4
        assert y.json("GET", "/_sandbox/faults")[1]["seed"] == 9
        x.json("PUT", "/_sandbox/limits", {"rate_per_10s": 0})
        assert y.json("GET", "/_sandbox/limits")[1]["rate_per_10s"] == 4
        x.pool.clear()
        y.pool.clear()
