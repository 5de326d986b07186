"""Every console URL, walked from the URL configuration (new pages are covered automatically), as five personas:
anonymous, dave (no policies), bob (IAMReadOnlyAccess), alice (IAMFullAccess) and charlie (another account).

- anonymous visitors are sent to sign in;
- denied pages answer 403 with AWS's AccessDenied wording and the engine's "Why?" panel;
- nothing of account A is ever shown to charlie, and no POST of his changes anything in account A.
"""

from __future__ import annotations

import json
import re

import pytest
from django.urls import get_resolver
from django.urls.resolvers import URLResolver

from audit import delivery
from audit.models import AuditEvent
from ec2 import services as ec2
from ec2.catalog import IMAGES
from ec2.models import Instance
from identities import providers, roles, services
from identities.models import Group, IamUser, Role
from policies import services as policy_services
from policies.models import ManagedPolicy
from s3 import services as s3
from s3.models import Bucket, S3Object
from tests.console.test_user_signin import make_user, sign_in
from tests.identities.saml_fixtures import metadata as saml_metadata

MARKER = "zq-target"  # every account-A entity the URLs point at carries this in its name
PUBLIC = {
    "signin",
    "signin/<str:account>",
    "signin_user",
    "signin_mfa",
    "^aws/?$",
    "signout",
    # Each account's classroom identity provider: discovery documents and public keys, public as any IdP's.
    "idp/<str:account_id>/.well-known/openid-configuration",
    "idp/<str:account_id>/jwks.json",
    "idp/<str:account_id>/saml/metadata.xml",
    # The EC2 practice service's Query API (SigV4, like /aws).
    "^ec2/?$",
}
# The instance metadata service: a machine's endpoint, not a console page. Without a console session of the
# instance's account (or the instance's own key) it answers as IMDS does, never with the instance's credentials
# (tests/ec2/test_instance_role.py); here only charlie walks it, and must learn nothing.
MACHINE = {
    "ec2/imds/<str:instance_id>/latest/<path:path>",
    "ec2/imds/<str:instance_id>/<str:key>/latest/<path:path>",
}
# Pages that show a form or the caller's own state and call no authorized read on GET.
NO_READ_ON_GET = {
    "",
    "change_password",
    "switchrole",
    "switchrole/status",
    "iam/users/create",
    "iam/users/check_name",
    "iam/groups/create",
    "iam/policy_simulator",
    "iam/policy_simulator/actions",
    "iam/policies/create",
    "iam/roles/create",
    "iam/security_credentials",
    "classroom/signup",
    "classroom/join",
    "iam/identity_providers/create",
    # Token tools of the classroom IdP: their role and provider dropdowns are filled only if the caller may list them.
    "iam/identity_providers/classroom",
    "iam/identity_providers/classroom/saml",
    # Labs: the account's own lab progress, open to any principal signed in to it (classroom.labs_services).
    "labs/",
    "labs/panel",
    "labs/<slug:slug>",
    "labs/<slug:slug>/start",  # the confirmation: what would be deleted is listed to the root user only
    # The top bar's search: each kind is read through its List service and a refused kind is left out of the
    # results (tests/console/test_search.py); the page itself is open to anyone signed in.
    "search",
    # Launch instance: a form; its instance-profile picker reads ListInstanceProfiles and offers a text box to a
    # caller who may not list them (RunInstances itself is authorized on submit).
    "ec2/instances/launch",
}


def walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from walk(p.url_patterns, prefix + str(p.pattern))
        else:
            yield prefix + str(p.pattern)


def concrete(pattern: str, values: dict[str, str]) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(2)
        assert name in values, f"URL parameter <{name}> in {pattern!r} needs a value in this test"
        return values[name]

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, pattern)


@pytest.fixture
def world(root_ctx, other_root_ctx, managed_policies, account, other_account, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    # The practice services' pages are decided by their own actions: alice and bob hold S3's and EC2's managed
    # policies of the same kind as their IAM ones.
    make_user(root_ctx, "alice", "IAMFullAccess", "AmazonS3FullAccess", "AmazonEC2FullAccess")
    make_user(root_ctx, "bob", "IAMReadOnlyAccess", "AmazonS3ReadOnlyAccess", "AmazonEC2ReadOnlyAccess")
    make_user(root_ctx, "dave")
    make_user(other_root_ctx, "charlie", "IAMFullAccess", "AWSCloudTrail_ReadOnlyAccess")
    services.create_user(root_ctx, user_name=f"{MARKER}-user")
    services.create_group(root_ctx, group_name=f"{MARKER}-group")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    roles.create_role(root_ctx, role_name=f"{MARKER}-role", assume_role_policy_document=trust)
    policy = policy_services.create_policy(
        root_ctx,
        policy_name=f"{MARKER}-policy",
        policy_document=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        ),
    )
    # Identity providers: the SAML one shares the generic <name> value, the OIDC one is found by its <url>.
    providers.create_saml_provider(root_ctx, name=f"{MARKER}-user", saml_metadata_document=saml_metadata())
    providers.create_open_id_connect_provider(root_ctx, url=f"https://{MARKER}.example.com/oidc")
    s3.create_bucket(root_ctx, bucket=f"{MARKER}-bucket")
    s3.put_object(root_ctx, bucket=f"{MARKER}-bucket", key="zq-object-a1b2", body=b"secret", content_type="text/plain")
    instance = ec2.run_instances(root_ctx, image_id=next(iter(IMAGES)), min_count=1, max_count=1)[0]
    delivery.deliver_pending()
    event = AuditEvent.objects.filter(account=account, event_name="CreatePolicy").first()
    values = {
        "user_name": f"{MARKER}-user",
        "group_name": f"{MARKER}-group",
        "role_name": f"{MARKER}-role",
        "arn": policy.arn,
        "policy_arn": policy.arn,
        "account": account.id,
        "event_id": str(event.event_id),
        "name": f"{MARKER}-user",
        "url": f"{MARKER}.example.com/oidc",
        # Classroom URLs name organizations that do not exist here: they must answer 404, never leak.
        "class_id": "o-zqtarget00",
        "account_id": account.id,
        "unit_id": "ou-zqta-zqtarget",
        "policy_id": "p-zqtarget",
        "slug": "first-user",  # a lab: the same for every account
        "bucket": f"{MARKER}-bucket",
        "instance_id": instance.instance_id,
        "key": "0" * 64,
        "path": "meta-data/iam/security-credentials/",
    }
    # Pages that name what they show in the query string.
    queries = {"console/s3/buckets/<str:bucket>/download": "?key=zq-object-a1b2"}
    urls = [
        (p, concrete(p.lstrip("^").rstrip("$"), values) + queries.get(p, "")) for p in walk(get_resolver().url_patterns)
    ]
    # What would betray account A to charlie: the unique IDs of the entities the URLs name (never echoed input).
    secrets = [
        IamUser.objects.get(name=f"{MARKER}-user").user_id,
        Group.objects.get(name=f"{MARKER}-group").group_id,
        Role.objects.get(name=f"{MARKER}-role").role_id,
        policy.policy_id,
        S3Object.objects.get(key="zq-object-a1b2").etag.strip('"'),  # the object's ETag
        instance.reservation_id,
        instance.private_ip,
    ]
    return {"urls": urls, "account": account, "other": other_account, "secrets": secrets}


def snapshot(account_id: str) -> tuple:
    return (
        IamUser.objects.filter(account_id=account_id).count(),
        Group.objects.filter(account_id=account_id).count(),
        Role.objects.filter(account_id=account_id).count(),
        ManagedPolicy.objects.filter(account_id=account_id).count(),
        sorted(IamUser.objects.filter(account_id=account_id).values_list("name", flat=True)),
        sorted(Bucket.objects.filter(account_id=account_id).values_list("name", flat=True)),
        S3Object.objects.filter(bucket__account_id=account_id).count(),
        sorted(Instance.objects.filter(account_id=account_id).values_list("instance_id", "state", "tags")),
    )


def test_anonymous_visitors_are_sent_to_sign_in(world, client):
    for pattern, url in world["urls"]:
        if pattern in PUBLIC or pattern in MACHINE or pattern.startswith("classroom/"):
            continue
        response = client.get(url)
        assert response.status_code == 302 and "/signin" in response.url, (url, response.status_code)


def test_charlie_sees_and_changes_nothing_of_account_a(world):
    client, _ = sign_in(world["other"].id, "charlie")
    before = snapshot(world["account"].id)
    for pattern, url in world["urls"]:
        if pattern in PUBLIC:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"confirm": f"{MARKER}-user", "action": "delete"})
            assert response.status_code < 500, (method, url, response.status_code)
            body = response.content.decode(errors="replace")
            assert not any(secret in body for secret in world["secrets"]), (method, url, "leaks account A")
            if "<" in pattern and method == "get" and "check_name" not in pattern and not pattern.startswith("labs/"):
                assert response.status_code in (302, 400, 403, 404, 405), (url, response.status_code)
    assert snapshot(world["account"].id) == before


def test_dave_without_policies_is_denied_with_the_reason(world):
    client, _ = sign_in(world["account"].id, "dave")
    for pattern, url in world["urls"]:
        if pattern in PUBLIC or pattern in MACHINE or pattern in NO_READ_ON_GET or pattern.startswith("classroom/"):
            continue
        response = client.get(url)
        if response.status_code == 405:
            continue  # a POST-only action; its POST is authorized like every other call
        assert response.status_code == 403, (url, response.status_code)
        body = response.content.decode()
        assert "is not authorized to perform:" in body and 'data-testid="why-panel"' in body, url


def test_bob_reads_everything_and_changes_nothing(world):
    client, _ = sign_in(world["account"].id, "bob")
    before = snapshot(world["account"].id)
    for pattern, url in world["urls"]:
        if pattern in PUBLIC or pattern in MACHINE or pattern.startswith("classroom/") or "event_history" in pattern:
            continue  # event history needs cloudtrail:LookupEvents, which IAMReadOnlyAccess does not grant
        response = client.get(url)
        assert response.status_code in (200, 204, 405), (url, response.status_code)
        post = client.post(
            url,
            {
                "confirm": f"{MARKER}-user",
                "action": "delete",
                "user_name": "bob-was-here",
                "group_name": "bob-was-here",
                "step": "3",
            },
        )
        assert post.status_code < 500, (url, post.status_code)
    assert snapshot(world["account"].id) == before


def test_alice_with_full_access_opens_every_page(world):
    client, _ = sign_in(world["account"].id, "alice")
    for pattern, url in world["urls"]:
        if pattern in PUBLIC or pattern in MACHINE or pattern.startswith("classroom/") or "event_history" in pattern:
            continue
        response = client.get(url)
        assert response.status_code in (200, 204, 405), (url, response.status_code)
