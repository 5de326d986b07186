"""The console's "Run as this instance" panel: a few AWS CLI commands run with the instance's role credentials
(the role session named after the instance), through the same services the Query API calls, so each is decided
by the engine and recorded in Event history under ``assumed-role/<role>/<instance-id>``.

This is not a shell: one command line, parsed like the CLI's arguments, from a fixed list."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from console.htmx import refusal_explanation, refusal_message
from core.context import CallContext
from core.errors import IamError
from ec2 import services as ec2
from ec2.instance_credentials import NoCredentials, instance_context
from ec2.models import Instance
from identities import roles
from identities import services as identities
from policies import services as policies
from s3 import services as s3
from sts import services as sts

USER_AGENT = "aws-cli/2 (IAM Classroom: Run as this instance)"


@dataclass(frozen=True)
class Result:
    command: str
    ok: bool
    output: str
    code: str = ""  # the AWS error code of a failure
    explanation: dict[str, Any] | None = None


class Usage(Exception):
    pass


def _options(args: list[str]) -> dict[str, str]:
    options: dict[str, str] = {}
    rest = list(args)
    while rest:
        name = rest.pop(0)
        if not name.startswith("--") or not rest:
            raise Usage(f"aws: error: unexpected argument {name!r}")
        options[name[2:]] = rest.pop(0)
    return options


def _json(value: Any) -> str:
    def default(item: Any) -> str:
        if isinstance(item, datetime):
            return item.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        return str(item)

    return json.dumps(value, indent=4, default=default)


def _caller_identity(ctx: CallContext, args: list[str], stdin: str | None = None) -> str:
    _options(args)
    return _json(sts.get_caller_identity(ctx))


def _list_roles(ctx: CallContext, args: list[str], stdin: str | None = None) -> str:
    _options(args)
    return _json({"Roles": [{"RoleName": r.name, "Arn": r.arn} for r in roles.list_roles(ctx)]})


def _get_role(ctx: CallContext, args: list[str], stdin: str | None = None) -> str:
    name = _options(args).get("role-name")
    if not name:
        raise Usage("aws: error: the following arguments are required: --role-name")
    role = roles.get_role(ctx, role_name=name)
    return _json(
        {"Role": {"RoleName": role.name, "Arn": role.arn, "RoleId": role.role_id, "CreateDate": role.created_at}}
    )


def _attached_role_policies(ctx: CallContext, args: list[str], stdin: str | None = None) -> str:
    name = _options(args).get("role-name")
    if not name:
        raise Usage("aws: error: the following arguments are required: --role-name")
    attached = policies.list_attached_role_policies(ctx, role_name=name)
    return _json({"AttachedPolicies": [{"PolicyName": p.name, "PolicyArn": p.arn} for p in attached]})


def _list_users(ctx: CallContext, args: list[str], stdin: str | None = None) -> str:
    _options(args)
    return _json({"Users": [{"UserName": u.name, "Arn": u.arn} for u in identities.list_users(ctx)]})


def _describe_instances(ctx: CallContext, args: list[str], stdin: str | None = None) -> str:
    _options(args)
    rows, _ = ec2.describe_instances(ctx)
    return _json(
        {
            "Instances": [
                {"InstanceId": i.instance_id, "InstanceType": i.instance_type, "State": i.state, "Tags": i.tags}
                for i in rows
            ]
        }
    )


def _s3_url(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise Usage(f"aws: error: {url!r} is not an S3 URL (s3://bucket/key)")
    bucket, _, key = url[5:].partition("/")
    return bucket, key


def _s3_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def _s3_ls(ctx: CallContext, args: list[str], stdin: str | None = None) -> str:
    """``aws s3 ls`` (ListBuckets) and ``aws s3 ls s3://bucket/prefix`` (ListObjectsV2 with the delimiter "/")."""
    if not args:
        return "\n".join(f"{_s3_time(b.created_at)} {b.name}" for b in s3.list_buckets(ctx))
    if len(args) > 1:
        raise Usage(f"aws: error: unexpected argument {args[1]!r}")
    bucket, prefix = _s3_url(args[0])
    listing = s3.list_objects_v2(ctx, bucket=bucket, prefix=prefix, delimiter="/")
    lines = [f"{'PRE':>30} {p[len(prefix) - len(prefix.rpartition('/')[2]) :]}" for p in listing.common_prefixes]
    for item in listing.contents:
        lines.append(f"{_s3_time(item['LastModified'])} {item['Size']:>10} {item['Key'].rpartition('/')[2]}")
    return "\n".join(lines)


def _s3_cp(ctx: CallContext, args: list[str], stdin: str | None = None) -> str:
    """``aws s3 cp s3://bucket/key -`` (GetObject, printed) and ``echo text | aws s3 cp - s3://bucket/key``
    (PutObject of what the pipe gives)."""
    if len(args) != 2:
        raise Usage("aws: error: the panel copies s3://bucket/key to - (print it), or - to s3://bucket/key")
    source, target = args
    if target == "-":
        bucket, key = _s3_url(source)
        body = s3.get_object(ctx, bucket=bucket, key=key).body
        return body.decode("utf-8", "replace")
    if source == "-":
        bucket, key = _s3_url(target)
        s3.put_object(ctx, bucket=bucket, key=key, body=(stdin or "").encode())
        return f"upload: - to {target}"
    raise Usage("aws: error: the panel copies between S3 and the terminal only (use - as one side)")


COMMANDS: dict[tuple[str, str], Callable[[CallContext, list[str], str | None], str]] = {
    ("sts", "get-caller-identity"): _caller_identity,
    ("iam", "list-roles"): _list_roles,
    ("iam", "get-role"): _get_role,
    ("iam", "list-attached-role-policies"): _attached_role_policies,
    ("iam", "list-users"): _list_users,
    ("ec2", "describe-instances"): _describe_instances,
    ("s3", "ls"): _s3_ls,
    ("s3", "cp"): _s3_cp,
}

EXAMPLES = (
    "aws sts get-caller-identity",
    "aws s3 ls",
    "aws s3 ls s3://BUCKET/",
    "aws s3 cp s3://BUCKET/KEY -",
    "echo hello | aws s3 cp - s3://BUCKET/hello.txt",
    "aws iam list-roles",
    "aws ec2 describe-instances",
)


def _s3_operation(words: list[str], stdin: str | None) -> str:
    if words[0] == "ls":
        return "ListObjectsV2" if len(words) > 1 else "ListBuckets"
    return "PutObject" if stdin is not None or (len(words) > 1 and words[1] == "-") else "GetObject"


def run(instance: Instance, line: str) -> Result:
    """Run one command line with the instance's role credentials (``echo TEXT | aws s3 cp - s3://…`` pipes TEXT)."""
    command = line.strip()
    stdin = None
    try:
        if "|" in command:
            left, _, right = command.partition("|")
            piped = shlex.split(left)
            if not piped or piped[0] != "echo":
                return Result(command, False, "This panel pipes only: echo TEXT | aws s3 cp - s3://BUCKET/KEY")
            stdin = " ".join(piped[1:]) + "\n"
            command_words = right
        else:
            command_words = command
        words = shlex.split(command_words)
    except ValueError as exc:
        return Result(command, False, f"aws: error: {exc}")
    if words and words[0] == "aws":
        words = words[1:]
    if len(words) < 2 or (words[0], words[1]) not in COMMANDS:
        known = ", ".join(f"aws {s} {c}" for s, c in COMMANDS)
        return Result(command, False, f"This panel runs only: {known}.", code="UnknownCommand")
    try:
        ctx = instance_context(instance, user_agent=USER_AGENT)
    except NoCredentials as exc:
        return Result(
            command,
            False,
            'Unable to locate credentials. You can configure credentials by running "aws configure".\n'
            f"(The instance metadata service says {exc.code}: {exc.message})",
            code=exc.code,
        )
    try:
        return Result(command, True, COMMANDS[(words[0], words[1])](ctx, words[2:], stdin))
    except Usage as exc:
        return Result(command, False, str(exc), code="Usage")
    except IamError as exc:
        operation = "".join(part.capitalize() for part in words[1].split("-"))
        if words[0] == "s3":
            operation = _s3_operation(words[1:], stdin)
        return Result(
            command,
            False,
            f"An error occurred ({exc.code}) when calling the {operation} operation: {refusal_message(exc)}",
            code=exc.code,
            explanation=refusal_explanation(exc),
        )
