"""Classes: creation, handout, first sign-in, join by code, reset, isolation, pages."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.test import Client

from audit.models import AuditEvent
from classroom import services
from classroom.models import ACCESS_ROLE_NAME, Class, OrgAccount, PolicyAttachment, StudentSeat
from console.services import sign_in_root
from core.errors import AccessDenied, InvalidInput, NoSuchEntity
from identities import instance_profiles, roles
from identities import services as identity_services
from identities.models import AccessKey, Account, Group, IamUser, Role
from policies import services as policy_services
from policies.models import ManagedPolicy, RolePolicyAttachment
from sts import services as sts
from tests.classroom.conftest import INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD, root_ctx_of
from tests.console.test_user_signin import make_user, sign_in


def _client(email: str, password: str) -> Client:
    client = Client()
    response = client.post("/signin", {"email": email, "password": password})
    assert response.status_code == 302, response.content[:300]
    return client


@pytest.fixture
def instructor_client(instructor):
    return _client(INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD)


def test_class_of_three(klass, instructor):
    classroom, issued = klass
    assert len(issued) == 3
    org = classroom.organization
    assert org.id.startswith("o-") and len(org.id) == 12 and org.management_account_id == instructor.id
    assert org.root.id.startswith("r-") and len(org.root.id) == 6
    for item in issued:
        account = item.seat.account
        assert len(account.id) == 12 and account.id.isdigit()
        assert account.alias == f"cls1-student{item.seat.number:02d}"
        assert account.root_email == f"student{item.seat.number:02d}@cls1.classroom.local"
        role = Role.objects.in_account(account.id).get(name=ACCESS_ROLE_NAME)
        trust = json.loads(role.assume_role_policy)
        assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{instructor.id}:root"}
        assert RolePolicyAttachment.objects.filter(role=role, policy__name="AdministratorAccess").exists()
        assert PolicyAttachment.objects.filter(target_id=account.id, policy__name="FullAWSAccess").exists()
    assert PolicyAttachment.objects.filter(target_id=org.root.id, policy__name="FullAWSAccess").exists()
    assert AuditEvent.objects.filter(account_id=instructor.id, event_name="CreateOrganization").exists()


def test_only_instructors_create_classes(students):
    with pytest.raises(AccessDenied):
        services.create_class(students[1], title="Mine", students=2)


def test_handout_shows_every_student_card(klass, instructor_client):
    classroom, issued = klass
    page = instructor_client.get(f"/classroom/{classroom.pk}/handout")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count('data-testid="handout-card"') == 3
    assert "http://testserver/signin" in body and "@media print" not in body  # print CSS is in the sheet
    for item in issued:
        assert item.seat.account.display_id in body
        assert item.seat.email in body
        assert item.password in body
    rows = list(
        csv.DictReader(io.StringIO(instructor_client.get(f"/classroom/{classroom.pk}/handout.csv").content.decode()))
    )
    assert {r["initial_password"] for r in rows} == {i.password for i in issued}
    assert {r["account_id"] for r in rows} == {i.seat.account_id for i in issued}


def test_student_root_signs_in_and_must_change_password(klass):
    _, issued = klass
    first = issued[0]
    account = sign_in_root(email=first.seat.email, password=first.password, source_ip="10.0.0.1", user_agent="t")
    assert services.root_password_change_required(account.id)
    ctx = root_ctx_of(account.id)
    with pytest.raises(InvalidInput):
        services.change_root_password(ctx, old_password="wrong", new_password="N3w-Passw0rd!")
    services.change_root_password(ctx, old_password=first.password, new_password="N3w-Passw0rd!")
    assert not services.root_password_change_required(account.id)
    assert StudentSeat.objects.get(pk=account.id).handout_password == ""
    sign_in_root(email=first.seat.email, password="N3w-Passw0rd!", source_ip="10.0.0.1", user_agent="t")


def test_student_root_password_page(klass):
    _, issued = klass
    first = issued[0]
    client = _client(first.seat.email, first.password)
    # The console sends a student root with the handout password to /change_password before anything else.
    assert client.get("/iam/users").url == "/change_password"
    response = client.post(
        "/change_password",
        {"old_password": first.password, "new_password": "N3w-Passw0rd!", "confirm_password": "N3w-Passw0rd!"},
    )
    assert response.status_code == 302
    assert not services.root_password_change_required(first.seat.account_id)


def test_reset_password_and_reprint(klass, instructor_ctx, instructor_client):
    classroom, issued = klass
    first = issued[0]
    services.change_root_password(
        root_ctx_of(first.seat.account_id), old_password=first.password, new_password="N3w-Passw0rd!"
    )
    response = instructor_client.post(f"/classroom/{classroom.pk}/accounts/{first.seat.account_id}/password")
    assert response.status_code == 302 and "handout?account=" in response.url
    card = services.handout(instructor_ctx, classroom.pk)[0]
    assert card.password and card.must_change_password
    sign_in_root(email=first.seat.email, password=card.password, source_ip="1.1.1.1", user_agent="t")


def test_join_by_code(klass, instructor_ctx):
    classroom, _ = klass
    client = Client()
    page = client.get(f"/classroom/join?code={classroom.join_code}")
    assert page.status_code == 200
    response = client.post(
        "/classroom/join",
        {
            "code": services.format_join_code(classroom.join_code).lower(),
            "email": "Pat@Uni.example",
            "password": "Stud3nt-Pass!",
            "confirm_password": "Stud3nt-Pass!",
        },
    )
    assert response.status_code == 302, response.content[:400]
    account = Account.objects.get(root_email="pat@uni.example")
    seat = StudentSeat.objects.get(account=account)
    assert seat.classroom == classroom and seat.number == 4 and seat.joined_via == "code"
    assert not seat.must_change_password
    assert OrgAccount.objects.get(account=account).organization_id == classroom.pk
    assert Role.objects.in_account(account.id).filter(name=ACCESS_ROLE_NAME).exists()
    assert client.get("/iam/users").status_code == 200  # signed in as the new account's root
    bad = Client().post(
        "/classroom/join",
        {"code": "NOPE-NOPE", "email": "x@y.example", "password": "Stud3nt-Pass!", "confirm_password": "Stud3nt-Pass!"},
    )
    assert bad.status_code == 400
    services.update_class(instructor_ctx, classroom.pk, join_enabled=False)
    with pytest.raises(NoSuchEntity):
        services.join_class(code=classroom.join_code, email="late@uni.example", password="Stud3nt-Pass!")


def _populate(ctx):
    from identities.credentials import create_access_key

    make_user(ctx, "alice", "IAMFullAccess")
    create_access_key(ctx, user_name="alice")
    create_access_key(ctx)  # the root user's
    identity_services.create_group(ctx, group_name="devs")
    identity_services.add_user_to_group(ctx, group_name="devs", user_name="alice")
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    policy = policy_services.create_policy(ctx, policy_name="S3All", policy_document=doc)
    policy_services.attach_group_policy(ctx, group_name="devs", policy_arn=policy.arn)
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ctx.account_id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    roles.create_role(ctx, role_name="Lab", assume_role_policy_document=trust)
    policy_services.attach_role_policy(ctx, role_name=ACCESS_ROLE_NAME, policy_arn=policy.arn)
    roles.update_assume_role_policy(ctx, role_name=ACCESS_ROLE_NAME, policy_document=trust)


def test_reset_empties_an_account_and_keeps_root_sign_in(klass, instructor_ctx, instructor_client, students):
    classroom, issued = klass
    first, second = students[1], students[2]
    _populate(first)
    _populate(second)
    response = instructor_client.post(
        f"/classroom/{classroom.pk}/reset", {"account": first.account_id, "confirm": "reset"}
    )
    assert response.status_code == 302
    assert not IamUser.objects.in_account(first.account_id).exists()
    assert not Group.objects.in_account(first.account_id).exists()
    assert not ManagedPolicy.objects.filter(account_id=first.account_id).exists()
    assert list(Role.objects.in_account(first.account_id).values_list("name", flat=True)) == [ACCESS_ROLE_NAME]
    role = Role.objects.in_account(first.account_id).get()
    assert [a.policy.name for a in role.policy_attachments.all()] == ["AdministratorAccess"]
    assert list(AccessKey.objects.filter(account_id=first.account_id).values_list("user", flat=True)) == [None]
    assert f"arn:aws:iam::{classroom.organization.management_account_id}:root" in role.assume_role_policy
    assert IamUser.objects.in_account(second.account_id).count() == 1  # only the chosen account
    sign_in_root(email=issued[0].seat.email, password=issued[0].password, source_ip="1.1.1.1", user_agent="t")
    assert AuditEvent.objects.filter(account_id=first.account_id, event_name="CreateUser").exists()  # trail kept

    services.reset_student_accounts(instructor_ctx, classroom.pk)  # all
    assert not IamUser.objects.filter(account_id__in=[first.account_id, second.account_id]).exists()


def test_reset_hook_builds_a_lab_state(klass, instructor_ctx, students):
    classroom, _ = klass
    seen = []

    def lab(account_ids):
        seen.extend(account_ids)
        for account_id in account_ids:
            identity_services.create_group(root_ctx_of(account_id), group_name="lab1")

    with pytest.raises(Exception):  # noqa: B017 — public services can't nest inside the reset's transaction
        services.reset_accounts([students[1].account_id], to_state=lab)
    seen.clear()

    def bulk_lab(account_ids):
        from core import clock, ids

        seen.extend(account_ids)
        Group.objects.bulk_create(
            [
                Group(
                    account_id=a,
                    group_id=ids.new_id("AGPA"),
                    name="lab1",
                    arn=f"arn:aws:iam::{a}:group/lab1",
                    created_at=clock.now(),
                )
                for a in account_ids
            ]
        )

    services.reset_accounts([students[1].account_id], to_state=bulk_lab)
    assert seen == [students[1].account_id]
    assert Group.objects.in_account(students[1].account_id).get().name == "lab1"


# Models with an account FK that a reset keeps on purpose, and those identities.reset.delete_iam_state empties.
_KEPT_BY_RESETS = {
    "audit.AuditEvent",
    "classroom.Instructor",
    "classroom.Organization",
    "classroom.OrgAccount",
    "classroom.Class",
    "classroom.StudentSeat",
    "identities.Account",
    # The account's classroom IdP keys belong to the account, like its root credentials: what they signed lives an
    # hour at most, and the IAM providers that trusted them are emptied.
    "sts.IdentityProviderKey",
}
_EMPTIED_BY_RESETS = {
    "identities.IamUser",
    "identities.Group",
    "identities.GroupMembership",
    "identities.Role",
    "identities.PasswordPolicy",
    "identities.AccessKey",
    "identities.MfaDevice",
    "identities.InstanceProfile",
    "identities.CredentialReport",
    "identities.SamlProvider",
    "identities.OpenIdConnectProvider",
    "identities.ServiceLinkedRoleDeletion",
    "identities.SshPublicKey",
    "identities.ServiceSpecificCredential",
    "identities.SigningCertificate",
    "policies.ManagedPolicy",
    "policies.UserPolicyAttachment",
    "policies.GroupPolicyAttachment",
    "policies.RolePolicyAttachment",
    "policies.InlinePolicy",
    "audit.ServiceLastAccessed",
    "sts.TemporaryCredential",
    "classroom.LabProgress",
    "identities.ServerCertificate",
    "audit.AccessReport",
    "s3.Bucket",
    "ec2.Instance",
}


def _account_scoped_models():
    from django.apps import apps

    return [
        model
        for model in apps.get_models()
        if any(
            getattr(field, "related_model", None) is Account and field.concrete for field in model._meta.get_fields()
        )
    ]


def test_every_account_scoped_model_is_reset_or_kept_on_purpose():
    """A new model with an account FK must be added to identities.reset.delete_iam_state (both resets use it), or
    to the kept list here."""
    found = {model._meta.label for model in _account_scoped_models()}
    unknown = found - _KEPT_BY_RESETS - _EMPTIED_BY_RESETS
    assert not unknown, f"delete_iam_state doesn't know about: {sorted(unknown)}"


def _every_kind_of_state(ctx):
    """At least one row of every kind a reset deletes (``_populate`` and more), and every root credential it keeps:
    two access keys, an enabled MFA device and a GetSessionToken session."""
    import uuid
    from datetime import timedelta

    from audit.models import AccessReport, ServiceLastAccessed
    from classroom.models import LabProgress
    from ec2 import services as ec2
    from ec2.catalog import IMAGES
    from identities.models import ServerCertificate
    from s3 import services as s3

    IMAGE = next(iter(IMAGES))
    from core import clock
    from identities import account_settings, credentials, providers
    from identities.models import CredentialReport, MfaDevice, PasswordHistory, SamlProvider, ServiceLinkedRoleDeletion
    from sts.models import TemporaryCredential

    _populate(ctx)  # alice with a password and a key, root's key, a group, S3All, roles Lab and the access role
    account_id, now = ctx.account_id, clock.now()
    alice = IamUser.objects.in_account(account_id).get(name="alice")
    doc = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
    s3_all = f"arn:aws:iam::{account_id}:policy/S3All"
    policy_services.create_policy_version(ctx, policy_arn=s3_all, policy_document=doc, set_as_default=True)
    identity_services.put_user_permissions_boundary(ctx, user_name="alice", permissions_boundary=s3_all)
    roles.put_role_permissions_boundary(ctx, role_name=ACCESS_ROLE_NAME, permissions_boundary=s3_all)
    policy_services.put_user_policy(ctx, user_name="alice", policy_name="inline", policy_document=doc)
    policy_services.put_group_policy(ctx, group_name="devs", policy_name="inline", policy_document=doc)
    policy_services.put_role_policy(ctx, role_name=ACCESS_ROLE_NAME, policy_name="inline", policy_document=doc)
    instance_profiles.create_instance_profile(ctx, instance_profile_name="web")
    instance_profiles.add_role_to_instance_profile(ctx, instance_profile_name="web", role_name=ACCESS_ROLE_NAME)
    credentials.create_virtual_mfa_device(ctx, virtual_mfa_device_name="spare")  # unassigned: an IAM entity
    account_settings.update_account_password_policy(ctx, minimum_password_length=12)
    providers.create_open_id_connect_provider(
        ctx, url="https://token.example.com", client_id_list=["app"], thumbprint_list=["a" * 40]
    )
    PasswordHistory.objects.create(user=alice, password_hash="old", created_at=now)
    from identities.models import ServiceSpecificCredential, SigningCertificate, SshPublicKey

    SshPublicKey.objects.create(
        account_id=account_id, user=alice, key_id=f"APKA{account_id}", body="x", fingerprint="x", uploaded_at=now
    )
    ServiceSpecificCredential.objects.create(
        account_id=account_id,
        user=alice,
        credential_id=f"ACCA{account_id}",
        service_name="codecommit.amazonaws.com",
        service_user_name=f"alice-at-{account_id}",
        password_hash="x",
        created_at=now,
    )
    SigningCertificate.objects.create(
        account_id=account_id, user=alice, certificate_id=f"C{account_id}", body="x", fingerprint="x", uploaded_at=now
    )
    Account.objects.filter(pk=account_id).update(global_endpoint_token_version="v2Token")
    for owner, name in ((None, "root-mfa"), (alice, "alice-mfa")):  # enabled devices of root and of alice
        MfaDevice.objects.create(
            account_id=account_id,
            user=owner,
            name=name,
            secret_encrypted="x",
            serial_number=f"arn:aws:iam::{account_id}:mfa/{name}",
            enabled_at=now,
            created_at=now,
        )
    CredentialReport.objects.create(account_id=account_id, requested_at=now)
    SamlProvider.objects.create(
        account_id=account_id,
        name="idp",
        arn=f"arn:aws:iam::{account_id}:saml-provider/idp",
        metadata_document="<EntityDescriptor/>",
        created_at=now,
    )
    ServiceLinkedRoleDeletion.objects.create(
        account_id=account_id, task_id="task/aws-service-role/x/y/1", role_name="AWSServiceRoleForX", created_at=now
    )
    ServiceLastAccessed.objects.create(
        account_id=account_id,
        principal_arn=alice.arn,
        service_namespace="s3",
        last_accessed_at=now,
        last_authenticated_entity=alice.arn,
    )
    LabProgress.objects.create(account_id=account_id, lab="lab1", updated_at=now)
    ServerCertificate.objects.create(
        account_id=account_id,
        server_certificate_id=f"ASCA{account_id}",
        name="web",
        arn=f"arn:aws:iam::{account_id}:server-certificate/web",
        body="x",
        uploaded_at=now,
        expires_at=now + timedelta(days=365),
    )
    AccessReport.objects.create(
        account_id=account_id, job_id=uuid.uuid4(), kind="service", subject=alice.arn, created_at=now, completed_at=now
    )
    s3.create_bucket(ctx, bucket=f"bucket-{account_id}")
    s3.put_object(ctx, bucket=f"bucket-{account_id}", key="k", body=b"x", content_type="text/plain")
    ec2.run_instances(ctx, image_id=IMAGE, min_count=1, max_count=1, iam_instance_profile={"Name": "web"})
    lab_role, access_role = (Role.objects.in_account(account_id).get(name=n) for n in ("Lab", ACCESS_ROLE_NAME))
    sessions = [
        (TemporaryCredential.KIND_ROLE, lab_role, None),
        (TemporaryCredential.KIND_ROLE, access_role, None),
        (TemporaryCredential.KIND_SESSION_TOKEN, None, alice),
        (TemporaryCredential.KIND_SESSION_TOKEN, None, None),
    ]  # the last one is root's
    TemporaryCredential.objects.bulk_create(
        [
            TemporaryCredential(
                account_id=account_id,
                kind=kind,
                role=role,
                user=user,
                secret_encrypted="x",
                access_key_id=f"ASIA{account_id}{i}",
                session_token_hash="x",
                source_arn="x",
                arn="x",
                principal_id="x",
                issued_at=now,
                expires_at=now + timedelta(hours=1),
            )
            for i, (kind, role, user) in enumerate(sessions)
        ]
    )


def _rows_left(account_id):
    """Rows of every kind a reset empties still in the account, by model label (empty kinds left out)."""
    counts = {
        model._meta.label: model.objects.filter(account_id=account_id).count()
        for model in _account_scoped_models()
        if model._meta.label in _EMPTIED_BY_RESETS
    }
    return {label: n for label, n in counts.items() if n}


def test_both_resets_empty_every_kind_and_keep_only_what_they_document(klass, students):
    """The instructor's reset (``reset_accounts``) and the administrator's (``reset_account_iam``) run the same
    ``identities.reset.delete_iam_state``; they differ only in what they keep, and nothing else is left behind."""
    from django.db import connection

    from identities.models import MfaDevice
    from identities.reset import reset_account_iam
    from sts.models import TemporaryCredential

    by_class, by_admin, untouched = students[1].account_id, students[2].account_id, students[3].account_id
    for number in (1, 2, 3):
        _every_kind_of_state(students[number])
    assert set(_rows_left(by_class)) == _EMPTIED_BY_RESETS  # every kind is there to be deleted
    untouched_rows = _rows_left(untouched)

    services.reset_accounts([by_class])
    summary = reset_account_iam(by_admin)
    connection.check_constraints()  # no row points at a deleted one (the deletes skip Django's cascade)

    root_credentials = {"identities.AccessKey": 1, "identities.MfaDevice": 1}  # root's key, its enabled device
    assert _rows_left(by_class) == {**root_credentials, "identities.Role": 1, "policies.RolePolicyAttachment": 1}
    access_role = Role.objects.in_account(by_class).get()
    assert access_role.name == ACCESS_ROLE_NAME and access_role.permissions_boundary is None
    assert [a.policy.name for a in access_role.policy_attachments.all()] == ["AdministratorAccess"]
    assert Account.objects.get(pk=by_class).alias == "cls1-student01"
    assert {a.global_endpoint_token_version for a in Account.objects.filter(pk__in=[by_class, by_admin])} == {"v1Token"}

    assert _rows_left(by_admin) == {**root_credentials, "sts.TemporaryCredential": 1}
    assert TemporaryCredential.objects.get(account_id=by_admin).user is None  # root's GetSessionToken session
    assert MfaDevice.objects.get(account_id=by_admin).name == "root-mfa"
    assert Account.objects.get(pk=by_admin).alias is None
    # Both resets start the seat's lab history afresh: checks ignore the audit events from before.
    assert all(s.last_reset_at is not None for s in StudentSeat.objects.filter(account_id__in=[by_class, by_admin]))
    assert StudentSeat.objects.get(account_id=untouched).last_reset_at is None
    assert {
        "MFA devices": 2,
        "service last accessed": 1,
        "service-linked role deletion tasks": 1,
        "lab progress": 1,
        "account alias": 1,
        "SSH public keys": 1,
        "service-specific credentials": 1,
        "user signing certificates": 1,
        "STS token preference": 1,
    }.items() <= summary.deleted.items()

    assert _rows_left(untouched) == untouched_rows
    from identities import credentials

    again = root_ctx_of(by_class)
    _populate(again)  # the names are free again, the unassigned MFA device's included
    credentials.create_virtual_mfa_device(again, virtual_mfa_device_name="spare")


def test_isolation_between_students_and_from_the_class(klass, students, instructor_client):
    classroom, issued = klass
    a, b = students[1], students[2]
    make_user(b, "bea")
    with pytest.raises(NoSuchEntity):
        identity_services.get_user(a, user_name="bea")
    # Student A's console shows only A's users and none of the class pages.
    client = _client(issued[0].seat.email, issued[0].password)
    client.post(
        "/change_password",
        {"old_password": issued[0].password, "new_password": "N3w-Passw0rd!", "confirm_password": "N3w-Passw0rd!"},
    )
    assert b"bea" not in client.get("/iam/users").content
    assert client.get("/iam/users/bea").status_code == 404
    for url in ["", "/handout", "/handout.csv", "/organization", "/policies", "/reset"]:
        assert client.get(f"/classroom/{classroom.pk}{url}").status_code == 404, url
    assert client.post(f"/classroom/{classroom.pk}/reset", {"confirm": "reset"}).status_code == 404
    assert classroom.title.encode() not in client.get("/classroom/").content
    # A can't assume B's access role: it trusts the management account only.
    make_user(a, "alice", "AdministratorAccess")
    from console.services import user_principal
    from core.context import CallContext

    alice = CallContext(user_principal(IamUser.objects.get(account_id=a.account_id, name="alice")))
    with pytest.raises(AccessDenied):
        sts.assume_role(alice, role_arn=f"arn:aws:iam::{b.account_id}:role/{ACCESS_ROLE_NAME}", role_session_name="xx")
    assert instructor_client.get(f"/classroom/{classroom.pk}").status_code == 200


def test_cross_account_role_between_students(klass, students):
    a, b = students[1], students[2]
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{a.account_id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    roles.create_role(b, role_name="Partner", assume_role_policy_document=trust)
    make_user(a, "alice", "AdministratorAccess")
    from console.services import user_principal
    from core.context import CallContext

    alice = CallContext(user_principal(IamUser.objects.get(account_id=a.account_id, name="alice")))
    issued = sts.assume_role(alice, role_arn=f"arn:aws:iam::{b.account_id}:role/Partner", role_session_name="alice")
    assert issued.credential.account_id == b.account_id


def test_instructor_iam_user_switches_into_a_student_account(klass, instructor_ctx, instructor):
    classroom, issued = klass
    make_user(instructor_ctx, "teacher", "AdministratorAccess")
    client, response = sign_in(instructor.id, "teacher")
    assert response.status_code == 302
    page = client.get(f"/classroom/{classroom.pk}")
    assert page.status_code == 200 and b"Switch into" in page.content
    student = issued[0].seat.account_id
    response = client.post(
        "/switchrole", {"account": student, "roleName": ACCESS_ROLE_NAME, "displayName": "student01", "color": "orange"}
    )
    assert response.status_code == 302, response.content[:400]
    make = client.post(
        "/iam/users/create",
        {"step": "3", "action": "create", "user_name": "fromteacher", "permissions_option": "groups"},
    )
    assert make.status_code in (200, 302)
    assert IamUser.objects.in_account(student).filter(name="fromteacher").exists()


def test_instructor_pages(instructor_client, instructor):
    assert instructor_client.get("/classroom/").status_code == 200
    assert instructor_client.get("/classroom/create").status_code == 200
    bad = instructor_client.post("/classroom/create", {"title": "X", "students": "0"})
    assert bad.status_code == 400
    response = instructor_client.post("/classroom/create", {"title": "Cloud 1", "students": "4", "alias_prefix": "c1"})
    assert response.status_code == 302
    classroom = Class.objects.get(title="Cloud 1")
    assert classroom.seats.count() == 4
    base = f"/classroom/{classroom.pk}"
    detail = instructor_client.get(base)
    assert detail.status_code == 200 and b"c1-student04" in detail.content
    assert instructor_client.post(f"{base}/students", {"count": "2"}).status_code == 302
    assert classroom.seats.count() == 6
    root_id = classroom.organization.root.id
    assert (
        instructor_client.post(f"{base}/organization/units", {"parent_id": root_id, "name": "Group A"}).status_code
        == 302
    )
    org_page = instructor_client.get(f"{base}/organization")
    assert org_page.status_code == 200 and b"Group A" in org_page.content
    assert instructor_client.get(f"{base}/policies").status_code == 200
    assert instructor_client.get(f"{base}/policies/create").status_code == 200
    findings = instructor_client.post(f"{base}/policies/validate", {"content": '{"Version": "2012-10-17"'})
    assert findings.status_code == 200 and b"validation-findings" in findings.content
    doc = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "iam:CreateUser", "Resource": "*"}]}
    )
    created = instructor_client.post(f"{base}/policies/create", {"name": "NoUsers", "content": doc})
    assert created.status_code == 302
    policy_id = created.url.rsplit("/", 1)[-1]
    detail = instructor_client.get(created.url)
    assert detail.status_code == 200 and b"NoUsers" in detail.content
    assert instructor_client.post(f"{created.url}/attach", {"target_id": root_id}).status_code == 302
    assert PolicyAttachment.objects.filter(policy__policy_id=policy_id, target_id=root_id).exists()
    assert instructor_client.post(f"{created.url}/detach", {"target_id": root_id}).status_code == 302
    assert instructor_client.post(f"{created.url}/delete").status_code == 302
    assert instructor_client.get(f"{base}/reset").status_code == 200
    assert instructor_client.post(f"{base}/reset", {"confirm": "nope"}).status_code == 400
    assert instructor_client.post(f"{base}/reset", {"confirm": "reset"}).status_code == 302


def test_instructor_signup_page(db, managed_policies):
    client = Client()
    assert client.get("/classroom/signup").status_code == 200
    response = client.post(
        "/classroom/signup",
        {
            "email": "new@school.example",
            "name": "New",
            "password": "Teach-Passw0rd!",
            "confirm_password": "Teach-Passw0rd!",
        },
    )
    assert response.status_code == 302
    assert services.is_instructor(Account.objects.get(root_email="new@school.example").id)
    assert client.get("/classroom/create").status_code == 200


def test_console_forces_the_student_root_to_change_the_handout_password(klass):
    from django.test import Client

    _, issued = klass
    first = issued[0]
    client = Client()
    response = client.post("/signin", {"email": first.seat.email, "password": first.password})
    assert response.status_code == 302 and response.url == "/change_password"
    assert client.get("/iam/users").url == "/change_password"
    changed = client.post(
        "/change_password",
        {"old_password": first.password, "new_password": "N3w-Passw0rd!", "confirm_password": "N3w-Passw0rd!"},
    )
    assert changed.status_code == 302
    assert client.get("/iam/users").status_code == 200
    assert not services.root_password_change_required(first.seat.account_id)
