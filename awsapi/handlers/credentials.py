"""IAM Query API handlers for access keys and virtual MFA devices (service functions in identities.credentials)."""

from __future__ import annotations

from typing import Any

from awsapi.dispatch import operation
from awsapi.handlers import shapes
from core.context import CallContext
from identities import credentials
from identities.services import Tag

P = dict[str, Any]


def _key(key: Any, secret: str | None = None) -> P:
    out: P = {"AccessKeyId": key.access_key_id, "Status": key.status, "CreateDate": key.created_at}
    if key.user is not None:
        out["UserName"] = key.user.name
    if secret is not None:
        out["SecretAccessKey"] = secret
    return out


@operation("iam", "CreateAccessKey")
def create_access_key(ctx: CallContext, p: P) -> P:
    new = credentials.create_access_key(ctx, user_name=p.get("UserName"))
    return {"AccessKey": _key(new.key, new.secret_access_key)}


@operation("iam", "ListAccessKeys")
def list_access_keys(ctx: CallContext, p: P) -> P:
    result = shapes.page(credentials.list_access_keys(ctx, user_name=p.get("UserName")), p, "AccessKeyMetadata")
    result["AccessKeyMetadata"] = [_key(k) for k in result["AccessKeyMetadata"]]
    return result


@operation("iam", "UpdateAccessKey")
def update_access_key(ctx: CallContext, p: P) -> None:
    credentials.update_access_key(
        ctx, access_key_id=p.get("AccessKeyId"), status=p.get("Status"), user_name=p.get("UserName")
    )


@operation("iam", "DeleteAccessKey")
def delete_access_key(ctx: CallContext, p: P) -> None:
    credentials.delete_access_key(ctx, access_key_id=p.get("AccessKeyId"), user_name=p.get("UserName"))


@operation("iam", "GetAccessKeyLastUsed")
def get_access_key_last_used(ctx: CallContext, p: P) -> P:
    found = credentials.get_access_key_last_used(ctx, access_key_id=p.get("AccessKeyId"))
    return {"UserName": found["UserName"], "AccessKeyLastUsed": found["AccessKeyLastUsed"]}


# ---- virtual MFA devices ----------------------------------------------------------------------------------------


def _device(device: Any) -> P:
    out: P = {"SerialNumber": device.serial_number}
    if device.user_id is not None or device.enabled_at is not None:
        if device.user is not None:
            out["User"] = shapes.user(device.user)
        out["EnableDate"] = device.enabled_at
    if device.tags:
        out["Tags"] = shapes.tags(device.tags)
    return out


@operation("iam", "CreateVirtualMFADevice")
def create_virtual_mfa_device(ctx: CallContext, p: P) -> P:
    new = credentials.create_virtual_mfa_device(
        ctx,
        virtual_mfa_device_name=p.get("VirtualMFADeviceName"),
        path=p.get("Path", "/"),
        tags=[Tag(t["Key"], t.get("Value", "")) for t in p.get("Tags") or []],
    )
    return {
        "VirtualMFADevice": {
            "SerialNumber": new.device.serial_number,
            "Base32StringSeed": new.base32_string_seed.encode(),
            "QRCodePNG": new.qr_code_png,
            "Tags": shapes.tags(new.device.tags) or None,
        }
    }


@operation("iam", "EnableMFADevice")
def enable_mfa_device(ctx: CallContext, p: P) -> None:
    credentials.enable_mfa_device(
        ctx,
        user_name=p.get("UserName"),
        serial_number=p.get("SerialNumber"),
        authentication_code1=p.get("AuthenticationCode1"),
        authentication_code2=p.get("AuthenticationCode2"),
    )


@operation("iam", "ResyncMFADevice")
def resync_mfa_device(ctx: CallContext, p: P) -> None:
    credentials.resync_mfa_device(
        ctx,
        user_name=p.get("UserName"),
        serial_number=p.get("SerialNumber"),
        authentication_code1=p.get("AuthenticationCode1"),
        authentication_code2=p.get("AuthenticationCode2"),
    )


@operation("iam", "DeactivateMFADevice")
def deactivate_mfa_device(ctx: CallContext, p: P) -> None:
    credentials.deactivate_mfa_device(ctx, serial_number=p.get("SerialNumber"), user_name=p.get("UserName"))


@operation("iam", "DeleteVirtualMFADevice")
def delete_virtual_mfa_device(ctx: CallContext, p: P) -> None:
    credentials.delete_virtual_mfa_device(ctx, serial_number=p.get("SerialNumber"))


@operation("iam", "ListMFADevices")
def list_mfa_devices(ctx: CallContext, p: P) -> P:
    devices = credentials.list_mfa_devices(ctx, user_name=p.get("UserName"))
    result = shapes.page(devices, p, "MFADevices")
    result["MFADevices"] = [
        {"UserName": d.user.name if d.user else None, "SerialNumber": d.serial_number, "EnableDate": d.enabled_at}
        for d in result["MFADevices"]
    ]
    return result


@operation("iam", "ListVirtualMFADevices")
def list_virtual_mfa_devices(ctx: CallContext, p: P) -> P:
    devices = credentials.list_virtual_mfa_devices(ctx, assignment_status=p.get("AssignmentStatus", "Any"))
    result = shapes.page(devices, p, "VirtualMFADevices")
    result["VirtualMFADevices"] = [_device(d) for d in result["VirtualMFADevices"]]
    return result
