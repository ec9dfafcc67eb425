"""Portal identity: ``HubSpotConnector.portal_id()`` from ``GET /account-info/v3/details``."""

from __future__ import annotations

import pytest
from hubspot_support import APP_TOKEN, TOKEN, TOKEN_ENV, config_data, seeded, write_config

from assoc_audit.connectors.hubspot import HubSpotConnector
from assoc_audit.connectors.hubspot.ratelimit import RetryPolicy
from assoc_audit.errors import AuthError
from assoc_audit.sandbox import Sandbox

OTHER_ENV = "ASSOC_AUDIT_TEST_OTHER_PORTAL_TOKEN"


@pytest.fixture
def sb():
    with Sandbox(tokens=(TOKEN, APP_TOKEN), rate_limit=0) as box:
        yield box


def connector(sb, folder, env: str, token: str, monkeypatch, **kw) -> HubSpotConnector:
    monkeypatch.setenv(env, token)
    data = config_data(sb.url)
    data["hubspot"]["token_env"] = env
    folder.mkdir(exist_ok=True)
    return HubSpotConnector(write_config(folder, data), progress=False, **kw)


def test_two_tokens_on_one_base_url_are_two_portals(sb, tmp_path, monkeypatch):
    first = connector(sb, tmp_path / "a", TOKEN_ENV, TOKEN, monkeypatch)
    second = connector(sb, tmp_path / "b", OTHER_ENV, APP_TOKEN, monkeypatch)
    ids = (first.portal_id(), second.portal_id())
    assert ids == (sb.backend.portal(TOKEN).hub_id, sb.backend.portal(APP_TOKEN).hub_id)
    assert ids[0] != ids[1] and all(type(i) is int for i in ids)
    assert first.portal_id() == ids[0]  # cached: one call per connector
    assert sb.stats(TOKEN)["by_endpoint"] == {"account.details": 1}
    usage = first.usage()
    assert usage.calls == 1 and usage.by_endpoint["account.details"].calls == 1


def test_read_side_records_the_portal_id(sb, tmp_path, monkeypatch):
    seeded(sb, contacts=30)
    side = connector(sb, tmp_path, TOKEN_ENV, TOKEN, monkeypatch).read_side()
    assert side.meta["portal_id"] == sb.backend.portal(TOKEN).hub_id
    assert side.meta["api"]["by_endpoint"]["account.details"]["calls"] == 1


def test_a_refused_token_is_an_auth_error_naming_the_variable(sb, tmp_path, monkeypatch):
    stranger = "not-a-portal-token"
    c = connector(sb, tmp_path, TOKEN_ENV, stranger, monkeypatch)
    with pytest.raises(AuthError) as caught:
        c.portal_id()
    err = caught.value
    assert (err.status, err.category, err.token_env) == (401, "INVALID_AUTHENTICATION", TOKEN_ENV)
    assert str(err).startswith(
        f"HubSpot refused the access token in ${TOKEN_ENV} while reading the account details "
        "(portal id) (401 INVALID_AUTHENTICATION: Authentication credentials not found."
    )
    assert stranger not in str(err) and err.correlation_id


def test_portal_id_goes_through_the_limiter_and_retries(sb, tmp_path, monkeypatch):
    sb.set_faults(rate=0.6, seed=2, weights={"server_error": 1, "drop": 1}, match="^/account-info/")
    retry = RetryPolicy(attempts=8, base=0.01, cap=0.02)
    c = connector(sb, tmp_path, TOKEN_ENV, TOKEN, monkeypatch, retry=retry)
    assert c.portal_id() == sb.backend.portal(TOKEN).hub_id
    served = sb.stats(TOKEN)
    assert served["faults_injected"] > 0
    assert c.usage().retries == served["faults_injected"]


@pytest.mark.parametrize(
    "url", ["http://crm.example.com", "https://user:pw@api.hubapi.com", "https://x.test/?k=v"]
)
def test_a_config_built_past_validation_cannot_send_the_token_unsafely(
    sb, tmp_path, monkeypatch, url
):
    from assoc_audit.errors import ConnectorError

    config = connector(sb, tmp_path, TOKEN_ENV, TOKEN, monkeypatch)._config
    moved = config.model_copy(
        update={"hubspot": config.hubspot.model_copy(update={"base_url": url})}
    )
    with pytest.raises(ConnectorError, match=r"hubspot\.base_url: .*no request was sent") as caught:
        HubSpotConnector(moved, progress=False)
    assert "pw" not in str(caught.value) and "k=v" not in str(caught.value)
