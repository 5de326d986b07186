"""Console pages for access keys and MFA devices: on a user's Security credentials tab (``/iam/users/<name>/…``) and
on "My security credentials" (``/iam/security_credentials…``) for the signed-in root user or IAM user.

Every page works for both: ``user_name`` None means the caller itself. Each action goes through one service in
``identities.credentials`` and so is authorized, validated and audited there. Secrets appear in one response only:
the access key's on the Retrieve access keys page, the MFA seed on the Assign MFA device page.
"""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.decorators import console_page
from console.htmx import error_status, pick_partial, redirect_or_hx
from core.calls import batch
from core.errors import AccessDenied, IamError, ValidationError
from core.validation import check_input
from identities import credentials, services
from identities.models import AccessKey, IamUser, LoginProfile, MfaDevice
from identities.pages import user_or_404
from identities.sections import action_of
from identities.services import Tag

PENDING_MFA = "iam_mfa_pending_serial"  # the serial number (never the seed) of the device this session is setting up
DESCRIPTION_MAX = 256

# (value, label, what it is for, the alternative we recommend instead of a long-term key)
USE_CASES = (
    (
        "cli",
        "Command Line Interface (CLI)",
        "You plan to use this access key to let the AWS CLI reach your AWS account.",
        "Sign the AWS CLI in through IAM Identity Center (aws configure sso) or use AWS CloudShell in the console: "
        "both give short-lived credentials instead of a key that never expires.",
    ),
    (
        "local_code",
        "Local code",
        "You plan to use this access key to let application code in a local development environment reach your AWS "
        "account.",
        "Use an IDE toolkit that signs in through IAM Identity Center, so your code runs with temporary credentials.",
    ),
    (
        "aws_compute",
        "Application running on an AWS compute service",
        "You plan to use this access key to let code on Amazon EC2, Amazon ECS, AWS Lambda or a similar service reach "
        "your AWS account.",
        "Give the compute resource an IAM role (an instance profile, a task role or an execution role): the service "
        "hands your code temporary credentials and rotates them for you.",
    ),
    (
        "third_party",
        "Third-party service",
        "You plan to use this access key to let a third-party application or service that monitors or manages your "
        "AWS resources reach your account.",
        "Create a role the third party can assume, protected by an external ID, instead of sharing a long-term key.",
    ),
    (
        "outside_aws",
        "Application running outside AWS",
        "You plan to use this access key to let an application on a server outside AWS, in your data center or "
        "another cloud, reach your AWS account.",
        "Use IAM Roles Anywhere, which trades an X.509 certificate for temporary credentials, or a role your workload "
        "can assume through a web identity provider.",
    ),
    ("other", "Other", "Your use case is not listed here.", ""),
)
USE_CASE_VALUES = {value for value, *_ in USE_CASES}


@dataclass(frozen=True)
class Target:
    """Whose credentials a page is about."""

    user_name: str | None  # what the services get: None means the caller itself
    label: str  # "alice", or "root user"
    is_root: bool
    is_self: bool
    base: str  # URL prefix of the credential actions
    back: str  # the page that lists the credentials
    user: IamUser | None  # None for root

    @property
    def csv_name(self) -> str:
        return "rootkey.csv" if self.is_root else f"{self.label}_accessKeys.csv"

    @property
    def tag_user_name(self) -> str | None:
        """The IAM user whose tags hold the key descriptions (root has no tags)."""
        return None if self.user is None else self.user.name


@dataclass(frozen=True)
class KeyRow:
    access_key_id: str
    description: str
    status: str
    created_at: Any
    last_used_at: Any
    last_used_service: str
    last_used_region: str


SELF_BASE = "/iam/security_credentials"


def _target(request: HttpRequest, user_name: str | None) -> Target:
    if user_name is not None:
        user = user_or_404(request, user_name)  # iam:GetUser; another account's user is a 404
        base = f"/iam/users/{quote(user.name)}"
        return Target(user.name, user.name, False, False, base, f"{base}?tab=security_credentials", user)
    principal = request.iam_ctx.principal
    if principal.is_root:
        return Target(None, "root user", True, True, SELF_BASE, SELF_BASE, None)
    if principal.type == "IAMUser" and principal.user_pk is not None:
        user = IamUser.objects.in_account(principal.account_id).filter(pk=principal.user_pk).first()
        if user is not None:
            return Target(None, user.name, False, True, SELF_BASE, SELF_BASE, user)
    raise ValidationError("Must specify userName when calling with non-User credentials")


def _page(target: Target, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "target": target,
        "nav": "my_credentials" if target.is_self else "users",
        "user": target.user,
        **(extra or {}),
    }


# ---- the sections (user tab and My security credentials) --------------------------------------------------------


def _key_rows(keys: list[AccessKey], user: IamUser | None) -> list[KeyRow]:
    descriptions = {t["Key"]: t["Value"] for t in (user.tags if user is not None else [])}
    return [
        KeyRow(
            k.access_key_id,
            descriptions.get(k.access_key_id, ""),
            k.status,
            k.created_at,
            k.last_used_at,
            k.last_used_service,
            k.last_used_region,
        )
        for k in keys
    ]


def _sections(request: HttpRequest, target: Target) -> dict[str, Any]:
    ctx = request.iam_ctx
    data: dict[str, Any] = {
        "base": target.base,
        "is_root": target.is_root,
        "is_self": target.is_self,
        "label": target.label,
        "key_limit": credentials.ACCESS_KEYS_PER_USER,
        "mfa_limit": credentials.MFA_DEVICES_PER_USER,
    }
    try:
        keys = credentials.list_access_keys(ctx, user_name=target.user_name)
    except IamError as exc:
        data["keys"], data["keys_error"], data["keys_action"] = None, exc.message, _denied_action(exc)
    else:
        data["keys"] = _key_rows(keys, target.user)
        data["can_create_key"] = len(keys) < credentials.ACCESS_KEYS_PER_USER
    try:
        devices = credentials.list_mfa_devices(ctx, user_name=target.user_name)
    except IamError as exc:
        data["mfa"], data["mfa_error"], data["mfa_action"] = None, exc.message, _denied_action(exc)
    else:
        data["mfa"] = devices
        data["can_assign_mfa"] = len(devices) < credentials.MFA_DEVICES_PER_USER
    return {"credentials": data}


def _denied_action(exc: IamError) -> str:
    return action_of(exc) if isinstance(exc, AccessDenied) else ""


def credentials_context(request: HttpRequest, user: IamUser) -> dict[str, Any]:
    """What ``identities/credentials/sections.html`` needs on the user detail page's Security credentials tab."""
    base = f"/iam/users/{quote(user.name)}"
    back = f"{base}?tab=security_credentials"
    return _sections(request, Target(user.name, user.name, False, False, base, back, user))


@console_page
@require_GET
def my_security_credentials(request: HttpRequest) -> HttpResponse:
    principal = request.iam_ctx.principal
    if principal.type not in ("Root", "IAMUser"):
        return render(
            request,
            "identities/credentials/my_security_credentials.html",
            {"role_session": True, "nav": "my_credentials"},
        )
    target = _target(request, None)
    context = _page(target, _sections(request, target))
    if target.user is not None:
        context["login_profile"] = LoginProfile.objects.filter(user=target.user).first()
    return render(request, "identities/credentials/my_security_credentials.html", context)


# ---- Create access key -----------------------------------------------------------------------------------------


def _step1_errors(target: Target, form: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if target.is_root:
        if not form["confirm"]:
            errors["confirm"] = "Confirm that you want to create a root user access key."
        return errors
    if form["use_case"] not in USE_CASE_VALUES:
        errors["use_case"] = "Choose a use case."
    elif form["use_case"] != "other" and not form["confirm"]:
        errors["confirm"] = "Confirm that you understand the recommendation to continue."
    return errors


# The description is stored as a tag whose key is the access key ID; any well-formed ID checks the value's pattern.
DESCRIPTION_TAG_KEY = "AKIAIOSFODNN7EXAMPLE"


def _step2_errors(form: dict[str, Any]) -> dict[str, str]:
    description = form["description"]
    if len(description) > DESCRIPTION_MAX:
        return {"description": f"The description can have up to {DESCRIPTION_MAX} characters."}
    if description:
        try:
            check_input("iam", "TagUser", UserName="x", Tags=[{"Key": DESCRIPTION_TAG_KEY, "Value": description}])
        except IamError:
            return {"description": "The description can contain letters, numbers, spaces and _ . : / = + - @ only."}
    return {}


@console_page
@require_http_methods(["GET", "POST"])
def access_key_create(request: HttpRequest, user_name: str | None = None) -> HttpResponse:
    target = _target(request, user_name)
    keys = credentials.list_access_keys(request.iam_ctx, user_name=target.user_name)  # the page reads the quota
    post = request.POST
    form = {
        "use_case": post.get("use_case", ""),
        "confirm": post.get("confirm") == "on",
        "description": post.get("description", "").strip(),
    }
    step, errors = 1, {}
    if request.method == "POST":
        step = 2 if post.get("step") == "2" and not target.is_root else 1
        action = post.get("action", "next")
        if action == "previous":
            step = 1
        elif action == "next":
            errors = _step1_errors(target, form)
            if not errors:
                step = 2
        elif action == "create":
            errors = _step1_errors(target, form)
            if errors:
                step = 1
            else:
                errors = _step2_errors(form)
            if not errors:
                return _create_access_key(request, target, form)
    context = _page(
        target,
        {
            "step": step,
            "form": form,
            "errors": errors,
            "use_cases": USE_CASES,
            "key_count": len(keys),
            "at_limit": len(keys) >= credentials.ACCESS_KEYS_PER_USER,
            "key_limit": credentials.ACCESS_KEYS_PER_USER,
            "description_max": DESCRIPTION_MAX,
        },
    )
    template = pick_partial(request, "identities/credentials/access_key_create.html", {"access-key-wizard"})
    return render(request, template, context, status=error_status(request, 400) if errors else 200)


def _create_access_key(request: HttpRequest, target: Target, form: dict[str, Any]) -> HttpResponse:
    ctx = request.iam_ctx
    try:
        with batch():  # the key and its description tag: both or neither
            new = credentials.create_access_key(ctx, user_name=target.user_name)
            if form["description"] and target.tag_user_name:
                services.tag_user(
                    ctx, user_name=target.tag_user_name, tags=[Tag(new.key.access_key_id, form["description"])]
                )
    except IamError as exc:
        context = _page(
            target,
            {
                "step": 1 if target.is_root else 2,
                "form": form,
                "errors": {"general": exc.message},
                "use_cases": USE_CASES,
                "key_limit": credentials.ACCESS_KEYS_PER_USER,
                "description_max": DESCRIPTION_MAX,
            },
        )
        template = pick_partial(request, "identities/credentials/access_key_create.html", {"access-key-wizard"})
        return render(request, template, context, status=error_status(request, exc.status))
    # The one response that ever holds the secret. The CSV travels base64-encoded inside the download link, so the
    # page holds the secret once, under Show.
    csv = f"Access key ID,Secret access key\r\n{new.key.access_key_id},{new.secret_access_key}\r\n"
    response = render(
        request,
        pick_partial(request, "identities/credentials/access_key_created.html", {"access-key-wizard"}),
        _page(
            target,
            {
                "key": new.key,
                "secret": new.secret_access_key,
                "description": form["description"],
                "csv_base64": base64.b64encode(csv.encode()).decode(),
                "step": 3,
            },
        ),
    )
    response["Cache-Control"] = "no-store"
    return response


# ---- Activate / Deactivate / Delete ------------------------------------------------------------------------------


@console_page
@require_POST
def access_key_status(request: HttpRequest, user_name: str | None = None) -> HttpResponse:
    target = _target(request, user_name)
    key_id, status = request.POST.get("access_key_id", "")[:128], request.POST.get("status", "")[:16]
    try:
        credentials.update_access_key(request.iam_ctx, access_key_id=key_id, status=status, user_name=target.user_name)
    except IamError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Access key {key_id} {'activated' if status == 'Active' else 'deactivated'}.")
    return redirect_or_hx(request, target.back)


@console_page
@require_http_methods(["GET", "POST"])
def access_key_delete(request: HttpRequest, user_name: str | None = None) -> HttpResponse:
    """The console deletes only inactive keys, after the key ID is typed. The description tag goes with the key."""
    target = _target(request, user_name)
    ctx = request.iam_ctx
    keys = credentials.list_access_keys(ctx, user_name=target.user_name)
    key_id = (request.POST.get("access_key_id") or request.GET.get("access_key_id", "")).strip()[:128]
    key = next((k for k in keys if k.access_key_id == key_id), None)
    if key_id and key is None:
        raise Http404(f"The Access Key with id {key_id} cannot be found.")
    error = ""
    if request.method == "POST":
        if key is None:
            error = "Choose the access key to delete."
        elif key.status == "Active":
            error = "This access key is active. Deactivate it before you delete it."
        elif request.POST.get("confirm", "").strip() != key.access_key_id:
            error = "To confirm deletion, enter the access key ID in the text input field."
        else:
            try:
                credentials.delete_access_key(ctx, access_key_id=key.access_key_id, user_name=target.user_name)
            except IamError as exc:
                error = exc.message
            else:
                _drop_description(request, target, key.access_key_id)
                messages.success(request, f"Access key {key.access_key_id} deleted.")
                return redirect_or_hx(request, target.back)
    context = _page(target, {"keys": keys, "key": key, "error": error})
    return render(
        request,
        "identities/credentials/access_key_delete.html",
        context,
        status=error_status(request, 400) if error else 200,
    )


def _drop_description(request: HttpRequest, target: Target, access_key_id: str) -> None:
    """Remove the key's description tag, as the console does; without iam:UntagUser the tag stays behind."""
    if target.user is None or not any(t["Key"] == access_key_id for t in target.user.tags):
        return
    with contextlib.suppress(IamError):  # a denial is in the event history; the key itself is gone
        services.untag_user(request.iam_ctx, user_name=target.user.name, tag_keys=[access_key_id])


# ---- Assign MFA device -------------------------------------------------------------------------------------------


def _default_device_name(target: Target) -> str:
    return "root-account-mfa-device" if target.is_root else target.label


def _discard_pending(request: HttpRequest) -> None:
    """Delete the unassigned device an abandoned setup of this session left behind."""
    serial = request.session.pop(PENDING_MFA, None)
    if (
        serial
        and MfaDevice.objects.in_account(request.iam_ctx.account_id)
        .filter(serial_number=serial, enabled_at__isnull=True)
        .exists()
    ):
        with contextlib.suppress(IamError):
            credentials.delete_virtual_mfa_device(request.iam_ctx, serial_number=serial)


@console_page
@require_http_methods(["GET", "POST"])
def mfa_assign(request: HttpRequest, user_name: str | None = None) -> HttpResponse:
    target = _target(request, user_name)
    ctx = request.iam_ctx
    devices = credentials.list_mfa_devices(ctx, user_name=target.user_name)
    post = request.POST
    step, errors, setup = 1, {}, None
    device_name = post.get("device_name", _default_device_name(target)).strip()[:512]
    if request.method == "POST":
        action = post.get("action", "")
        serial = post.get("serial_number", "")[:256]
        pending = request.session.get(PENDING_MFA)
        if action == "cancel":
            if serial and serial == pending:
                _discard_pending(request)
            return redirect_or_hx(request, target.back)
        if action == "next":
            if not device_name:
                errors["device_name"] = "Enter a device name."
            else:
                _discard_pending(request)
                try:
                    setup = credentials.create_virtual_mfa_device(ctx, virtual_mfa_device_name=device_name)
                except IamError as exc:
                    errors["device_name"] = exc.message
                else:
                    request.session[PENDING_MFA] = setup.serial_number
                    step = 2
        elif action == "enable":
            if not serial or serial != pending:
                errors["general"] = "This MFA device setup is no longer available. Start again."
            else:
                try:
                    credentials.enable_mfa_device(
                        ctx,
                        user_name=target.user_name,
                        serial_number=serial,
                        authentication_code1=post.get("code1", "").strip()[:16],
                        authentication_code2=post.get("code2", "").strip()[:16],
                    )
                except IamError as exc:
                    errors["codes"] = exc.message
                    setup = credentials.virtual_mfa_setup(ctx.account_id, serial)
                    step = 2 if setup is not None else 1
                else:
                    request.session.pop(PENDING_MFA, None)
                    messages.success(request, f"MFA device assigned to {target.label}.")
                    return redirect_or_hx(request, target.back)
    context = _page(
        target,
        {
            "step": step,
            "errors": errors,
            "setup": setup,
            "device_name": device_name,
            "device_count": len(devices),
            "at_limit": len(devices) >= credentials.MFA_DEVICES_PER_USER,
        },
    )
    response = render(
        request,
        pick_partial(request, "identities/credentials/mfa_assign.html", {"mfa-wizard"}),
        context,
        status=error_status(request, 400) if errors else 200,
    )
    if setup is not None:
        response["Cache-Control"] = "no-store"  # the page holds the seed
    return response


def _device_or_404(devices: list[MfaDevice], serial: str) -> MfaDevice | None:
    device = next((d for d in devices if d.serial_number == serial), None)
    if serial and device is None:
        raise Http404(f"MFA Device with serial number {serial} does not exist.")
    return device


@console_page
@require_http_methods(["GET", "POST"])
def mfa_remove(request: HttpRequest, user_name: str | None = None) -> HttpResponse:
    """The console's Remove: deactivate the device, then delete the virtual device."""
    target = _target(request, user_name)
    ctx = request.iam_ctx
    devices = credentials.list_mfa_devices(ctx, user_name=target.user_name)
    serial = (request.POST.get("serial_number") or request.GET.get("serial_number", "")).strip()[:256]
    device = _device_or_404(devices, serial)
    error = ""
    if request.method == "POST":
        if device is None:
            error = "Choose the MFA device to remove."
        else:
            try:
                with batch():
                    credentials.deactivate_mfa_device(
                        ctx, serial_number=device.serial_number, user_name=target.user_name
                    )
                    credentials.delete_virtual_mfa_device(ctx, serial_number=device.serial_number)
            except IamError as exc:
                error = exc.message
            else:
                messages.success(request, f"MFA device {device.name} removed.")
                return redirect_or_hx(request, target.back)
    return render(
        request,
        "identities/credentials/mfa_remove.html",
        _page(target, {"devices": devices, "device": device, "error": error}),
        status=error_status(request, 400) if error else 200,
    )


@console_page
@require_http_methods(["GET", "POST"])
def mfa_resync(request: HttpRequest, user_name: str | None = None) -> HttpResponse:
    target = _target(request, user_name)
    ctx = request.iam_ctx
    devices = credentials.list_mfa_devices(ctx, user_name=target.user_name)
    serial = (request.POST.get("serial_number") or request.GET.get("serial_number", "")).strip()[:256]
    device = _device_or_404(devices, serial)
    error, status = "", 400
    if request.method == "POST":
        if device is None:
            error = "Choose the MFA device to resynchronize."
        else:
            try:
                credentials.resync_mfa_device(
                    ctx,
                    user_name=target.user_name,
                    serial_number=device.serial_number,
                    authentication_code1=request.POST.get("code1", "").strip()[:16],
                    authentication_code2=request.POST.get("code2", "").strip()[:16],
                )
            except IamError as exc:
                error, status = exc.message, exc.status
            else:
                messages.success(request, f"MFA device {device.name} resynchronized.")
                return redirect_or_hx(request, target.back)
    return render(
        request,
        "identities/credentials/mfa_resync.html",
        _page(target, {"devices": devices, "device": device, "error": error}),
        status=error_status(request, status) if error else 200,
    )
