"""boto3's S3 client against the live server (path-style, ``endpoint_url=…/s3``): every operation, S3's errors in
its XML shape, denials explained, bad input refused with nothing stored, another account's bucket denied until
its bucket policy grants it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from audit.models import AuditEvent
from core.context import CallContext, Principal
from s3.models import Bucket, S3Object
from tests.s3.conftest import allow, make_user, policy, s3_client

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def error(exc: pytest.ExceptionInfo) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"].get("Message", "")


def test_every_operation_round_trips(s3):
    s3.create_bucket(Bucket="team-bucket")
    s3.head_bucket(Bucket="team-bucket")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["team-bucket"]
    assert s3.get_bucket_location(Bucket="team-bucket")["LocationConstraint"] is None
    put = s3.put_object(
        Bucket="team-bucket",
        Key="dir/hello world.txt",
        Body=b"hi",
        ContentType="text/plain",
        Metadata={"owner": "alice"},
        Tagging="class=public",
    )
    got = s3.get_object(Bucket="team-bucket", Key="dir/hello world.txt")
    assert got["Body"].read() == b"hi" and got["ETag"] == put["ETag"] and got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"owner": "alice"} and got["TagCount"] == 1
    head = s3.head_object(Bucket="team-bucket", Key="dir/hello world.txt")
    assert head["ContentLength"] == 2
    ranged = s3.get_object(Bucket="team-bucket", Key="dir/hello world.txt", Range="bytes=1-1")
    assert ranged["Body"].read() == b"i" and ranged["ContentRange"] == "bytes 1-1/2"
    s3.copy_object(Bucket="team-bucket", Key="copy.txt", CopySource="team-bucket/dir/hello world.txt")
    listing = s3.list_objects_v2(Bucket="team-bucket", Delimiter="/")
    assert [c["Key"] for c in listing["Contents"]] == ["copy.txt"]
    assert listing["CommonPrefixes"] == [{"Prefix": "dir/"}]
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket="team-bucket", PaginationConfig={"PageSize": 1})
    assert [c["Key"] for page in pages for c in page.get("Contents", [])] == ["copy.txt", "dir/hello world.txt"]
    assert s3.get_object_tagging(Bucket="team-bucket", Key="dir/hello world.txt")["TagSet"] == [
        {"Key": "class", "Value": "public"}
    ]
    s3.put_object_tagging(Bucket="team-bucket", Key="copy.txt", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    s3.delete_object_tagging(Bucket="team-bucket", Key="copy.txt")
    assert s3.get_object_tagging(Bucket="team-bucket", Key="copy.txt")["TagSet"] == []
    s3.put_bucket_tagging(Bucket="team-bucket", Tagging={"TagSet": [{"Key": "team", "Value": "blue"}]})
    assert s3.get_bucket_tagging(Bucket="team-bucket")["TagSet"] == [{"Key": "team", "Value": "blue"}]
    s3.delete_bucket_tagging(Bucket="team-bucket")
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_tagging(Bucket="team-bucket")
    assert error(exc)[0] == "NoSuchTagSet"
    config = {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": False,
    }
    s3.put_public_access_block(Bucket="team-bucket", PublicAccessBlockConfiguration=config)
    assert s3.get_public_access_block(Bucket="team-bucket")["PublicAccessBlockConfiguration"] == config
    public = policy(allow("s3:GetObject", "arn:aws:s3:::team-bucket/*", Principal="*"))
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket="team-bucket", Policy=public)
    assert error(exc)[0] == "AccessDenied"
    s3.delete_public_access_block(Bucket="team-bucket")
    s3.put_bucket_policy(Bucket="team-bucket", Policy=public)
    assert json.loads(s3.get_bucket_policy(Bucket="team-bucket")["Policy"]) == json.loads(public)
    s3.delete_bucket_policy(Bucket="team-bucket")
    deleted = s3.delete_objects(
        Bucket="team-bucket", Delete={"Objects": [{"Key": "copy.txt"}, {"Key": "dir/hello world.txt"}]}
    )
    assert sorted(d["Key"] for d in deleted["Deleted"]) == ["copy.txt", "dir/hello world.txt"]
    s3.delete_bucket(Bucket="team-bucket")
    assert not Bucket.objects.exists()


def test_errors_in_s3_shape(s3, live_server):
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket="Bad_Name")
    assert error(exc) == ("InvalidBucketName", "The specified bucket is not valid.")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="missing-bucket", Key="k")
    assert error(exc) == ("NoSuchBucket", "The specified bucket does not exist")
    s3.create_bucket(Bucket="errors-here")
    with pytest.raises(ClientError) as exc:
        s3.get_object(Bucket="errors-here", Key="nope")
    assert error(exc) == ("NoSuchKey", "The specified key does not exist.")
    assert exc.value.response["Error"]["Key"] == "nope"
    with pytest.raises(ClientError) as exc:
        s3.head_object(Bucket="errors-here", Key="nope")
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as exc:
        s3.create_bucket(Bucket="errors-here")
    assert error(exc)[0] == "BucketAlreadyOwnedByYou"
    s3.put_object(Bucket="errors-here", Key="k", Body=b"")
    with pytest.raises(ClientError) as exc:
        s3.delete_bucket(Bucket="errors-here")
    assert error(exc)[0] == "BucketNotEmpty"
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="errors-here", Key="big", Body=b"x" * (5 * 1024 * 1024 + 1))
    assert error(exc)[0] == "EntityTooLarge"
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_policy(Bucket="errors-here", Policy='{"Statement": "nonsense"}')
    assert error(exc)[0] == "MalformedPolicy"
    with pytest.raises(ClientError) as exc:
        s3.get_bucket_acl(Bucket="errors-here")  # an operation the practice service does not offer
    assert error(exc)[0] == "NotImplemented"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert not S3Object.objects.filter(key="big").exists()
    with pytest.raises(urllib.error.HTTPError) as unsigned:
        urllib.request.urlopen(f"{live_server.url}/s3/errors-here/k", timeout=10)
    assert unsigned.value.code == 403 and b"<Code>AccessDenied</Code>" in unsigned.value.read()


def test_malformed_xml_is_refused(s3):
    s3.create_bucket(Bucket="xml-bucket")

    def corrupt(request, **kwargs):
        request.data = b"<Tagging><TagSet><Tag><Key>a</Key></TagSet>"  # not well-formed

    s3.meta.events.register("before-sign.s3.PutBucketTagging", corrupt)
    with pytest.raises(ClientError) as exc:
        s3.put_bucket_tagging(Bucket="xml-bucket", Tagging={"TagSet": [{"Key": "a", "Value": "b"}]})
    assert error(exc)[0] == "MalformedXML"
    assert Bucket.objects.get().tags == []


def test_a_users_key_is_decided_and_explained(live_server, root_ctx, s3):
    s3.create_bucket(Bucket="team-bucket")
    s3.put_object(Bucket="team-bucket", Key="report.csv", Body=b"1,2")
    _, keys = make_user(
        root_ctx,
        "alice",
        policy(allow("s3:ListBucket", "arn:aws:s3:::team-bucket"), allow("s3:GetObject", "arn:aws:s3:::team-bucket/*")),
    )
    alice = s3_client(live_server, *keys)
    assert alice.get_object(Bucket="team-bucket", Key="report.csv")["Body"].read() == b"1,2"
    with pytest.raises(ClientError) as exc:
        alice.put_object(Bucket="team-bucket", Key="new.csv", Body=b"x")
    assert error(exc) == (
        "AccessDenied",
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:PutObject on resource: "
        "arn:aws:s3:::team-bucket/new.csv because no identity-based policy allows the s3:PutObject action",
    )
    with pytest.raises(ClientError) as exc:
        alice.list_buckets()
    assert "s3:ListAllMyBuckets" in error(exc)[1]
    assert not S3Object.objects.filter(key="new.csv").exists()
    denied = AuditEvent.objects.get(event_name="PutObject", error_code="AccessDenied")
    assert denied.username == "alice" and denied.record["eventCategory"] == "Data"


def test_another_accounts_bucket_is_denied_until_its_policy_grants(live_server, s3, other_account):
    s3.create_bucket(Bucket="alpha-share")
    s3.put_object(Bucket="alpha-share", Key="k", Body=b"v")
    bravo_root = CallContext(Principal.root(other_account.id), origin="api")
    _, keys = make_user(bravo_root, "carol", policy(allow(["s3:GetObject", "s3:ListAllMyBuckets"], "*")))
    carol = s3_client(live_server, *keys)
    with pytest.raises(ClientError) as exc:
        carol.get_object(Bucket="alpha-share", Key="k")
    assert error(exc)[0] == "AccessDenied"
    assert "no resource-based policy allows" in error(exc)[1]
    with pytest.raises(ClientError) as exc:
        carol.put_bucket_policy(Bucket="alpha-share", Policy=policy(allow("s3:*", "*", Principal="*")))
    assert error(exc)[0] == "AccessDenied"
    grant = allow(
        "s3:GetObject", "arn:aws:s3:::alpha-share/*", Principal={"AWS": f"arn:aws:iam::{other_account.id}:root"}
    )
    s3.put_bucket_policy(Bucket="alpha-share", Policy=policy(grant))
    assert carol.get_object(Bucket="alpha-share", Key="k")["Body"].read() == b"v"
    assert carol.list_buckets()["Buckets"] == []


def test_presigned_urls_and_session_credentials(live_server, s3, root_ctx, root_keys):
    s3.create_bucket(Bucket="presign-bucket")
    s3.put_object(Bucket="presign-bucket", Key="k", Body=b"shared")
    params = {"Bucket": "presign-bucket", "Key": "k"}
    v2 = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=60)  # botocore's default: SigV2
    with pytest.raises(urllib.error.HTTPError) as old:
        urllib.request.urlopen(v2, timeout=10)
    assert b"Please use AWS4-HMAC-SHA256." in old.value.read()
    v4 = s3_client(live_server, *root_keys, signature_version="s3v4")
    url = v4.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
    assert urllib.request.urlopen(url, timeout=10).read() == b"shared"
    with pytest.raises(urllib.error.HTTPError) as tampered:
        urllib.request.urlopen(url.replace("/k?", "/other?"), timeout=10)
    assert tampered.value.code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in tampered.value.read()

    from identities.roles import create_role
    from policies.services import put_role_policy
    from tests.awsapi.conftest import client as query_client

    trust = policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{root_ctx.account_id}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    role = create_role(root_ctx, role_name="Reader", assume_role_policy_document=trust)
    put_role_policy(root_ctx, role_name="Reader", policy_name="read", policy_document=policy(allow("s3:GetObject")))
    _, keys = make_user(root_ctx, "ops", policy(allow("sts:AssumeRole", role.arn)))
    issued = query_client(live_server, "sts", *keys).assume_role(RoleArn=role.arn, RoleSessionName="job")
    creds = issued["Credentials"]
    session = s3_client(live_server, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    assert session.get_object(Bucket="presign-bucket", Key="k")["Body"].read() == b"shared"
    with pytest.raises(ClientError) as exc:
        session.put_object(Bucket="presign-bucket", Key="k", Body=b"overwritten")
    assert error(exc)[1].startswith(
        f"User: arn:aws:sts::{root_ctx.account_id}:assumed-role/Reader/job is not authorized to perform: s3:PutObject"
    )
    event = AuditEvent.objects.get(event_name="GetObject", username="job")
    assert event.record["userIdentity"]["type"] == "AssumedRole"


def test_bad_requests_change_nothing(live_server, s3):
    s3.create_bucket(Bucket="guarded")

    def tamper(request, **kwargs):
        request.body = b"not what was signed"
        request.headers["Content-Length"] = str(len(request.body))

    s3.meta.events.register("before-send.s3.PutObject", tamper)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="guarded", Key="k", Body=b"signed body")
    assert error(exc)[0] == "XAmzContentSHA256Mismatch"
    s3.meta.events.unregister("before-send.s3.PutObject", tamper)
    with pytest.raises(ClientError) as exc:
        s3.put_object(Bucket="guarded", Key="x" * 1025, Body=b"")
    assert error(exc)[0] == "KeyTooLongError"
    request = urllib.request.Request(f"{live_server.url}/s3/guarded/k", method="PATCH", data=b"x")
    with pytest.raises(urllib.error.HTTPError) as patched:
        urllib.request.urlopen(request, timeout=10)
    assert patched.value.code in (403, 405)
    assert not S3Object.objects.exists()


def test_list_objects_v1_with_marker_delimiter_and_the_paginator(s3):
    s3.create_bucket(Bucket="v1-bucket")
    keys = ["a b.txt", "logs/2024/1.log", "logs/2024/2.log", "logs/3.log", "m.txt", "z.txt"]
    for key in keys:
        s3.put_object(Bucket="v1-bucket", Key=key, Body=b"x")
    everything = s3.list_objects(Bucket="v1-bucket")
    assert [c["Key"] for c in everything["Contents"]] == keys  # boto3 asks for EncodingType=url and decodes
    assert everything["IsTruncated"] is False and everything["Marker"] == "" and "NextMarker" not in everything
    assert everything["Contents"][0]["Owner"]["ID"] and everything["Contents"][0]["StorageClass"] == "STANDARD"
    first = s3.list_objects(Bucket="v1-bucket", MaxKeys=2)
    assert [c["Key"] for c in first["Contents"]] == keys[:2] and first["IsTruncated"] is True
    assert "NextMarker" not in first  # no delimiter: the last key is the next marker
    rest = s3.list_objects(Bucket="v1-bucket", Marker=first["Contents"][-1]["Key"], MaxKeys=100)
    assert [c["Key"] for c in rest["Contents"]] == keys[2:] and rest["Marker"] == "logs/2024/1.log"
    grouped = s3.list_objects(Bucket="v1-bucket", Delimiter="/", MaxKeys=2)
    assert [c["Key"] for c in grouped["Contents"]] == ["a b.txt"]
    assert grouped["CommonPrefixes"] == [{"Prefix": "logs/"}]
    assert (grouped["IsTruncated"], grouped["NextMarker"], grouped["Delimiter"]) == (True, "logs/", "/")
    after = s3.list_objects(Bucket="v1-bucket", Delimiter="/", Marker="logs/")
    assert [c["Key"] for c in after["Contents"]] == ["m.txt", "z.txt"] and "CommonPrefixes" not in after

    pages = list(s3.get_paginator("list_objects").paginate(Bucket="v1-bucket", PaginationConfig={"PageSize": 1}))
    assert len(pages) == len(keys)
    assert [c["Key"] for page in pages for c in page.get("Contents", [])] == keys
    pages = list(
        s3.get_paginator("list_objects").paginate(
            Bucket="v1-bucket", Prefix="logs/", Delimiter="/", PaginationConfig={"PageSize": 1}
        )
    )
    listed = [(c["Key"],) for page in pages for c in page.get("Contents", [])]
    prefixes = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
    assert (listed, prefixes) == ([("logs/3.log",)], ["logs/2024/"])

    with pytest.raises(ClientError) as exc:
        s3.list_objects(Bucket="v1-bucket", MaxKeys=-1)
    assert error(exc) == ("InvalidArgument", "maxKeys should be non-negative")
    with pytest.raises(ClientError) as exc:
        s3.list_objects(Bucket="no-such-v1-bucket")
    assert error(exc)[0] == "NoSuchBucket"
    names = list(
        AuditEvent.objects.filter(event_name="ListObjects").values_list("record__requestParameters", flat=True)
    )
    assert {"bucketName": "v1-bucket", "Host": "s3.amazonaws.com", "prefix": "", "max-keys": "1000"} in names
