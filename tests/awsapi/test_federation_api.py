"""Unsigned AssumeRoleWithWebIdentity / AssumeRoleWithSAML from a real boto3 client against the live server, with
tokens and SAML responses issued on the classroom identity provider's console pages."""

from __future__ import annotations

import base64
import html
import json
import re
import urllib.request
from datetime import timedelta

import boto3
import botocore
import jwt
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from django.test import Client

from core import clock
from identities.models import OpenIdConnectProvider, SamlProvider
from sts.models import TemporaryCredential
from tests.awsapi.conftest import client
from tests.conftest import ACCOUNT_ID

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AUDIENCE = "classroom-app"
PROVIDER_URL = f"testserver/idp/{ACCOUNT_ID}"  # the Django test client's host: the issuer of account A


def unsigned_sts(live_server):
    return boto3.client(
        "sts",
        endpoint_url=f"{live_server.url}/aws",
        region_name="us-east-1",
        config=Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}),
    )


def code(err: pytest.ExceptionInfo) -> str:
    return err.value.response["Error"]["Code"]


def issue_token(console: Client, subject: str = "alice", audience: str = AUDIENCE, minutes: int = 60) -> str:
    page = console.post(
        "/iam/identity_providers/classroom", {"subject": subject, "audience": audience, "minutes": str(minutes)}
    )
    assert page.status_code == 200, page.content[:500]
    return html.unescape(re.search(r'data-testid="id-token">([^<]+)<', page.content.decode()).group(1))


def issue_assertion(console: Client, role_arn: str, provider_arn: str, subject: str = "alice") -> str:
    page = console.post(
        "/iam/identity_providers/classroom/saml",
        {"subject": subject, "session_name": subject, "role_arn": role_arn, "provider_arn": provider_arn},
    )
    assert page.status_code == 200, page.content[:500]
    return html.unescape(re.search(r'data-testid="saml-assertion">([^<]+)<', page.content.decode()).group(1))


def web_trust(provider_arn: str, sub: str = "alice") -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {"StringEquals": {f"{PROVIDER_URL}:aud": AUDIENCE, f"{PROVIDER_URL}:sub": sub}},
                }
            ],
        }
    )


@pytest.fixture
def oidc(account, iam):
    arn = iam.create_open_id_connect_provider(Url=f"https://{PROVIDER_URL}", ClientIDList=[AUDIENCE])[
        "OpenIDConnectProviderArn"
    ]
    provider = OpenIdConnectProvider.objects.get(arn=arn)
    role = iam.create_role(RoleName="WebApp", AssumeRolePolicyDocument=web_trust(provider.arn))["Role"]
    return provider, role


def test_discovery_and_jwks_are_public(live_server, account):
    with urllib.request.urlopen(f"{live_server.url}/idp/{ACCOUNT_ID}/.well-known/openid-configuration") as response:
        config = json.load(response)
    host = live_server.url.split("://", 1)[1]
    assert config["issuer"] == f"https://{host}/idp/{ACCOUNT_ID}"
    with urllib.request.urlopen(config["jwks_uri"]) as response:
        (key,) = json.load(response)["keys"]
    assert key["kty"] == "RSA" and "d" not in key and "p" not in key


def test_web_identity_token_from_the_console_assumes_the_role(live_server, root_client, oidc, account):
    provider, role = oidc
    token = issue_token(root_client)
    assert jwt.decode(token, options={"verify_signature": False})["iss"] == f"https://{PROVIDER_URL}"
    result = unsigned_sts(live_server).assume_role_with_web_identity(
        RoleArn=role["Arn"], RoleSessionName="web1", WebIdentityToken=token, DurationSeconds=900
    )
    assert result["SubjectFromWebIdentityToken"] == "alice" and result["Audience"] == AUDIENCE
    assert result["Provider"] == provider.arn
    assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account.id}:assumed-role/WebApp/web1"
    creds = result["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert (creds["Expiration"] - clock.now()).total_seconds() == pytest.approx(900, abs=30)
    session = client(live_server, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    identity = session.get_caller_identity()
    assert identity["Arn"] == result["AssumedRoleUser"]["Arn"] and identity["Account"] == account.id
    assert identity["UserId"] == result["AssumedRoleUser"]["AssumedRoleId"]


def test_web_identity_refusals_issue_nothing(live_server, root_client, oidc, iam, account):
    _, role = oidc
    sts = unsigned_sts(live_server)

    def refused(token: str, role_arn: str = role["Arn"]) -> ClientError:
        with pytest.raises(ClientError) as err:
            sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="web1", WebIdentityToken=token)
        return err

    err = refused(issue_token(root_client, audience="another-app"))
    assert code(err) == "InvalidIdentityToken" and err.value.response["Error"]["Message"] == "Incorrect token audience"
    with clock.frozen(clock.now() - timedelta(hours=2)):
        stale = issue_token(root_client, minutes=60)
    assert code(refused(stale)) == "ExpiredTokenException"
    header, payload, signature = issue_token(root_client, subject="mallory").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "sub": "alice"}).encode()).rstrip(b"=").decode()
    assert code(refused(f"{header}.{forged}.{signature}")) == "InvalidIdentityToken"
    err = refused(issue_token(root_client, subject="bob"))  # the trust policy names alice only
    assert code(err) == "AccessDenied"
    assert err.value.response["Error"]["Message"] == "Not authorized to perform sts:AssumeRoleWithWebIdentity"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    iam.create_role(
        RoleName="Ec2Only",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    assert code(refused(issue_token(root_client), f"arn:aws:iam::{account.id}:role/Ec2Only")) == "AccessDenied"
    iam.create_open_id_connect_provider(Url="https://login.example.com", ClientIDList=[AUDIENCE])
    outside = jwt.encode(
        {
            "iss": "https://login.example.com",
            "sub": "alice",
            "aud": AUDIENCE,
            "iat": int(clock.now().timestamp()),
            "exp": int(clock.now().timestamp()) + 600,
        },
        "not-a-real-key-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    err = refused(outside)
    assert code(err) == "InvalidIdentityToken"
    assert err.value.response["Error"]["Message"].startswith("Couldn't retrieve verification key")
    assert not TemporaryCredential.objects.exists()


def test_saml_response_from_the_console_assumes_the_role(live_server, root_client, iam, account):
    download = root_client.get(f"/idp/{ACCOUNT_ID}/saml/metadata.xml")  # what a student uploads to add the provider
    assert download["Content-Disposition"].startswith("attachment")
    metadata = download.content.decode()
    arn = iam.create_saml_provider(Name="Classroom", SAMLMetadataDocument=metadata)["SAMLProviderArn"]
    provider = SamlProvider.objects.get(arn=arn)
    role = iam.create_role(
        RoleName="SamlUsers",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": provider.arn},
                        "Action": "sts:AssumeRoleWithSAML",
                        "Condition": {
                            "StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml", "SAML:sub": "alice"}
                        },
                    }
                ],
            }
        ),
    )["Role"]
    sts = unsigned_sts(live_server)
    result = sts.assume_role_with_saml(
        RoleArn=role["Arn"],
        PrincipalArn=provider.arn,
        SAMLAssertion=issue_assertion(root_client, role["Arn"], provider.arn),
    )
    assert result["Subject"] == "alice" and result["SubjectType"] == "persistent"
    assert result["Issuer"] == f"https://testserver/idp/{ACCOUNT_ID}/saml"
    assert result["Audience"] == "https://signin.aws.amazon.com/saml" and result["NameQualifier"]
    creds = result["Credentials"]
    identity = client(
        live_server, "sts", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    ).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{account.id}:assumed-role/SamlUsers/alice"

    bob = issue_assertion(root_client, role["Arn"], provider.arn, subject="bob")
    with pytest.raises(ClientError) as err:
        sts.assume_role_with_saml(RoleArn=role["Arn"], PrincipalArn=provider.arn, SAMLAssertion=bob)
    assert code(err) == "AccessDenied"
    tampered = base64.b64encode(base64.b64decode(bob).replace(b">bob<", b">alice<")).decode()
    with pytest.raises(ClientError) as err:
        sts.assume_role_with_saml(RoleArn=role["Arn"], PrincipalArn=provider.arn, SAMLAssertion=tampered)
    assert (
        code(err) == "InvalidIdentityToken" and err.value.response["Error"]["Message"] == "Response signature invalid"
    )
    good = issue_assertion(root_client, role["Arn"], provider.arn)
    with clock.frozen(clock.now() + timedelta(minutes=10)), pytest.raises(ClientError) as err:
        sts.assume_role_with_saml(RoleArn=role["Arn"], PrincipalArn=provider.arn, SAMLAssertion=good)
    assert code(err) == "ExpiredTokenException"
    assert TemporaryCredential.objects.count() == 1


def test_signed_out_visitors_cannot_issue_tokens(db):
    page = Client().post("/iam/identity_providers/classroom", {"subject": "alice", "audience": AUDIENCE})
    assert page.status_code == 302 and page["Location"].startswith("/signin")


def test_the_aws_cli_needs_no_credentials_for_web_identity(live_server, root_client, oidc, tmp_path, account):
    import os
    import subprocess
    import sys
    from pathlib import Path

    _, role = oidc
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_DEFAULT_REGION="us-east-1",
        AWS_MAX_ATTEMPTS="1",
        HOME=str(tmp_path),
    )
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("aws")),
            "sts",
            "assume-role-with-web-identity",
            "--endpoint-url",
            f"{live_server.url}/aws",
            "--role-arn",
            role["Arn"],
            "--role-session-name",
            "cli",
            "--web-identity-token",
            issue_token(root_client),
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account.id}:assumed-role/WebApp/cli"


# ---- One student's identity provider never opens another student's roles ------------------------------------


def _page_issuer(console: Client) -> str:
    """The OIDC issuer the console shows this account's principal (what a student types into Add provider)."""
    page = console.get("/iam/identity_providers/classroom").content.decode()
    return html.unescape(re.search(r'data-testid="issuer">([^<]+)<', page).group(1))


def _page_metadata(console: Client) -> str:
    """The SAML metadata document this account's principal downloads from the classroom SAML page."""
    page = console.get("/iam/identity_providers/classroom/saml").content.decode()
    link = html.unescape(re.search(r'href="(/idp[^"]*metadata\.xml)"', page).group(1))
    download = console.get(link)
    assert download.status_code == 200
    return download.content.decode()


def _admin_role(iam, name: str, trust: dict) -> dict:
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(
        RoleName=name,
        PolicyName="all-iam",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
        ),
    )
    return role


def test_a_token_minted_in_another_account_never_opens_a_role(
    live_server, root_client, other_root_client, iam, account, other_account
):
    """The reproduction of issue 12 §1 (OIDC): B mints a token with A's sub and aud for A's role."""
    issuer = _page_issuer(root_client)
    url = issuer.removeprefix("https://")
    provider_arn = iam.create_open_id_connect_provider(Url=issuer, ClientIDList=[AUDIENCE])["OpenIDConnectProviderArn"]
    condition = {"StringEquals": {f"{url}:aud": AUDIENCE, f"{url}:sub": "alice"}}
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": condition,
    }
    role = _admin_role(iam, "ClassApp", {"Version": "2012-10-17", "Statement": [statement]})
    sts = unsigned_sts(live_server)

    stolen = issue_token(other_root_client, subject="alice", audience=AUDIENCE)  # signed in to B
    with pytest.raises(ClientError) as err:
        sts.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="mallory", WebIdentityToken=stolen)
    assert code(err) == "InvalidIdentityToken"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # B's token with A's issuer written into it: the signature is B's, so A's issuer does not verify it
    header, payload, signature = stolen.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = base64.urlsafe_b64encode(json.dumps({**claims, "iss": issuer}).encode()).rstrip(b"=").decode()
    with pytest.raises(ClientError) as err:
        sts.assume_role_with_web_identity(
            RoleArn=role["Arn"], RoleSessionName="mallory", WebIdentityToken=f"{header}.{forged}.{signature}"
        )
    assert code(err) == "InvalidIdentityToken"
    # even a provider in A for B's issuer: B's tokens are for B's roles only
    b_issuer = _page_issuer(other_root_client)
    b_url = b_issuer.removeprefix("https://")
    b_provider = iam.create_open_id_connect_provider(Url=b_issuer, ClientIDList=[AUDIENCE])["OpenIDConnectProviderArn"]
    statement = {
        **statement,
        "Principal": {"Federated": b_provider},
        "Condition": {"StringEquals": {f"{b_url}:aud": AUDIENCE, f"{b_url}:sub": "alice"}},
    }
    trusting_b = _admin_role(iam, "TrustsB", {"Version": "2012-10-17", "Statement": [statement]})
    with pytest.raises(ClientError) as err:
        sts.assume_role_with_web_identity(RoleArn=trusting_b["Arn"], RoleSessionName="mallory", WebIdentityToken=stolen)
    assert code(err) == "InvalidIdentityToken"
    assert not TemporaryCredential.objects.exists()

    # the same-account flow still works, and the session is A's administrator
    own = issue_token(root_client, subject="alice", audience=AUDIENCE)
    result = sts.assume_role_with_web_identity(RoleArn=role["Arn"], RoleSessionName="alice", WebIdentityToken=own)
    creds = result["Credentials"]
    session = client(live_server, "iam", creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert [r["RoleName"] for r in session.list_roles()["Roles"]] == ["ClassApp", "TrustsB"]
    assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account.id}:assumed-role/ClassApp/alice"


def test_a_saml_response_minted_in_another_account_never_opens_a_role(
    live_server, root_client, other_root_client, iam, account, other_account
):
    """The reproduction of issue 12 §1 (SAML): B's console names A's role and A's provider in a SAML response."""
    provider_arn = iam.create_saml_provider(Name="Classroom", SAMLMetadataDocument=_page_metadata(root_client))[
        "SAMLProviderArn"
    ]
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithSAML",
        "Condition": {"StringEquals": {"SAML:aud": "https://signin.aws.amazon.com/saml", "SAML:sub": "alice"}},
    }
    role = _admin_role(iam, "ClassSaml", {"Version": "2012-10-17", "Statement": [statement]})
    sts = unsigned_sts(live_server)

    stolen = issue_assertion(other_root_client, role["Arn"], provider_arn)  # signed in to B
    with pytest.raises(ClientError) as err:
        sts.assume_role_with_saml(RoleArn=role["Arn"], PrincipalArn=provider_arn, SAMLAssertion=stolen)
    assert code(err) == "InvalidIdentityToken"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # even when A's provider is given B's metadata document, B's issuer is not A's
    b_provider = iam.create_saml_provider(Name="FromB", SAMLMetadataDocument=_page_metadata(other_root_client))[
        "SAMLProviderArn"
    ]
    statement = {**statement, "Principal": {"Federated": b_provider}}
    trusting_b = _admin_role(iam, "TrustsB", {"Version": "2012-10-17", "Statement": [statement]})
    with pytest.raises(ClientError) as err:
        sts.assume_role_with_saml(
            RoleArn=trusting_b["Arn"],
            PrincipalArn=b_provider,
            SAMLAssertion=issue_assertion(other_root_client, trusting_b["Arn"], b_provider),
        )
    assert code(err) == "InvalidIdentityToken"
    assert not TemporaryCredential.objects.exists()

    own = issue_assertion(root_client, role["Arn"], provider_arn)
    result = sts.assume_role_with_saml(RoleArn=role["Arn"], PrincipalArn=provider_arn, SAMLAssertion=own)
    assert result["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{account.id}:assumed-role/ClassSaml/alice"
