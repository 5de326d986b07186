"""Server certificates through the real boto3 client against a live server: upload (parsed and checked as IAM does:
PEM, the key matching the certificate, the chain in order, validity, the per-account quota), get, list, rename and
move, delete, tags, and the account summary's count."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from audit.models import AuditEvent
from identities.models import IamUser, ServerCertificate
from tests.awsapi.conftest import client, issue_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def code(err: pytest.ExceptionInfo) -> str:
    return err.value.response["Error"]["Code"]


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def issue(subject: str, key, *, issuer: str | None = None, issuer_key=None, days: int = 90, start_days: int = -1):
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer or subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=start_days))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(issuer_key or key, hashes.SHA256())
    )
    return cert


def pem(cert) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def pki():
    """A root CA, an intermediate it signed, and a leaf (www.example.com) the intermediate signed."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    inter_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = issue("Classroom Root CA", root_key)
    inter = issue("Classroom Intermediate", inter_key, issuer="Classroom Root CA", issuer_key=root_key)
    leaf = issue("www.example.com", leaf_key, issuer="Classroom Intermediate", issuer_key=inter_key)
    return {"leaf": pem(leaf), "key": key_pem(leaf_key), "chain": pem(inter) + pem(root), "root": pem(root), "x": leaf}


def test_upload_get_list_update_delete(iam, account, pki):
    out = iam.upload_server_certificate(
        ServerCertificateName="web",
        Path="/cloudfront/",
        CertificateBody=pki["leaf"],
        PrivateKey=pki["key"],
        CertificateChain=pki["chain"],
        Tags=[{"Key": "team", "Value": "web"}],
    )
    meta = out["ServerCertificateMetadata"]
    assert meta["Arn"] == f"arn:aws:iam::{account.id}:server-certificate/cloudfront/web"
    assert meta["ServerCertificateId"].startswith("ASCA") and meta["Path"] == "/cloudfront/"
    assert meta["Expiration"] == pki["x"].not_valid_after_utc.replace(microsecond=0)
    assert out["Tags"] == [{"Key": "team", "Value": "web"}]

    got = iam.get_server_certificate(ServerCertificateName="WEB")["ServerCertificate"]  # names are case-insensitive
    assert got["CertificateBody"] == pki["leaf"].strip()
    assert got["CertificateChain"] == pki["chain"].strip()
    assert got["ServerCertificateMetadata"]["ServerCertificateName"] == "web"
    assert "PrivateKey" not in got  # IAM never returns the key, and the product does not keep it
    assert "PRIVATE KEY" not in ServerCertificate.objects.get().body
    for event in AuditEvent.objects.filter(event_name="UploadServerCertificate"):
        assert "PRIVATE KEY" not in json.dumps(event.record)

    assert iam.get_account_summary()["SummaryMap"]["ServerCertificates"] == 1
    listed = iam.list_server_certificates(PathPrefix="/cloudfront/")["ServerCertificateMetadataList"]
    assert [c["ServerCertificateName"] for c in listed] == ["web"]
    assert iam.list_server_certificates(PathPrefix="/elb/")["ServerCertificateMetadataList"] == []

    iam.update_server_certificate(ServerCertificateName="web", NewServerCertificateName="web-2025", NewPath="/elb/")
    moved = iam.get_server_certificate(ServerCertificateName="web-2025")["ServerCertificate"]
    assert moved["ServerCertificateMetadata"]["Arn"] == f"arn:aws:iam::{account.id}:server-certificate/elb/web-2025"
    with pytest.raises(ClientError) as err:
        iam.get_server_certificate(ServerCertificateName="web")
    assert code(err) == "NoSuchEntity"
    assert err.value.response["Error"]["Message"] == "The Server Certificate with name web cannot be found."

    iam.delete_server_certificate(ServerCertificateName="web-2025")
    assert iam.list_server_certificates()["ServerCertificateMetadataList"] == []
    with pytest.raises(ClientError) as err:
        iam.delete_server_certificate(ServerCertificateName="web-2025")
    assert code(err) == "NoSuchEntity"


def test_upload_is_checked_as_iam_checks_it(iam, pki):
    def refused(**kw) -> tuple[str, str]:
        args = {"ServerCertificateName": "c", "CertificateBody": pki["leaf"], "PrivateKey": pki["key"], **kw}
        with pytest.raises(ClientError) as err:
            iam.upload_server_certificate(**args)
        return code(err), err.value.response["Error"]["Message"]

    assert refused(CertificateBody="-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----") == (
        "MalformedCertificate",
        "Unable to parse certificate. Please ensure the certificate is in PEM format.",
    )
    assert refused(PrivateKey="-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----") == (
        "MalformedCertificate",
        "Invalid Private Key.",
    )
    encrypted = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
        .decode()
    )
    assert refused(PrivateKey=encrypted)[0] == "MalformedCertificate"  # IAM takes unencrypted keys only
    other_key = key_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    assert refused(PrivateKey=other_key) == (
        "KeyPairMismatch",
        "The public key certificate and the private key do not match.",
    )
    # The chain must start with the certificate that signed the body: the root alone did not.
    assert refused(CertificateChain=pki["root"])[0] == "MalformedCertificate"
    assert refused(CertificateChain=pki["root"])[1].endswith(
        "The index within the chain of the invalid certificate is: 0"
    )
    key = ec.generate_private_key(ec.SECP256R1())
    expired = pem(issue("old", key, days=-1, start_days=-30))
    assert refused(CertificateBody=expired, PrivateKey=key_pem(key))[0] == "MalformedCertificate"
    assert refused(ServerCertificateName="bad name")[0] == "ValidationError"
    assert iam.list_server_certificates()["ServerCertificateMetadataList"] == []  # nothing was created

    iam.upload_server_certificate(ServerCertificateName="dup", CertificateBody=pki["leaf"], PrivateKey=pki["key"])
    assert refused(ServerCertificateName="DUP") == (
        "EntityAlreadyExists",
        "The Server Certificate with name DUP already exists.",
    )


def test_quota_of_twenty_per_account(iam):
    key = ec.generate_private_key(ec.SECP256R1())
    body, private = pem(issue("q", key)), key_pem(key)
    for n in range(20):
        iam.upload_server_certificate(ServerCertificateName=f"c{n}", CertificateBody=body, PrivateKey=private)
    with pytest.raises(ClientError) as err:
        iam.upload_server_certificate(ServerCertificateName="c20", CertificateBody=body, PrivateKey=private)
    assert code(err) == "LimitExceeded"
    assert err.value.response["Error"]["Message"] == "Cannot exceed quota for ServerCertificatesPerAccount: 20"
    page = iam.list_server_certificates(MaxItems=15)
    assert page["IsTruncated"] and len(page["ServerCertificateMetadataList"]) == 15
    rest = iam.list_server_certificates(Marker=page["Marker"])
    assert len(rest["ServerCertificateMetadataList"]) == 5 and not rest["IsTruncated"]


def test_tags(iam, pki):
    iam.upload_server_certificate(ServerCertificateName="web", CertificateBody=pki["leaf"], PrivateKey=pki["key"])
    iam.tag_server_certificate(
        ServerCertificateName="web", Tags=[{"Key": "Env", "Value": "prod"}, {"Key": "a", "Value": ""}]
    )
    iam.tag_server_certificate(ServerCertificateName="web", Tags=[{"Key": "env", "Value": "test"}])
    assert iam.list_server_certificate_tags(ServerCertificateName="web")["Tags"] == [
        {"Key": "env", "Value": "test"},
        {"Key": "a", "Value": ""},
    ]
    iam.untag_server_certificate(ServerCertificateName="web", TagKeys=["A", "missing"])
    assert iam.list_server_certificate_tags(ServerCertificateName="web")["Tags"] == [{"Key": "env", "Value": "test"}]
    with pytest.raises(ClientError) as err:
        iam.tag_server_certificate(ServerCertificateName="web", Tags=[{"Key": "aws:x", "Value": "y"}])
    assert code(err) == "InvalidInput"
    with pytest.raises(ClientError) as err:
        iam.list_server_certificate_tags(ServerCertificateName="gone")
    assert code(err) == "NoSuchEntity"


def test_rename_needs_permission_on_the_new_name_too(live_server, iam, account, pki):
    iam.upload_server_certificate(ServerCertificateName="web", CertificateBody=pki["leaf"], PrivateKey=pki["key"])
    iam.create_user(UserName="ops")
    only_old = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["iam:UpdateServerCertificate", "iam:GetServerCertificate"],
                "Resource": f"arn:aws:iam::{account.id}:server-certificate/web",
            }
        ],
    }
    iam.put_user_policy(UserName="ops", PolicyName="p", PolicyDocument=json.dumps(only_old))
    ops = client(live_server, "iam", *issue_key(account.id, IamUser.objects.get(name="ops")))
    assert ops.get_server_certificate(ServerCertificateName="web")["ServerCertificate"]
    with pytest.raises(ClientError) as err:
        ops.update_server_certificate(ServerCertificateName="web", NewServerCertificateName="web2")
    assert code(err) == "AccessDenied" and "server-certificate/web2" in str(err.value)
    with pytest.raises(ClientError) as err:
        ops.list_server_certificates()
    assert code(err) == "AccessDenied"
    assert iam.get_server_certificate(ServerCertificateName="web")["ServerCertificate"]  # nothing changed
