"""boto3 against the practice EC2 service on a live server: the instance lifecycle as a student meets it."""

from __future__ import annotations

import os

import boto3
import pytest
from botocore.exceptions import ClientError

from audit.models import AuditEvent
from ec2 import services
from ec2.instance_credentials import machine_key
from ec2.models import Instance
from policies import services as policies
from tests.ec2.conftest import AMI, profile_with_role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_run_describe_stop_start_terminate(ec2, account, root_ctx):
    profile_arn = profile_with_role(root_ctx)
    launched = ec2.run_instances(
        ImageId=AMI,
        InstanceType="t3.micro",
        MinCount=2,
        MaxCount=2,
        IamInstanceProfile={"Arn": profile_arn},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "team", "Value": "blue"}]}],
    )
    assert launched["OwnerId"] == account.id
    ids = [i["InstanceId"] for i in launched["Instances"]]
    assert [i["State"] for i in launched["Instances"]] == [{"Code": 0, "Name": "pending"}] * 2
    assert launched["Instances"][0]["IamInstanceProfile"]["Arn"] == profile_arn
    assert launched["Instances"][0]["Tags"] == [{"Key": "team", "Value": "blue"}]

    described = ec2.describe_instances(Filters=[{"Name": "tag:team", "Values": ["blue"]}])
    instances = [i for r in described["Reservations"] for i in r["Instances"]]
    assert sorted(i["InstanceId"] for i in instances) == sorted(ids)
    assert {i["State"]["Name"] for i in instances} == {"running"}

    stopped = ec2.stop_instances(InstanceIds=[ids[0]])["StoppingInstances"][0]
    assert stopped["PreviousState"]["Name"] == "running" and stopped["CurrentState"]["Name"] == "stopping"
    by_state = ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["stopped"]}])
    assert [i["InstanceId"] for r in by_state["Reservations"] for i in r["Instances"]] == [ids[0]]
    started = ec2.start_instances(InstanceIds=[ids[0]])["StartingInstances"][0]
    assert (started["PreviousState"]["Name"], started["CurrentState"]["Name"]) == ("stopped", "pending")

    gone = ec2.terminate_instances(InstanceIds=ids)["TerminatingInstances"]
    assert {g["CurrentState"]["Name"] for g in gone} == {"shutting-down"}
    after = ec2.describe_instances(InstanceIds=[ids[1]])["Reservations"][0]["Instances"][0]
    assert after["State"] == {"Code": 48, "Name": "terminated"}
    assert "IamInstanceProfile" not in after

    events = list(AuditEvent.objects.filter(event_source="ec2.amazonaws.com").values_list("event_name", flat=True))
    assert {"RunInstances", "DescribeInstances", "StopInstances", "StartInstances", "TerminateInstances"} <= set(events)


def test_tags_images_types_and_associations(ec2, root_ctx):
    profile_arn = profile_with_role(root_ctx)
    other = profile_with_role(root_ctx, "worker")
    instance_id = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.create_tags(Resources=[instance_id], Tags=[{"Key": "Name", "Value": "web"}, {"Key": "env", "Value": "dev"}])
    ec2.delete_tags(Resources=[instance_id], Tags=[{"Key": "env"}])
    tags = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["Tags"]
    assert tags == [{"Key": "Name", "Value": "web"}]

    images = ec2.describe_images(Owners=["amazon"])["Images"]
    assert AMI in [i["ImageId"] for i in images]
    types = ec2.describe_instance_types(InstanceTypes=["t2.micro"])["InstanceTypes"]
    assert types[0]["FreeTierEligible"] is True and types[0]["VCpuInfo"]["DefaultVCpus"] == 1

    association = ec2.associate_iam_instance_profile(InstanceId=instance_id, IamInstanceProfile={"Name": "app"})
    association_id = association["IamInstanceProfileAssociation"]["AssociationId"]
    assert association["IamInstanceProfileAssociation"]["State"] == "associating"
    listed = ec2.describe_iam_instance_profile_associations(Filters=[{"Name": "instance-id", "Values": [instance_id]}])[
        "IamInstanceProfileAssociations"
    ]
    assert [(a["AssociationId"], a["IamInstanceProfile"]["Arn"], a["State"]) for a in listed] == [
        (association_id, profile_arn, "associated")
    ]
    replaced = ec2.replace_iam_instance_profile_association(
        AssociationId=association_id, IamInstanceProfile={"Arn": other}
    )["IamInstanceProfileAssociation"]
    assert replaced["IamInstanceProfile"]["Arn"] == other
    ec2.disassociate_iam_instance_profile(AssociationId=replaced["AssociationId"])
    assert ec2.describe_iam_instance_profile_associations()["IamInstanceProfileAssociations"] == []


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda c: c.describe_instances(InstanceIds=["i-nothex"]), "InvalidInstanceID.Malformed"),
        (lambda c: c.stop_instances(InstanceIds=["i-0123456789abcdef0"]), "InvalidInstanceID.NotFound"),
        (
            lambda c: c.run_instances(ImageId=AMI, InstanceType="t9.huge", MinCount=1, MaxCount=1),
            "InvalidParameterValue",
        ),
        (lambda c: c.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1), "InvalidAMIID.NotFound"),
        (lambda c: c.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, DryRun=True), "DryRunOperation"),
        (lambda c: c.describe_instance_types(InstanceTypes=["t9.huge"]), "InvalidInstanceType"),
        (
            lambda c: c.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, IamInstanceProfile={"Name": "nope"}),
            "InvalidParameterValue",
        ),
        (lambda c: c.describe_instances(Filters=[{"Name": "colour", "Values": ["x"]}]), "InvalidParameterValue"),
    ],
)
def test_bad_input_gets_ec2_error_codes_and_stores_nothing(ec2, call, code):
    with pytest.raises(ClientError) as caught:
        call(ec2)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["RequestId"]
    assert not Instance.objects.exists()


def test_imds_credentials_work_with_boto3(live_server, root_ctx, monkeypatch, tmp_path, managed_policies):
    """boto3's own credential chain finds the instance's role credentials at its metadata address (IMDSv2), and
    what it does with them shows in the trail under the role session named after the instance."""
    profile_with_role(root_ctx)
    policies.attach_role_policy(root_ctx, role_name="app", policy_arn="arn:aws:iam::aws:policy/IAMReadOnlyAccess")
    instance = services.run_instances(
        root_ctx, image_id=AMI, min_count=1, max_count=1, iam_instance_profile={"Name": "app"}
    )[0]
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv(
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        f"{live_server.url}/ec2/imds/{instance.instance_id}/{machine_key(instance)}/",
    )
    monkeypatch.setenv("AWS_METADATA_SERVICE_TIMEOUT", "20")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    session = boto3.Session(region_name="us-east-1")
    assert session.get_credentials().method == "iam-role"
    sts = session.client("sts", endpoint_url=f"{live_server.url}/aws")
    session_arn = f"arn:aws:sts::{root_ctx.account_id}:assumed-role/app/{instance.instance_id}"
    assert sts.get_caller_identity()["Arn"] == session_arn
    roles = session.client("iam", endpoint_url=f"{live_server.url}/aws").list_roles()["Roles"]
    assert [r["RoleName"] for r in roles] == ["app"]
    with pytest.raises(ClientError) as denied:  # the role may read IAM, nothing of EC2
        session.client("ec2", endpoint_url=f"{live_server.url}/ec2").describe_instances()
    assert denied.value.response["Error"]["Code"] == "UnauthorizedOperation"
    by_session = AuditEvent.objects.filter(username=instance.instance_id)
    assert {"GetCallerIdentity", "ListRoles", "DescribeInstances"} <= set(
        by_session.values_list("event_name", flat=True)
    )
    assert {e.record["userIdentity"]["arn"] for e in by_session} == {session_arn}


def test_flags_that_change_nothing_here_are_accepted_and_unmodelled_ones_refused(ec2):
    """IncludeManagedResources (no instance is managed by an AWS service) answers as without it; a member the
    practice service does not model is refused by name, never silently ignored."""
    launched = ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    managed = ec2.describe_instances(IncludeManagedResources=True)["Reservations"]
    assert [i["InstanceId"] for r in managed for i in r["Instances"]] == [launched]
    with pytest.raises(ClientError) as caught:
        ec2.run_instances(ImageId=AMI, MinCount=1, MaxCount=1, Monitoring={"Enabled": True})
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert "Monitoring" in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        ec2.describe_instance_types(IncludeUnsupportedInRegion=True)
    assert "IncludeUnsupportedInRegion" in caught.value.response["Error"]["Message"]
    assert Instance.objects.count() == 1


def test_regions_and_zones_name_the_one_region_of_the_practice_service(ec2):
    """What tools ask first (Prowler discovers regions with DescribeRegions): the one region and zone served here."""
    assert ec2.describe_regions()["Regions"] == [
        {"Endpoint": "ec2.us-east-1.amazonaws.com", "RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"}
    ]
    assert [r["RegionName"] for r in ec2.describe_regions(AllRegions=True)["Regions"]] == ["us-east-1"]
    assert ec2.describe_regions(Filters=[{"Name": "region-name", "Values": ["eu-*"]}])["Regions"] == []
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert [(z["ZoneName"], z["ZoneId"], z["State"], z["RegionName"]) for z in zones] == [
        ("us-east-1a", "use1-az1", "available", "us-east-1")
    ]
    assert ec2.describe_availability_zones(Filters=[{"Name": "zone-id", "Values": ["use1-az1"]}])["AvailabilityZones"]
    for call, code in (
        (lambda: ec2.describe_regions(RegionNames=["mars-1"]), "InvalidParameterValue"),
        (lambda: ec2.describe_regions(Filters=[{"Name": "colour", "Values": ["x"]}]), "InvalidParameterValue"),
        (lambda: ec2.describe_availability_zones(ZoneNames=["us-east-1z"]), "InvalidParameterValue"),
        (lambda: ec2.describe_regions(DryRun=True), "DryRunOperation"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == code
    events = set(AuditEvent.objects.filter(event_source="ec2.amazonaws.com").values_list("event_name", flat=True))
    assert {"DescribeRegions", "DescribeAvailabilityZones"} <= events
