"""Lab 12 (ABAC on instances) from its start: the tag-comparing policy passes every check, and the EC2 calls of erin
and frank then do what the checks said; a policy that names teams, one without the condition, and one that lets
operators retag instances are each caught."""

from __future__ import annotations

import json

import pytest

from classroom.labs.facts import user_context
from ec2 import services as ec2
from ec2.errors import UnauthorizedOperation
from ec2.models import Instance
from identities.models import IamUser
from policies import services as policies
from tests.classroom.labs.conftest import lab_results, live_results, start_lab

SLUG = "abac-instances"
OPERATE = ["ec2:StartInstances", "ec2:StopInstances"]
ABAC = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": OPERATE,
            "Resource": "arn:aws:ec2:*:*:instance/*",
            "Condition": {"StringEquals": {"ec2:ResourceTag/team": "${aws:PrincipalTag/team}"}},
        },
        {"Effect": "Allow", "Action": "ec2:DescribeInstances", "Resource": "*"},
    ],
}


@pytest.fixture
def started(instructor_ctx, klass, student):
    start_lab(instructor_ctx, klass, student.account_id, SLUG)


def attach(student, document: dict, name: str = "StartStopOwnTeam") -> None:
    arn = policies.create_policy(student, policy_name=name, policy_document=json.dumps(document)).arn
    policies.attach_group_policy(student, group_name="Operators", policy_arn=arn)


def instance_id(student, name: str) -> str:
    for instance in Instance.objects.filter(account_id=student.account_id):
        if {"Key": "Name", "Value": name} in instance.tags:
            return instance.instance_id
    raise AssertionError(name)


def as_user(student, name: str):
    return user_context(IamUser.objects.in_account(student.account_id).get(name=name))


def test_the_tag_comparing_policy_passes_and_the_instances_obey_it(student, started):
    before = lab_results(student.account_id, SLUG)
    assert not any(ok for ok, _ in before.values()), before
    assert before["operates-own"][1] == "Neither Operators nor its members have a policy yet."

    attach(student, ABAC)
    after = lab_results(student.account_id, SLUG)
    assert all(ok for ok, _ in after.values()), after

    erin = as_user(student, "erin")
    ec2.stop_instances(erin, instance_ids=[instance_id(student, "red-web")])
    for other in ("blue-web", "batch"):
        with pytest.raises(UnauthorizedOperation):
            ec2.stop_instances(erin, instance_ids=[instance_id(student, other)])
    ec2.start_instances(as_user(student, "frank"), instance_ids=[instance_id(student, "blue-web")])


def test_a_policy_that_names_the_teams_does_not_follow_the_tags(student, started):
    for user, team in (("erin", "red"), ("frank", "blue")):
        document = json.loads(json.dumps(ABAC))
        document["Statement"][0]["Condition"] = {"StringEquals": {"ec2:ResourceTag/team": team}}
        policies.put_user_policy(student, user_name=user, policy_name="Team", policy_document=json.dumps(document))

    results = live_results(student.account_id, SLUG)
    assert results["operates-own"][0] and results["not-other-teams"][0]
    ok, message = results["follows-tags"]
    assert not ok and "compare the tags with ${aws:PrincipalTag/team}" in message


def test_a_policy_without_the_condition_lets_everyone_touch_every_instance(student, started):
    document = json.loads(json.dumps(ABAC))
    del document["Statement"][0]["Condition"]
    attach(student, document)

    assert live_results(student.account_id, SLUG)["not-other-teams"] == (
        False,
        "erin (team red) can ec2:StartInstances on team blue's instance blue-web.",
    )


def test_operators_who_may_retag_instances_are_caught(student, started):
    document = json.loads(json.dumps(ABAC))
    document["Statement"].append({"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*"})
    attach(student, document)

    results = live_results(student.account_id, SLUG)
    assert results["operates-own"][0]
    assert results["no-retagging"] == (
        False,
        "erin can set the team tag of red-web: then any instance can be made theirs.",
    )
