"""Server certificates (issue 14, section 2): Upload/Get/List/Update/DeleteServerCertificate and their tags.

One public function per AWS action, each inside ``iam_call``. An upload is parsed with ``cryptography`` and checked
as IAM checks it ("Working with server certificates" in the IAM User Guide; UploadServerCertificate's errors): the
certificate and the private key must be PEM, the key unencrypted and of a kind IAM accepts, the key must be the
certificate's (KeyPairMismatch), the chain must start with the certificate that signed it and go on in order
(MalformedCertificate naming the index), and the certificate must be within its validity period. The private key
is not stored (see the model). AWS has no console page for server certificates, so neither has this product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from core import arns, clock, ids
from core.calls import authorize, iam_call
from core.context import CallContext
from core.errors import EntityAlreadyExists, IamError, LimitExceeded, NoSuchEntity
from core.validation import check_input
from identities.models import ServerCertificate
from identities.services import Tag, check_tags, merge_tags

SERVER_CERTIFICATES_PER_ACCOUNT = 20  # GetAccountSummary's ServerCertificatesQuota
RSA_KEY_BITS = (1024, 2048, 3072, 4096)
EC_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)

CHAIN_ORDER = (
    "Unable to validate certificate chain. The certificate chain must start with the immediate signing "
    "certificate, followed by any intermediaries in order. The index within the chain of the invalid certificate "
    "is: {index}"
)


class MalformedCertificate(IamError):
    code, status = "MalformedCertificate", 400


class KeyPairMismatch(IamError):
    code, status = "KeyPairMismatch", 400


@dataclass(frozen=True)
class ParsedServerCertificate:
    body: str
    chain: str | None
    expires_at: datetime


def _load_certificates(text: str) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(text.strip().encode("latin-1"))
    except (ValueError, UnicodeEncodeError):
        raise MalformedCertificate(
            "Unable to parse certificate. Please ensure the certificate is in PEM format."
        ) from None


def _signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _public_der(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def parse_server_certificate(body: str, private_key: str, chain: str | None) -> ParsedServerCertificate:
    """Check an upload as IAM does; raises MalformedCertificate or KeyPairMismatch."""
    found = _load_certificates(body)
    if len(found) != 1:
        raise MalformedCertificate("Unable to parse certificate. Please ensure the certificate is in PEM format.")
    cert = found[0]
    now = clock.now()
    if now > cert.not_valid_after_utc:
        raise MalformedCertificate("Certificate is expired.")
    if now < cert.not_valid_before_utc:
        raise MalformedCertificate("Certificate is not yet valid.")
    try:
        key: Any = serialization.load_pem_private_key(private_key.strip().encode("latin-1"), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm, UnicodeEncodeError):
        # TypeError: an encrypted key (IAM takes only unencrypted keys).
        raise MalformedCertificate("Invalid Private Key.") from None
    supported = (isinstance(key, rsa.RSAPrivateKey) and key.key_size in RSA_KEY_BITS) or (
        isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, EC_CURVES)
    )
    if not supported:
        raise MalformedCertificate("Invalid Private Key.")
    if _public_der(key.public_key()) != _public_der(cert.public_key()):
        raise KeyPairMismatch("The public key certificate and the private key do not match.")
    if chain is not None:
        issued = cert
        for index, issuer in enumerate(_load_certificates(chain)):
            if not _signed_by(issued, issuer):
                raise MalformedCertificate(CHAIN_ORDER.format(index=index))
            issued = issuer
    return ParsedServerCertificate(body.strip(), chain.strip() if chain is not None else None, cert.not_valid_after_utc)


# ---- lookups ----------------------------------------------------------------------------------------------------


def server_certificate_arn(ctx: CallContext, name: str) -> str:
    """The ARN a call about certificate ``name`` is authorized against (its real path when it exists)."""
    found = ServerCertificate.objects.in_account(ctx.account_id).named(name).only("arn").first()
    return found.arn if found else arns.server_certificate(ctx.account_id, "/", name)


def find_server_certificate(account_id: str, name: str, *, lock: bool = False) -> ServerCertificate:
    found = ServerCertificate.objects.in_account(account_id).named(name)
    cert = (found.select_for_update() if lock else found).first()
    if cert is None:
        raise NoSuchEntity(f"The Server Certificate with name {name} cannot be found.")
    return cert


# ---- the actions ------------------------------------------------------------------------------------------------


def upload_server_certificate(
    ctx: CallContext,
    *,
    server_certificate_name: str,
    certificate_body: str,
    private_key: str,
    path: str | None = None,
    certificate_chain: str | None = None,
    tags: Sequence[Tag] = (),
) -> ServerCertificate:
    path = path or "/"
    arn = arns.server_certificate(ctx.account_id, path, server_certificate_name)
    tag_dicts = [t.as_dict() for t in tags] or None
    # The private key is a secret: never in the audit record.
    params = {"serverCertificateName": server_certificate_name, "path": path, "tags": tag_dicts}
    with iam_call(ctx, "iam:UploadServerCertificate", arn, params) as call:
        check_input(
            "iam",
            "UploadServerCertificate",
            Path=path,
            ServerCertificateName=server_certificate_name,
            CertificateBody=certificate_body,
            PrivateKey=private_key,
            CertificateChain=certificate_chain,
            Tags=tag_dicts,
        )
        check_tags(tags)
        parsed = parse_server_certificate(certificate_body, private_key, certificate_chain)
        call.on_conflict = EntityAlreadyExists(
            f"The Server Certificate with name {server_certificate_name} already exists."
        )
        existing = ServerCertificate.objects.in_account(ctx.account_id)
        if existing.named(server_certificate_name).exists():
            raise call.on_conflict
        if existing.count() >= SERVER_CERTIFICATES_PER_ACCOUNT:
            raise LimitExceeded(
                f"Cannot exceed quota for ServerCertificatesPerAccount: {SERVER_CERTIFICATES_PER_ACCOUNT}"
            )
        created = ServerCertificate.objects.create(
            account_id=ctx.account_id,
            server_certificate_id=ids.new_id("ASCA"),
            name=server_certificate_name,
            path=path,
            arn=arn,
            body=parsed.body,
            chain=parsed.chain or "",
            uploaded_at=clock.now(),
            expires_at=parsed.expires_at,
            tags=[t.as_dict() for t in tags],
        )
        call.response = {
            "serverCertificateMetadata": {
                "serverCertificateName": created.name,
                "serverCertificateId": created.server_certificate_id,
                "arn": created.arn,
            }
        }
        return created


def get_server_certificate(ctx: CallContext, *, server_certificate_name: str) -> ServerCertificate:
    params = {"serverCertificateName": server_certificate_name}
    with iam_call(ctx, "iam:GetServerCertificate", server_certificate_arn(ctx, server_certificate_name), params):
        check_input("iam", "GetServerCertificate", ServerCertificateName=server_certificate_name)
        return find_server_certificate(ctx.account_id, server_certificate_name)


def list_server_certificates(ctx: CallContext, *, path_prefix: str | None = None) -> list[ServerCertificate]:
    prefix = path_prefix or "/"
    resource = arns.account_wildcard(ctx.account_id, "server-certificate")
    with iam_call(ctx, "iam:ListServerCertificates", resource, {"pathPrefix": path_prefix}):
        check_input("iam", "ListServerCertificates", PathPrefix=path_prefix)
        return list(
            ServerCertificate.objects.in_account(ctx.account_id).filter(path__startswith=prefix).order_by("name", "pk")
        )


def update_server_certificate(
    ctx: CallContext,
    *,
    server_certificate_name: str,
    new_path: str | None = None,
    new_server_certificate_name: str | None = None,
) -> ServerCertificate:
    """Rename and/or move a certificate. As for UpdateGroup, AWS requires the permission on both the old and the
    new ARN (UpdateServerCertificate's documentation)."""
    params = {
        "serverCertificateName": server_certificate_name,
        "newPath": new_path,
        "newServerCertificateName": new_server_certificate_name,
    }
    resource = server_certificate_arn(ctx, server_certificate_name)
    with iam_call(ctx, "iam:UpdateServerCertificate", resource, params) as call:
        check_input(
            "iam",
            "UpdateServerCertificate",
            ServerCertificateName=server_certificate_name,
            NewPath=new_path,
            NewServerCertificateName=new_server_certificate_name,
        )
        cert = find_server_certificate(ctx.account_id, server_certificate_name, lock=True)
        name, path = new_server_certificate_name or cert.name, new_path or cert.path
        new_arn = arns.server_certificate(ctx.account_id, path, name)
        if new_arn != cert.arn:
            authorize(ctx, "iam:UpdateServerCertificate", new_arn, {})
        call.on_conflict = EntityAlreadyExists(f"The Server Certificate with name {name} already exists.")
        others = ServerCertificate.objects.in_account(ctx.account_id).exclude(pk=cert.pk)
        if others.named(name).exists():
            raise call.on_conflict
        cert.name, cert.path, cert.arn = name, path, new_arn
        cert.save(update_fields=["name", "path", "arn"])
        return cert


def delete_server_certificate(ctx: CallContext, *, server_certificate_name: str) -> None:
    params = {"serverCertificateName": server_certificate_name}
    with iam_call(ctx, "iam:DeleteServerCertificate", server_certificate_arn(ctx, server_certificate_name), params):
        check_input("iam", "DeleteServerCertificate", ServerCertificateName=server_certificate_name)
        find_server_certificate(ctx.account_id, server_certificate_name).delete()


def tag_server_certificate(ctx: CallContext, *, server_certificate_name: str, tags: Sequence[Tag]) -> None:
    tag_dicts = [t.as_dict() for t in tags]
    params = {"serverCertificateName": server_certificate_name, "tags": tag_dicts}
    with iam_call(ctx, "iam:TagServerCertificate", server_certificate_arn(ctx, server_certificate_name), params):
        check_input("iam", "TagServerCertificate", ServerCertificateName=server_certificate_name, Tags=tag_dicts)
        cert = find_server_certificate(ctx.account_id, server_certificate_name, lock=True)
        cert.tags = merge_tags(cert.tags, tags, "server-certificate")
        cert.save(update_fields=["tags"])


def untag_server_certificate(ctx: CallContext, *, server_certificate_name: str, tag_keys: Sequence[str]) -> None:
    params = {"serverCertificateName": server_certificate_name, "tagKeys": list(tag_keys)}
    with iam_call(ctx, "iam:UntagServerCertificate", server_certificate_arn(ctx, server_certificate_name), params):
        check_input(
            "iam", "UntagServerCertificate", ServerCertificateName=server_certificate_name, TagKeys=list(tag_keys)
        )
        cert = find_server_certificate(ctx.account_id, server_certificate_name, lock=True)
        drop = {k.lower() for k in tag_keys}
        cert.tags = [t for t in cert.tags if t["Key"].lower() not in drop]
        cert.save(update_fields=["tags"])


def list_server_certificate_tags(ctx: CallContext, *, server_certificate_name: str) -> list[dict[str, str]]:
    params = {"serverCertificateName": server_certificate_name}
    with iam_call(ctx, "iam:ListServerCertificateTags", server_certificate_arn(ctx, server_certificate_name), params):
        check_input("iam", "ListServerCertificateTags", ServerCertificateName=server_certificate_name)
        return list(find_server_certificate(ctx.account_id, server_certificate_name).tags)
