"""Every EC2 operation the practice service implements against botocore's ``ec2`` model, as
tests/awsapi/test_param_walk.py does for IAM and STS.

1. The parameter walk: each handler is called with every member of its input shape set (booleans to their
   non-default ``true``, so that an accepted flag must be read to count), through a params dict that records which
   members the handler reads, at every depth (``IamInstanceProfile.Arn``, ``TagSpecifications.Tags.Value``). A
   member the handler neither reads nor refuses is a parameter silently ignored: the test fails on it, unless
   ``ALLOWED_UNREAD`` says why EC2 itself would answer the same with or without it.
2. The members refused (``InvalidParameterValue``, "not supported by this IAM Classroom endpoint") are the
   documented ones, so that refusing a new one is a choice.
3. Each call that succeeds is serialized as the API answers it, parsed back with botocore's own EC2 parser, and
   carries every member the output shape marks as required.

The calls run as the account's root against a small world (an instance profile with a role, an instance running
with it), each in a savepoint rolled back afterwards, so every operation sees the same world.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.parsers import EC2QueryParser
from django.db import transaction

from awsapi.protocol import serializer
from core.calls import inside_transaction
from core.context import CallContext
from core.errors import IamError
from core.validation import service_model
from ec2 import services
from ec2.handlers import HANDLERS
from tests.awsapi.test_param_walk import example_value, missing_required
from tests.ec2.conftest import AMI, profile_with_role

pytestmark = pytest.mark.django_db

# Members a handler accepts without reading, because EC2 would answer exactly the same with or without them here;
# each with the reason. Anything else must be read (honoured) or refused.
ALLOWED_UNREAD: dict[str, set[str]] = {
    # "Reserved." in EC2's own model: EC2 ignores it.
    "StartInstances": {"AdditionalInfo"},
    # An instance is a record with no operating system: a forced stop, or one that skips the OS shutdown, is a stop.
    # Hibernate: "If the instance cannot hibernate successfully, a normal shutdown occurs", and no instance here is
    # enabled for hibernation (RunInstances refuses HibernationOptions).
    "StopInstances": {"Force", "SkipOsShutdown", "Hibernate"},
    # As for StopInstances: no operating system to shut down gracefully or not.
    "TerminateInstances": {"Force", "SkipOsShutdown"},
    # The catalog's three images are neither deprecated nor disabled: including those adds nothing.
    "DescribeImages": {"IncludeDeprecated", "IncludeDisabled"},
    # No instance here is managed by an AWS service: including managed resources adds nothing.
    "DescribeInstances": {"IncludeManagedResources"},
    # One region, always enabled, and no Local or Wavelength Zones: "all" adds nothing.
    "DescribeRegions": {"AllRegions"},
    "DescribeAvailabilityZones": {"AllAvailabilityZones"},
}

# The members refused with "not supported" (features the practice service does not model).
REFUSED = {
    "RunInstances": {
        "AdditionalInfo",
        "BlockDeviceMappings",
        "CapacityReservationSpecification",
        "CpuOptions",
        "CreditSpecification",
        "DisableApiStop",
        "DisableApiTermination",
        "EbsOptimized",
        "ElasticGpuSpecification",
        "ElasticInferenceAccelerators",
        "EnablePrimaryIpv6",
        "EnclaveOptions",
        "HibernationOptions",
        "InstanceInitiatedShutdownBehavior",
        "InstanceMarketOptions",
        "Ipv6AddressCount",
        "Ipv6Addresses",
        "KernelId",
        "KeyName",
        "LaunchTemplate",
        "LicenseSpecifications",
        "MaintenanceOptions",
        "MetadataOptions",
        "Monitoring",
        "NetworkInterfaces",
        "NetworkPerformanceOptions",
        "Operator",
        "Placement",
        "PrivateDnsNameOptions",
        "PrivateIpAddress",
        "RamdiskId",
        "SecondaryInterfaces",
        "SecurityGroupIds",
        "SecurityGroups",
        "SubnetId",
        "UserData",
    },
    "DescribeImages": {"ExecutableUsers"},
    "DescribeInstanceTypes": {"IncludeUnsupportedInRegion"},
}


class Tracked(dict):
    """A params dict that records which members were read (``get``, ``[]``, ``in``) under their dotted path, with
    its nested structures (also inside lists) tracked the same way into one shared log."""

    def __init__(self, values: dict[str, Any], path: str = "", log: set[str] | None = None) -> None:
        self.path = path
        self.read: set[str] = set() if log is None else log
        super().__init__({k: self._track(f"{path}{k}", v) for k, v in values.items()})

    def _track(self, path: str, value: Any) -> Any:
        if isinstance(value, dict):
            return Tracked(value, f"{path}.", self.read)
        if isinstance(value, list):
            return [Tracked(v, f"{path}.", self.read) if isinstance(v, dict) else v for v in value]
        return value

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(f"{self.path}{key}")
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self.read.add(f"{self.path}{key}")
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self.read.add(f"{self.path}{key}")
        return super().__contains__(key)


def paths(values: Any, prefix: str = "") -> set[str]:
    """The dotted paths of every member set in ``values`` (through lists of structures)."""
    out: set[str] = set()
    items = values if isinstance(values, list) else [values]
    for item in items:
        if isinstance(item, dict):
            for key, value in item.items():
                out.add(f"{prefix}{key}")
                out |= paths(value, f"{prefix}{key}.")
    return out


def _world(ctx: CallContext) -> dict[str, Any]:
    profile_with_role(ctx, "app")
    instance = services.run_instances(
        ctx, image_id=AMI, min_count=1, max_count=1, instance_type="t3.micro", iam_instance_profile={"Name": "app"}
    )[0]
    association = services.describe_iam_instance_profile_associations(ctx, association_ids=[], filters=[])[0][0]
    return {
        "ImageId": AMI,
        "ImageIds": [AMI],
        "Owners": ["amazon"],
        "InstanceType": "t3.micro",
        "InstanceTypes": ["t3.micro"],
        "MinCount": 1,
        "MaxCount": 1,
        "InstanceId": instance.instance_id,
        "InstanceIds": [instance.instance_id],
        "Resources": [instance.instance_id],
        "Tags": [{"Key": "team", "Value": "blue"}],
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "blue"}]}],
        # Name alone: with Arn too EC2 answers InvalidParameterCombination (tests/ec2 cover the Arn form).
        "IamInstanceProfile": {"Name": "app"},
        "AssociationId": association["AssociationId"],
        "AssociationIds": [association["AssociationId"]],
        "MaxResults": 5,
        "NextToken": None,  # read, and absent: a token the service never issued is InvalidParameterValue
        "DryRun": False,  # true answers DryRunOperation, before the response the walk checks
        "ClientToken": "walk-token",
    }


# Per operation, values of members whose meaning is the operation's own (filter names).
OPERATION_VALUES: dict[str, dict[str, Any]] = {
    "DescribeInstances": {"Filters": [{"Name": "instance-state-name", "Values": ["running", "pending"]}]},
    "DescribeImages": {"Filters": [{"Name": "image-id", "Values": [AMI]}]},
    "DescribeInstanceTypes": {"Filters": [{"Name": "instance-type", "Values": ["t3.*"]}]},
    "DescribeRegions": {"RegionNames": ["us-east-1"], "Filters": [{"Name": "region-name", "Values": ["us-*"]}]},
    "DescribeAvailabilityZones": {
        "ZoneNames": ["us-east-1a"],
        "ZoneIds": ["use1-az1"],
        "Filters": [{"Name": "zone-name", "Values": ["us-east-1a"]}],
    },
    "DescribeIamInstanceProfileAssociations": {"Filters": [{"Name": "state", "Values": ["associated"]}]},
}

# What EC2 itself answers to the walk's input, every member set at once, where that is not a success.
EXPECTED_ERRORS = {
    # The world's instance has its profile already: one association per instance.
    "AssociateIamInstanceProfile": "IncorrectState",
    # IDs and MaxResults together: EC2 refuses the combination.
    "DescribeInstances": "InvalidParameterCombination",
    "DescribeIamInstanceProfileAssociations": "InvalidParameterCombination",
}


def _call(ctx: CallContext, name: str, params: Tracked) -> str:
    operation = service_model("ec2").operation_model(name)
    outcome = "ok"
    with inside_transaction(), transaction.atomic():
        try:
            result = HANDLERS[name](ctx, params) or {}
        except IamError as exc:
            refused = getattr(exc, "unsupported_member", None)
            outcome = f"refused {refused}" if refused else f"{exc.code}: {exc.message}"
        else:
            if operation.output_shape is not None:
                body = serializer.serialize_ec2(operation, result, "walk-request")
                parsed = EC2QueryParser().parse(
                    {"body": body, "status_code": 200, "headers": {}}, operation.output_shape
                )
                missing = missing_required(operation.output_shape, parsed, name)
                if missing:
                    outcome = f"missing required {missing}"
        transaction.set_rollback(True)
    return outcome


@pytest.fixture
def walked(root_ctx, managed_policies) -> dict[str, tuple[set[str], set[str], set[str], str]]:
    """{operation: (member paths set, paths read, members refused with their paths, outcome)}. A refused member is
    dropped and the call made again without it."""
    world = _world(root_ctx)
    out = {}
    for name in sorted(HANDLERS):
        shape = service_model("ec2").operation_model(name).input_shape
        here = {**world, **OPERATION_VALUES.get(name, {})}
        # Booleans true: every boolean member defaults to false, so true is the value that would change something.
        values = {m: example_value(m, s, here, boolean=True) for m, s in shape.members.items()}
        members = paths(values)
        read: set[str] = set()
        refused: set[str] = set()
        while True:
            params = Tracked(values)
            outcome = _call(root_ctx, name, params)
            read |= params.read
            if not outcome.startswith("refused "):
                break
            member = outcome.removeprefix("refused ")
            refused |= {member} | paths(values.pop(member), f"{member}.")
        out[name] = (members, read, refused, outcome)
    return out


def test_every_member_of_every_operation_is_read_or_refused(walked):
    unread = {
        name: sorted(members - read - refused - ALLOWED_UNREAD.get(name, set()))
        for name, (members, read, refused, _) in walked.items()
    }
    unread = {name: members for name, members in unread.items() if members}
    assert not unread, "members silently ignored:\n" + "\n".join(f"{op}: {m}" for op, m in unread.items())


def test_the_allow_list_names_only_members_the_handlers_accept_unread(walked):
    for name, members in ALLOWED_UNREAD.items():
        model_members, read, refused, _ = walked[name]
        assert members <= model_members - read - refused, name


def test_the_members_refused_are_the_documented_ones(walked):
    refused = {name: {m for m in found if "." not in m} for name, (_, _, found, _) in walked.items() if found}
    assert refused == REFUSED


def test_every_call_succeeds_or_fails_as_ec2_would_and_answers_every_required_member(walked):
    outcomes = {name: outcome.split(":", 1)[0] for name, (*_, outcome) in walked.items()}
    assert outcomes == {name: EXPECTED_ERRORS.get(name, "ok") for name in HANDLERS}


def test_the_tracking_params_notice_reads_at_every_depth():
    params = Tracked({"A": 1, "B": {"C": 2, "D": 3}, "E": [{"F": 4}]})
    params.get("A")
    params["B"]["C"]
    _ = [item.get("F") for item in params["E"]]
    assert params.read == {"A", "B", "B.C", "E", "E.F"}
    assert paths({"A": 1, "B": {"C": 2, "D": 3}, "E": [{"F": 4}]}) == {"A", "B", "B.C", "B.D", "E", "E.F"}
