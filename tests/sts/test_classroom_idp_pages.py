"""The classroom identity provider's console pages and public endpoints."""

from __future__ import annotations

import html
import re

import jwt
import pytest
from django.test import Client

from core import clock
from identities.models import OpenIdConnectProvider

pytestmark = pytest.mark.django_db


def test_oidc_page_shows_the_issuer_and_the_account_provider(root_client, account):
    page = root_client.get("/iam/identity_providers/classroom").content.decode()
    assert "https://testserver/idp" in page and "Not added yet" in page
    OpenIdConnectProvider.objects.create(
        account_id=account.id,
        url="testserver/idp",
        client_ids=["my-app"],
        arn=f"arn:aws:iam::{account.id}:oidc-provider/testserver/idp",
        created_at=clock.now(),
    )
    page = root_client.get("/iam/identity_providers/classroom").content.decode()
    assert f"arn:aws:iam::{account.id}:oidc-provider/testserver/idp" in page
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
        "https://testserver/idp",
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


def test_public_endpoints_need_no_sign_in(db):
    anonymous = Client()
    config = anonymous.get("/idp/.well-known/openid-configuration").json()
    assert config["issuer"] == "https://testserver/idp" and config["jwks_uri"] == "http://testserver/idp/jwks.json"
    assert anonymous.get("/idp/jwks.json").json()["keys"][0]["alg"] == "RS256"
    metadata = anonymous.get("/idp/saml/metadata.xml")
    assert metadata["Content-Type"] == "application/samlmetadata+xml"
    assert b'entityID="https://testserver/idp/saml"' in metadata.content
    assert anonymous.get("/iam/identity_providers/classroom").status_code == 302
