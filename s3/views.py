"""The S3 console pages: the buckets (list, Create bucket), a bucket's objects (folders by ``/``, upload,
download, delete) and its bucket policy editor, with the policy simulator one click away. Every page reads and
writes through ``s3.services``, so each action is decided by the engine and recorded, as from the CLI."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.decorators import console_page
from console.htmx import refusal_explanation
from core.errors import IamError
from s3 import services
from s3.errors import NoSuchBucketPolicy

MAX_UPLOAD_FIELD = "file"


@console_page
@require_http_methods(["GET", "POST"])
def bucket_list(request: HttpRequest) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    error = ""
    name = ""
    if request.method == "POST":
        name = request.POST.get("bucket", "").strip()
        try:
            services.create_bucket(ctx, bucket=name)
        except IamError as exc:
            error = exc.message
        else:
            messages.success(request, f'Successfully created bucket "{name}".')
            return redirect("s3:bucket-list")
    buckets, denied, explanation, status = [], "", None, 400 if error else 200
    try:
        buckets = services.list_buckets(ctx)
    except IamError as exc:
        denied = exc.message
        explanation = refusal_explanation(exc)
        status = exc.status  # a page the caller may not read answers 403, as every console page
    context = {
        "buckets": buckets,
        "denied": denied,
        "explanation": explanation,
        "error": error,
        "name": name,
        "nav": "s3",
    }
    return render(request, "s3/bucket_list.html", context, status=status)


@console_page
@require_http_methods(["GET", "POST"])
def bucket_detail(request: HttpRequest, bucket: str) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    prefix = request.GET.get("prefix", "")
    error = ""
    if request.method == "POST":
        upload = request.FILES.get(MAX_UPLOAD_FIELD)
        prefix = request.POST.get("prefix", "")
        if upload is None:
            error = "Choose a file to upload."
        else:
            try:
                services.put_object(
                    ctx,
                    bucket=bucket,
                    key=prefix + (upload.name or "upload"),
                    body=upload.read(),
                    content_type=upload.content_type or None,
                )
            except IamError as exc:
                error = exc.message
            else:
                messages.success(request, f"Uploaded {upload.name}.")
                return redirect(f"{request.path}?{urlencode({'prefix': prefix})}" if prefix else request.path)
    listing, denied, explanation, status = None, "", None, 400 if error else 200
    try:
        listing = services.list_objects_v2(ctx, bucket=bucket, prefix=prefix, delimiter="/")
    except IamError as exc:
        denied, explanation = exc.message, refusal_explanation(exc)
        status = status if error else exc.status
    parents = []
    parts = [p for p in prefix.split("/") if p]
    for i, part in enumerate(parts):
        parents.append({"name": part, "prefix": "/".join(parts[: i + 1]) + "/"})
    context = {
        "bucket": bucket,
        "prefix": prefix,
        "parents": parents,
        "listing": listing,
        "denied": denied,
        "explanation": explanation,
        "error": error,
        "nav": "s3",
    }
    return render(request, "s3/bucket_detail.html", context, status=status)


@console_page
@require_GET
def object_download(request: HttpRequest, bucket: str) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    key = request.GET.get("key", "")
    try:
        obj = services.get_object(ctx, bucket=bucket, key=key)
    except IamError as exc:
        context = {"error": exc.message, "explanation": refusal_explanation(exc), "bucket": bucket, "nav": "s3"}
        return render(request, "s3/denied.html", context, status=exc.status)
    response = HttpResponse(obj.body, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, key.rsplit("/", 1)[-1])
    return response


@console_page
@require_POST
def object_delete(request: HttpRequest, bucket: str) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    key = request.POST.get("key", "")
    try:
        services.delete_object(ctx, bucket=bucket, key=key)
    except IamError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Deleted {key}.")
    prefix = key.rsplit("/", 1)[0] + "/" if "/" in key else ""
    return redirect(f"/console/s3/buckets/{bucket}?{urlencode({'prefix': prefix})}")


@console_page
@require_http_methods(["GET", "POST"])
def bucket_policy(request: HttpRequest, bucket: str) -> HttpResponse:
    ctx = request.iam_ctx  # type: ignore[attr-defined]
    error, explanation, status = "", None, 200
    text = ""
    if request.method == "POST":
        text = request.POST.get("policy", "")
        try:
            if text.strip():
                services.put_bucket_policy(ctx, bucket=bucket, policy=text)
            else:
                services.delete_bucket_policy(ctx, bucket=bucket)
        except IamError as exc:
            error, explanation, status = exc.message, refusal_explanation(exc), 400 if exc.status < 403 else exc.status
        else:
            messages.success(request, "Successfully edited bucket policy.")
            return redirect("s3:bucket-policy", bucket=bucket)
    else:
        try:
            text = services.get_bucket_policy(ctx, bucket=bucket)
        except NoSuchBucketPolicy:
            text = ""
        except IamError as exc:
            error, explanation, status = exc.message, refusal_explanation(exc), exc.status
    simulate = "/iam/policy_simulator?" + urlencode(
        {
            "mode": "custom",
            "service": "s3",
            "resource_policy": text,
            "resources": f"{services.bucket_arn(bucket)}\n{services.bucket_arn(bucket)}/*",
        }
    )
    context = {
        "bucket": bucket,
        "text": text,
        "error": error,
        "explanation": explanation,
        "simulate": simulate,
        "nav": "s3",
    }
    return render(request, "s3/bucket_policy.html", context, status=status)
