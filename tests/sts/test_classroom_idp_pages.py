"""The classroom identity provider's console pages and public endpoints."""

from __future__ import annotations

import html
import re

import jwt
import pytest
from django.test import Client

from core import clock
from identities.models import OpenIdConnectProvider
from tests.conftest import ACCOUNT_ID, OTHER_ACCOUNT_ID

pytestmark = pytest.mark.django_db


def test_oidc_page_shows_the_issuer_and_the_account_provider(root_client, account):
    page = root_client.get("/iam/identity_providers/classroom").content.decode()
    assert f'data-testid="issuer">https://testserver/idp/{ACCOUNT_ID}<' in page and "Not added yet" in page
    assert f'href="/idp/{ACCOUNT_ID}/jwks.json"' in page
    OpenIdConnectProvider.objects.create(
        account_id=account.id,
        url=f"testserver/idp/{ACCOUNT_ID}",
        client_ids=["my-app"],
        arn=f"arn:aws:iam::{account.id}:oidc-provider/testserver/idp/{ACCOUNT_ID}",
        created_at=clock.now(),
    )
    page = root_client.get("/iam/identity_providers/classroom").content.decode()
    assert f"arn:aws:iam::{account.id}:oidc-provider/testserver/idp/{ACCOUNT_ID}" in page
    assert 'name="audience" value="my-app"' in page  # the provider's audience is the default


def test_issued_token_has_the_chosen_claims_and_a_ready_cli_command(root_client):
    page = root_client.post(
        "/iam/identity_providers/classroom",
        {"subject": "repo:class/lab:ref:main", "audience": "my-app", "minutes": "15"},
    )
    text = page.content.decode()
    token = html.unescape(re.search(r'data-testid="id-token">([^<]+)<', text).group(1))
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iss"], claims["sub"], claims["aud"]) == (
        f"https://testserver/idp/{ACCOUNT_ID}",
        "repo:class/lab:ref:main",
        "my-app",
    )
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert "aws sts assume-role-with-web-identity" in text and "--role-session-name repo-class-lab-ref-main" in text


def test_token_longer_than_an_hour_is_refused(root_client):
    page = root_client.post("/iam/identity_providers/classroom", {"subject": "a", "audience": "b", "minutes": "61"})
    assert page.status_code == 400 and "between 1 minute and 1 hour" in page.content.decode()
    assert 'data-testid="id-token"' not in page.content.decode()


def test_saml_page_needs_a_role_and_provider(root_client):
    page = root_client.post(
        "/iam/identity_providers/classroom/saml",
        {"subject": "alice", "session_name": "alice", "role_arn": "", "provider_arn": ""},
    )
    assert page.status_code == 400 and "Choose a role and a SAML provider." in page.content.decode()


def test_public_endpoints_need_no_sign_in(account):
    anonymous = Client()
    config = anonymous.get(f"/idp/{ACCOUNT_ID}/.well-known/openid-configuration").json()
    assert config["issuer"] == f"https://testserver/idp/{ACCOUNT_ID}"
    assert config["jwks_uri"] == f"http://testserver/idp/{ACCOUNT_ID}/jwks.json"
    assert anonymous.get(f"/idp/{ACCOUNT_ID}/jwks.json").json()["keys"][0]["alg"] == "RS256"
    metadata = anonymous.get(f"/idp/{ACCOUNT_ID}/saml/metadata.xml")
    assert metadata["Content-Type"] == "application/samlmetadata+xml"
    assert f'entityID="https://testserver/idp/{ACCOUNT_ID}/saml"'.encode() in metadata.content
    assert anonymous.get("/iam/identity_providers/classroom").status_code == 302


def test_every_account_publishes_its_own_idp_and_nothing_else_is_an_idp(account, other_account, other_root_client):
    anonymous = Client()
    mine, theirs = (anonymous.get(f"/idp/{a}/jwks.json").json()["keys"][0] for a in (ACCOUNT_ID, OTHER_ACCOUNT_ID))
    assert mine["kid"] != theirs["kid"] and mine["n"] != theirs["n"]
    page = other_root_client.get("/iam/identity_providers/classroom/saml").content.decode()
    assert f'data-testid="entity-id">https://testserver/idp/{OTHER_ACCOUNT_ID}/saml<' in page
    assert f'href="/idp/{OTHER_ACCOUNT_ID}/saml/metadata.xml"' in page
    # the old deployment-wide endpoints, and accounts that do not exist, are not identity providers
    for path in (
        "/idp/.well-known/openid-configuration",
        "/idp/jwks.json",
        "/idp/saml/metadata.xml",
        "/idp/999999999999/jwks.json",
        "/idp/12/.well-known/openid-configuration",
        "/idp/not-an-account/saml/metadata.xml",
    ):
        assert anonymous.get(path).status_code == 404, path
