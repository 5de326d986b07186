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
