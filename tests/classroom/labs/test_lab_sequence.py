"""One student does labs 1 → 12 in order in one account, as the labs' steps say (the console's services: the Create
user wizard, Create user group, Create role, policies, RunInstances, bucket policies; the partner for labs 7 and 11
is the next seat). After each lab, that
lab is complete, and every lab completed before it is still complete: later labs change the same account on
purpose (lab 2 moves alice's permissions into a group, lab 5 gives bob a policy of his own), and loading lab 10's,
11's and 12's starting states empties the account, but a completed lab stays completed.

Also: alice, created in lab 1 with "must create a new password", can still finish her first sign-in after lab 2
(lab 2 lets IAMUserChangePassword stay), and a lab not started shows its checks as "not yet", not failed.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from classroom import labs_services
from classroom.labs import all_labs
from classroom.models import LabProgress
from classroom.progress import refresh
from console import services as console
from console.services import user_principal
from core import clock
from core.context import CallContext
from core.errors import AccessDenied
from ec2 import services as ec2
from identities import credentials, workflows
from identities import services as users
from identities.models import IamUser
from identities.role_templates import service_trust
from policies import services as policies
from s3 import services as s3
from sts import services as sts
from tests.classroom.labs.test_lab05_mfa_deletes import assign_mfa, team_bucket_policy
from tests.classroom.labs.test_lab08_boundary_delegation import DEVELOPER_BOUNDARY, helpdesk_policy
from tests.classroom.labs.test_lab09_home_folders import HOME_FOLDERS
from tests.classroom.labs.test_lab10_privilege_escalation import FIXED
from tests.classroom.labs.test_lab12_tag_based_instances import ABAC

S3_READ_ONLY = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
EC2_FULL = "arn:aws:iam::aws:policy/AmazonEC2FullAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ALICE_PASSWORD = "Alice-Initial-Passw0rd!"
BOB_PASSWORD = "Bob-Passw0rd!2024"
DEV_BUCKETS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::dev-*", "arn:aws:s3:::dev-*/*"]}
        ],
    }
)


def trust(principal: dict) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}],
        }
    )


def allow(action: str, resource: str, condition: dict | None = None) -> str:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def as_user(account_id: str, name: str) -> CallContext:
    return CallContext(user_principal(IamUser.objects.in_account(account_id).get(name=name)), origin="console")


@pytest.fixture
def t0():
    return datetime.fromtimestamp(math.ceil(time.time() / 30) * 30, UTC)


@pytest.fixture(autouse=True)
def _throttle_cleared(students):
    from console import throttle

    yield
    for name in ("alice", "bob"):
        throttle.clear(students[1].account_id, name)


def lab1(ctx) -> None:
    workflows.create_user_from_wizard(
        ctx, user_name="alice", password=ALICE_PASSWORD, require_reset=True, policies=[S3_READ_ONLY]
    )


def lab2(ctx) -> None:
    for name in ("bob", "carol"):  # step 1: they are not there after lab 1
        users.create_user(ctx, user_name=name)
    dev = policies.create_policy(ctx, policy_name="DevBucketsAccess", policy_document=DEV_BUCKETS).arn
    workflows.create_group_from_console(ctx, group_name="Developers", users=["alice", "bob"], policies=[EC2_FULL, dev])
    policies.detach_user_policy(ctx, user_name="alice", policy_arn=S3_READ_ONLY)  # IAMUserChangePassword stays


def alice_finishes_her_first_sign_in(account_id: str) -> None:
    """Lab 1's password must be changed at the first sign-in: after lab 2 she still can."""
    signed = console.sign_in_user(
        account=account_id, user_name="alice", password=ALICE_PASSWORD, source_ip="203.0.113.9", user_agent="pytest"
    )
    alice = CallContext(user_principal(signed.user), origin="console")
    users.change_password(alice, old_password=ALICE_PASSWORD, new_password="Alice-Own-Passw0rd!")


def lab3(ctx) -> None:
    document, use_case = service_trust("ec2", "ec2")
    workflows.create_role_from_wizard(
        ctx, role_name="EC2-S3-Reader", trust_policy=document, policies=[S3_READ_ONLY], instance_profile=True
    )
    # The console's Launch instance with the role's instance profile.
    ec2.run_instances(
        ctx, image_id="ami-0a3c3a20c09d6f377", min_count=1, max_count=1, iam_instance_profile={"Name": "EC2-S3-Reader"}
    )


def lab4(ctx) -> None:
    workflows.create_user_from_wizard(
        ctx, user_name="auditor", password="Audit-Passw0rd!1", require_reset=True, policies=[READ_ONLY]
    )


def lab5(ctx, t0: datetime) -> None:
    # bob exists since lab 2: console access, MFA, the team bucket policy, then a sign-in with MFA.
    users.create_login_profile(ctx, user_name="bob", password=BOB_PASSWORD)
    seed = assign_mfa(ctx, t0)
    policies.put_user_policy(
        ctx, user_name="bob", policy_name="TeamBucketDeletesNeedMFA", policy_document=team_bucket_policy(ctx.account_id)
    )
    at = t0 + timedelta(seconds=60)
    with clock.frozen(at):
        signed = console.sign_in_user(
            account=ctx.account_id, user_name="bob", password=BOB_PASSWORD, source_ip="203.0.113.7", user_agent="x"
        )
        console.complete_mfa_sign_in(
            account_id=ctx.account_id,
            user_pk=signed.user.pk,
            code=pyotp.TOTP(seed).at(at),
            source_ip="203.0.113.7",
            user_agent="x",
        )


def lab6(ctx) -> None:
    workflows.create_user_from_wizard(ctx, user_name="contractor", password="Contract-Passw0rd!", require_reset=False)
    role = workflows.create_role_from_wizard(
        ctx,
        role_name="ContractorAccess",
        trust_policy=trust({"AWS": f"arn:aws:iam::{ctx.account_id}:root"}),
        policies=[S3_READ_ONLY],
    )
    end = (clock.now() + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
    policies.put_user_policy(
        ctx,
        user_name="contractor",
        policy_name="AssumeUntilTheEnd",
        policy_document=allow("sts:AssumeRole", role.arn, {"DateLessThan": {"aws:CurrentTime": end}}),
    )
    sts.switch_role(
        as_user(ctx.account_id, "contractor"),
        account_id=ctx.account_id,
        role_name="ContractorAccess",
        session_seconds_left=3600,
    )


def lab7(ctx, partner) -> None:
    role = workflows.create_role_from_wizard(
        ctx,
        role_name="PartnerReadOnly",
        trust_policy=trust({"AWS": f"arn:aws:iam::{partner.account_id}:root"}),
        policies=[READ_ONLY],
    )
    users.create_user(partner, user_name="visitor")
    policies.put_user_policy(
        partner, user_name="visitor", policy_name="AssumePartner", policy_document=allow("sts:AssumeRole", role.arn)
    )
    sts.switch_role(
        as_user(partner.account_id, "visitor"),
        account_id=ctx.account_id,
        role_name="PartnerReadOnly",
        session_seconds_left=3600,
    )


def lab8(ctx) -> None:
    boundary = policies.create_policy(ctx, policy_name="DeveloperBoundary", policy_document=DEVELOPER_BOUNDARY).arn
    users.create_user(ctx, user_name="helpdesk")
    policies.put_user_policy(
        ctx, user_name="helpdesk", policy_name="Delegate", policy_document=helpdesk_policy(ctx.account_id, boundary)
    )
    helpdesk = as_user(ctx.account_id, "helpdesk")
    users.create_user(helpdesk, user_name="new-developer", permissions_boundary=boundary)
    with pytest.raises(AccessDenied):
        users.create_user(helpdesk, user_name="unbounded")


def lab9(ctx) -> None:
    # alice and bob exist since lab 2.
    workflows.create_group_from_console(ctx, group_name="Staff", users=["alice", "bob"])
    policies.put_group_policy(ctx, group_name="Staff", policy_name="HomeFolders", policy_document=HOME_FOLDERS)


def lab10(ctx) -> None:
    labs_services.load_lab_start(ctx, "privilege-escalation")  # the student's "Load starting state"
    arn = f"arn:aws:iam::{ctx.account_id}:policy/InternPolicy"
    policies.create_policy_version(ctx, policy_arn=arn, policy_document=json.dumps(FIXED), set_as_default=True)


def lab11(ctx, partner) -> None:
    labs_services.load_lab_start(ctx, "bucket-partner")  # the team bucket with report.csv
    bucket = f"team-bucket-{ctx.account_id}"
    s3.put_bucket_policy(ctx, bucket=bucket, policy=partner_bucket_policy(bucket, partner.account_id))
    # The partner's side, in the partner's account: a reader allowed to read the bucket.
    users.create_user(partner, user_name="reader")
    reads = [allow("s3:ListBucket", f"arn:aws:s3:::{bucket}"), allow("s3:GetObject", f"arn:aws:s3:::{bucket}/*")]
    for number, document in enumerate(reads):
        policies.put_user_policy(partner, user_name="reader", policy_name=f"Read{number}", policy_document=document)
    s3.get_object(as_user(partner.account_id, "reader"), bucket=bucket, key="report.csv")  # the partner reads it


def partner_bucket_policy(bucket: str, partner: str) -> str:
    principal = {"AWS": f"arn:aws:iam::{partner}:root"}
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": "s3:ListBucket",
                    "Resource": f"arn:aws:s3:::{bucket}",
                },
                {
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                },
            ],
        }
    )


def lab12(ctx) -> None:
    labs_services.load_lab_start(ctx, "abac-instances")
    arn = policies.create_policy(ctx, policy_name="StartStopOwnTeam", policy_document=json.dumps(ABAC)).arn
    policies.attach_group_policy(ctx, group_name="Operators", policy_arn=arn)


def states(account_id: str) -> dict[int, str]:
    rows = {p.lab: p for p in LabProgress.objects.filter(account_id=account_id)}
    return {lab.number: labs_services.lab_state(lab, rows.get(lab.slug)) for lab in all_labs()}


def test_labs_1_to_12_in_order_in_one_account_stay_complete(students, t0):
    student, partner = students[1], students[2]
    account = student.account_id
    steps = {
        1: lambda: lab1(student),
        2: lambda: lab2(student),
        3: lambda: lab3(student),
        4: lambda: lab4(student),
        5: lambda: lab5(student, t0),
        6: lambda: lab6(student),
        7: lambda: lab7(student, partner),
        8: lambda: lab8(student),
        9: lambda: lab9(student),
        10: lambda: lab10(student),
        11: lambda: lab11(student, partner),
        12: lambda: lab12(student),
    }
    refresh(account)
    assert set(states(account).values()) == {"not-started"}
    for number, do in steps.items():
        do()
        rows = refresh(account)  # as the worker does after each delivered event
        lab = all_labs()[number - 1]
        results = rows[lab.slug].results
        assert rows[lab.slug].completed_at is not None, (number, results)
        done = states(account)
        assert [n for n, state in done.items() if state == "complete"] == list(range(1, number + 1)), (number, done)
        if number == 2:
            alice_finishes_her_first_sign_in(account)

    # The board says the same: every lab complete for this student.
    from classroom.progress import board

    row = next(r for r in board(student_class(account)) if r.seat.account_id == account)
    assert row.completed == len(steps) == len(all_labs())


def student_class(account_id: str):
    from classroom.models import StudentSeat

    return StudentSeat.objects.get(account_id=account_id).classroom


def test_a_lab_not_started_shows_not_yet_and_a_wrong_attempt_fails(students):
    from classroom.labs import get_lab

    account = students[1].account_id
    lab = get_lab("read-only-auditor")
    lines = labs_services.check_lines(lab, refresh(account, [lab])[lab.slug])
    assert {line.state for line in lines} == {"not-yet"}

    users.create_user(students[1], user_name="auditor")
    credentials.create_access_key(students[1], user_name="auditor")
    lines = {line.key: line.state for line in labs_services.check_lines(lab, refresh(account, [lab])[lab.slug])}
    assert lines["auditor-exists"] == "passed"
    assert lines["no-access-keys"] == "failed"  # built and wrong: red
    assert lines["sees-everything"] == "failed"  # the user exists, has no policy: it is wrong now, not "not yet"


def test_loading_a_labs_start_keeps_earlier_completions_and_needs_the_root_user(students):
    student = students[1]
    account = student.account_id
    lab1(student)
    refresh(account)
    users.create_user(student, user_name="stray")
    preview = labs_services.start_preview(student, all_labs()[1])
    assert ("IAM users", ["alice", "stray"]) in preview.deleted
    assert [lab.number for lab in preview.kept_labs] == [1]

    alice = as_user(account, "alice")
    with pytest.raises(AccessDenied):
        labs_services.load_lab_start(alice, "developers-group")
    labs_services.load_lab_start(student, "developers-group")
    assert sorted(IamUser.objects.in_account(account).values_list("name", flat=True)) == ["alice", "bob", "carol"]
    refresh(account)
    assert states(account)[1] == "complete" and states(account)[2] == "not-started"

    labs_services.load_lab_start(student, "first-user")  # lab 1's start is an empty account: lab 1 starts again
    assert not IamUser.objects.in_account(account).exists()
    assert not LabProgress.objects.filter(account_id=account, completed_at__isnull=False).exists()
