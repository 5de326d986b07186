"""Tags on virtual MFA devices and instance profiles, and GetMFADevice (issue 14, section 2).

Same semantics as the user and role tag calls: a key already there (case-insensitively) is overwritten, at most 50
tags per resource; untagging a key that isn't there is not an error.
"""

from __future__ import annotations

from collections.abc import Sequence

from core import arns
from core.calls import iam_call
from core.context import CallContext
from core.errors import NoSuchEntity
from core.validation import check_input
from identities.credentials import credential_owner, target_arn, virtual_device
from identities.instance_profiles import find_instance_profile
from identities.models import InstanceProfile, MfaDevice
from identities.services import Tag, merge_tags


def _without(tags: list[dict[str, str]], keys: Sequence[str]) -> list[dict[str, str]]:
    drop = {k.lower() for k in keys}
    return [t for t in tags if t["Key"].lower() not in drop]


def _device_arn(serial_number: str | None) -> str:
    """A virtual device's serial number is its ARN; anything else is authorized against ``*``."""
    return serial_number if (serial_number or "").startswith(f"arn:{arns.PARTITION}:iam::") else "*"


# ---- MFA devices ------------------------------------------------------------------------------------------------


def tag_mfa_device(ctx: CallContext, *, serial_number: str, tags: Sequence[Tag]) -> None:
    params = {"serialNumber": serial_number, "tags": [t.as_dict() for t in tags]}
    with iam_call(ctx, "iam:TagMFADevice", _device_arn(serial_number), params):
        check_input("iam", "TagMFADevice", SerialNumber=serial_number, Tags=[t.as_dict() for t in tags])
        device = virtual_device(ctx.account_id, serial_number, lock=True)
        device.tags = merge_tags(device.tags, tags, "mfa")
        device.save(update_fields=["tags"])


def untag_mfa_device(ctx: CallContext, *, serial_number: str, tag_keys: Sequence[str]) -> None:
    params = {"serialNumber": serial_number, "tagKeys": list(tag_keys)}
    with iam_call(ctx, "iam:UntagMFADevice", _device_arn(serial_number), params):
        check_input("iam", "UntagMFADevice", SerialNumber=serial_number, TagKeys=list(tag_keys))
        device = virtual_device(ctx.account_id, serial_number, lock=True)
        device.tags = _without(device.tags, tag_keys)
        device.save(update_fields=["tags"])


def list_mfa_device_tags(ctx: CallContext, *, serial_number: str) -> list[dict[str, str]]:
    with iam_call(ctx, "iam:ListMFADeviceTags", _device_arn(serial_number), {"serialNumber": serial_number}):
        check_input("iam", "ListMFADeviceTags", SerialNumber=serial_number)
        return list(virtual_device(ctx.account_id, serial_number).tags)


def get_mfa_device(ctx: CallContext, *, serial_number: str, user_name: str | None = None) -> MfaDevice:
    """The enabled device ``serial_number`` of ``user_name`` (None: the caller).

    AWS documents this call for FIDO security keys; this product has only virtual devices, so it answers for an
    enabled virtual device of that user, and NoSuchEntity for any other serial number (unassigned devices too)."""
    params = {"serialNumber": serial_number, "userName": user_name}
    with iam_call(ctx, "iam:GetMFADevice", target_arn(ctx, user_name), params):
        check_input("iam", "GetMFADevice", SerialNumber=serial_number, UserName=user_name)
        owner = credential_owner(ctx, user_name)
        devices = MfaDevice.objects.in_account(ctx.account_id).filter(
            serial_number=serial_number, enabled_at__isnull=False
        )
        device = (devices.filter(user__isnull=True) if owner is None else devices.filter(user=owner)).first()
        if device is None:
            raise NoSuchEntity(f"MFA Device with serial number {serial_number} does not exist.")
        device.user = owner
        return device


# ---- instance profiles ------------------------------------------------------------------------------------------


def _profile_arn(ctx: CallContext, name: str) -> str:
    profile = InstanceProfile.objects.in_account(ctx.account_id).named(name).only("arn").first()
    return profile.arn if profile else arns.instance_profile(ctx.account_id, "/", name[:128])


def _locked_profile(account_id: str, name: str) -> InstanceProfile:
    find_instance_profile(account_id, name)  # AWS's NoSuchEntity wording
    return InstanceProfile.objects.in_account(account_id).named(name).select_for_update().get()


def tag_instance_profile(ctx: CallContext, *, instance_profile_name: str, tags: Sequence[Tag]) -> None:
    params = {"instanceProfileName": instance_profile_name, "tags": [t.as_dict() for t in tags]}
    with iam_call(ctx, "iam:TagInstanceProfile", _profile_arn(ctx, instance_profile_name), params):
        check_input(
            "iam", "TagInstanceProfile", InstanceProfileName=instance_profile_name, Tags=[t.as_dict() for t in tags]
        )
        profile = _locked_profile(ctx.account_id, instance_profile_name)
        profile.tags = merge_tags(profile.tags, tags, "instance-profile")
        profile.save(update_fields=["tags"])


def untag_instance_profile(ctx: CallContext, *, instance_profile_name: str, tag_keys: Sequence[str]) -> None:
    params = {"instanceProfileName": instance_profile_name, "tagKeys": list(tag_keys)}
    with iam_call(ctx, "iam:UntagInstanceProfile", _profile_arn(ctx, instance_profile_name), params):
        check_input("iam", "UntagInstanceProfile", InstanceProfileName=instance_profile_name, TagKeys=list(tag_keys))
        profile = _locked_profile(ctx.account_id, instance_profile_name)
        profile.tags = _without(profile.tags, tag_keys)
        profile.save(update_fields=["tags"])


def list_instance_profile_tags(ctx: CallContext, *, instance_profile_name: str) -> list[dict[str, str]]:
    params = {"instanceProfileName": instance_profile_name}
    with iam_call(ctx, "iam:ListInstanceProfileTags", _profile_arn(ctx, instance_profile_name), params):
        check_input("iam", "ListInstanceProfileTags", InstanceProfileName=instance_profile_name)
        return list(find_instance_profile(ctx.account_id, instance_profile_name).tags)
