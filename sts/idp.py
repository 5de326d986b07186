"""The classroom's built-in identity providers: every account is an OpenID Connect issuer and a SAML 2.0 IdP.

There is no internet in a classroom, so AWS's way of trusting an IdP (fetching its JWKS) cannot work. Instead the
server is the IdP: a signed-in principal issues an ID token or a SAML response from *its own account's* IdP and
hands it to ``AssumeRoleWithWebIdentity`` / ``AssumeRoleWithSAML``, which verify it with that account's key
(``sts.federation``).

Each account has its own issuer ``https://<host>/idp/<account-id>`` (discovery, JWKS) and SAML entity
``https://<host>/idp/<account-id>/saml`` (metadata), with one RSA key per account and protocol, generated on first
use and stored encrypted (``core.secrets``). A token minted in one account therefore neither names nor verifies as
another account's issuer. The issuer is ``https://…`` whatever the scheme the server is reached by: IAM OIDC
provider URLs must start with ``https://``, and the issuer is only an identifier here (nothing fetches it).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.db import IntegrityError, transaction
from lxml import etree
from signxml import XMLSigner, methods

from core import clock
from core.errors import ValidationError
from core.secrets import decrypt, encrypt
from sts.models import IdentityProviderKey

TOKEN_MAX_SECONDS = 3600  # an ID token issued here lasts at most one hour
SAML_VALID_SECONDS = 300  # a SAML response must be redeemed within 5 minutes, as AWS requires
SAML_AUDIENCE = "https://signin.aws.amazon.com/saml"
SAML_ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role"
SAML_SESSION_NAME_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/RoleSessionName"
IDP_PATH = "/idp"  # each account's issuer is /idp/<account-id>, its SAML entity /idp/<account-id>/saml
# An issuer / entity ID of this server, any host: the account is the path's last (OIDC) or next-to-last segment.
_ISSUER = re.compile(r"^https://[^/?#]+/idp/(\d{12})$")
_SAML_ENTITY = re.compile(r"^https://[^/?#]+/idp/(\d{12})/saml$")


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate | None

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    @property
    def certificate_pem(self) -> str:
        """The PEM certificate: what SAML verification checks an assertion against (``sts.federation``)."""
        assert self.certificate is not None
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode()

    @property
    def certificate_base64(self) -> str:
        """The DER certificate in base64, as ``<ds:X509Certificate>`` holds it."""
        assert self.certificate is not None
        return base64.b64encode(self.certificate.public_bytes(serialization.Encoding.DER)).decode()


def idp_path(account_id: str) -> str:
    """Where the account's IdP endpoints live on this server (``/idp/<account-id>``)."""
    return f"{IDP_PATH}/{account_id}"


def issuer_url(host: str, account_id: str) -> str:
    return f"https://{host}{idp_path(account_id)}"


def saml_entity_id(host: str, account_id: str) -> str:
    return f"https://{host}{idp_path(account_id)}/saml"


def issuer_account(issuer: str) -> str | None:
    """The account whose classroom issuer ``issuer`` is (None: not an issuer of this server)."""
    match = _ISSUER.match(issuer)
    return match.group(1) if match else None


def saml_entity_account(entity_id: str) -> str | None:
    """The account whose classroom SAML IdP ``entity_id`` is (None: not an IdP of this server)."""
    match = _SAML_ENTITY.match(entity_id)
    return match.group(1) if match else None


def _self_signed(key: rsa.RSAPrivateKey, now: datetime) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "IAM Classroom"),
            x509.NameAttribute(NameOID.COMMON_NAME, "IAM Classroom SAML identity provider"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def new_key_fields(kind: str, now: datetime) -> dict[str, str]:
    """A fresh key pair for ``kind`` as ``IdentityProviderKey`` stores it (also used by the data migration)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    certificate = ""
    if kind == IdentityProviderKey.KIND_SAML:
        certificate = _self_signed(key, now).public_bytes(serialization.Encoding.PEM).decode()
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        "key_id": hashlib.sha256(der).hexdigest()[:32],
        "private_key_encrypted": encrypt(pem),
        "certificate": certificate,
    }


def _create(account_id: str, kind: str) -> None:
    now = clock.now()
    try:
        with transaction.atomic():
            IdentityProviderKey.objects.create(
                account_id=account_id, kind=kind, created_at=now, **new_key_fields(kind, now)
            )
    except IntegrityError:
        pass  # another process created it first: use theirs


def _row(account_id: str, kind: str) -> tuple[str, str, str] | None:
    return (
        IdentityProviderKey.objects.filter(account_id=account_id, kind=kind)
        .values_list("key_id", "private_key_encrypted", "certificate")
        .first()
    )


def signing_key(account_id: str, kind: str) -> SigningKey:
    """The account's key for ``kind`` (created on first use). Only for issuing and publishing: verification
    uses ``existing_signing_key``, so a token can never make the server create a key."""
    row = _row(account_id, kind)
    if row is None:
        _create(account_id, kind)
        row = _row(account_id, kind)
        assert row is not None
    return _load(*row)


def existing_signing_key(account_id: str, kind: str) -> SigningKey | None:
    """The account's key for ``kind``, if its IdP ever issued or published anything."""
    row = _row(account_id, kind)
    return _load(*row) if row is not None else None


@functools.lru_cache(maxsize=256)  # two keys per account: a class fits
def _load(key_id: str, encrypted: str, certificate: str) -> SigningKey:
    private = serialization.load_pem_private_key(decrypt(encrypted).encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    cert = x509.load_pem_x509_certificate(certificate.encode()) if certificate else None
    return SigningKey(key_id, private, cert)


# ---- OpenID Connect ---------------------------------------------------------------------------------------------


def openid_configuration(host: str, base_url: str, account_id: str) -> dict[str, Any]:
    """The account issuer's discovery document. ``base_url`` is how this server was reached (scheme and host), for
    the JWKS URL."""
    return {
        "issuer": issuer_url(host, account_id),
        "jwks_uri": f"{base_url}{idp_path(account_id)}/jwks.json",
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "sub", "aud", "iat", "exp", "jti"],
    }


def jwks(account_id: str) -> dict[str, Any]:
    """The public part of the account's OIDC signing key, as a JSON Web Key Set."""
    key = signing_key(account_id, IdentityProviderKey.KIND_OIDC)
    numbers = key.public_key.public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()

    return {
        "keys": [
            {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": key.key_id, "n": b64(numbers.n), "e": b64(numbers.e)}
        ]
    }


def issue_id_token(
    *,
    account_id: str,
    host: str,
    subject: str,
    audience: str,
    lifetime_seconds: int = TOKEN_MAX_SECONDS,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """A signed OIDC ID token from the account's issuer. ``account_id`` is always the caller's own account (the
    console passes ``ctx.account_id``): no principal can issue from another account's issuer."""
    if not subject or len(subject) > 255:
        raise ValidationError("The subject must be 1 to 255 characters.")
    if not audience or len(audience) > 255:
        raise ValidationError("The audience must be 1 to 255 characters.")
    if not 60 <= lifetime_seconds <= TOKEN_MAX_SECONDS:
        raise ValidationError("The token must expire between 1 minute and 1 hour after it is issued.")
    key = signing_key(account_id, IdentityProviderKey.KIND_OIDC)
    now = int(clock.now().timestamp())
    claims = {
        **(extra_claims or {}),
        "iss": issuer_url(host, account_id),
        "sub": subject,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime_seconds,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, key.private_key, algorithm="RS256", headers={"kid": key.key_id})


# ---- SAML 2.0 ------------------------------------------------------------------------------------------------

NS_MD = "urn:oasis:names:tc:SAML:2.0:metadata"
NS_DS = "http://www.w3.org/2000/09/xmldsig#"
NS_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NS_SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"


def saml_metadata(host: str, base_url: str, account_id: str) -> str:
    """The account IdP's metadata document, which students upload when they create a SAML provider."""
    key = signing_key(account_id, IdentityProviderKey.KIND_SAML)
    valid_until = (clock.now() + timedelta(days=3650)).strftime("%Y-%m-%dT%H:%M:%SZ")
    entity_id = quoteattr(saml_entity_id(host, account_id))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<md:EntityDescriptor xmlns:md="{NS_MD}" xmlns:ds="{NS_DS}" entityID={entity_id} '
        f'validUntil="{valid_until}">\n'
        f'  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" '
        f'protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">\n'
        '    <md:KeyDescriptor use="signing">\n'
        "      <ds:KeyInfo><ds:X509Data>\n"
        f"        <ds:X509Certificate>{key.certificate_base64}</ds:X509Certificate>\n"
        "      </ds:X509Data></ds:KeyInfo>\n"
        "    </md:KeyDescriptor>\n"
        f"    <md:NameIDFormat>{NAMEID_PERSISTENT}</md:NameIDFormat>\n"
        '    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" '
        f"Location={quoteattr(base_url + '/iam/identity_providers/classroom/saml')}/>\n"
        "  </md:IDPSSODescriptor>\n"
        '  <md:Organization><md:OrganizationName xml:lang="en">IAM Classroom</md:OrganizationName>'
        '<md:OrganizationDisplayName xml:lang="en">IAM Classroom identity provider</md:OrganizationDisplayName>'
        f'<md:OrganizationURL xml:lang="en">{escape(base_url)}/</md:OrganizationURL></md:Organization>\n'
        "</md:EntityDescriptor>\n"
    )


def issue_saml_response(
    *, account_id: str, host: str, subject: str, roles: list[tuple[str, str]], session_name: str
) -> str:
    """A SAML 2.0 Response with one assertion signed by the account's IdP, base64-encoded for ``--saml-assertion``.
    ``account_id`` is always the caller's own account.

    ``roles`` are (role ARN, SAML provider ARN) pairs, written as AWS's Role attribute values "role,provider"."""
    if not subject or len(subject) > 255:
        raise ValidationError("The subject must be 1 to 255 characters.")
    if not roles:
        raise ValidationError("Add at least one role and SAML provider pair.")
    key = signing_key(account_id, IdentityProviderKey.KIND_SAML)
    now = clock.now()
    instant = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    until = (now + timedelta(seconds=SAML_VALID_SECONDS)).strftime("%Y-%m-%dT%H:%M:%SZ")
    issuer = escape(saml_entity_id(host, account_id))
    assertion_id = f"_{uuid.uuid4().hex}"
    values = "".join(
        f"<saml:AttributeValue>{escape(f'{role},{provider}')}</saml:AttributeValue>" for role, provider in roles
    )
    assertion = (
        f'<saml:Assertion xmlns:saml="{NS_SAML}" ID="{assertion_id}" IssueInstant="{instant}" Version="2.0">'
        f"<saml:Issuer>{issuer}</saml:Issuer>"
        f'<ds:Signature xmlns:ds="{NS_DS}" Id="placeholder"></ds:Signature>'
        f'<saml:Subject><saml:NameID Format="{NAMEID_PERSISTENT}">{escape(subject)}</saml:NameID>'
        '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        f'<saml:SubjectConfirmationData NotOnOrAfter="{until}" Recipient="{SAML_AUDIENCE}"/>'
        "</saml:SubjectConfirmation></saml:Subject>"
        f'<saml:Conditions NotBefore="{instant}" NotOnOrAfter="{until}"><saml:AudienceRestriction>'
        f"<saml:Audience>{SAML_AUDIENCE}</saml:Audience></saml:AudienceRestriction></saml:Conditions>"
        f'<saml:AuthnStatement AuthnInstant="{instant}" SessionIndex="{assertion_id}"><saml:AuthnContext>'
        "<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
        "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
        f'<saml:AttributeStatement><saml:Attribute Name="{SAML_ROLE_ATTRIBUTE}">{values}</saml:Attribute>'
        f'<saml:Attribute Name="{SAML_SESSION_NAME_ATTRIBUTE}"><saml:AttributeValue>{escape(session_name)}'
        "</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"
        "</saml:Assertion>"
    )
    signed = XMLSigner(
        method=methods.enveloped,
        signature_algorithm="rsa-sha256",
        digest_algorithm="sha256",
        c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
    ).sign(etree.fromstring(assertion.encode()), key=key.private_key, cert=[key.certificate])
    response = etree.fromstring(
        f'<samlp:Response xmlns:samlp="{NS_SAMLP}" xmlns:saml="{NS_SAML}" ID="_{uuid.uuid4().hex}" Version="2.0" '
        f'IssueInstant="{instant}" Destination="{SAML_AUDIENCE}"><saml:Issuer>{issuer}</saml:Issuer>'
        '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
        "</samlp:Response>".encode()
    )
    response.append(signed)
    return base64.b64encode(etree.tostring(response)).decode()
