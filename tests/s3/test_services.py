"""The S3 services, called as the console and the EC2 instance panel call them: storage, S3's errors, the
engine's decisions (identity and bucket policies, same- and cross-account, boundaries, S3 condition keys) and the
audit trail (object operations as data events)."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from core.errors import AccessDenied
from s3 import services
from s3.errors import (
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    EntityTooLarge,
    InvalidBucketName,
    MalformedPolicy,
    NoSuchBucket,
    NoSuchKey,
    QuotaExceeded,
)
from s3.models import Bucket, S3Object
from s3.services import Tag
from tests.s3.conftest import allow, deny, make_user, policy

pytestmark = pytest.mark.django_db


def test_root_stores_reads_lists_and_deletes(root_ctx):
    services.create_bucket(root_ctx, bucket="team-bucket")
    services.put_object(root_ctx, bucket="team-bucket", key="docs/a.txt", body=b"hello", content_type="text/plain")
    obj = services.get_object(root_ctx, bucket="team-bucket", key="docs/a.txt")
    assert (obj.body, obj.content_type, obj.etag) == (b"hello", "text/plain", '"5d41402abc4b2a76b9719d911017c592"')
    assert [b.name for b in services.list_buckets(root_ctx)] == ["team-bucket"]
    with pytest.raises(BucketNotEmpty):
        services.delete_bucket(root_ctx, bucket="team-bucket")
    services.delete_object(root_ctx, bucket="team-bucket", key="docs/a.txt")
    services.delete_object(root_ctx, bucket="team-bucket", key="docs/a.txt")  # absent: still succeeds, as S3
    services.delete_bucket(root_ctx, bucket="team-bucket")
    assert not Bucket.objects.exists()


@pytest.mark.parametrize(
    "name", ["ab", "a" * 64, "Upper", "-start", "end-", "two..dots", "192.168.1.1", "xn--punycode", "a_b", "x-s3alias"]
)
def test_invalid_bucket_names_are_refused_and_recorded(root_ctx, name):
    with pytest.raises(InvalidBucketName):
        services.create_bucket(root_ctx, bucket=name)
    assert not Bucket.objects.exists()
    assert AuditEvent.objects.get().error_code == "InvalidBucketName"


def test_bucket_names_are_global(root_ctx, other_root_ctx):
    services.create_bucket(root_ctx, bucket="shared-name")
    with pytest.raises(BucketAlreadyOwnedByYou):
        services.create_bucket(root_ctx, bucket="shared-name")
    with pytest.raises(BucketAlreadyExists):
        services.create_bucket(other_root_ctx, bucket="shared-name")
    assert services.list_buckets(other_root_ctx) == []


def test_missing_bucket_and_key(root_ctx):
    with pytest.raises(NoSuchBucket):
        services.get_object(root_ctx, bucket="nope-bucket", key="k")
    services.create_bucket(root_ctx, bucket="b-one")
    with pytest.raises(NoSuchKey):
        services.get_object(root_ctx, bucket="b-one", key="k")


def test_size_limits_store_nothing(root_ctx, settings):
    settings.S3_MAX_OBJECT_SIZE = 10
    settings.S3_ACCOUNT_QUOTA = 15
    services.create_bucket(root_ctx, bucket="limits")
    with pytest.raises(EntityTooLarge):
        services.put_object(root_ctx, bucket="limits", key="big", body=b"x" * 11)
    services.put_object(root_ctx, bucket="limits", key="one", body=b"x" * 10)
    with pytest.raises(QuotaExceeded):
        services.put_object(root_ctx, bucket="limits", key="two", body=b"x" * 6)
    services.put_object(root_ctx, bucket="limits", key="one", body=b"y" * 10)  # replacing frees its old size
    assert list(S3Object.objects.values_list("key", flat=True)) == ["one"]


def test_list_with_prefix_delimiter_and_pages(root_ctx):
    services.create_bucket(root_ctx, bucket="listing")
    for key in ["a.txt", "photos/2024/x.jpg", "photos/2024/y.jpg", "photos/2025/z.jpg", "photos/p.jpg", "zz"]:
        services.put_object(root_ctx, bucket="listing", key=key, body=b"1")
    top = services.list_objects_v2(root_ctx, bucket="listing", delimiter="/")
    assert [c["Key"] for c in top.contents] == ["a.txt", "zz"]
    assert top.common_prefixes == ["photos/"]
    inner = services.list_objects_v2(root_ctx, bucket="listing", prefix="photos/", delimiter="/")
    assert inner.common_prefixes == ["photos/2024/", "photos/2025/"]
    assert [c["Key"] for c in inner.contents] == ["photos/p.jpg"]
    seen, token = [], None
    while True:
        page = services.list_objects_v2(
            root_ctx, bucket="listing", prefix="photos/", delimiter="/", max_keys=1, continuation_token=token
        )
        seen += [c["Key"] for c in page.contents] + page.common_prefixes
        if not page.is_truncated:
            break
        token = page.next_token
    assert seen == ["photos/2024/", "photos/2025/", "photos/p.jpg"]


def test_identity_policy_allows_reading_not_writing(root_ctx):
    services.create_bucket(root_ctx, bucket="team-bucket")
    services.put_object(root_ctx, bucket="team-bucket", key="report.csv", body=b"1,2")
    alice, _ = make_user(
        root_ctx,
        "alice",
        policy(
            allow("s3:ListBucket", "arn:aws:s3:::team-bucket"),
            allow("s3:GetObject", "arn:aws:s3:::team-bucket/*"),
        ),
    )
    assert services.get_object(alice, bucket="team-bucket", key="report.csv").body == b"1,2"
    with pytest.raises(AccessDenied) as denied:
        services.put_object(alice, bucket="team-bucket", key="new.csv", body=b"x")
    assert denied.value.message == (
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: "
        "arn:aws:s3:::team-bucket/new.csv because no identity-based policy allows the s3:PutObject action"
    )
    assert not S3Object.objects.filter(key="new.csv").exists()
    event = AuditEvent.objects.filter(event_name="PutObject", error_code="AccessDenied").get()
    assert event.record["eventCategory"] == "Data" and event.record["managementEvent"] is False
    assert event.management_event is False  # the column Event history filters on
    assert event.explanation["missing_layer"] == "identity"


def test_bucket_policy_alone_grants_in_the_same_account(root_ctx):
    services.create_bucket(root_ctx, bucket="team-bucket")
    services.put_object(root_ctx, bucket="team-bucket", key="k", body=b"v")
    bob, _ = make_user(root_ctx, "bob")
    with pytest.raises(AccessDenied):
        services.get_object(bob, bucket="team-bucket", key="k")
    grant = policy(
        allow("s3:GetObject", "arn:aws:s3:::team-bucket/*", Principal={"AWS": "arn:aws:iam::111122223333:user/bob"})
    )
    services.put_bucket_policy(root_ctx, bucket="team-bucket", policy=grant)
    assert services.get_object(bob, bucket="team-bucket", key="k").body == b"v"


def test_cross_account_needs_both_sides(root_ctx, other_root_ctx):
    services.create_bucket(root_ctx, bucket="alpha-share")
    services.put_object(root_ctx, bucket="alpha-share", key="k", body=b"v")
    carol, _ = make_user(other_root_ctx, "carol", policy(allow("s3:GetObject", "arn:aws:s3:::alpha-share/*")))
    with pytest.raises(AccessDenied) as denied:
        services.get_object(carol, bucket="alpha-share", key="k")
    assert "because no resource-based policy allows the s3:GetObject action" in denied.value.message
    services.put_bucket_policy(
        root_ctx,
        bucket="alpha-share",
        policy=policy(allow("s3:GetObject", "arn:aws:s3:::alpha-share/*", Principal={"AWS": "444455556666"})),
    )
    assert services.get_object(carol, bucket="alpha-share", key="k").body == b"v"
    dave, _ = make_user(other_root_ctx, "dave")  # the bucket policy trusts the account; dave's own side is empty
    with pytest.raises(AccessDenied):
        services.get_object(dave, bucket="alpha-share", key="k")
    # Another account's buckets never appear in its list.
    assert services.list_buckets(other_root_ctx) == []


def test_explicit_deny_in_the_bucket_policy_wins_and_root_can_still_remove_it(root_ctx):
    services.create_bucket(root_ctx, bucket="locked")
    lockout = policy(deny("s3:*", ["arn:aws:s3:::locked", "arn:aws:s3:::locked/*"], Principal="*"))
    services.put_bucket_policy(root_ctx, bucket="locked", policy=lockout)
    with pytest.raises(AccessDenied) as denied:
        services.put_object(root_ctx, bucket="locked", key="k", body=b"")
    assert "with an explicit deny in a resource-based policy" in denied.value.message
    assert services.get_bucket_policy(root_ctx, bucket="locked") == lockout
    services.delete_bucket_policy(root_ctx, bucket="locked")
    services.put_object(root_ctx, bucket="locked", key="k", body=b"")


def test_bucket_policies_are_validated(root_ctx):
    services.create_bucket(root_ctx, bucket="checked")
    for bad in [
        "not json",
        policy(allow("s3:GetObject", "arn:aws:s3:::checked/*")),
        policy(allow("s3:GetObject", "arn:aws:s3:::other/*", Principal="*")),
    ]:
        with pytest.raises(MalformedPolicy):
            services.put_bucket_policy(root_ctx, bucket="checked", policy=bad)
    assert Bucket.objects.get().policy == ""


def test_prefix_condition_and_boundary(root_ctx):
    services.create_bucket(root_ctx, bucket="homes")
    erin, _ = make_user(
        root_ctx,
        "erin",
        policy(allow("s3:ListBucket", "arn:aws:s3:::homes", Condition={"StringLike": {"s3:prefix": "home/erin/*"}})),
    )
    services.list_objects_v2(erin, bucket="homes", prefix="home/erin/")
    with pytest.raises(AccessDenied):
        services.list_objects_v2(erin, bucket="homes", prefix="home/")


def test_object_tag_conditions(root_ctx):
    services.create_bucket(root_ctx, bucket="tagged")
    services.put_object(root_ctx, bucket="tagged", key="public", body=b"p", tagging=[Tag("class", "public")])
    services.put_object(root_ctx, bucket="tagged", key="secret", body=b"s", tagging=[Tag("class", "secret")])
    frank, _ = make_user(
        root_ctx,
        "frank",
        policy(
            allow(
                "s3:GetObject",
                "arn:aws:s3:::tagged/*",
                Condition={"StringEquals": {"s3:ExistingObjectTag/class": "public"}},
            ),
            allow(
                ["s3:PutObject", "s3:PutObjectTagging"],
                "arn:aws:s3:::tagged/*",
                Condition={"StringEquals": {"s3:RequestObjectTag/owner": "${aws:PrincipalTag/team}"}},
            ),
        ),
        tags={"team": "blue"},
    )
    assert services.get_object(frank, bucket="tagged", key="public").body == b"p"
    with pytest.raises(AccessDenied):
        services.get_object(frank, bucket="tagged", key="secret")
    services.put_object(frank, bucket="tagged", key="mine", body=b"m", tagging=[Tag("owner", "blue")])
    with pytest.raises(AccessDenied):
        services.put_object(frank, bucket="tagged", key="theirs", body=b"t", tagging=[Tag("owner", "red")])
    assert not S3Object.objects.filter(key="theirs").exists()


def test_copy_needs_read_on_the_source_and_write_on_the_target(root_ctx):
    services.create_bucket(root_ctx, bucket="src-bucket")
    services.create_bucket(root_ctx, bucket="dst-bucket")
    services.put_object(root_ctx, bucket="src-bucket", key="k", body=b"data", metadata={"a": "1"})
    gina, _ = make_user(root_ctx, "gina", policy(allow("s3:PutObject", "arn:aws:s3:::dst-bucket/*")))
    with pytest.raises(AccessDenied) as denied:
        services.copy_object(gina, bucket="dst-bucket", key="copy", source_bucket="src-bucket", source_key="k")
    assert "s3:GetObject on resource: arn:aws:s3:::src-bucket/k" in denied.value.message
    services.copy_object(root_ctx, bucket="dst-bucket", key="copy", source_bucket="src-bucket", source_key="k")
    copy = services.get_object(root_ctx, bucket="dst-bucket", key="copy")
    assert (copy.body, copy.metadata) == (b"data", {"a": "1"})


def test_delete_objects_reports_denied_keys(root_ctx):
    services.create_bucket(root_ctx, bucket="bulk")
    for key in ("keep/1", "tmp/1", "tmp/2"):
        services.put_object(root_ctx, bucket="bulk", key=key, body=b"")
    hank, _ = make_user(root_ctx, "hank", policy(allow("s3:DeleteObject", "arn:aws:s3:::bulk/tmp/*")))
    result = services.delete_objects(hank, bucket="bulk", keys=["tmp/1", "tmp/2", "keep/1"])
    assert result.deleted == ["tmp/1", "tmp/2"]
    assert [(k, c) for k, c, _ in result.errors] == [("keep/1", "AccessDenied")]
    assert list(S3Object.objects.values_list("key", flat=True)) == ["keep/1"]


def test_management_and_data_events(root_ctx):
    services.create_bucket(root_ctx, bucket="trail")
    services.put_object(root_ctx, bucket="trail", key="k", body=b"")
    services.head_object(root_ctx, bucket="trail", key="k")
    events = {e.event_name: e for e in AuditEvent.objects.all()}
    assert events["CreateBucket"].record["eventCategory"] == "Management"
    assert events["CreateBucket"].record["managementEvent"] is True
    assert events["PutObject"].record["eventCategory"] == "Data"
    assert events["HeadObject"].read_only and events["HeadObject"].record["eventSource"] == "s3.amazonaws.com"
    assert events["PutObject"].resource_type == "AWS::S3::Object"
    assert events["PutObject"].record["resources"][0]["ARN"] == "arn:aws:s3:::trail/k"


def test_list_objects_v1_pages_by_marker_and_does_not_list_a_common_prefix_twice(root_ctx):
    services.create_bucket(root_ctx, bucket="listing-v1")
    for key in ["a.txt", "photos/2024/x.jpg", "photos/2024/y.jpg", "photos/2025/z.jpg", "photos/p.jpg", "zz"]:
        services.put_object(root_ctx, bucket="listing-v1", key=key, body=b"1")
    after = services.list_objects(root_ctx, bucket="listing-v1", marker="photos/2024/x.jpg")
    assert [c["Key"] for c in after.contents] == ["photos/2024/y.jpg", "photos/2025/z.jpg", "photos/p.jpg", "zz"]
    seen, marker, last = [], "", []
    while True:
        page = services.list_objects(root_ctx, bucket="listing-v1", delimiter="/", max_keys=1, marker=marker)
        seen += [c["Key"] for c in page.contents] + page.common_prefixes
        last.append(page.last)
        if not page.is_truncated:
            break
        marker = page.last  # NextMarker: the last key or common prefix of the page
    assert seen == ["a.txt", "photos/", "zz"]
    assert last == ["a.txt", "photos/", "zz"]
    # A marker inside a rolled-up prefix: that prefix was listed already.
    inner = services.list_objects(
        root_ctx, bucket="listing-v1", prefix="photos/", delimiter="/", marker="photos/2024/x"
    )
    assert (inner.common_prefixes, [c["Key"] for c in inner.contents]) == (["photos/2025/"], ["photos/p.jpg"])


def test_list_objects_v1_is_decided_with_the_listing_condition_keys(root_ctx):
    services.create_bucket(root_ctx, bucket="homes-v1")
    condition = {
        "StringLike": {"s3:prefix": "home/erin/*"},
        "StringEquals": {"s3:delimiter": "/"},
        "NumericLessThanEquals": {"s3:max-keys": "100"},
    }
    erin, _ = make_user(root_ctx, "erin", policy(allow("s3:ListBucket", "arn:aws:s3:::homes-v1", Condition=condition)))
    assert (
        services.list_objects(erin, bucket="homes-v1", prefix="home/erin/", delimiter="/", max_keys=100).key_count == 0
    )
    for refused in (
        {"prefix": "home/", "delimiter": "/", "max_keys": 100},
        {"prefix": "home/erin/", "max_keys": 100},
        {"prefix": "home/erin/", "delimiter": "/"},  # max-keys 1000 by default
    ):
        with pytest.raises(AccessDenied) as denied:
            services.list_objects(erin, bucket="homes-v1", **refused)
        assert "s3:ListBucket" in denied.value.message
    event = AuditEvent.objects.filter(event_name="ListObjects").order_by("-id").first()
    assert event.record["requestParameters"] == {
        "bucketName": "homes-v1",
        "Host": "s3.amazonaws.com",
        "prefix": "home/erin/",
        "delimiter": "/",
        "max-keys": "1000",
    }
