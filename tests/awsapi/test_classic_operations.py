"""Issue 14's classic operations through the real boto3 client against a live server: UpdateGroup, GetMFADevice,
tags on MFA devices and instance profiles, SSH public keys, service-specific credentials, signing certificates and
SetSecurityTokenServicePreferences."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from audit.models import AuditEvent
from core.passwords import verify_password
from identities.models import Account, IamUser, MfaDevice, ServiceSpecificCredential
from tests.awsapi.conftest import client, issue_key

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DOC = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


def code(err: pytest.ExceptionInfo) -> str:
    return err.value.response["Error"]["Code"]


def ssh_rsa(bits: int = 2048) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def md5_fingerprint(openssh: str) -> str:
    digest = hashlib.md5(base64.b64decode(openssh.split()[1])).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def certificate(*, days: int = 30, start_days: int = -1) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "student")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=start_days))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


# ---- UpdateGroup ------------------------------------------------------------------------------------------------


def test_update_group_renames_and_moves_with_everything_attached(iam, account):
    iam.create_user(UserName="alice")
    iam.create_group(GroupName="Managers")
    iam.add_user_to_group(GroupName="Managers", UserName="alice")
    iam.attach_group_policy(GroupName="Managers", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.put_group_policy(GroupName="Managers", PolicyName="inline", PolicyDocument=DOC)

    iam.update_group(GroupName="managers", NewGroupName="MGRs", NewPath="/staff/")

    group = iam.get_group(GroupName="MGRs")
    assert group["Group"]["Arn"] == f"arn:aws:iam::{account.id}:group/staff/MGRs"
    assert group["Group"]["Path"] == "/staff/"
    assert [u["UserName"] for u in group["Users"]] == ["alice"]
    assert [p["PolicyName"] for p in iam.list_attached_group_policies(GroupName="MGRs")["AttachedPolicies"]] == [
        "ReadOnlyAccess"
    ]
    assert iam.list_group_policies(GroupName="MGRs")["PolicyNames"] == ["inline"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="alice")["Groups"]] == ["MGRs"]
    with pytest.raises(ClientError) as err:
        iam.get_group(GroupName="Managers")
    assert code(err) == "NoSuchEntity"
    assert AuditEvent.objects.filter(event_name="UpdateGroup", error_code="").exists()


def test_update_group_errors(iam):
    iam.create_group(GroupName="a")
    iam.create_group(GroupName="b")
    with pytest.raises(ClientError) as err:
        iam.update_group(GroupName="a", NewGroupName="B")
    assert code(err) == "EntityAlreadyExists" and "Group with name B already exists." in str(err.value)
    with pytest.raises(ClientError) as err:
        iam.update_group(GroupName="ghost", NewGroupName="c")
    assert code(err) == "NoSuchEntity" and "The group with name ghost cannot be found." in str(err.value)
    with pytest.raises(ClientError) as err:
        iam.update_group(GroupName="a", NewPath="no-slashes")
    assert code(err) == "ValidationError"
    iam.update_group(GroupName="a", NewGroupName="A")  # a change of case only is a rename, not a conflict
    assert iam.get_group(GroupName="a")["Group"]["GroupName"] == "A"


def test_update_group_needs_permission_on_the_new_name_too(live_server, iam, account):
    """AWS: to rename Managers to MGRs, the principal must be allowed to update both groups."""
    iam.create_group(GroupName="Managers")
    iam.create_user(UserName="admin")
    only_old = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:UpdateGroup", "Resource": f"arn:aws:iam::{account.id}:group/Managers"}
        ],
    }
    iam.put_user_policy(UserName="admin", PolicyName="p", PolicyDocument=json.dumps(only_old))
    admin = client(live_server, "iam", *issue_key(account.id, IamUser.objects.get(name="admin")))
    with pytest.raises(ClientError) as err:
        admin.update_group(GroupName="Managers", NewGroupName="MGRs")
    assert code(err) == "AccessDenied" and "group/MGRs" in str(err.value)
    assert iam.get_group(GroupName="Managers")["Group"]["GroupName"] == "Managers"  # nothing changed


# ---- GetMFADevice and tags --------------------------------------------------------------------------------------


def test_mfa_device_tags_and_get_mfa_device(iam, account):
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="spare")["VirtualMFADevice"]["SerialNumber"]
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "x"}])
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "TEAM", "Value": "b"}])  # same key, other case: replaced
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [
        {"Key": "TEAM", "Value": "b"},
        {"Key": "env", "Value": "x"},
    ]
    page = iam.list_mfa_device_tags(SerialNumber=serial, MaxItems=1)
    assert page["IsTruncated"] is True and len(page["Tags"]) == 1
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["team", "absent"])
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "env", "Value": "x"}]
    ghost = f"arn:aws:iam::{account.id}:mfa/ghost"
    with pytest.raises(ClientError) as err:
        iam.tag_mfa_device(SerialNumber=ghost, Tags=[{"Key": "k", "Value": "v"}])
    assert code(err) == "NoSuchEntity"
    with pytest.raises(ClientError) as err:
        iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert code(err) == "LimitExceeded"  # 1 + 50 > 50

    # GetMFADevice: an unassigned device is no user's; an enabled one is its user's.
    iam.create_user(UserName="alice")
    with pytest.raises(ClientError) as err:
        iam.get_mfa_device(SerialNumber=serial, UserName="alice")
    assert code(err) == "NoSuchEntity"
    alice = IamUser.objects.get(name="alice")
    MfaDevice.objects.filter(serial_number=serial).update(user=alice, enabled_at=dt.datetime.now(dt.UTC))
    got = iam.get_mfa_device(SerialNumber=serial, UserName="alice")
    assert got["SerialNumber"] == serial and got["UserName"] == "alice" and "EnableDate" in got


def test_instance_profile_tags(iam):
    iam.create_instance_profile(InstanceProfileName="web")
    iam.tag_instance_profile(InstanceProfileName="WEB", Tags=[{"Key": "app", "Value": "shop"}])
    assert iam.list_instance_profile_tags(InstanceProfileName="web")["Tags"] == [{"Key": "app", "Value": "shop"}]
    iam.untag_instance_profile(InstanceProfileName="web", TagKeys=["APP"])
    assert iam.list_instance_profile_tags(InstanceProfileName="web")["Tags"] == []
    with pytest.raises(ClientError) as err:
        iam.list_instance_profile_tags(InstanceProfileName="ghost")
    assert code(err) == "NoSuchEntity" and "Instance Profile ghost cannot be found." in str(err.value)
    with pytest.raises(ClientError) as err:
        iam.tag_instance_profile(
            InstanceProfileName="web", Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}]
        )
    assert code(err) == "InvalidInput"


# ---- SSH public keys --------------------------------------------------------------------------------------------


def test_ssh_public_key_lifecycle(iam):
    iam.create_user(UserName="alice")
    body = ssh_rsa() + " alice@laptop"
    key = iam.upload_ssh_public_key(UserName="alice", SSHPublicKeyBody=body)["SSHPublicKey"]
    assert key["SSHPublicKeyId"].startswith("APKA") and len(key["SSHPublicKeyId"]) == 20
    assert key["Fingerprint"] == md5_fingerprint(body) and key["Status"] == "Active"
    key_id = key["SSHPublicKeyId"]

    ssh = iam.get_ssh_public_key(UserName="alice", SSHPublicKeyId=key_id, Encoding="SSH")["SSHPublicKey"]
    assert ssh["SSHPublicKeyBody"] == " ".join(body.split()[:2])
    pem = iam.get_ssh_public_key(UserName="alice", SSHPublicKeyId=key_id, Encoding="PEM")["SSHPublicKey"]
    assert pem["SSHPublicKeyBody"].startswith("-----BEGIN PUBLIC KEY-----")

    listed = iam.list_ssh_public_keys(UserName="alice")["SSHPublicKeys"]
    assert [(k["SSHPublicKeyId"], k["Status"]) for k in listed] == [(key_id, "Active")]
    iam.update_ssh_public_key(UserName="alice", SSHPublicKeyId=key_id, Status="Inactive")
    assert iam.list_ssh_public_keys(UserName="alice")["SSHPublicKeys"][0]["Status"] == "Inactive"

    with pytest.raises(ClientError) as err:
        iam.upload_ssh_public_key(UserName="alice", SSHPublicKeyBody=body)
    assert code(err) == "DuplicateSSHPublicKey"
    # The same key as PEM is the same key.
    with pytest.raises(ClientError) as err:
        iam.upload_ssh_public_key(UserName="alice", SSHPublicKeyBody=pem["SSHPublicKeyBody"])
    assert code(err) == "DuplicateSSHPublicKey"

    iam.delete_ssh_public_key(UserName="alice", SSHPublicKeyId=key_id)
    assert iam.list_ssh_public_keys(UserName="alice")["SSHPublicKeys"] == []
    with pytest.raises(ClientError) as err:
        iam.delete_ssh_public_key(UserName="alice", SSHPublicKeyId=key_id)
    assert code(err) == "NoSuchEntity" and f"The Public Key with id {key_id} cannot be found." in str(err.value)
    assert AuditEvent.objects.filter(event_name="UploadSSHPublicKey").count() == 3


def test_ssh_public_key_validation_and_limit(iam):
    iam.create_user(UserName="bob")
    with pytest.raises(ClientError) as err:
        iam.upload_ssh_public_key(UserName="bob", SSHPublicKeyBody=ssh_rsa(1024))
    assert code(err) == "InvalidPublicKey"
    with pytest.raises(ClientError) as err:
        iam.upload_ssh_public_key(UserName="bob", SSHPublicKeyBody="ssh-rsa AAAAnot-base64!")
    assert code(err) == "InvalidPublicKey"
    with pytest.raises(ClientError) as err:
        iam.upload_ssh_public_key(UserName="bob", SSHPublicKeyBody="hello world")
    assert code(err) == "UnrecognizedPublicKeyEncoding"
    ecdsa = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    with pytest.raises(ClientError) as err:
        iam.upload_ssh_public_key(UserName="bob", SSHPublicKeyBody=ecdsa)
    assert code(err) == "UnrecognizedPublicKeyEncoding"
    with pytest.raises(ClientError) as err:
        iam.upload_ssh_public_key(UserName="ghost", SSHPublicKeyBody=ssh_rsa())
    assert code(err) == "NoSuchEntity"

    ed = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
    iam.upload_ssh_public_key(UserName="bob", SSHPublicKeyBody=ed)
    for _ in range(4):
        iam.upload_ssh_public_key(UserName="bob", SSHPublicKeyBody=ssh_rsa())
    with pytest.raises(ClientError) as err:
        iam.upload_ssh_public_key(UserName="bob", SSHPublicKeyBody=ssh_rsa())
    assert code(err) == "LimitExceeded" and "SSHPublicKeysPerUser: 5" in str(err.value)
    assert len(iam.list_ssh_public_keys(UserName="bob")["SSHPublicKeys"]) == 5


# ---- service-specific credentials -------------------------------------------------------------------------------


def test_service_specific_credentials(iam, account):
    iam.create_user(UserName="alice")
    created = iam.create_service_specific_credential(UserName="alice", ServiceName="codecommit.amazonaws.com")[
        "ServiceSpecificCredential"
    ]
    assert created["ServiceUserName"] == f"alice-at-{account.id}" and created["Status"] == "Active"
    password, cred_id = created["ServicePassword"], created["ServiceSpecificCredentialId"]
    stored = ServiceSpecificCredential.objects.get(credential_id=cred_id)
    assert password not in stored.password_hash and verify_password(stored.password_hash, password)
    event = AuditEvent.objects.get(event_name="CreateServiceSpecificCredential")
    assert password not in json.dumps(event.record)

    listed = iam.list_service_specific_credentials(UserName="alice")["ServiceSpecificCredentials"]
    assert [c["ServiceSpecificCredentialId"] for c in listed] == [cred_id]
    assert "ServicePassword" not in listed[0]

    reset = iam.reset_service_specific_credential(UserName="alice", ServiceSpecificCredentialId=cred_id)
    new_password = reset["ServiceSpecificCredential"]["ServicePassword"]
    stored.refresh_from_db()
    assert new_password != password and not verify_password(stored.password_hash, password)

    iam.update_service_specific_credential(UserName="alice", ServiceSpecificCredentialId=cred_id, Status="Inactive")
    assert iam.list_service_specific_credentials(UserName="alice")["ServiceSpecificCredentials"][0]["Status"] == (
        "Inactive"
    )
    iam.create_service_specific_credential(UserName="alice", ServiceName="codecommit.amazonaws.com")
    with pytest.raises(ClientError) as err:
        iam.create_service_specific_credential(UserName="alice", ServiceName="codecommit.amazonaws.com")
    assert code(err) == "LimitExceeded"
    keyspaces = iam.create_service_specific_credential(UserName="alice", ServiceName="cassandra.amazonaws.com")
    assert keyspaces["ServiceSpecificCredential"]["ServiceName"] == "cassandra.amazonaws.com"
    only = iam.list_service_specific_credentials(UserName="alice", ServiceName="cassandra.amazonaws.com")
    assert len(only["ServiceSpecificCredentials"]) == 1

    bedrock = iam.create_service_specific_credential(
        UserName="alice", ServiceName="bedrock.amazonaws.com", CredentialAgeDays=30
    )["ServiceSpecificCredential"]
    assert bedrock["ServiceCredentialSecret"] and bedrock["ServiceCredentialAlias"] and "ExpirationDate" in bedrock

    with pytest.raises(ClientError) as err:
        iam.create_service_specific_credential(UserName="alice", ServiceName="s3.amazonaws.com")
    assert code(err) == "NotSupportedService"
    with pytest.raises(ClientError) as err:
        iam.create_service_specific_credential(
            UserName="alice", ServiceName="codecommit.amazonaws.com", CredentialAgeDays=3
        )
    assert code(err) == "InvalidInput"

    iam.delete_service_specific_credential(UserName="alice", ServiceSpecificCredentialId=cred_id)
    with pytest.raises(ClientError) as err:
        iam.reset_service_specific_credential(UserName="alice", ServiceSpecificCredentialId=cred_id)
    assert code(err) == "NoSuchEntity"


# ---- signing certificates ---------------------------------------------------------------------------------------


def test_signing_certificates(iam):
    iam.create_user(UserName="alice")
    body = certificate()
    cert = iam.upload_signing_certificate(UserName="alice", CertificateBody=body)["Certificate"]
    assert cert["UserName"] == "alice" and cert["Status"] == "Active" and cert["CertificateBody"] == body.strip()
    cert_id = cert["CertificateId"]
    with pytest.raises(ClientError) as err:
        iam.upload_signing_certificate(UserName="alice", CertificateBody=body)
    assert code(err) == "DuplicateCertificate"
    with pytest.raises(ClientError) as err:
        iam.upload_signing_certificate(UserName="alice", CertificateBody="-----BEGIN CERTIFICATE-----\nxx\n")
    assert code(err) == "MalformedCertificate"
    with pytest.raises(ClientError) as err:
        iam.upload_signing_certificate(UserName="alice", CertificateBody=certificate(days=-1, start_days=-10))
    assert code(err) == "InvalidCertificate"

    iam.update_signing_certificate(UserName="alice", CertificateId=cert_id, Status="Inactive")
    listed = iam.list_signing_certificates(UserName="alice")["Certificates"]
    assert [(c["CertificateId"], c["Status"]) for c in listed] == [(cert_id, "Inactive")]
    iam.upload_signing_certificate(UserName="alice", CertificateBody=certificate())
    with pytest.raises(ClientError) as err:
        iam.upload_signing_certificate(UserName="alice", CertificateBody=certificate())
    assert code(err) == "LimitExceeded"
    iam.delete_signing_certificate(UserName="alice", CertificateId=cert_id)
    with pytest.raises(ClientError) as err:
        iam.update_signing_certificate(UserName="alice", CertificateId=cert_id, Status="Active")
    assert code(err) == "NoSuchEntity"
    # Without UserName the root user's own certificates.
    assert iam.list_signing_certificates()["Certificates"] == []


# ---- STS preferences --------------------------------------------------------------------------------------------


def test_set_security_token_service_preferences(iam, account):
    iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v2Token")
    assert Account.objects.get(pk=account.id).global_endpoint_token_version == "v2Token"
    with pytest.raises(ClientError) as err:
        iam.set_security_token_service_preferences(GlobalEndpointTokenVersion="v3Token")
    assert code(err) == "ValidationError"
    assert Account.objects.get(pk=account.id).global_endpoint_token_version == "v2Token"
    assert AuditEvent.objects.filter(event_name="SetSecurityTokenServicePreferences").count() == 2


def test_delete_user_refuses_while_ssh_keys_certificates_or_service_credentials_remain(iam):
    """AWS's DeleteUser: the user's SSH keys, signing certificates and service-specific credentials go first."""
    iam.create_user(UserName="carol")
    key_id = iam.upload_ssh_public_key(UserName="carol", SSHPublicKeyBody=ssh_rsa())["SSHPublicKey"]["SSHPublicKeyId"]
    cert_id = iam.upload_signing_certificate(UserName="carol", CertificateBody=certificate())["Certificate"][
        "CertificateId"
    ]
    cred_id = iam.create_service_specific_credential(UserName="carol", ServiceName="cassandra.amazonaws.com")[
        "ServiceSpecificCredential"
    ]["ServiceSpecificCredentialId"]
    for message, delete in (
        (
            "must delete SSH public keys first",
            lambda: iam.delete_ssh_public_key(UserName="carol", SSHPublicKeyId=key_id),
        ),
        (
            "must delete signing certificates first",
            lambda: iam.delete_signing_certificate(UserName="carol", CertificateId=cert_id),
        ),
        (
            "must delete service-specific credentials first",
            lambda: iam.delete_service_specific_credential(UserName="carol", ServiceSpecificCredentialId=cred_id),
        ),
    ):
        with pytest.raises(ClientError) as err:
            iam.delete_user(UserName="carol")
        assert code(err) == "DeleteConflict" and message in str(err.value)
        delete()
    iam.delete_user(UserName="carol")
    assert not IamUser.objects.filter(name="carol").exists()
