"""Object bodies are files under OBJECT_DIR that follow their rows: a refused or rolled-back PutObject leaves no
file, an overwrite or a delete removes the old file once it commits (a rollback keeps it), a reset removes the
account's files, and an object whose file is gone answers S3's InternalError instead of failing the server."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from django.db import DataError

from audit.models import AuditEvent
from core.calls import batch
from core.errors import AccessDenied
from identities.reset import reset_account_iam
from s3 import services
from s3.errors import EntityTooLarge, InternalError, InvalidTag, KeyTooLongError, NoSuchBucket, NoSuchKey, QuotaExceeded
from s3.models import S3Object
from s3.services import Tag
from tests.s3.conftest import allow, make_user, policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def files(settings, tmp_path):
    """The bodies stored under this test's own OBJECT_DIR, as a sorted list."""
    settings.OBJECT_DIR = str(tmp_path)

    def stored() -> list[bytes]:
        return sorted(p.read_bytes() for p in Path(tmp_path).rglob("*") if p.is_file())

    return stored


def test_refused_puts_store_no_file(root_ctx, files, settings):
    settings.S3_MAX_OBJECT_SIZE = 10
    settings.S3_ACCOUNT_QUOTA = 15
    services.create_bucket(root_ctx, bucket="limits")
    services.put_object(root_ctx, bucket="limits", key="one", body=b"x" * 10)
    refused = [
        (EntityTooLarge, {"key": "big", "body": b"x" * 11}),
        (QuotaExceeded, {"key": "two", "body": b"x" * 6}),
        (KeyTooLongError, {"key": "k" * 1025, "body": b"x"}),
        (InvalidTag, {"key": "tagged", "body": b"x", "tagging": [Tag("aws:x", "y")]}),
        (NoSuchBucket, {"bucket": "no-such-bucket", "key": "k", "body": b"x"}),
    ]
    for error, call in refused:
        with pytest.raises(error):
            services.put_object(root_ctx, **{"bucket": "limits", **call})
    assert files() == [b"x" * 10]


def test_with_fsync_on_bodies_are_stored_and_read_alike(root_ctx, files, settings):
    settings.OBJECT_FSYNC = True
    services.create_bucket(root_ctx, bucket="synced")
    services.put_object(root_ctx, bucket="synced", key="k", body=b"durable")
    assert services.get_object(root_ctx, bucket="synced", key="k").body == b"durable"
    assert files() == [b"durable"]


def test_a_denied_put_stores_no_file(root_ctx, files):
    services.create_bucket(root_ctx, bucket="guarded")
    reader, _ = make_user(root_ctx, "reader", policy(allow("s3:GetObject")))
    with pytest.raises(AccessDenied):
        services.put_object(reader, bucket="guarded", key="k", body=b"nope")
    assert files() == []


def test_a_put_the_database_refuses_after_its_body_was_written_leaves_no_file(root_ctx, files):
    services.create_bucket(root_ctx, bucket="team-bucket")
    with pytest.raises(DataError):  # jsonb refuses \u0000: the row's INSERT fails, after the file was written
        services.put_object(root_ctx, bucket="team-bucket", key="k", body=b"body", metadata={"note": "a\x00b"})
    assert files() == []


def test_a_put_in_a_failed_batch_leaves_no_file_and_keeps_the_old_body(root_ctx, files):
    services.create_bucket(root_ctx, bucket="team-bucket")
    services.put_object(root_ctx, bucket="team-bucket", key="report.csv", body=b"old")
    with pytest.raises(NoSuchKey), batch():
        services.put_object(root_ctx, bucket="team-bucket", key="report.csv", body=b"new")
        services.put_object(root_ctx, bucket="team-bucket", key="fresh.csv", body=b"fresh")
        services.get_object(root_ctx, bucket="team-bucket", key="missing")  # fails the batch: all of it rolls back
    assert files() == [b"old"]
    assert services.get_object(root_ctx, bucket="team-bucket", key="report.csv").body == b"old"


def test_a_refused_put_inside_a_batch_that_goes_on_leaves_no_file(root_ctx, files, settings):
    settings.S3_ACCOUNT_QUOTA = 5
    services.create_bucket(root_ctx, bucket="team-bucket")
    with batch():
        with pytest.raises(QuotaExceeded):  # refused once its body was written: the row's statement checks the quota
            services.put_object(root_ctx, bucket="team-bucket", key="big", body=b"x" * 6)
        services.put_object(root_ctx, bucket="team-bucket", key="ok", body=b"ok")
    assert files() == [b"ok"]


def test_overwrite_copy_and_delete_remove_files_once_committed(root_ctx, files, django_capture_on_commit_callbacks):
    services.create_bucket(root_ctx, bucket="team-bucket")
    with django_capture_on_commit_callbacks(execute=True):
        services.put_object(root_ctx, bucket="team-bucket", key="a", body=b"first")
        services.put_object(root_ctx, bucket="team-bucket", key="a", body=b"second")
        assert files() == [b"first", b"second"]  # the old file goes on commit, not before
    assert files() == [b"second"]
    with django_capture_on_commit_callbacks(execute=True):
        services.copy_object(root_ctx, bucket="team-bucket", key="b", source_bucket="team-bucket", source_key="a")
        services.delete_object(root_ctx, bucket="team-bucket", key="a")
    assert files() == [b"second"]  # the copy's own file
    assert services.get_object(root_ctx, bucket="team-bucket", key="b").body == b"second"
    with django_capture_on_commit_callbacks(execute=True):
        services.put_object(root_ctx, bucket="team-bucket", key="c", body=b"third")
        result = services.delete_objects(root_ctx, bucket="team-bucket", keys=["b", "c"])
    assert result.deleted == ["b", "c"]
    assert files() == []


def test_reset_removes_the_accounts_files_only(
    account, root_ctx, other_root_ctx, files, django_capture_on_commit_callbacks
):
    services.create_bucket(root_ctx, bucket="team-bucket")
    services.create_bucket(other_root_ctx, bucket="their-bucket")
    with django_capture_on_commit_callbacks(execute=True):
        services.put_object(root_ctx, bucket="team-bucket", key="a", body=b"ours a")
        services.put_object(root_ctx, bucket="team-bucket", key="b", body=b"ours b")
        services.put_object(other_root_ctx, bucket="their-bucket", key="a", body=b"theirs")
        reset_account_iam(account.id)
    assert files() == [b"theirs"]


def test_an_object_whose_file_is_gone_answers_internal_error(root_ctx, files, settings):
    services.create_bucket(root_ctx, bucket="team-bucket")
    services.put_object(root_ctx, bucket="team-bucket", key="lost", body=b"gone")
    for path in Path(settings.OBJECT_DIR).rglob("*"):
        if path.is_file():
            path.unlink()
    with pytest.raises(InternalError) as raised:
        services.get_object(root_ctx, bucket="team-bucket", key="lost")
    assert raised.value.message == "We encountered an internal error. Please try again."
    assert AuditEvent.objects.filter(event_name="GetObject").get().error_code == "InternalError"
    assert services.head_object(root_ctx, bucket="team-bucket", key="lost").size == 4  # the row is still there


def test_a_read_that_races_an_overwrite_answers_the_new_body(root_ctx, files, django_capture_on_commit_callbacks):
    services.create_bucket(root_ctx, bucket="team-bucket")
    services.put_object(root_ctx, bucket="team-bucket", key="k", body=b"old")
    seen = S3Object.objects.get()  # the row as a GetObject reads it, before its decision
    with django_capture_on_commit_callbacks(execute=True):
        services.put_object(root_ctx, bucket="team-bucket", key="k", body=b"new")  # removes the old file
    read = services._with_body(seen)  # then the GetObject reads the body
    assert (read.body, read.size) == (b"new", 3)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_over_http_files_follow_puts_and_deletes_and_a_lost_one_is_a_500(s3, files, settings):
    s3.create_bucket(Bucket="http-bucket")
    s3.put_object(Bucket="http-bucket", Key="k", Body=b"one")
    s3.put_object(Bucket="http-bucket", Key="k", Body=b"two")
    assert files() == [b"two"]
    assert s3.get_object(Bucket="http-bucket", Key="k")["Body"].read() == b"two"
    [path] = [p for p in Path(settings.OBJECT_DIR).rglob("*") if p.is_file()]
    path.unlink()
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket="http-bucket", Key="k")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert raised.value.response["Error"] == {
        "Code": "InternalError",
        "Message": "We encountered an internal error. Please try again.",
    }
    s3.delete_object(Bucket="http-bucket", Key="k")
    assert not S3Object.objects.exists()


def _commit_waits_for_the_wal_flush() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:  # what the upload's transaction was left with (SET LOCAL lasts to its end)
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0] == "on"


def test_an_upload_commits_without_waiting_for_the_wal_flush_unless_bodies_are_fsynced(root_ctx, files, settings):
    """Without IAM_OBJECT_FSYNC an OS crash may lose the last seconds' bodies anyway, so their rows (with their audit
    events) need not wait for the WAL flush either; with it, they do. A batch's transaction is never relaxed."""
    services.create_bucket(root_ctx, bucket="relaxed")
    assert _commit_waits_for_the_wal_flush()
    services.put_object(root_ctx, bucket="relaxed", key="k", body=b"fast")
    assert not _commit_waits_for_the_wal_flush()


def test_with_fsync_on_or_in_a_batch_an_upload_commits_durably(root_ctx, files, settings):
    services.create_bucket(root_ctx, bucket="durable")
    with batch():
        services.put_object(root_ctx, bucket="durable", key="in-batch", body=b"x")
        assert _commit_waits_for_the_wal_flush()
    settings.OBJECT_FSYNC = True
    services.put_object(root_ctx, bucket="durable", key="synced", body=b"y")
    assert _commit_waits_for_the_wal_flush()


def test_the_sweep_removes_old_files_no_object_names_and_nothing_else(root_ctx, files, settings):
    """A process killed between writing a body and committing its row leaves a file no row names (and perhaps a
    temporary file): beat's sweep removes those once they are older than the grace period, never an object's body
    nor a file an upload still in flight has just written."""
    import os
    import time

    from s3 import tasks

    services.create_bucket(root_ctx, bucket="swept")
    services.put_object(root_ctx, bucket="swept", key="kept", body=b"kept")
    old = time.time() - services.ORPHAN_GRACE_SECONDS - 60
    root = Path(settings.OBJECT_DIR)
    for name, body in (("ab/" + "a" * 32, b"orphan"), ("ab/" + "b" * 32 + ".tmp", b"half"), ("cd/" + "c" * 32, b"new")):
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_bytes(body)
        if body != b"new":
            os.utime(root / name, (old, old))
    for path in root.rglob("*"):  # the object's own body is old too: it stays because its row names it
        if path.is_file() and path.read_bytes() == b"kept":
            os.utime(path, (old, old))

    assert tasks.sweep_orphan_bodies() == 2
    assert files() == [b"kept", b"new"]
    assert services.get_object(root_ctx, bucket="swept", key="kept").body == b"kept"
    assert tasks.sweep_orphan_bodies() == 0
