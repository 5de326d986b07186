"""sts 0003/0004: providers and roles made for the old deployment-wide classroom IdP keep working, moved to their
account's own issuer; the old keys are gone."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core import clock
from core.context import CallContext, Principal
from identities.models import OpenIdConnectProvider, Role, SamlProvider
from sts import federation, idp
from sts.models import IdentityProviderKey, TemporaryCredential
from tests.conftest import ACCOUNT_ID

pytestmark = pytest.mark.django_db(transaction=True)

HOST = "classroom.example:8000"
BEFORE = [("sts", "0002_identity_provider_key")]


def _migrate(targets: list[tuple[str, str]]):  # noqa: ANN202 - the historical apps registry
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _latest() -> list[tuple[str, str]]:
    """Every app's latest migration: going back to sts 0002 also unapplied what depends on sts (ec2's instance
    sessions), which the tests after this one need."""
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def _legacy_metadata(certificate_base64: str) -> str:
    """The old deployment-wide IdP's metadata document, as ``sts.idp.saml_metadata`` wrote it."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<md:EntityDescriptor xmlns:md="{idp.NS_MD}" xmlns:ds="{idp.NS_DS}" entityID="https://{HOST}/idp/saml" '
        'validUntil="2036-11-28T00:00:00Z">\n'
        '  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" '
        'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">\n'
        '    <md:KeyDescriptor use="signing">\n'
        "      <ds:KeyInfo><ds:X509Data>\n"
        f"        <ds:X509Certificate>{certificate_base64}</ds:X509Certificate>\n"
        "      </ds:X509Data></ds:KeyInfo>\n"
        "    </md:KeyDescriptor>\n"
        "  </md:IDPSSODescriptor>\n"
        "</md:EntityDescriptor>\n"
    )


def _trust(provider_arn: str, action: str, condition: dict[str, str]) -> str:
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": action,
        "Condition": {"StringEquals": condition},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, indent=4)


def anonymous() -> CallContext:
    return CallContext(Principal("Root", "", "", "anonymous", ""), origin="api", user_agent="pytest")


def test_existing_classroom_providers_move_to_their_accounts_issuer(account):
    old_apps = _migrate(BEFORE)
    try:
        old_key = old_apps.get_model("sts", "IdentityProviderKey")
        now = clock.now()
        for kind in ("oidc", "saml"):
            old_key.objects.create(kind=kind, created_at=now, **idp.new_key_fields(kind, now))
        legacy_certificate = idp._load(
            *old_key.objects.filter(kind="saml").values_list("key_id", "private_key_encrypted", "certificate").get()
        ).certificate_base64
        old_url, old_arn = f"{HOST}/idp", f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{HOST}/idp"
        OpenIdConnectProvider.objects.create(
            account=account, url=old_url, arn=old_arn, client_ids=["app"], created_at=now
        )
        OpenIdConnectProvider.objects.create(
            account=account,
            url="token.actions.githubusercontent.com",
            arn=f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com",
            client_ids=["sts.amazonaws.com"],
            created_at=now,
        )
        saml = SamlProvider.objects.create(
            account=account,
            name="Classroom",
            arn=f"arn:aws:iam::{ACCOUNT_ID}:saml-provider/Classroom",
            metadata_document=_legacy_metadata(legacy_certificate),
            created_at=now,
        )
        web_trust = _trust(
            old_arn, "sts:AssumeRoleWithWebIdentity", {f"{old_url}:aud": "app", f"{old_url.upper()}:sub": "alice"}
        )
        saml_trust = _trust(
            saml.arn, "sts:AssumeRoleWithSAML", {"SAML:sub": "alice", "SAML:iss": f"https://{HOST}/idp/saml"}
        )
        for name, trust in (("Web", web_trust), ("Saml", saml_trust)):
            Role.objects.create(
                account=account,
                role_id=f"AROA{name.upper():0<17}",
                name=name,
                arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{name}",
                assume_role_policy=trust,
                created_at=now,
            )
    finally:
        _migrate(_latest())

    assert not IdentityProviderKey.objects.filter(account__isnull=True).exists()
    new_url = f"{HOST}/idp/{ACCOUNT_ID}"
    new_arn = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{new_url}"
    assert sorted(OpenIdConnectProvider.objects.values_list("url", "arn")) == [
        (new_url, new_arn),
        (
            "token.actions.githubusercontent.com",
            f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/token.actions.githubusercontent.com",
        ),
    ]
    web = Role.objects.get(name="Web")
    assert web.assume_role_policy == _trust(
        new_arn, "sts:AssumeRoleWithWebIdentity", {f"{new_url}:aud": "app", f"{new_url}:sub": "alice"}
    )  # formatting kept, the upper-cased condition key found too
    saml.refresh_from_db()
    assert f'entityID="https://{HOST}/idp/{ACCOUNT_ID}/saml"' in saml.metadata_document
    assert legacy_certificate not in saml.metadata_document
    assert idp.signing_key(ACCOUNT_ID, "saml").certificate_base64 in saml.metadata_document
    assert json.loads(Role.objects.get(name="Saml").assume_role_policy)["Statement"][0]["Condition"] == {
        "StringEquals": {"SAML:sub": "alice", "SAML:iss": f"https://{HOST}/idp/{ACCOUNT_ID}/saml"}
    }

    # and both still open their roles with what the account's IdP issues now
    token = idp.issue_id_token(account_id=ACCOUNT_ID, host=HOST, subject="alice", audience="app")
    result = federation.assume_role_with_web_identity(
        anonymous(), role_arn=web.arn, role_session_name="alice", web_identity_token=token
    )
    assert result.provider == new_arn
    role_arn = f"arn:aws:iam::{ACCOUNT_ID}:role/Saml"
    assertion = idp.issue_saml_response(
        account_id=ACCOUNT_ID, host=HOST, subject="alice", roles=[(role_arn, saml.arn)], session_name="alice"
    )
    federation.assume_role_with_saml(anonymous(), role_arn=role_arn, principal_arn=saml.arn, saml_assertion=assertion)
    assert TemporaryCredential.objects.count() == 2
