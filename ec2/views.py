"""Console pages of the practice EC2 service (instances: list, launch with a profile and tags, start/stop/
terminate, tags, the instance profile, and the "Run as this instance" panel), and the instance metadata service
(IMDSv2's shape) under ``/ec2/imds/<instance-id>/``.

Every page action is one ``ec2.services`` call with the console's context, so it is decided and recorded like the
same call from the CLI. The metadata service answers only for an instance of the signed-in account (the console
session), or at the instance's own address for tools off the console (``instance_credentials.machine_key``:
holding it is being on the instance, as any process on a real instance reaches 169.254.169.254)."""

from __future__ import annotations

import hmac
import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.decorators import console_page
from console.htmx import error_status, pick_partial, refusal_explanation, refusal_message
from core import clock
from core.errors import AccessDenied, IamError
from ec2 import catalog, services, shell
from ec2.errors import InvalidInstanceIdMalformed, InvalidInstanceIdNotFound
from ec2.instance_credentials import (
    TOKEN_MAX_TTL,
    NoCredentials,
    machine_key,
    metadata_token_valid,
    new_metadata_token,
    profile_and_role,
    role_credentials,
)
from ec2.models import Instance
from identities import instance_profiles

MAX_TAG_ROWS = 3


def _failure(exc: IamError) -> dict[str, Any]:
    """A refused call as the console shows it: AWS's sentence, and the engine's explanation in the "Why?" panel."""
    return {"error": f"{exc.code}: {refusal_message(exc)}", "explanation": refusal_explanation(exc)}


def _profile_names(request: HttpRequest) -> list[str]:
    """The account's instance profiles for a picker, read through ListInstanceProfiles (so the caller's permissions
    apply); a caller who may not list them types a name instead."""
    try:
        return [p.name for p in instance_profiles.list_instance_profiles(request.iam_ctx)]
    except AccessDenied:
        return []


@console_page
@require_GET
def instance_list(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"nav": "ec2", "instances": []}
    status = 200
    try:
        context["instances"], _ = services.describe_instances(request.iam_ctx)
    except IamError as exc:
        context.update(_failure(exc))
        status = error_status(request, exc.status)  # a page the caller may not read answers 403, as every console page
    return render(request, "ec2/instance_list.html", context, status=status)


@console_page
@require_http_methods(["GET", "POST"])
def instance_launch(request: HttpRequest) -> HttpResponse:
    form = {
        "name": request.POST.get("name", "").strip(),
        "image_id": request.POST.get("image_id", next(iter(catalog.IMAGES))),
        "instance_type": request.POST.get("instance_type", "t2.micro"),
        "profile": request.POST.get("profile", "").strip(),
        "tags": list(zip(request.POST.getlist("tag_key"), request.POST.getlist("tag_value"), strict=False)),
    }
    context: dict[str, Any] = {
        "nav": "ec2",
        "form": form,
        "images": catalog.IMAGES.values(),
        "types": catalog.INSTANCE_TYPES.values(),
        "profiles": _profile_names(request),
        "tag_rows": range(MAX_TAG_ROWS),
    }
    if request.method == "POST":
        tags = [services.Tag("Name", form["name"])] if form["name"] else []
        tags += [services.Tag(k.strip(), v.strip()) for k, v in form["tags"] if k.strip()]
        try:
            launched = services.run_instances(
                request.iam_ctx,
                image_id=form["image_id"],
                instance_type=form["instance_type"],
                min_count=1,
                max_count=1,
                iam_instance_profile={"Name": form["profile"]} if form["profile"] else None,
                tag_specifications=[("instance", tags)] if tags else (),
            )
        except IamError as exc:
            context.update(_failure(exc))
            return render(request, "ec2/instance_launch.html", context, status=error_status(request, exc.status))
        return redirect("ec2:instance-detail", launched[0].instance_id)
    return render(request, "ec2/instance_launch.html", context)


def _instance(request: HttpRequest, instance_id: str) -> Instance:
    """The instance through DescribeInstances (the console reads what the API reads); unknown or another
    account's: 404."""
    try:
        rows, _ = services.describe_instances(request.iam_ctx, instance_ids=[instance_id])
    except (InvalidInstanceIdMalformed, InvalidInstanceIdNotFound):
        raise Http404("No such instance") from None
    return rows[0]


def _detail(request: HttpRequest, instance: Instance, status: int = 200, **extra: Any) -> HttpResponse:
    _, role = profile_and_role(instance)
    address = request.build_absolute_uri(f"/ec2/imds/{instance.instance_id}/{machine_key(instance)}/")
    context = {
        "nav": "ec2",
        "instance": instance,
        "role": role,
        "profiles": _profile_names(request),
        "examples": shell.EXAMPLES,
        "commands": [f"aws {service} {command}" for service, command in shell.COMMANDS],
        "imds_address": address,
        "url": f"/ec2/instances/{instance.instance_id}",
        **extra,
    }
    template = pick_partial(request, "ec2/instance_detail.html", {"run-output"})
    return render(request, template, context, status=error_status(request, status) if status != 200 else 200)


@console_page
@require_GET
def instance_detail(request: HttpRequest, instance_id: str) -> HttpResponse:
    instance = _instance(request, instance_id)  # a refused read: the console's error page (console.middleware)
    return _detail(request, instance)


def _act(request: HttpRequest, instance_id: str, action: Any) -> HttpResponse:
    """Run one service call from a detail page's form, then show the page again (PRG), or the refusal on it."""
    instance = _instance(request, instance_id)  # a refused read: the console's error page (console.middleware)
    try:
        action(instance)
    except IamError as exc:
        instance.refresh_from_db()
        return _detail(request, instance, exc.status, **_failure(exc))
    return redirect("ec2:instance-detail", instance_id)


@console_page
@require_POST
def instance_state(request: HttpRequest, instance_id: str) -> HttpResponse:
    operations = {
        "start": services.start_instances,
        "stop": services.stop_instances,
        "terminate": services.terminate_instances,
    }
    operation = operations.get(request.POST.get("action", ""))
    if operation is None:
        return HttpResponse("Unknown action", status=400)
    return _act(request, instance_id, lambda i: operation(request.iam_ctx, instance_ids=[i.instance_id]))


@console_page
@require_POST
def instance_tags(request: HttpRequest, instance_id: str) -> HttpResponse:
    key = request.POST.get("key", "").strip()
    if request.POST.get("action") == "remove":
        return _act(
            request,
            instance_id,
            lambda i: services.delete_tags(request.iam_ctx, resources=[i.instance_id], tags=[(key, None)]),
        )
    tag = services.Tag(key, request.POST.get("value", "").strip())
    return _act(
        request, instance_id, lambda i: services.create_tags(request.iam_ctx, resources=[i.instance_id], tags=[tag])
    )


@console_page
@require_POST
def instance_profile(request: HttpRequest, instance_id: str) -> HttpResponse:
    name = request.POST.get("profile", "").strip()
    ctx = request.iam_ctx

    def change(instance: Instance) -> None:
        if not name:
            services.disassociate_iam_instance_profile(ctx, association_id=instance.association_id or None)
        elif instance.association_id:
            services.replace_iam_instance_profile_association(
                ctx, association_id=instance.association_id, iam_instance_profile={"Name": name}
            )
        else:
            services.associate_iam_instance_profile(
                ctx, instance_id=instance.instance_id, iam_instance_profile={"Name": name}
            )

    return _act(request, instance_id, change)


@console_page
@require_POST
def instance_run(request: HttpRequest, instance_id: str) -> HttpResponse:
    """The "Run as this instance" panel: one CLI-like command with the instance's role credentials."""
    instance = _instance(request, instance_id)  # a refused read: the console's error page (console.middleware)
    result = shell.run(instance, request.POST.get("command", ""))
    return _detail(request, instance, result=result, command=result.command)


# ---- The instance metadata service (IMDSv2) -------------------------------------------------------------------


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain")


def _metadata_instance(request: HttpRequest, instance_id: str, key: str | None) -> Instance:
    instance = Instance.objects.filter(instance_id=instance_id).first()
    if instance is None:
        raise Http404("No such instance")
    if key is not None:
        if not hmac.compare_digest(key, machine_key(instance)):
            raise Http404("No such instance")
    else:
        ctx = getattr(request, "iam_ctx", None)
        if ctx is None or ctx.account_id != instance.account_id:
            raise Http404("No such instance")
    if instance.state == "terminated":
        raise Http404("No such instance")
    return instance


def _iso(value: Any) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


@csrf_exempt
@require_http_methods(["GET", "PUT"])
def metadata(request: HttpRequest, instance_id: str, path: str, key: str | None = None) -> HttpResponse:
    """``/ec2/imds/<instance-id>/latest/…``: PUT ``api/token`` for a session token (header
    ``X-aws-ec2-metadata-token-ttl-seconds``), then GETs with ``X-aws-ec2-metadata-token``; IMDSv1 (no token) is
    refused, as on an instance that requires IMDSv2."""
    instance = _metadata_instance(request, instance_id, key)
    if request.method == "PUT":
        if path != "api/token":
            return _text("Method Not Allowed", 405)
        ttl = request.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= TOKEN_MAX_TTL:
            return _text("Bad Request", 400)
        response = _text(new_metadata_token(instance, int(ttl)))
        response["X-aws-ec2-metadata-token-ttl-seconds"] = ttl
        return response
    if not metadata_token_valid(instance, request.headers.get("X-aws-ec2-metadata-token", "")):
        return _text("Unauthorized", 401)
    if instance.state != "running":
        return _text("Not Found", 404)
    return _metadata_document(instance, path)


def _metadata_document(instance: Instance, path: str) -> HttpResponse:
    profile, role = profile_and_role(instance)
    documents: dict[str, str] = {
        "meta-data/instance-id": instance.instance_id,
        "meta-data/ami-id": instance.image_id,
        "meta-data/instance-type": instance.instance_type,
        "meta-data/local-ipv4": instance.private_ip,
        "meta-data/local-hostname": f"ip-{instance.private_ip.replace('.', '-')}.ec2.internal",
        "meta-data/placement/availability-zone": catalog.AVAILABILITY_ZONE,
        "meta-data/placement/region": catalog.REGION,
        "meta-data/placement/": "availability-zone\nregion",
    }
    listing = ["ami-id", "instance-id", "instance-type", "local-hostname", "local-ipv4", "placement/"]
    if profile is not None:
        listing.append("iam/")
        documents["meta-data/iam/"] = "info\nsecurity-credentials/"
    documents["meta-data/"] = "\n".join(sorted(listing))
    if path in documents:
        return _text(documents[path])
    if path == "dynamic/instance-identity/document":
        return JsonResponse(
            {
                "accountId": instance.account_id,
                "architecture": "x86_64",
                "availabilityZone": catalog.AVAILABILITY_ZONE,
                "imageId": instance.image_id,
                "instanceId": instance.instance_id,
                "instanceType": instance.instance_type,
                "pendingTime": _iso(instance.launched_at),
                "privateIp": instance.private_ip,
                "region": catalog.REGION,
                "version": "2017-09-30",
            }
        )
    if profile is None or not path.startswith("meta-data/iam/"):
        return _text("Not Found", 404)
    if path == "meta-data/iam/info":
        return _json(
            {
                "Code": "Success",
                "LastUpdated": _iso(instance.associated_at or instance.launched_at),
                "InstanceProfileArn": profile.arn,
                "InstanceProfileId": profile.instance_profile_id,
            }
        )
    if path == "meta-data/iam/security-credentials/":
        return _text(role.name) if role is not None else _text("Not Found", 404)
    name = path.removeprefix("meta-data/iam/security-credentials/")
    if role is None or name != role.name:
        return _text("Not Found", 404)
    try:
        creds = role_credentials(instance)
    except NoCredentials as exc:
        return _json({"Code": exc.code, "Message": exc.message, "LastUpdated": _iso(clock.now())})
    return _json(
        {
            "Code": "Success",
            "LastUpdated": _iso(creds.last_updated),
            "Type": "AWS-HMAC",
            "AccessKeyId": creds.access_key_id,
            "SecretAccessKey": creds.secret_access_key,
            "Token": creds.token,
            "Expiration": _iso(creds.expiration),
        }
    )


def _json(document: dict[str, Any]) -> HttpResponse:
    # IMDS answers JSON documents as text/plain, pretty-printed.
    return _text(json.dumps(document, indent=2))
