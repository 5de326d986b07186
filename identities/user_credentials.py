"""SSH public keys, service-specific credentials, X.509 signing certificates and the STS token preference
(issue 14, section 2): the other credentials the user's Security credentials tab shows.

Each public function is one AWS action, named as boto3 names it, and runs inside ``iam_call``. Keys and
certificates are parsed with ``cryptography`` as IAM validates them; a service-specific password is returned once
(by Create and Reset) and only its hash is kept.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from core import arns, clock, ids
from core.calls import iam_call
from core.context import CallContext
from core.errors import IamError, InvalidInput, LimitExceeded, NoSuchEntity
from core.passwords import hash_password
from core.validation import check_input
from identities.credentials import check_enum, credential_owner, lock_owner, target_arn
from identities.models import Account, IamUser, ServiceSpecificCredential, SigningCertificate, SshPublicKey
from identities.services import find_user, user_arn

SSH_KEYS_PER_USER = 5
SSH_RSA_MIN_BITS = 2048
SERVICE_CREDENTIALS_PER_SERVICE = 2
SIGNING_CERTIFICATES_PER_USER = 2
# The services AWS issues service-specific credentials for: Git over HTTPS, Amazon Keyspaces, Bedrock API keys.
SUPPORTED_SERVICES = ("codecommit.amazonaws.com", "cassandra.amazonaws.com", "bedrock.amazonaws.com")
API_KEY_SERVICES = ("bedrock.amazonaws.com",)  # long-term API keys: an alias and a secret, may expire
STATUSES = ("Active", "Inactive")
TOKEN_VERSIONS = ("v1Token", "v2Token")


class DuplicateSSHPublicKey(IamError):
    code, status = "DuplicateSSHPublicKey", 400


class InvalidPublicKey(IamError):
    code, status = "InvalidPublicKey", 400


class UnrecognizedPublicKeyEncoding(IamError):
    code, status = "UnrecognizedPublicKeyEncoding", 400


class MalformedCertificate(IamError):
    code, status = "MalformedCertificate", 400


class InvalidCertificate(IamError):
    code, status = "InvalidCertificate", 400


class DuplicateCertificate(IamError):
    code, status = "DuplicateCertificate", 409


class ServiceNotSupported(IamError):
    code, status = "NotSupportedService", 404


# ---- SSH public keys --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedKey:
    openssh: str  # "ssh-rsa AAAA…" (no comment)
    pem: str
    fingerprint: str  # MD5 of the key blob, colon-separated hex, as the console and the API show it


def parse_ssh_public_key(body: str) -> ParsedKey:
    """Parse an OpenSSH (``ssh-rsa``/``ssh-ed25519``) or PEM public key as IAM accepts them: RSA of at least 2048
    bits or Ed25519. Raises UnrecognizedPublicKeyEncoding or InvalidPublicKey."""
    text = body.strip()
    try:
        if text.startswith("-----BEGIN"):
            key: Any = serialization.load_pem_public_key(text.encode("latin-1"))
        elif text.split(" ", 1)[0].startswith(("ssh-", "ecdsa-")):
            key = serialization.load_ssh_public_key(text.encode("latin-1"))
        else:
            raise UnrecognizedPublicKeyEncoding("The public key encoding format is unsupported or unrecognized.")
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
        raise InvalidPublicKey("The public key is malformed or otherwise invalid.") from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < SSH_RSA_MIN_BITS:
            raise InvalidPublicKey(
                f"The public key is {key.key_size} bits; the minimum bit-length of the public key is "
                f"{SSH_RSA_MIN_BITS} bits."
            )
    elif not isinstance(key, ed25519.Ed25519PublicKey):
        raise UnrecognizedPublicKeyEncoding("The public key encoding format is unsupported or unrecognized.")
    openssh = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    blob = base64.b64decode(openssh.split(" ")[1])
    digest = hashlib.md5(blob, usedforsecurity=False).hexdigest()
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return ParsedKey(openssh, pem, ":".join(digest[i : i + 2] for i in range(0, 32, 2)))


def _find_ssh_key(account_id: str, user: IamUser, key_id: str, *, lock: bool = False) -> SshPublicKey:
    keys = SshPublicKey.objects.in_account(account_id).filter(user=user, key_id=key_id)
    key = (keys.select_for_update() if lock else keys).first()
    if key is None:
        raise NoSuchEntity(f"The Public Key with id {key_id} cannot be found.")
    return key


def upload_ssh_public_key(ctx: CallContext, *, user_name: str, ssh_public_key_body: str) -> SshPublicKey:
    with iam_call(ctx, "iam:UploadSSHPublicKey", user_arn(ctx, user_name), {"userName": user_name}) as call:
        check_input("iam", "UploadSSHPublicKey", UserName=user_name, SSHPublicKeyBody=ssh_public_key_body)
        user = find_user(ctx.account_id, user_name)
        parsed = parse_ssh_public_key(ssh_public_key_body)
        lock_owner(ctx.account_id, user)
        keys = SshPublicKey.objects.in_account(ctx.account_id).filter(user=user)
        if keys.filter(fingerprint=parsed.fingerprint).exists():
            raise DuplicateSSHPublicKey("The SSH public key is already associated with the specified IAM user.")
        if keys.count() >= SSH_KEYS_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for SSHPublicKeysPerUser: {SSH_KEYS_PER_USER}")
        key = SshPublicKey.objects.create(
            account_id=ctx.account_id,
            user=user,
            key_id=ids.new_access_key_id("APKA"),
            body=ssh_public_key_body.strip(),
            fingerprint=parsed.fingerprint,
            status="Active",
            uploaded_at=clock.now(),
        )
        call.response = {"sSHPublicKey": {"sSHPublicKeyId": key.key_id, "fingerprint": key.fingerprint}}
        return key


def get_ssh_public_key(ctx: CallContext, *, user_name: str, ssh_public_key_id: str, encoding: str) -> SshPublicKey:
    """The key, with ``body`` in the encoding asked for (``SSH``: one OpenSSH line; ``PEM``: SubjectPublicKeyInfo)."""
    params = {"userName": user_name, "sSHPublicKeyId": ssh_public_key_id, "encoding": encoding}
    with iam_call(ctx, "iam:GetSSHPublicKey", user_arn(ctx, user_name), params):
        check_input("iam", "GetSSHPublicKey", UserName=user_name, SSHPublicKeyId=ssh_public_key_id, Encoding=encoding)
        key = _find_ssh_key(ctx.account_id, find_user(ctx.account_id, user_name), ssh_public_key_id)
        parsed = parse_ssh_public_key(key.body)
        key.body = parsed.openssh if encoding == "SSH" else parsed.pem
        return key


def list_ssh_public_keys(ctx: CallContext, *, user_name: str | None = None) -> list[SshPublicKey]:
    with iam_call(ctx, "iam:ListSSHPublicKeys", target_arn(ctx, user_name), {"userName": user_name}):
        check_input("iam", "ListSSHPublicKeys", UserName=user_name)
        user = credential_owner(ctx, user_name)
        if user is None:
            return []  # the root user has no SSH keys
        return list(
            SshPublicKey.objects.in_account(ctx.account_id).filter(user=user).select_related("user").order_by("pk")
        )


def update_ssh_public_key(ctx: CallContext, *, user_name: str, ssh_public_key_id: str, status: str) -> None:
    params = {"userName": user_name, "sSHPublicKeyId": ssh_public_key_id, "status": status}
    with iam_call(ctx, "iam:UpdateSSHPublicKey", user_arn(ctx, user_name), params):
        check_input("iam", "UpdateSSHPublicKey", UserName=user_name, SSHPublicKeyId=ssh_public_key_id, Status=status)
        check_enum("status", status, STATUSES)
        key = _find_ssh_key(ctx.account_id, find_user(ctx.account_id, user_name), ssh_public_key_id, lock=True)
        if key.status != status:
            key.status = status
            key.save(update_fields=["status"])


def delete_ssh_public_key(ctx: CallContext, *, user_name: str, ssh_public_key_id: str) -> None:
    params = {"userName": user_name, "sSHPublicKeyId": ssh_public_key_id}
    with iam_call(ctx, "iam:DeleteSSHPublicKey", user_arn(ctx, user_name), params):
        check_input("iam", "DeleteSSHPublicKey", UserName=user_name, SSHPublicKeyId=ssh_public_key_id)
        _find_ssh_key(ctx.account_id, find_user(ctx.account_id, user_name), ssh_public_key_id).delete()


# ---- service-specific credentials -------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewServiceCredential:
    """Create/ResetServiceSpecificCredential's result: the credential and its password (or API key secret),
    which nothing else ever returns again."""

    credential: ServiceSpecificCredential
    secret: str = field(repr=False)

    @property
    def is_api_key(self) -> bool:
        return self.credential.service_name in API_KEY_SERVICES


def _check_service(service_name: str) -> None:
    if service_name not in SUPPORTED_SERVICES:
        raise ServiceNotSupported(f"No such service {service_name} is supported for Service-Specific Credentials")


def _new_secret(service_name: str) -> str:
    # Git and Keyspaces passwords are 44 characters of base64; a Bedrock API key secret is longer.
    size = 96 if service_name in API_KEY_SERVICES else 33
    return base64.b64encode(secrets.token_bytes(size)).decode()


def _find_service_credential(
    account_id: str, user: IamUser | None, credential_id: str, *, lock: bool = False
) -> ServiceSpecificCredential:
    found = ServiceSpecificCredential.objects.in_account(account_id).filter(credential_id=credential_id, user=user)
    credential = (found.select_for_update() if lock else found).select_related("user").first()
    if credential is None:
        raise NoSuchEntity(f"No such credential {credential_id} exists")
    return credential


def create_service_specific_credential(
    ctx: CallContext, *, user_name: str, service_name: str, credential_age_days: int | None = None
) -> NewServiceCredential:
    params = {"userName": user_name, "serviceName": service_name, "credentialAgeDays": credential_age_days}
    with iam_call(ctx, "iam:CreateServiceSpecificCredential", user_arn(ctx, user_name), params) as call:
        check_input(
            "iam",
            "CreateServiceSpecificCredential",
            UserName=user_name,
            ServiceName=service_name,
            CredentialAgeDays=credential_age_days,
        )
        user = find_user(ctx.account_id, user_name)
        _check_service(service_name)
        if credential_age_days is not None and service_name not in API_KEY_SERVICES:
            raise InvalidInput("CredentialAgeDays is only valid for services that support long-term API keys.")
        lock_owner(ctx.account_id, user)
        existing = ServiceSpecificCredential.objects.in_account(ctx.account_id).filter(
            user=user, service_name=service_name
        )
        if existing.count() >= SERVICE_CREDENTIALS_PER_SERVICE:
            quota = "ServiceSpecificCredentialsPerUserPerService"
            raise LimitExceeded(f"Cannot exceed quota for {quota}: {SERVICE_CREDENTIALS_PER_SERVICE}")
        now, secret = clock.now(), _new_secret(service_name)
        if service_name in API_KEY_SERVICES:
            # A Bedrock API key is named by an alias; its user name part is the IAM user's.
            service_user_name = f"BedrockAPIKey-{ids.new_id('', 4).lower()}-at-{ctx.account_id}"
        else:
            service_user_name = f"{user.name}-at-{ctx.account_id}"
        credential = ServiceSpecificCredential.objects.create(
            account_id=ctx.account_id,
            user=user,
            credential_id=ids.new_id("ACCA"),
            service_name=service_name,
            service_user_name=service_user_name,
            password_hash=hash_password(secret),
            status="Active",
            created_at=now,
            expires_at=now + timedelta(days=credential_age_days) if credential_age_days else None,
        )
        call.response = {
            "serviceSpecificCredential": {
                "serviceSpecificCredentialId": credential.credential_id,
                "serviceName": service_name,
                "userName": user.name,
                "status": "Active",
            }
        }  # never the password
        return NewServiceCredential(credential, secret)


def list_service_specific_credentials(
    ctx: CallContext, *, user_name: str | None = None, service_name: str | None = None, all_users: bool = False
) -> list[ServiceSpecificCredential]:
    params = {"userName": user_name, "serviceName": service_name, "allUsers": all_users or None}
    resource = arns.account_wildcard(ctx.account_id, "user") if all_users else target_arn(ctx, user_name)
    with iam_call(ctx, "iam:ListServiceSpecificCredentials", resource, params):
        check_input("iam", "ListServiceSpecificCredentials", UserName=user_name, ServiceName=service_name)
        if all_users and user_name is not None:
            raise InvalidInput("AllUsers cannot be specified together with UserName.")
        if service_name is not None:
            _check_service(service_name)
        found = ServiceSpecificCredential.objects.in_account(ctx.account_id).select_related("user")
        if not all_users:
            user = credential_owner(ctx, user_name)
            if user is None:
                return []  # the root user has none
            found = found.filter(user=user)
        if service_name is not None:
            found = found.filter(service_name=service_name)
        return list(found.order_by("created_at", "pk"))


def reset_service_specific_credential(
    ctx: CallContext, *, service_specific_credential_id: str, user_name: str | None = None
) -> NewServiceCredential:
    params = {"userName": user_name, "serviceSpecificCredentialId": service_specific_credential_id}
    with iam_call(ctx, "iam:ResetServiceSpecificCredential", target_arn(ctx, user_name), params):
        check_input(
            "iam",
            "ResetServiceSpecificCredential",
            UserName=user_name,
            ServiceSpecificCredentialId=service_specific_credential_id,
        )
        credential = _find_service_credential(
            ctx.account_id, credential_owner(ctx, user_name), service_specific_credential_id, lock=True
        )
        secret = _new_secret(credential.service_name)
        credential.password_hash = hash_password(secret)  # the previous password stops working at once
        credential.save(update_fields=["password_hash"])
        return NewServiceCredential(credential, secret)


def update_service_specific_credential(
    ctx: CallContext, *, service_specific_credential_id: str, status: str, user_name: str | None = None
) -> None:
    params = {"userName": user_name, "serviceSpecificCredentialId": service_specific_credential_id, "status": status}
    with iam_call(ctx, "iam:UpdateServiceSpecificCredential", target_arn(ctx, user_name), params):
        check_input(
            "iam",
            "UpdateServiceSpecificCredential",
            UserName=user_name,
            ServiceSpecificCredentialId=service_specific_credential_id,
            Status=status,
        )
        check_enum("status", status, STATUSES)
        credential = _find_service_credential(
            ctx.account_id, credential_owner(ctx, user_name), service_specific_credential_id, lock=True
        )
        if credential.status != status:
            credential.status = status
            credential.save(update_fields=["status"])


def delete_service_specific_credential(
    ctx: CallContext, *, service_specific_credential_id: str, user_name: str | None = None
) -> None:
    params = {"userName": user_name, "serviceSpecificCredentialId": service_specific_credential_id}
    with iam_call(ctx, "iam:DeleteServiceSpecificCredential", target_arn(ctx, user_name), params):
        check_input(
            "iam",
            "DeleteServiceSpecificCredential",
            UserName=user_name,
            ServiceSpecificCredentialId=service_specific_credential_id,
        )
        _find_service_credential(
            ctx.account_id, credential_owner(ctx, user_name), service_specific_credential_id
        ).delete()


# ---- X.509 signing certificates ---------------------------------------------------------------------------------


def _certificates_of(account_id: str, user: IamUser | None):  # type: ignore[no-untyped-def]
    certs = SigningCertificate.objects.in_account(account_id)
    return certs.filter(user__isnull=True) if user is None else certs.filter(user=user)


def parse_certificate(body: str) -> x509.Certificate:
    """A PEM X.509 certificate, or MalformedCertificate; one outside its validity period is InvalidCertificate."""
    try:
        cert = x509.load_pem_x509_certificate(body.strip().encode("latin-1"))
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    except (ValueError, UnicodeEncodeError):
        raise MalformedCertificate(
            "Unable to parse certificate. Please ensure the certificate is in PEM format."
        ) from None
    now = clock.now()
    if not not_before <= now <= not_after:
        raise InvalidCertificate("The certificate is expired or not yet valid.")
    return cert


def _find_certificate(
    account_id: str, user: IamUser | None, certificate_id: str, *, lock: bool = False
) -> SigningCertificate:
    found = _certificates_of(account_id, user).filter(certificate_id=certificate_id)
    cert = (found.select_for_update() if lock else found).first()
    if cert is None:
        raise NoSuchEntity(f"The Certificate with id {certificate_id} cannot be found.")
    return cert


def upload_signing_certificate(
    ctx: CallContext, *, certificate_body: str, user_name: str | None = None
) -> SigningCertificate:
    with iam_call(ctx, "iam:UploadSigningCertificate", target_arn(ctx, user_name), {"userName": user_name}) as call:
        check_input("iam", "UploadSigningCertificate", UserName=user_name, CertificateBody=certificate_body)
        user = credential_owner(ctx, user_name)
        cert = parse_certificate(certificate_body)
        fingerprint = cert.fingerprint(hashes.SHA256()).hex()
        lock_owner(ctx.account_id, user)
        if SigningCertificate.objects.in_account(ctx.account_id).filter(fingerprint=fingerprint).exists():
            raise DuplicateCertificate("The same certificate is associated with an IAM user in the account.")
        if _certificates_of(ctx.account_id, user).count() >= SIGNING_CERTIFICATES_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for SigningCertificatesPerUser: {SIGNING_CERTIFICATES_PER_USER}")
        created = SigningCertificate.objects.create(
            account_id=ctx.account_id,
            user=user,
            certificate_id=ids.new_id("", 32),
            body=certificate_body.strip(),
            fingerprint=fingerprint,
            status="Active",
            uploaded_at=clock.now(),
        )
        call.response = {"certificate": {"certificateId": created.certificate_id, "status": "Active"}}
        return created


def list_signing_certificates(ctx: CallContext, *, user_name: str | None = None) -> list[SigningCertificate]:
    with iam_call(ctx, "iam:ListSigningCertificates", target_arn(ctx, user_name), {"userName": user_name}):
        check_input("iam", "ListSigningCertificates", UserName=user_name)
        user = credential_owner(ctx, user_name)
        return list(_certificates_of(ctx.account_id, user).select_related("user").order_by("uploaded_at", "pk"))


def update_signing_certificate(
    ctx: CallContext, *, certificate_id: str, status: str, user_name: str | None = None
) -> None:
    params = {"userName": user_name, "certificateId": certificate_id, "status": status}
    with iam_call(ctx, "iam:UpdateSigningCertificate", target_arn(ctx, user_name), params):
        check_input("iam", "UpdateSigningCertificate", UserName=user_name, CertificateId=certificate_id, Status=status)
        check_enum("status", status, STATUSES)
        cert = _find_certificate(ctx.account_id, credential_owner(ctx, user_name), certificate_id, lock=True)
        if cert.status != status:
            cert.status = status
            cert.save(update_fields=["status"])


def delete_signing_certificate(ctx: CallContext, *, certificate_id: str, user_name: str | None = None) -> None:
    params = {"userName": user_name, "certificateId": certificate_id}
    with iam_call(ctx, "iam:DeleteSigningCertificate", target_arn(ctx, user_name), params):
        check_input("iam", "DeleteSigningCertificate", UserName=user_name, CertificateId=certificate_id)
        _find_certificate(ctx.account_id, credential_owner(ctx, user_name), certificate_id).delete()


# ---- STS preferences --------------------------------------------------------------------------------------------


def set_security_token_service_preferences(ctx: CallContext, *, global_endpoint_token_version: str) -> None:
    params = {"globalEndpointTokenVersion": global_endpoint_token_version}
    with iam_call(ctx, "iam:SetSecurityTokenServicePreferences", "*", params):
        check_input(
            "iam", "SetSecurityTokenServicePreferences", GlobalEndpointTokenVersion=global_endpoint_token_version
        )
        check_enum("globalEndpointTokenVersion", global_endpoint_token_version, TOKEN_VERSIONS)
        Account.objects.filter(pk=ctx.account_id).update(global_endpoint_token_version=global_endpoint_token_version)


def global_endpoint_token_version(account_id: str) -> str:
    """The account's setting, for the Account settings page (a read of the account's own row, not an AWS action)."""
    return (
        Account.objects.filter(pk=account_id).values_list("global_endpoint_token_version", flat=True).first()
        or (TOKEN_VERSIONS[0])
    )
