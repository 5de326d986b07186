"""The S3 console pages (buckets, objects, upload and download, bucket policy editor) and Event history's data
events filter."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit import delivery
from s3 import services
from s3.models import Bucket, S3Object
from tests.s3.conftest import allow, policy

pytestmark = pytest.mark.django_db


def test_create_bucket_upload_download_delete(root_client):
    page = root_client.get("/console/s3/buckets")
    assert page.status_code == 200 and "No buckets" in page.content.decode()
    created = root_client.post("/console/s3/buckets", {"bucket": "console-bucket"}, follow=True)
    assert "Successfully created bucket &quot;console-bucket&quot;." in created.content.decode()
    bad = root_client.post("/console/s3/buckets", {"bucket": "Bad_Name"})
    assert bad.status_code == 400 and "The specified bucket is not valid." in bad.content.decode()
    upload = SimpleUploadedFile("notes.txt", b"hello", content_type="text/plain")
    root_client.post("/console/s3/buckets/console-bucket", {"file": upload, "prefix": "docs/"})
    assert S3Object.objects.get().key == "docs/notes.txt"
    folder = root_client.get("/console/s3/buckets/console-bucket").content.decode()
    assert "docs/" in folder
    inside = root_client.get("/console/s3/buckets/console-bucket?prefix=docs/").content.decode()
    assert "docs/notes.txt" in inside
    download = root_client.get("/console/s3/buckets/console-bucket/download?key=docs/notes.txt")
    assert download.content == b"hello" and 'filename="notes.txt"' in download["Content-Disposition"]
    root_client.post("/console/s3/buckets/console-bucket/delete", {"key": "docs/notes.txt"})
    assert not S3Object.objects.exists()


def test_an_oversized_upload_is_refused(root_client, settings):
    settings.S3_MAX_OBJECT_SIZE = 4
    root_client.post("/console/s3/buckets", {"bucket": "small-bucket"})
    upload = SimpleUploadedFile("big.bin", b"12345")
    page = root_client.post("/console/s3/buckets/small-bucket", {"file": upload})
    assert page.status_code == 400 and "Your proposed upload exceeds the maximum allowed size" in page.content.decode()
    assert not S3Object.objects.exists()


def test_bucket_policy_editor_validates_and_links_the_simulator(root_client):
    root_client.post("/console/s3/buckets", {"bucket": "policy-bucket"})
    bad = root_client.post("/console/s3/buckets/policy-bucket/policy", {"policy": '{"Statement": []}'})
    assert bad.status_code == 400 and "MalformedPolicy" not in bad.content.decode()
    good = policy(allow("s3:GetObject", "arn:aws:s3:::policy-bucket/*", Principal={"AWS": "444455556666"}))
    saved = root_client.post("/console/s3/buckets/policy-bucket/policy", {"policy": good}, follow=True)
    assert "Successfully edited bucket policy." in saved.content.decode()
    assert json.loads(Bucket.objects.get().policy) == json.loads(good)
    assert "/iam/policy_simulator?mode=custom&amp;service=s3&amp;resource_policy=" in saved.content.decode()
    root_client.post("/console/s3/buckets/policy-bucket/policy", {"policy": ""})
    assert Bucket.objects.get().policy == ""


def test_another_accounts_bucket_is_not_shown(root_client, other_root_ctx):
    services.create_bucket(other_root_ctx, bucket="bravo-bucket")
    services.put_object(other_root_ctx, bucket="bravo-bucket", key="secret", body=b"s")
    assert "bravo-bucket" not in root_client.get("/console/s3/buckets").content.decode()
    page = root_client.get("/console/s3/buckets/bravo-bucket").content.decode()
    assert "secret" not in page and "s3:ListBucket" in page and "no resource-based policy allows" in page
    download = root_client.get("/console/s3/buckets/bravo-bucket/download?key=secret")
    assert download.status_code == 403 and download.content != b"s"


def test_event_history_hides_data_events_unless_asked(root_client, root_ctx, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    services.create_bucket(root_ctx, bucket="trail-bucket")
    services.put_object(root_ctx, bucket="trail-bucket", key="k", body=b"")
    delivery.deliver_pending()
    page = root_client.get("/iam/event_history").content.decode()
    assert ">CreateBucket</a>" in page and ">PutObject</a>" not in page
    assert "AWS's Event history shows management events only" in page
    page = root_client.get("/iam/event_history?data_events=on").content.decode()
    assert ">CreateBucket</a>" in page and ">PutObject</a>" in page


def test_the_bucket_owners_event_history_shows_another_accounts_object_calls(
    root_client, root_ctx, other_root_ctx, other_root_client, tmp_path, settings
):
    """CloudTrail delivers a data event to the requester and to the bucket owner: the owner's copy names the caller
    as another AWS account (type AWSAccount: its principal ID and account ID), under one sharedEventID."""
    from audit.models import AuditEvent
    from core.errors import AccessDenied
    from tests.s3.conftest import make_user

    settings.DATA_DIR = tmp_path
    owner, caller = root_ctx.account_id, other_root_ctx.account_id
    services.create_bucket(root_ctx, bucket="shared-bucket")
    services.put_object(root_ctx, bucket="shared-bucket", key="report.csv", body=b"1,2")
    grant = allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::shared-bucket/*", Principal={"AWS": caller})
    services.put_bucket_policy(root_ctx, bucket="shared-bucket", policy=policy(grant))
    carol, _ = make_user(other_root_ctx, "carol", policy(allow(["s3:GetObject", "s3:PutObject"])))
    assert services.get_object(carol, bucket="shared-bucket", key="report.csv").body == b"1,2"
    services.put_object(carol, bucket="shared-bucket", key="from-carol.csv", body=b"3,4")
    dave, _ = make_user(other_root_ctx, "dave")  # refused by his own account: the owner hears nothing of it
    with pytest.raises(AccessDenied):
        services.get_object(dave, bucket="shared-bucket", key="report.csv")
    erin, _ = make_user(other_root_ctx, "erin", policy(allow("s3:DeleteObject")))  # refused by the bucket: it hears
    with pytest.raises(AccessDenied):
        services.delete_object(erin, bucket="shared-bucket", key="report.csv")
    delivery.deliver_pending()

    mine = AuditEvent.objects.filter(account_id=owner, record__eventCategory="Data").exclude(
        record__userIdentity__type="Root"
    )
    copies = {e.event_name: e for e in mine}
    assert set(copies) == {"GetObject", "PutObject", "DeleteObject"}
    get = copies["GetObject"]
    assert get.record["userIdentity"] == {
        "type": "AWSAccount",
        "principalId": carol.principal.principal_id,
        "accountId": caller,
    }
    assert get.record["recipientAccountId"] == owner and (get.username, get.access_key_id) == ("", "")
    theirs = AuditEvent.objects.get(account_id=caller, event_name="GetObject", username="carol")
    assert theirs.record["userIdentity"]["arn"] == carol.principal.arn and theirs.record["recipientAccountId"] == caller
    assert theirs.record["sharedEventID"] == get.record["sharedEventID"] and theirs.event_id != get.event_id
    assert copies["DeleteObject"].error_code == "AccessDenied" and copies["DeleteObject"].explanation is None
    assert not AuditEvent.objects.filter(
        account_id=owner, record__userIdentity__principalId=dave.principal.principal_id
    )

    page = root_client.get("/iam/event_history?data_events=on").content.decode()
    assert ">GetObject</a>" in page and ">PutObject</a>" in page
    assert ">GetObject</a>" not in root_client.get("/iam/event_history").content.decode()
    detail = root_client.get(f"/iam/event_history/{get.event_id}").content.decode()
    assert "AWSAccount" in detail and caller in detail and "carol" not in detail
    # The caller's own history has its copy; it never sees the owner's.
    assert other_root_client.get(f"/iam/event_history/{get.event_id}").status_code == 404
    assert ">GetObject</a>" in other_root_client.get("/iam/event_history?data_events=on").content.decode()
