"""Running behind the TLS reverse proxy the README recommends (docs/security.md): what the settings
``BEHIND_TLS_PROXY`` (SECURE_PROXY_SSL_HEADER), ``SECURE_COOKIES``, ``CSRF_TRUSTED_ORIGINS`` and
``TRUSTED_PROXY_HOPS`` change, for the console and the Query API, each held by a test here."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.test import Client

from core.context import CallContext, Principal
from identities import services
from identities.models import IamUser
from policies import services as policy_services
from tests.awsapi.conftest import issue_key
from tests.conftest import ROOT_PASSWORD

PUBLIC = "iam.school.example"
PROXY = ("HTTP_X_FORWARDED_PROTO", "https")


def csrf_client() -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.get("/signin", HTTP_HOST=PUBLIC)
    return client, client.cookies["csrftoken"].value


def root_sign_in(client: Client, token: str, account, origin: str, **meta: str):
    return client.post(
        "/signin",
        {"email": account.root_email, "password": ROOT_PASSWORD, "csrfmiddlewaretoken": token},
        HTTP_HOST=PUBLIC,
        HTTP_ORIGIN=origin,
        **meta,
    )


def test_console_pages_carry_the_browser_protections(db):
    response = Client().get("/signin")
    assert response["X-Frame-Options"] == "DENY" and response["X-Content-Type-Options"] == "nosniff"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp


def test_a_cross_site_form_post_is_refused(account):
    client, token = csrf_client()
    assert client.post("/signin", {"email": account.root_email, "password": ROOT_PASSWORD}).status_code == 403
    forged = root_sign_in(client, token, account, "https://evil.example", **dict([PROXY]))
    assert forged.status_code == 403


def test_behind_the_proxy_the_https_origin_is_this_site(account, settings):
    """With BEHIND_TLS_PROXY the proxy's X-Forwarded-Proto makes the request secure, so the browser's
    https:// Origin matches; without it (and without CSRF_TRUSTED_ORIGINS) every form post would be refused."""
    client, token = csrf_client()
    settings.SECURE_PROXY_SSL_HEADER = None
    assert root_sign_in(client, token, account, f"https://{PUBLIC}", **dict([PROXY])).status_code == 403
    settings.CSRF_TRUSTED_ORIGINS = [f"https://{PUBLIC}"]  # the other way: name the public origin
    client, token = csrf_client()  # (the CSRF middleware reads its trusted origins once per handler)
    assert root_sign_in(client, token, account, f"https://{PUBLIC}").status_code == 302
    settings.CSRF_TRUSTED_ORIGINS = []
    settings.SECURE_PROXY_SSL_HEADER = PROXY
    client, token = csrf_client()
    assert root_sign_in(client, token, account, f"https://{PUBLIC}", **dict([PROXY])).status_code == 302


def test_secure_cookies(account, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True  # what SECURE_COOKIES=1 sets
    settings.SECURE_PROXY_SSL_HEADER = PROXY
    client, token = csrf_client()
    assert client.cookies["csrftoken"]["secure"]
    response = root_sign_in(client, token, account, f"https://{PUBLIC}", **dict([PROXY]))
    session = response.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_the_query_api_knows_when_the_proxy_spoke_https(live_server, account, managed_policies, settings):
    """aws:SecureTransport of an API call is true when the trusted proxy says it received HTTPS (and only then:
    the header counts only with BEHIND_TLS_PROXY)."""
    root = CallContext(Principal.root(account.id), user_agent="pytest", origin="console")
    services.create_user(root, user_name="lab")
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:CreateUser",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "true"}},
            }
        ],
    }
    policy_services.put_user_policy(root, user_name="lab", policy_name="tls-only", policy_document=json.dumps(document))
    keys = issue_key(account.id, IamUser.objects.get(name="lab"))

    def create(name: str, headers: dict[str, str]) -> int:
        request = AWSRequest(
            method="POST",
            url=f"{live_server.url}/aws",
            data=urlencode({"Action": "CreateUser", "Version": "2010-05-08", "UserName": name}),
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        SigV4Auth(Credentials(*keys), "iam", "us-east-1").add_auth(request)
        prepared = request.prepare()
        raw = urllib.request.Request(
            prepared.url, data=prepared.body.encode(), headers={**dict(prepared.headers), **headers}, method="POST"
        )
        try:
            with urllib.request.urlopen(raw, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as err:
            return err.code

    settings.SECURE_PROXY_SSL_HEADER = None
    assert create("no-proxy-declared", {"X-Forwarded-Proto": "https"}) == 403
    settings.SECURE_PROXY_SSL_HEADER = PROXY
    assert create("plain", {}) == 403
    assert create("over-tls", {"X-Forwarded-Proto": "https"}) == 200
    assert IamUser.objects.filter(account_id=account.id).count() == 2
