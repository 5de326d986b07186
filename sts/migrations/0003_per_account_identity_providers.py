"""Every account becomes its own classroom identity provider (issue 12 §1), and existing providers follow.

Before, the deployment had one OIDC issuer ``https://<host>/idp`` and one SAML IdP ``https://<host>/idp/saml``, with
one key each: a token minted in any account verified for every account's provider. Now each account has its issuer
``https://<host>/idp/<account-id>`` and its SAML entity ``https://<host>/idp/<account-id>/saml``, with its own keys.

What this migration changes, exactly:

1. ``sts.IdentityProviderKey`` gets an ``account``. The two deployment-wide keys are deleted (0004 makes the column
   required): ID tokens and SAML responses issued before the migration are no longer accepted (they lived at most
   an hour and five minutes). Each account's keys are created on first use, or here for step 3.
2. Every IAM OIDC provider whose URL is the old classroom issuer (``<host>/idp``, any host) is moved to its
   account's issuer: URL ``<host>/idp/<account-id>`` and ARN ``arn:aws:iam::<account-id>:oidc-provider/<host>/idp/
   <account-id>`` (the ARN contains the URL, so it changes too). In the trust policies of that account's roles, the
   old provider ARN (an exact ``Federated`` value) and the condition keys ``<host>/idp:…`` (``:aud``, ``:sub``…)
   are rewritten to the new ones; the rest of each document, formatting included, is untouched. A provider is left
   as it is when its account already has a provider for the new URL.
3. Every SAML provider whose metadata document is the old classroom IdP's (entity ID ``https://<host>/idp/saml``)
   gets its account's entity ID and signing certificate in the document (the provider's ARN, name and validUntil
   stay). In the trust policies of that account's roles, a condition value equal to the old entity ID (``SAML:iss``)
   becomes the new one.

Not rewritten: permission policies that name an old OIDC provider ARN as a resource (for example to allow
``iam:AddClientIDToOpenIDConnectProvider``), and audit records, which keep the history as it was.
"""

from __future__ import annotations

import base64
import json
import re

import django.db.models.deletion
from django.db import migrations, models

_LEGACY_OIDC_URL = re.compile(r"^([^/]+)/idp/?$")
_LEGACY_ENTITY = re.compile(r'entityID="https://([^/"]+)/idp/saml"')
_CERTIFICATE = re.compile(r"(<(?:\w+:)?X509Certificate>)(.*?)(</(?:\w+:)?X509Certificate>)", re.DOTALL)


def _certificate_base64(pem: str) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    return base64.b64encode(
        x509.load_pem_x509_certificate(pem.encode()).public_bytes(serialization.Encoding.DER)
    ).decode()


def _rewrite_trust(Role, account_id: str, replace) -> None:  # noqa: ANN001 - historical model, text -> text
    for role in Role.objects.filter(account_id=account_id):
        text = replace(role.assume_role_policy)
        if text != role.assume_role_policy:
            json.loads(text)  # still a JSON document
            role.assume_role_policy = text
            role.save(update_fields=["assume_role_policy"])


def _account_saml_certificate(Key, account_id: str) -> str:  # noqa: N803
    from core import clock
    from sts.idp import new_key_fields

    row = Key.objects.filter(account_id=account_id, kind="saml").first()
    if row is None:
        now = clock.now()
        row = Key.objects.create(account_id=account_id, kind="saml", created_at=now, **new_key_fields("saml", now))
    return _certificate_base64(row.certificate)


def forward(apps, schema_editor) -> None:  # noqa: ANN001
    Key = apps.get_model("sts", "IdentityProviderKey")  # noqa: N806
    Oidc = apps.get_model("identities", "OpenIdConnectProvider")  # noqa: N806
    Saml = apps.get_model("identities", "SamlProvider")  # noqa: N806
    Role = apps.get_model("identities", "Role")  # noqa: N806

    for provider in Oidc.objects.order_by("pk"):
        match = _LEGACY_OIDC_URL.match(provider.url)
        if match is None:
            continue
        account_id, old_url, old_arn = provider.account_id, provider.url, provider.arn
        new_url = f"{match.group(1)}/idp/{account_id}"
        if Oidc.objects.filter(account_id=account_id, url=new_url).exists():
            continue
        new_arn = old_arn[: old_arn.index(":oidc-provider/")] + f":oidc-provider/{new_url}"
        provider.url, provider.arn = new_url, new_arn
        provider.save(update_fields=["url", "arn"])

        def replace(
            text: str, old_arn: str = old_arn, new_arn: str = new_arn, old_url: str = old_url, new_url: str = new_url
        ) -> str:
            text = text.replace(json.dumps(old_arn), json.dumps(new_arn))
            # condition keys are case-insensitive: "<host>/idp:aud" in any case
            return re.sub('"' + re.escape(old_url) + "(?=:)", '"' + new_url.replace("\\", r"\\"), text, flags=re.I)

        _rewrite_trust(Role, account_id, replace)

    legacy = Key.objects.filter(account__isnull=True, kind="saml").values_list("certificate", flat=True).first()
    legacy_certificate = _certificate_base64(legacy) if legacy else None
    for provider in Saml.objects.order_by("pk"):
        document = provider.metadata_document
        match = _LEGACY_ENTITY.search(document)
        certificates = ["".join(m.group(2).split()) for m in _CERTIFICATE.finditer(document)]
        if match is None or (legacy_certificate is not None and legacy_certificate not in certificates):
            continue  # not the old classroom IdP's document
        account_id, host = provider.account_id, match.group(1)
        old_entity, new_entity = f"https://{host}/idp/saml", f"https://{host}/idp/{account_id}/saml"
        certificate = _account_saml_certificate(Key, account_id)
        document = document.replace(f'entityID="{old_entity}"', f'entityID="{new_entity}"')
        document = _CERTIFICATE.sub(
            lambda m, c=certificate: (
                m.group(1) + c + m.group(3)
                if legacy_certificate is None or "".join(m.group(2).split()) == legacy_certificate
                else m.group(0)
            ),
            document,
        )
        provider.metadata_document = document
        provider.save(update_fields=["metadata_document"])
        _rewrite_trust(
            Role, account_id, lambda text, o=old_entity, n=new_entity: text.replace(json.dumps(o), json.dumps(n))
        )

    Key.objects.filter(account__isnull=True).delete()


def backward(apps, schema_editor) -> None:  # noqa: ANN001
    """Back to one key per deployment: the per-account keys go (created again on first use); providers and trust
    policies keep their per-account URLs."""
    apps.get_model("sts", "IdentityProviderKey").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("identities", "0007_providers_uuid_slr_deletions"),
        ("sts", "0002_identity_provider_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="identityproviderkey",
            name="account",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="identities.account"
            ),
        ),
        migrations.AlterField(model_name="identityproviderkey", name="kind", field=models.CharField(max_length=8)),
        migrations.RunPython(forward, backward),
    ]
