"""Access keys and virtual MFA devices of IAM users and of root (issue 4).

Each public function is one AWS action, named as boto3 names it, and runs inside ``iam_call``. ``user_name=None``
means the caller's own credentials: root's own when the caller is root, the IAM user's own otherwise.

Secrets (access-key secrets, TOTP seeds) are stored only encrypted (``core.secrets``). They are returned once, by
the create call, and never reach ``call.params``/``call.response``: CloudTrail records, logs and sessions never hold
them. MFA authentication codes are not logged either.

A few plain helpers at the end are not AWS actions: TOTP verification (``verify_totp``), the sign-in MFA check
(``check_sign_in_mfa``), the STS token check (``verify_mfa_code``) and the dashboard's root checks.
"""

from __future__ import annotations

import base64
import hmac
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyotp
import segno

from core import arns, clock, ids
from core.calls import iam_call
from core.context import CallContext
from core.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    IamError,
    LimitExceeded,
    NoSuchEntity,
    ValidationError,
)
from core.secrets import decrypt, encrypt
from core.validation import check_input
from identities.models import AccessKey, Account, IamUser, MfaDevice
from identities.services import Tag, check_tags, find_user, user_arn

ACCESS_KEYS_PER_USER = 2
MFA_DEVICES_PER_USER = 8
TOTP_STEP_SECONDS = 30
TOTP_DIGITS = 6
TOTP_WINDOW = 1  # steps either side of now accepted at sign-in and when enabling
RESYNC_WINDOW = 10  # ResyncMFADevice accepts a wider drift (±5 minutes)
MFA_ISSUER = "IAM Classroom"  # the issuer label authenticator apps show
MFA_DEVICE_NAME_MAX = 128  # MfaDevice.name; AWS allows 226, the database column holds 128
ACCESS_KEY_STATUSES = ("Active", "Inactive")


class InvalidAuthenticationCode(IamError):
    """Wrong MFA codes when enabling or resynchronizing a device (belongs in core/errors.py with the others)."""

    code, status = "InvalidAuthenticationCode", 403


AUTH_CODE_INVALID = "Authentication code for device is not valid."


@dataclass(frozen=True)
class NewAccessKey:
    """CreateAccessKey's result: the key, and its secret, which nothing else ever returns again."""

    key: AccessKey
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True)
class NewVirtualMfaDevice:
    """CreateVirtualMFADevice's result: the device, its Base32 seed and the seed's QR code (PNG)."""

    device: MfaDevice
    base32_string_seed: str = field(repr=False)
    qr_code_png: bytes = field(repr=False)

    @property
    def serial_number(self) -> str:
        return self.device.serial_number

    @property
    def qr_code_data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.qr_code_png).decode()


# ---- whose credentials ------------------------------------------------------------------------------------------


def target_arn(ctx: CallContext, user_name: str | None) -> str:
    """The resource a call about ``user_name``'s credentials (None: the caller's own) is authorized against."""
    if user_name is None:
        principal = ctx.principal
        return arns.root(ctx.account_id) if principal.is_root else principal.arn
    return user_arn(ctx, user_name)


def credential_owner(ctx: CallContext, user_name: str | None) -> IamUser | None:
    """The IAM user the call is about, or None for root's own credentials."""
    if user_name is not None:
        return find_user(ctx.account_id, user_name)
    principal = ctx.principal
    if principal.is_root:
        return None
    if principal.type == "IAMUser" and principal.user_pk is not None:
        user = IamUser.objects.in_account(ctx.account_id).filter(pk=principal.user_pk).first()
        if user is None:
            raise NoSuchEntity(f"The user with name {principal.name} cannot be found.")
        return user
    raise ValidationError("Must specify userName when calling with non-User credentials")


def _user_name_param(ctx: CallContext, user_name: str | None) -> str:
    """What to validate as UserName when an operation requires one and the caller means itself."""
    return user_name if user_name is not None else (ctx.principal.name or "root")


def _keys_of(account_id: str, user: IamUser | None):
    keys = AccessKey.objects.in_account(account_id)
    return keys.filter(user__isnull=True) if user is None else keys.filter(user=user)


def _devices_of(account_id: str, user: IamUser | None):
    """Enabled MFA devices of ``user`` (None: root). Unassigned virtual devices have ``enabled_at`` None."""
    devices = MfaDevice.objects.in_account(account_id).filter(enabled_at__isnull=False)
    return devices.filter(user__isnull=True) if user is None else devices.filter(user=user)


def lock_owner(account_id: str, user: IamUser | None) -> None:
    """Serialize quota checks for one owner: two concurrent creates can't both pass the limit."""
    if user is None:
        Account.objects.select_for_update().filter(pk=account_id).first()
    else:
        IamUser.objects.select_for_update().filter(pk=user.pk).first()


def _find_key(account_id: str, user: IamUser | None, access_key_id: str) -> AccessKey:
    key = _keys_of(account_id, user).filter(access_key_id=access_key_id).first()
    if key is None:
        raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
    return key


def check_enum(member: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(allowed)}]"
        )


def _date(value: datetime) -> str:
    return value.strftime("%b %d, %Y, %-I:%M:%S %p")


# ---- access keys ------------------------------------------------------------------------------------------------


def create_access_key(ctx: CallContext, *, user_name: str | None = None) -> NewAccessKey:
    with iam_call(ctx, "iam:CreateAccessKey", target_arn(ctx, user_name), {"userName": user_name}) as call:
        check_input("iam", "CreateAccessKey", UserName=user_name)
        user = credential_owner(ctx, user_name)
        lock_owner(ctx.account_id, user)
        if _keys_of(ctx.account_id, user).count() >= ACCESS_KEYS_PER_USER:  # inactive keys count too
            raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}")
        secret = ids.new_secret_access_key()
        now = clock.now()
        key = AccessKey.objects.create(
            account_id=ctx.account_id,
            user=user,
            access_key_id=ids.new_access_key_id(),
            secret_encrypted=encrypt(secret),
            status="Active",
            created_at=now,
        )
        # CloudTrail shows the key ID, never the secret.
        response: dict[str, Any] = {"accessKeyId": key.access_key_id, "status": key.status, "createDate": _date(now)}
        if user is not None:
            response["userName"] = user.name
        call.response = {"accessKey": response}
        return NewAccessKey(key, secret)


def list_access_keys(ctx: CallContext, *, user_name: str | None = None) -> list[AccessKey]:
    with iam_call(ctx, "iam:ListAccessKeys", target_arn(ctx, user_name), {"userName": user_name}):
        check_input("iam", "ListAccessKeys", UserName=user_name)
        user = credential_owner(ctx, user_name)
        return list(_keys_of(ctx.account_id, user).order_by("created_at", "pk"))


def update_access_key(ctx: CallContext, *, access_key_id: str, status: str, user_name: str | None = None) -> AccessKey:
    params = {"userName": user_name, "accessKeyId": access_key_id, "status": status}
    with iam_call(ctx, "iam:UpdateAccessKey", target_arn(ctx, user_name), params):
        if status is not None:  # before check_input: the model's enum also lists Expired, which AWS refuses here
            check_enum("status", status, ACCESS_KEY_STATUSES)
        check_input("iam", "UpdateAccessKey", UserName=user_name, AccessKeyId=access_key_id, Status=status)
        key = _find_key(ctx.account_id, credential_owner(ctx, user_name), access_key_id)
        if key.status != status:
            key.status = status
            key.save(update_fields=["status"])
        return key


def delete_access_key(ctx: CallContext, *, access_key_id: str, user_name: str | None = None) -> None:
    """The API's DeleteAccessKey deletes active keys too; the console asks for deactivation first."""
    with iam_call(
        ctx, "iam:DeleteAccessKey", target_arn(ctx, user_name), {"userName": user_name, "accessKeyId": access_key_id}
    ):
        check_input("iam", "DeleteAccessKey", UserName=user_name, AccessKeyId=access_key_id)
        _find_key(ctx.account_id, credential_owner(ctx, user_name), access_key_id).delete()


def get_access_key_last_used(ctx: CallContext, *, access_key_id: str) -> dict[str, Any]:
    """``{"UserName": …, "AccessKeyLastUsed": {"LastUsedDate": datetime | None, "ServiceName", "Region"}}``.

    Authorized against the key's owner. A key of another account (or none at all) is simply not found.
    """
    key = (
        AccessKey.objects.in_account(ctx.account_id)
        .filter(access_key_id=(access_key_id or "")[:128])
        .select_related("user")
        .first()
    )
    resource = "*" if key is None else key.user.arn if key.user else arns.root(ctx.account_id)
    with iam_call(ctx, "iam:GetAccessKeyLastUsed", resource, {"accessKeyId": access_key_id}):
        check_input("iam", "GetAccessKeyLastUsed", AccessKeyId=access_key_id)
        if key is None:
            raise NoSuchEntity(f"The Access Key with id {access_key_id} cannot be found.")
        return {
            "UserName": key.user.name if key.user else None,
            "AccessKeyLastUsed": {
                "LastUsedDate": key.last_used_at,
                "ServiceName": key.last_used_service or "N/A",
                "Region": key.last_used_region or "N/A",
            },
        }


# ---- virtual MFA devices ----------------------------------------------------------------------------------------


def _serial(account_id: str, path: str, name: str) -> str:
    if path == "/":
        return arns.mfa_device(account_id, name)
    return f"arn:{arns.PARTITION}:iam::{account_id}:mfa{path}{name}"


def _provisioning_uri(account_id: str, device_name: str, seed: str) -> str:
    account = Account.objects.filter(pk=account_id).values_list("alias", flat=True).first()
    label = f"{device_name}@{account or account_id}"
    return pyotp.TOTP(seed, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=label, issuer_name=MFA_ISSUER
    )


def _qr_png(uri: str) -> bytes:
    buffer = io.BytesIO()
    segno.make(uri, error="m", micro=False).save(buffer, kind="png", scale=5, border=4)
    return buffer.getvalue()


def create_virtual_mfa_device(
    ctx: CallContext, *, virtual_mfa_device_name: str, path: str = "/", tags: Sequence[Tag] = ()
) -> NewVirtualMfaDevice:
    name, path = virtual_mfa_device_name, path or "/"
    serial = _serial(ctx.account_id, path, name)
    tag_dicts = [t.as_dict() for t in tags]
    params = {"virtualMFADeviceName": name, "path": path if path != "/" else None, "tags": tag_dicts or None}
    with iam_call(ctx, "iam:CreateVirtualMFADevice", serial, params) as call:
        check_input("iam", "CreateVirtualMFADevice", VirtualMFADeviceName=name, Path=path, Tags=tag_dicts or None)
        check_tags(tags)
        if len(name) > MFA_DEVICE_NAME_MAX or len(serial) > 256:
            raise ValidationError(
                f"1 validation error detected: Value '{name}' at 'virtualMFADeviceName' failed to satisfy "
                f"constraint: Member must have length less than or equal to {MFA_DEVICE_NAME_MAX}"
            )
        call.on_conflict = EntityAlreadyExists("MFADevice entity at the same path and name already exists.")
        if MfaDevice.objects.in_account(ctx.account_id).filter(serial_number__iexact=serial).exists():
            raise call.on_conflict
        seed = pyotp.random_base32(32)
        device = MfaDevice.objects.create(
            account_id=ctx.account_id,
            user=None,
            name=name,
            serial_number=serial,
            secret_encrypted=encrypt(seed),
            created_at=clock.now(),
            tags=tag_dicts,
        )
        call.response = {"virtualMFADevice": {"serialNumber": serial}}  # the seed is never logged
        return NewVirtualMfaDevice(device, seed, _qr_png(_provisioning_uri(ctx.account_id, name, seed)))


def virtual_device(account_id: str, serial_number: str, *, lock: bool = False) -> MfaDevice:
    devices = MfaDevice.objects.in_account(account_id).filter(serial_number=serial_number)
    device = (devices.select_for_update() if lock else devices).first()
    if device is None:
        raise NoSuchEntity(f"VirtualMFADevice with serial number {serial_number} doesn't exist.")
    return device


def enable_mfa_device(
    ctx: CallContext, *, user_name: str | None, serial_number: str, authentication_code1: str, authentication_code2: str
) -> MfaDevice:
    """Two consecutive codes of the device, as AWS requires. The codes are never logged."""
    with iam_call(
        ctx, "iam:EnableMFADevice", target_arn(ctx, user_name), {"userName": user_name, "serialNumber": serial_number}
    ):
        check_input(
            "iam",
            "EnableMFADevice",
            UserName=_user_name_param(ctx, user_name),
            SerialNumber=serial_number,
            AuthenticationCode1=authentication_code1,
            AuthenticationCode2=authentication_code2,
        )
        user = credential_owner(ctx, user_name)
        lock_owner(ctx.account_id, user)
        device = virtual_device(ctx.account_id, serial_number, lock=True)
        if device.enabled_at is not None:
            raise EntityAlreadyExists("MFA Device is already in use.")
        if _devices_of(ctx.account_id, user).count() >= MFA_DEVICES_PER_USER:
            raise LimitExceeded(f"Cannot exceed quota for MFADevicesPerUser: {MFA_DEVICES_PER_USER}")
        step = _consecutive_codes(device, authentication_code1, authentication_code2, clock.now(), TOTP_WINDOW)
        if step is None:
            raise InvalidAuthenticationCode(AUTH_CODE_INVALID)
        device.user, device.enabled_at, device.last_used_step = user, clock.now(), step + 1
        device.save(update_fields=["user", "enabled_at", "last_used_step"])
        return device


def resync_mfa_device(
    ctx: CallContext, *, user_name: str | None, serial_number: str, authentication_code1: str, authentication_code2: str
) -> MfaDevice:
    """Two consecutive codes within ±5 minutes bring the device's last used step up to date."""
    with iam_call(
        ctx, "iam:ResyncMFADevice", target_arn(ctx, user_name), {"userName": user_name, "serialNumber": serial_number}
    ):
        check_input(
            "iam",
            "ResyncMFADevice",
            UserName=_user_name_param(ctx, user_name),
            SerialNumber=serial_number,
            AuthenticationCode1=authentication_code1,
            AuthenticationCode2=authentication_code2,
        )
        user = credential_owner(ctx, user_name)
        device = _devices_of(ctx.account_id, user).select_for_update().filter(serial_number=serial_number).first()
        if device is None:
            raise NoSuchEntity(f"MFA Device with serial number {serial_number} does not exist.")
        step = _consecutive_codes(device, authentication_code1, authentication_code2, clock.now(), RESYNC_WINDOW)
        if step is None:
            raise InvalidAuthenticationCode(AUTH_CODE_INVALID)
        device.last_used_step = step + 1
        device.save(update_fields=["last_used_step"])
        return device


def deactivate_mfa_device(ctx: CallContext, *, serial_number: str, user_name: str | None = None) -> None:
    """The device stays in the account as an unassigned virtual device (DeleteVirtualMFADevice removes it)."""
    with iam_call(
        ctx,
        "iam:DeactivateMFADevice",
        target_arn(ctx, user_name),
        {"userName": user_name, "serialNumber": serial_number},
    ):
        check_input("iam", "DeactivateMFADevice", UserName=user_name, SerialNumber=serial_number)
        user = credential_owner(ctx, user_name)
        device = _devices_of(ctx.account_id, user).filter(serial_number=serial_number).first()
        if device is None:
            raise NoSuchEntity(f"MFA Device with serial number {serial_number} does not exist.")
        device.user, device.enabled_at = None, None
        device.save(update_fields=["user", "enabled_at"])


def delete_virtual_mfa_device(ctx: CallContext, *, serial_number: str) -> None:
    resource = serial_number if (serial_number or "").startswith(f"arn:{arns.PARTITION}:iam::") else "*"
    with iam_call(ctx, "iam:DeleteVirtualMFADevice", resource, {"serialNumber": serial_number}):
        check_input("iam", "DeleteVirtualMFADevice", SerialNumber=serial_number)
        device = virtual_device(ctx.account_id, serial_number)
        if device.enabled_at is not None:
            raise DeleteConflict("MFA VirtualDevice in use. Must deactivate first.")
        device.delete()


def list_mfa_devices(ctx: CallContext, *, user_name: str | None = None) -> list[MfaDevice]:
    with iam_call(ctx, "iam:ListMFADevices", target_arn(ctx, user_name), {"userName": user_name}):
        check_input("iam", "ListMFADevices", UserName=user_name)
        user = credential_owner(ctx, user_name)
        return list(_devices_of(ctx.account_id, user).order_by("enabled_at", "pk"))


def list_virtual_mfa_devices(ctx: CallContext, *, assignment_status: str = "Any") -> list[MfaDevice]:
    with iam_call(
        ctx,
        "iam:ListVirtualMFADevices",
        "*",
        {"assignmentStatus": assignment_status if assignment_status != "Any" else None},
    ):
        check_enum("assignmentStatus", assignment_status, ("Assigned", "Unassigned", "Any"))
        devices = MfaDevice.objects.in_account(ctx.account_id).select_related("user")
        if assignment_status == "Assigned":
            devices = devices.filter(enabled_at__isnull=False)
        elif assignment_status == "Unassigned":
            devices = devices.filter(enabled_at__isnull=True)
        return list(devices.order_by("serial_number"))


# ---- TOTP -------------------------------------------------------------------------------------------------------


def totp_step(now: datetime) -> int:
    return int(now.timestamp()) // TOTP_STEP_SECONDS


def _code_at(seed: str, step: int) -> str:
    return pyotp.TOTP(seed, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).at(step * TOTP_STEP_SECONDS)


def _well_formed(code: str) -> bool:
    return isinstance(code, str) and len(code) == TOTP_DIGITS and code.isascii() and code.isdigit()


def _consecutive_codes(device: MfaDevice, code1: str, code2: str, now: datetime, window: int) -> int | None:
    """The step of ``code1`` when ``code1``, ``code2`` are the codes of two consecutive steps, both within ``window``
    steps of now and both newer than the device's last used step; otherwise None."""
    if not (_well_formed(code1) and _well_formed(code2)):
        return None
    seed = decrypt(device.secret_encrypted)
    current = totp_step(now)
    for step in range(current - window, current + window):  # step and step + 1 both in [current-w, current+w]
        if step <= device.last_used_step:
            continue
        if hmac.compare_digest(_code_at(seed, step), code1) and hmac.compare_digest(_code_at(seed, step + 1), code2):
            return step
    return None


def verify_totp(device: MfaDevice, code: str, now: datetime) -> bool:
    """One code of an enabled or pending device, within ±1 step of ``now``. Each step's code works once: the
    accepted step is stored, atomically, and no step at or before it is accepted again."""
    if not _well_formed(code):
        return False
    seed = decrypt(device.secret_encrypted)
    current = totp_step(now)
    for step in (current, current - TOTP_WINDOW, current + TOTP_WINDOW):
        if step <= device.last_used_step or not hmac.compare_digest(_code_at(seed, step), code):
            continue
        claimed = MfaDevice.objects.filter(pk=device.pk, last_used_step__lt=step).update(last_used_step=step)
        if claimed:
            device.last_used_step = step
        return bool(claimed)
    return False


def virtual_mfa_setup(account_id: str, serial_number: str) -> NewVirtualMfaDevice | None:
    """The QR code and seed of an *unassigned* device again, for the console's Assign MFA page after a wrong code.

    The console calls it only for the device its own session just created (it keeps the serial number, never
    the seed, in the session), so the seed goes back only to the browser that already received it.
    """
    device = (
        MfaDevice.objects.in_account(account_id).filter(serial_number=serial_number, enabled_at__isnull=True).first()
    )
    if device is None:
        return None
    seed = decrypt(device.secret_encrypted)
    return NewVirtualMfaDevice(device, seed, _qr_png(_provisioning_uri(account_id, device.name, seed)))


# ---- sign-in, STS and dashboard helpers (not AWS actions) ----------------------------------------------------------


def sign_in_mfa_devices(account_id: str, user: IamUser | None) -> list[MfaDevice]:
    """The enabled devices that sign-in must ask a code of (None: root). Empty: no MFA step."""
    return list(_devices_of(account_id, user).order_by("enabled_at", "pk"))


def check_sign_in_mfa(
    account: Account | str, user: IamUser | None, code: str, now: datetime | None = None
) -> MfaDevice | None:
    """The device whose current code ``code`` is (consuming it), or None when no enabled device accepts it."""
    account_id = account if isinstance(account, str) else account.id
    now = now or clock.now()
    for device in sign_in_mfa_devices(account_id, user):
        if verify_totp(device, code, now):
            return device
    return None


def verify_mfa_code(account_id: str, user_pk: int | None, serial_number: str, token_code: str) -> bool:
    """STS SerialNumber/TokenCode: the code of an enabled device of the caller (user_pk None: root)."""
    devices = MfaDevice.objects.in_account(account_id).filter(serial_number=serial_number, enabled_at__isnull=False)
    devices = devices.filter(user_id=user_pk) if user_pk is not None else devices.filter(user__isnull=True)
    device = devices.first()
    return device is not None and verify_totp(device, token_code, clock.now())


def root_has_mfa(account_id: str) -> bool:
    return _devices_of(account_id, None).exists()


def root_has_active_access_keys(account_id: str) -> bool:
    return _keys_of(account_id, None).filter(status="Active").exists()
