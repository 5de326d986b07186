"""IAM Query API handlers for issue 14's classic operations: UpdateGroup, GetMFADevice, tags on MFA devices and
instance profiles, SSH public keys, service-specific credentials, signing certificates and the STS token
preference (service functions in identities.services, identities.tagging and identities.user_credentials)."""

from __future__ import annotations

from typing import Any

from awsapi.dispatch import operation
from awsapi.handlers import shapes
from core.context import CallContext
from identities import services, tagging, user_credentials
from identities.services import Tag

P = dict[str, Any]


def _tags(p: P) -> list[Tag]:
    return [Tag(t.get("Key"), t.get("Value", "")) for t in p.get("Tags") or []]


def _tag_page(items: list[dict[str, str]], p: P) -> P:
    return shapes.page(shapes.tags(items), p, "Tags")


@operation("iam", "UpdateGroup")
def update_group(ctx: CallContext, p: P) -> None:
    services.update_group(
        ctx, group_name=p.get("GroupName"), new_group_name=p.get("NewGroupName"), new_path=p.get("NewPath")
    )


# ---- MFA devices and instance profiles --------------------------------------------------------------------------


@operation("iam", "GetMFADevice")
def get_mfa_device(ctx: CallContext, p: P) -> P:
    device = tagging.get_mfa_device(ctx, serial_number=p.get("SerialNumber"), user_name=p.get("UserName"))
    out: P = {"SerialNumber": device.serial_number, "EnableDate": device.enabled_at}
    if device.user is not None:
        out["UserName"] = device.user.name
    return out


@operation("iam", "TagMFADevice")
def tag_mfa_device(ctx: CallContext, p: P) -> None:
    tagging.tag_mfa_device(ctx, serial_number=p.get("SerialNumber"), tags=_tags(p))


@operation("iam", "UntagMFADevice")
def untag_mfa_device(ctx: CallContext, p: P) -> None:
    tagging.untag_mfa_device(ctx, serial_number=p.get("SerialNumber"), tag_keys=p.get("TagKeys") or [])


@operation("iam", "ListMFADeviceTags")
def list_mfa_device_tags(ctx: CallContext, p: P) -> P:
    return _tag_page(tagging.list_mfa_device_tags(ctx, serial_number=p.get("SerialNumber")), p)


@operation("iam", "TagInstanceProfile")
def tag_instance_profile(ctx: CallContext, p: P) -> None:
    tagging.tag_instance_profile(ctx, instance_profile_name=p.get("InstanceProfileName"), tags=_tags(p))


@operation("iam", "UntagInstanceProfile")
def untag_instance_profile(ctx: CallContext, p: P) -> None:
    tagging.untag_instance_profile(
        ctx, instance_profile_name=p.get("InstanceProfileName"), tag_keys=p.get("TagKeys") or []
    )


@operation("iam", "ListInstanceProfileTags")
def list_instance_profile_tags(ctx: CallContext, p: P) -> P:
    return _tag_page(tagging.list_instance_profile_tags(ctx, instance_profile_name=p.get("InstanceProfileName")), p)


# ---- SSH public keys --------------------------------------------------------------------------------------------


def _ssh_key(key: Any, *, body: bool) -> P:
    out: P = {"UserName": key.user.name, "SSHPublicKeyId": key.key_id, "Status": key.status}
    out["UploadDate"] = key.uploaded_at
    if body:
        out["Fingerprint"] = key.fingerprint
        out["SSHPublicKeyBody"] = key.body
    return out


@operation("iam", "UploadSSHPublicKey")
def upload_ssh_public_key(ctx: CallContext, p: P) -> P:
    key = user_credentials.upload_ssh_public_key(
        ctx, user_name=p.get("UserName"), ssh_public_key_body=p.get("SSHPublicKeyBody")
    )
    return {"SSHPublicKey": _ssh_key(key, body=True)}


@operation("iam", "GetSSHPublicKey")
def get_ssh_public_key(ctx: CallContext, p: P) -> P:
    key = user_credentials.get_ssh_public_key(
        ctx, user_name=p.get("UserName"), ssh_public_key_id=p.get("SSHPublicKeyId"), encoding=p.get("Encoding")
    )
    return {"SSHPublicKey": _ssh_key(key, body=True)}


@operation("iam", "ListSSHPublicKeys")
def list_ssh_public_keys(ctx: CallContext, p: P) -> P:
    result = shapes.page(user_credentials.list_ssh_public_keys(ctx, user_name=p.get("UserName")), p, "SSHPublicKeys")
    result["SSHPublicKeys"] = [_ssh_key(k, body=False) for k in result["SSHPublicKeys"]]
    return result


@operation("iam", "UpdateSSHPublicKey")
def update_ssh_public_key(ctx: CallContext, p: P) -> None:
    user_credentials.update_ssh_public_key(
        ctx, user_name=p.get("UserName"), ssh_public_key_id=p.get("SSHPublicKeyId"), status=p.get("Status")
    )


@operation("iam", "DeleteSSHPublicKey")
def delete_ssh_public_key(ctx: CallContext, p: P) -> None:
    user_credentials.delete_ssh_public_key(ctx, user_name=p.get("UserName"), ssh_public_key_id=p.get("SSHPublicKeyId"))


# ---- service-specific credentials -------------------------------------------------------------------------------


def _service_credential(credential: Any, secret: str | None = None) -> P:
    out: P = {
        "UserName": credential.user.name,
        "Status": credential.status,
        "CreateDate": credential.created_at,
        "ServiceSpecificCredentialId": credential.credential_id,
        "ServiceName": credential.service_name,
    }
    if credential.expires_at is not None:
        out["ExpirationDate"] = credential.expires_at
    api_key = credential.service_name in user_credentials.API_KEY_SERVICES
    out["ServiceCredentialAlias" if api_key else "ServiceUserName"] = credential.service_user_name
    if secret is not None:
        out["ServiceCredentialSecret" if api_key else "ServicePassword"] = secret
    return out


@operation("iam", "CreateServiceSpecificCredential")
def create_service_specific_credential(ctx: CallContext, p: P) -> P:
    new = user_credentials.create_service_specific_credential(
        ctx,
        user_name=p.get("UserName"),
        service_name=p.get("ServiceName"),
        credential_age_days=p.get("CredentialAgeDays"),
    )
    return {"ServiceSpecificCredential": _service_credential(new.credential, new.secret)}


@operation("iam", "ListServiceSpecificCredentials")
def list_service_specific_credentials(ctx: CallContext, p: P) -> P:
    # The paging members are taken first: a refused combination (UserName with AllUsers) must not hide them.
    paging = {"Marker": p.get("Marker"), "MaxItems": p.get("MaxItems")}
    found = user_credentials.list_service_specific_credentials(
        ctx, user_name=p.get("UserName"), service_name=p.get("ServiceName"), all_users=bool(p.get("AllUsers"))
    )
    result = shapes.page(found, paging, "ServiceSpecificCredentials")
    result["ServiceSpecificCredentials"] = [_service_credential(c) for c in result["ServiceSpecificCredentials"]]
    return result


@operation("iam", "ResetServiceSpecificCredential")
def reset_service_specific_credential(ctx: CallContext, p: P) -> P:
    new = user_credentials.reset_service_specific_credential(
        ctx, service_specific_credential_id=p.get("ServiceSpecificCredentialId"), user_name=p.get("UserName")
    )
    return {"ServiceSpecificCredential": _service_credential(new.credential, new.secret)}


@operation("iam", "UpdateServiceSpecificCredential")
def update_service_specific_credential(ctx: CallContext, p: P) -> None:
    user_credentials.update_service_specific_credential(
        ctx,
        service_specific_credential_id=p.get("ServiceSpecificCredentialId"),
        status=p.get("Status"),
        user_name=p.get("UserName"),
    )


@operation("iam", "DeleteServiceSpecificCredential")
def delete_service_specific_credential(ctx: CallContext, p: P) -> None:
    user_credentials.delete_service_specific_credential(
        ctx, service_specific_credential_id=p.get("ServiceSpecificCredentialId"), user_name=p.get("UserName")
    )


# ---- signing certificates ---------------------------------------------------------------------------------------


def _certificate(cert: Any) -> P:
    out: P = {
        "CertificateId": cert.certificate_id,
        "CertificateBody": cert.body,
        "Status": cert.status,
        "UploadDate": cert.uploaded_at,
    }
    # UserName is required in AWS's shape; root's certificates carry root's name as AWS's do.
    out["UserName"] = cert.user.name if cert.user is not None else "root"
    return out


@operation("iam", "UploadSigningCertificate")
def upload_signing_certificate(ctx: CallContext, p: P) -> P:
    cert = user_credentials.upload_signing_certificate(
        ctx, certificate_body=p.get("CertificateBody"), user_name=p.get("UserName")
    )
    return {"Certificate": _certificate(cert)}


@operation("iam", "ListSigningCertificates")
def list_signing_certificates(ctx: CallContext, p: P) -> P:
    result = shapes.page(
        user_credentials.list_signing_certificates(ctx, user_name=p.get("UserName")), p, "Certificates"
    )
    result["Certificates"] = [_certificate(c) for c in result["Certificates"]]
    return result


@operation("iam", "UpdateSigningCertificate")
def update_signing_certificate(ctx: CallContext, p: P) -> None:
    user_credentials.update_signing_certificate(
        ctx, certificate_id=p.get("CertificateId"), status=p.get("Status"), user_name=p.get("UserName")
    )


@operation("iam", "DeleteSigningCertificate")
def delete_signing_certificate(ctx: CallContext, p: P) -> None:
    user_credentials.delete_signing_certificate(ctx, certificate_id=p.get("CertificateId"), user_name=p.get("UserName"))


@operation("iam", "SetSecurityTokenServicePreferences")
def set_security_token_service_preferences(ctx: CallContext, p: P) -> None:
    user_credentials.set_security_token_service_preferences(
        ctx, global_endpoint_token_version=p.get("GlobalEndpointTokenVersion")
    )
