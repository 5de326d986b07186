"""Lab 9 solved through the services (as the console's Create group with users does), a policy with the names
written out, and the same solution built in another student's account, which this student's checks never see."""

from __future__ import annotations

import json

from identities import services as users
from identities import workflows
from policies import services as policies
from tests.classroom.labs.conftest import lab_results

SLUG = "home-folders"
BUCKET = "arn:aws:s3:::company-home"

HOME_FOLDERS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListOwnFolder",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": BUCKET,
                "Condition": {"StringLike": {"s3:prefix": ["home/${aws:username}/", "home/${aws:username}/*"]}},
            },
            {
                "Sid": "ReadWriteOwnFolder",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": f"{BUCKET}/home/${{aws:username}}/*",
            },
        ],
    }
)

NAMED_FOLDERS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": BUCKET,
                "Condition": {"StringLike": {"s3:prefix": ["home/alice/*", "home/bob/*"]}},
            },
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": [f"{BUCKET}/home/alice/*", f"{BUCKET}/home/bob/*"],
            },
        ],
    }
)


def build(ctx, document: str) -> None:
    for name in ("alice", "bob"):
        users.create_user(ctx, user_name=name)
    workflows.create_group_from_console(ctx, group_name="Staff", users=["alice", "bob"])
    policies.put_group_policy(ctx, group_name="Staff", policy_name="HomeFolders", policy_document=document)


def test_solving_lab_9_passes_every_check(student):
    before = lab_results(student.account_id, SLUG)
    assert not any(ok for ok, _ in before.values())
    assert before["staff-group"][1] == "There is no group named Staff yet."

    build(student, HOME_FOLDERS)

    after = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in after.values()), after


def test_a_policy_with_the_names_written_out_is_rejected(student):
    build(student, NAMED_FOLDERS)

    results = lab_results(student.account_id, SLUG)
    assert results["staff-group"][0] and results["own-folder"][0]
    assert results["not-others-folders"] == (False, "alice can s3:GetObject in bob's home folder (home/bob/).")
    assert results["lists-own-prefix"] == (
        False,
        "alice can list bob's folder: s3:ListBucket with the prefix home/bob/ is allowed.",
    )
    assert results["works-for-newcomers"] == (
        False,
        "A new member of Staff (say, carol) would get no home folder without editing the policy: it names "
        "users instead of working for whoever signs in.",
    )


def test_a_listing_without_the_prefix_condition_shows_every_folder(student):
    document = json.loads(HOME_FOLDERS)
    del document["Statement"][0]["Condition"]
    build(student, json.dumps(document))

    ok, message = lab_results(student.account_id, SLUG)["lists-own-prefix"]
    assert not ok
    assert message == "alice can list bob's folder: s3:ListBucket with the prefix home/bob/ is allowed."


def test_another_students_solution_does_not_count(student, other_student):
    build(other_student, HOME_FOLDERS)

    assert all(ok for ok, _ in lab_results(other_student.account_id, SLUG).values())
    mine = lab_results(student.account_id, SLUG)
    assert not any(ok for ok, _ in mine.values()), mine
    assert mine["own-folder"][1] == "There is no IAM user named alice yet."
